//! Envelope encode/decode of each message kind vs plain SCALE of the same message, same run.
//! The envelope adds the header, the SHA-256 id check and the decode limits.

use codec::{Decode, Encode};
use criterion::{black_box, criterion_group, BenchmarkId, Criterion};
use detr_bench_report::Row;
use etrid_protocol::{
    BlockAnnounce, BridgeMessage, ConsensusMessage, Envelope, Message, Protocol, TransactionMessage,
};

/// Plain derived SCALE of the same shapes: the baseline.
#[derive(Encode, Decode)]
enum RawMessage {
    #[codec(index = 1)]
    Transaction(Vec<Vec<u8>>),
    #[codec(index = 2)]
    Block([u8; 32], u64, [u8; 32]),
    #[codec(index = 3)]
    Consensus([u8; 4], Vec<u8>),
    #[codec(index = 4)]
    Bridge(u32, u32, u64, Vec<u8>),
    #[codec(index = 5)]
    Custom(Vec<u8>),
}

fn cases() -> Vec<(&'static str, Message)> {
    let payload = vec![0xab; 1024];
    vec![
        (
            "block",
            Message::Block(BlockAnnounce { hash: [1; 32], number: 42, parent_hash: [2; 32] }),
        ),
        (
            "transaction",
            Message::Transaction(TransactionMessage {
                extrinsics: vec![payload[..128].to_vec(); 8],
            }),
        ),
        (
            "consensus",
            Message::Consensus(ConsensusMessage { engine_id: *b"FRNK", payload: payload.clone() }),
        ),
        (
            "bridge",
            Message::Bridge(BridgeMessage {
                source_chain: 1,
                destination_chain: 2,
                nonce: 9,
                payload: payload.clone(),
            }),
        ),
        ("custom", Message::Custom(payload)),
    ]
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("protocol");
    for (name, message) in cases() {
        let envelope = Envelope::new(1, message.clone());
        let frame = envelope.serialize().unwrap();
        let raw = message.encode();
        group.bench_function(BenchmarkId::new("envelope-encode", name), |b| {
            b.iter(|| black_box(&envelope).serialize().unwrap())
        });
        group.bench_function(BenchmarkId::new("scale-encode", name), |b| {
            b.iter(|| black_box(&message).encode())
        });
        group.bench_function(BenchmarkId::new("envelope-decode", name), |b| {
            b.iter(|| Envelope::deserialize(black_box(&frame)).unwrap())
        });
        group.bench_function(BenchmarkId::new("scale-decode", name), |b| {
            b.iter(|| RawMessage::decode(&mut black_box(&raw[..])).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    let mut rows = Vec::new();
    for (name, _) in cases() {
        for op in ["encode", "decode"] {
            rows.push(Row {
                label: format!("{name} {op}"),
                subject: format!("protocol/envelope-{op}/{name}"),
                baseline: format!("protocol/scale-{op}/{name}"),
                bytes: 0,
                target: 0.0,
            });
        }
    }
    detr_bench_report::print(
        "etrid-protocol envelope vs plain SCALE (no target: the id costs a SHA-256)",
        &rows,
    );
}
