//! fluent enqueue+dequeue throughput vs a tokio bounded mpsc of the same capacity, same run.
//! Rate limits are set far above the measured rate so that only the machinery is timed.

use std::num::NonZeroU32;

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use detr_bench_report::Row;
use etrid_p2p_fluent::{ByteRate, FlowConfig, FlowController, Priority, RateLimit, Servable};

const BATCH: usize = 1000;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let unlimited = RateLimit::per_second(NonZeroU32::MAX);
    let config = FlowConfig {
        max_queue_size: BATCH,
        rate_limit: unlimited,
        peer_rate_limit: unlimited,
        byte_rate_limit: ByteRate(unlimited),
        peer_byte_rate_limit: ByteRate(unlimited),
        ..FlowConfig::default()
    };
    let flow: FlowController<u32, u64> = FlowController::new(config);
    flow.add_peer(1);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<u64>(BATCH);

    let mut group = c.benchmark_group("fluent");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function(BenchmarkId::new("flow-controller", BATCH), |b| {
        b.iter(|| {
            rt.block_on(async {
                for i in 0..BATCH as u64 {
                    flow.try_send(&1, i, Priority::ALL[(i % 5) as usize], 64).unwrap();
                }
                for _ in 0..BATCH {
                    flow.recv(&1, Servable::ALL).await.unwrap();
                }
            })
        })
    });
    group.bench_function(BenchmarkId::new("tokio-mpsc", BATCH), |b| {
        b.iter(|| {
            rt.block_on(async {
                for i in 0..BATCH as u64 {
                    tx.try_send(i).unwrap();
                }
                for _ in 0..BATCH {
                    rx.recv().await.unwrap();
                }
            })
        })
    });
    group.finish();
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    detr_bench_report::print(
        "etrid-p2p-fluent",
        &[Row {
            label: format!("enqueue+dequeue x{BATCH}"),
            subject: format!("fluent/flow-controller/{BATCH}"),
            baseline: format!("fluent/tokio-mpsc/{BATCH}"),
            bytes: 0,
            target: 0.5,
        }],
    );
    if let Some(ns) = detr_bench_report::mean_ns(&format!("fluent/flow-controller/{BATCH}")) {
        println!(
            "fluent throughput on one core: {:.2} M msg/s (target >= 2)",
            BATCH as f64 / ns * 1e3
        );
    }
}
