//! AEComms cost against its primitives, measured in the same run:
//! seal+open vs raw ChaCha20-Poly1305 encrypt+decrypt, and a full two-sided handshake vs the sum
//! of the primitives it uses.

use std::time::Instant;

use chacha20poly1305::{aead::Aead, ChaCha20Poly1305, KeyInit};
use criterion::{black_box, criterion_group, BatchSize, BenchmarkId, Criterion, Throughput};
use detr_bench_report::Row;
use ed25519_dalek::{Signer, SigningKey, Verifier};
use etrid_aecomms::{Binding, Channel, LocalIdentity, RekeyPolicy, RemoteIdentity};
use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use x25519_dalek::{PublicKey, StaticSecret};

const SIZES: [usize; 3] = [64, 1024, 16 * 1024];

fn party(seed: u8, remote: u8) -> Channel {
    let peer = |s: u8| {
        [
            vec![0x00, 0x24, 0x08, 0x01, 0x12, 0x20],
            SigningKey::from_bytes(&[s; 32]).verifying_key().to_bytes().to_vec(),
        ]
        .concat()
    };
    let binding = Binding {
        remote: RemoteIdentity {
            peer_id: peer(remote),
            public: SigningKey::from_bytes(&[remote; 32]).verifying_key(),
        },
        protocol: b"/00/detr/block/1".to_vec(),
        genesis: [0; 32],
    };
    Channel::new(
        LocalIdentity::from_seed(&[seed; 32], peer(seed)),
        binding,
        RekeyPolicy { max_messages: u64::MAX, ..Default::default() },
    )
}

fn handshake() -> (Channel, Channel) {
    complete((party(1, 2), party(2, 1)))
}

/// Runs the full handshake between two fresh channels.
fn complete((mut a, mut b): (Channel, Channel)) -> (Channel, Channel) {
    let now = Instant::now();
    let hello = a.start_handshake();
    let reply = b.on_handshake(&hello, now).unwrap().unwrap();
    a.on_handshake(&reply, now).unwrap();
    (a, b)
}

fn seal_open(c: &mut Criterion) {
    let mut group = c.benchmark_group("aecomms");
    for size in SIZES {
        let data = vec![0x5a; size];
        group.throughput(Throughput::Bytes(size as u64));
        let (mut a, mut b) = handshake();
        group.bench_function(BenchmarkId::new("seal-open", size), |bench| {
            bench.iter(|| b.open(&a.seal(black_box(&data)).unwrap()).unwrap())
        });
        let cipher = ChaCha20Poly1305::new(&[7u8; 32].into());
        let mut counter = 0u64;
        group.bench_function(BenchmarkId::new("raw-chacha20poly1305", size), |bench| {
            bench.iter(|| {
                counter += 1;
                let mut nonce = [0u8; 12];
                nonce[4..].copy_from_slice(&counter.to_le_bytes());
                let sealed = cipher.encrypt(&nonce.into(), black_box(&data[..])).unwrap();
                cipher.decrypt(&nonce.into(), &sealed[..]).unwrap()
            })
        });
    }
    group.throughput(Throughput::Elements(1));
    // Channel construction (identity keys) is setup, not part of the handshake.
    group.bench_function(BenchmarkId::new("handshake", "full"), |bench| {
        bench.iter_batched(|| (party(1, 2), party(2, 1)), complete, BatchSize::SmallInput)
    });
    let keys = [SigningKey::from_bytes(&[1; 32]), SigningKey::from_bytes(&[2; 32])];
    group.bench_function(BenchmarkId::new("handshake", "primitives"), |bench| {
        bench.iter(|| {
            for seed in [1u8, 2] {
                let secret = StaticSecret::random_from_rng(rand::rngs::OsRng);
                let public = PublicKey::from(&secret);
                let shared = secret.diffie_hellman(&public);
                let key = &keys[seed as usize - 1];
                let sig = key.sign(public.as_bytes());
                key.verifying_key().verify(public.as_bytes(), &sig).unwrap();
                let th: [u8; 32] = Sha256::digest(public.as_bytes()).into();
                let mut okm = [0u8; 64];
                Hkdf::<Sha256>::new(Some(&th), shared.as_bytes()).expand(b"k", &mut okm).unwrap();
                black_box(okm);
            }
        })
    });
    group.finish();
}

criterion_group!(benches, seal_open);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    let mut rows: Vec<Row> = SIZES
        .iter()
        .map(|size| Row {
            label: format!("seal+open {size} B"),
            subject: format!("aecomms/seal-open/{size}"),
            baseline: format!("aecomms/raw-chacha20poly1305/{size}"),
            bytes: *size as u64,
            target: 0.95,
        })
        .collect();
    rows.push(Row {
        label: "full handshake (both sides)".into(),
        subject: "aecomms/handshake/full".into(),
        baseline: "aecomms/handshake/primitives".into(),
        bytes: 0,
        target: 0.8,
    });
    detr_bench_report::print("etrid-aecomms", &rows);
    if let Some(ns) = detr_bench_report::mean_ns("aecomms/handshake/full") {
        println!("full handshakes per second on one core: {:.0} (target >= 5000)", 1e9 / ns);
    }
}
