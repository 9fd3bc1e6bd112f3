//! Encode/decode of each message kind vs derived SCALE of the same shapes (with `Vec<u8>`
//! payloads, which decoding copies), same run. The wire format adds the header and the limits,
//! and decodes payloads as slices of the frame.

use bytes::Bytes;
use codec::{Decode, Encode};
use criterion::{black_box, criterion_group, BenchmarkId, Criterion};
use detr_bench_report::Row;
use etrid_protocol::{
    BlockAnnounce, BlockMessage, BridgeMessage, ConsensusMessage, Message, TransactionMessage,
};

/// Plain derived SCALE of the same shapes: the baseline.
#[derive(Encode, Decode)]
enum RawMessage {
    #[codec(index = 1)]
    Transactions(Vec<Vec<u8>>),
    #[codec(index = 2)]
    Block(u8, [u8; 32], u64, [u8; 32]),
    #[codec(index = 3)]
    Consensus([u8; 4], Vec<u8>),
    #[codec(index = 4)]
    Bridge(u32, u32, u64, u8, Vec<u8>),
    #[codec(index = 5)]
    Custom(Vec<u8>),
}

fn cases() -> Vec<(&'static str, Message, RawMessage)> {
    let payload = vec![0xab; 16 * 1024];
    let bytes = Bytes::from(payload.clone());
    vec![
        (
            "block-announce",
            Message::Block(BlockMessage::Announce(BlockAnnounce {
                hash: [1; 32],
                number: 42,
                parent_hash: [2; 32],
            })),
            RawMessage::Block(0, [1; 32], 42, [2; 32]),
        ),
        (
            "transactions",
            Message::Transactions(TransactionMessage { extrinsics: vec![bytes.slice(..128); 8] }),
            RawMessage::Transactions(vec![payload[..128].to_vec(); 8]),
        ),
        (
            "consensus",
            Message::Consensus(ConsensusMessage { engine_id: *b"FRNK", payload: bytes.clone() }),
            RawMessage::Consensus(*b"FRNK", payload.clone()),
        ),
        (
            "bridge",
            Message::Bridge(BridgeMessage {
                source_chain: 1,
                destination_chain: 2,
                nonce: 9,
                ttl: 4,
                payload: bytes.clone(),
            }),
            RawMessage::Bridge(1, 2, 9, 4, payload.clone()),
        ),
        ("custom", Message::Custom(bytes), RawMessage::Custom(payload)),
    ]
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("protocol");
    for (name, message, raw_message) in cases() {
        let frame = message.encode().unwrap();
        let raw = raw_message.encode();
        let mut out = Vec::with_capacity(frame.len());
        group.bench_function(BenchmarkId::new("wire-encode", name), |b| {
            b.iter(|| {
                out.clear();
                black_box(&message).encode_to(&mut out).unwrap();
            })
        });
        group.bench_function(BenchmarkId::new("scale-encode", name), |b| {
            b.iter(|| {
                out.clear();
                black_box(&raw_message).encode_to(&mut out);
            })
        });
        group.bench_function(BenchmarkId::new("wire-decode", name), |b| {
            b.iter(|| Message::decode(black_box(frame.clone())).unwrap())
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
    for (name, _, _) in cases() {
        for op in ["encode", "decode"] {
            rows.push(Row {
                label: format!("{name} {op}"),
                subject: format!("protocol/wire-{op}/{name}"),
                baseline: format!("protocol/scale-{op}/{name}"),
                bytes: 0,
                target: 0.9,
            });
        }
    }
    detr_bench_report::print("etrid-protocol wire format vs derived SCALE", &rows);
}
