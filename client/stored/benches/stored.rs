//! Peer cache at 100k records: LRU lookup/insert, snapshot save/load; and memory per peer entry
//! (dpeers + stored) for 1,000 and 100,000 peers, counted by a wrapping allocator.

use std::{num::NonZeroUsize, time::Instant};

use criterion::{black_box, criterion_group, Criterion};
use detr_bench_report::{live_bytes, CountingAllocator};
use etrid_p2p_dpeers::{PeerMetadata, PeerRegistry, RegistryConfig};
use etrid_p2p_stored::{PeerCache, PeerData, PeerSource, Snapshot};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

const N: usize = 100_000;

/// A PeerId-shaped string (base58, 52 chars) and a typical address.
fn peer(i: usize) -> (String, PeerData) {
    let id = format!("12D3KooW{:044}", i);
    let data = PeerData {
        addresses: vec![format!("/ip4/10.0.{}.{}/tcp/30333", (i / 256) % 256, i % 256)],
        source: PeerSource::Discovery,
        reputation: 0,
    };
    (id, data)
}

fn filled(n: usize) -> PeerCache {
    let cache = PeerCache::new(NonZeroUsize::new(n).unwrap());
    for i in 0..n {
        let (id, data) = peer(i);
        cache.store_peer(&id, data);
    }
    cache
}

fn bench(c: &mut Criterion) {
    let cache = filled(N);
    let mut group = c.benchmark_group("stored");
    let mut i = 0;
    group.bench_function("lru-lookup-100k", |b| {
        b.iter(|| {
            i = (i + 7919) % N;
            black_box(cache.get_peer_data(&peer(i).0))
        })
    });
    let mut j = N;
    group.bench_function("lru-insert-100k", |b| {
        b.iter(|| {
            j += 1;
            let (id, data) = peer(j);
            cache.store_peer(&id, data)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);

fn memory_per_entry(n: usize) -> (f64, f64) {
    let before = live_bytes();
    let cache = filled(n);
    let stored = (live_bytes() - before) as f64 / n as f64;
    let before = live_bytes();
    let now = Instant::now();
    let mut registry =
        PeerRegistry::new(RegistryConfig { max_peers: n, ..RegistryConfig::default() });
    for i in 0..n {
        let (id, data) = peer(i);
        registry
            .add_peer(
                id,
                PeerMetadata { addresses: data.addresses, role: Some("full".into()) },
                now,
            )
            .unwrap();
    }
    let dpeers = (live_bytes() - before) as f64 / n as f64;
    drop((cache, registry));
    (dpeers, stored)
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();

    println!("\n== etrid-p2p-stored / dpeers at scale ==");
    for name in ["lru-lookup-100k", "lru-insert-100k"] {
        if let Some(ns) = detr_bench_report::mean_ns(&format!("stored/{name}")) {
            println!("{name:<24} {ns:>8.0} ns/op");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let cache = filled(N);
    let snapshot = Snapshot::new(dir.path().join("peers.bin"), Some([7; 32]));
    let t = Instant::now();
    snapshot.save(&cache.peers()).unwrap();
    let save = t.elapsed();
    let t = Instant::now();
    let (records, _) = snapshot.load(N);
    let load = t.elapsed();
    let size = std::fs::metadata(snapshot.path()).unwrap().len();
    println!(
        "snapshot of {} records ({:.1} MiB, encrypted): save {:?}, load {:?}",
        records.len(),
        size as f64 / (1024.0 * 1024.0),
        save,
        load
    );
    for n in [1_000, 100_000] {
        let (dpeers, stored) = memory_per_entry(n);
        println!("memory per peer at {n:>7} peers: dpeers {dpeers:.0} B, stored {stored:.0} B, total {:.0} B", dpeers + stored);
    }
}
