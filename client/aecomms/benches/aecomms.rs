//! AEComms cost against its primitives, measured in the same run: seal+open in place vs raw
//! ChaCha20-Poly1305 encrypt+decrypt in place (`ring`'s, which AEComms frames use, and the
//! `chacha20poly1305` crate's, which they used before), the three taking turns; and a full
//! handshake vs plain `snow` running the same Noise pattern (without certificates), criterion's.

use std::time::{Duration, Instant};

use chacha20poly1305::{aead::AeadInPlace, ChaCha20Poly1305, KeyInit};
use criterion::{black_box, criterion_group, BatchSize, BenchmarkId, Criterion};
use detr_bench_report::{in_turns, print_measured, skipped_by_filter, Measured, Row};
use ed25519_dalek::{SigningKey, VerifyingKey};
use etrid_aecomms::{
    ed25519_peer_id, handshake::in_memory, Binding, LocalIdentity, RekeyPolicy, RemoteIdentity,
    Session, HEADER_LEN, NOISE_PATTERN,
};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305};

const SIZES: [usize; 4] = [64, 1024, 16 * 1024, 64 * 1024];
/// Turns the three ways of sealing and opening take at each size.
const TURNS: usize = 10;
/// About how long each of them runs in one turn.
const TURN: Duration = Duration::from_millis(100);
/// The raw AEADs authenticate a header-sized associated data, as a frame's header is.
const AD: &[u8] = &[0; HEADER_LEN];

fn public(s: u8) -> VerifyingKey {
    SigningKey::from_bytes(&[s; 32]).verifying_key()
}

fn binding(remote: u8) -> Binding {
    Binding {
        remote: RemoteIdentity::ed25519(public(remote)),
        protocol: b"/00/detr/block/1".to_vec(),
        genesis: [0; 32],
    }
}

/// Parties 1 and 2, each with its binding towards the other.
fn parties() -> [(LocalIdentity, Binding); 2] {
    let party = |me, them| {
        (LocalIdentity::from_seed(&[me; 32], ed25519_peer_id(&public(me))), binding(them))
    };
    [party(1, 2), party(2, 1)]
}

const POLICY: RekeyPolicy = RekeyPolicy { max_messages: u64::MAX, max_age: Duration::MAX };

/// A full handshake: both sides, three messages.
fn handshake([(x, bx), (y, by)]: &[(LocalIdentity, Binding); 2]) -> (Session, Session) {
    in_memory((x, bx.clone()), (y, by.clone()), POLICY).expect("a handshake")
}

/// The same Noise pattern in plain snow, no certificates.
fn snow_handshake() {
    let params = || NOISE_PATTERN.parse().unwrap();
    let builder = snow::Builder::new(params());
    let (ki, kr) = (builder.generate_keypair().unwrap(), builder.generate_keypair().unwrap());
    let mut i =
        snow::Builder::new(params()).local_private_key(&ki.private).build_initiator().unwrap();
    let mut r =
        snow::Builder::new(params()).local_private_key(&kr.private).build_responder().unwrap();
    let (mut buf, mut out) = ([0u8; 256], [0u8; 256]);
    for step in 0..3 {
        let (from, to) = if step == 1 { (&mut r, &mut i) } else { (&mut i, &mut r) };
        let n = from.write_message(&[0u8; 96][..if step == 0 { 0 } else { 96 }], &mut buf).unwrap();
        to.read_message(&buf[..n], &mut out).unwrap();
    }
    black_box((i.dangerously_get_raw_split(), r.dangerously_get_raw_split()));
}

/// Mean nanoseconds of one seal + open of `size` bytes in place: AEComms frames, `ring` alone
/// and the `chacha20poly1305` crate alone, taking turns (`in_turns`: the cores' drift in speed
/// lands on the three alike).
fn seal_open(size: usize) -> Vec<f64> {
    let (mut a, mut b) = handshake(&parties());
    let mut frame = vec![0x5a; HEADER_LEN + size];
    frame.reserve(64);
    let ring = LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, &[7u8; 32]).unwrap());
    let cipher = ChaCha20Poly1305::new(&[7u8; 32].into());
    let (mut counter, mut buf) = (0u64, vec![0x5a; size]);
    let mut nonce = move || {
        counter += 1;
        let mut nonce = [0u8; 12];
        nonce[4..].copy_from_slice(&counter.to_le_bytes());
        nonce
    };
    in_turns(3, TURNS, TURN, |way, n| match way {
        0 => {
            for _ in 0..n {
                // The frame opened last time, less its tag: the raw ways reuse their buffer too.
                frame.truncate(HEADER_LEN + size);
                a.send.seal(&mut frame, 0, Instant::now()).unwrap();
                black_box(b.recv.open(black_box(&mut frame)).unwrap());
            }
        }
        1 => {
            for _ in 0..n {
                let bytes = nonce();
                let once = || Nonce::assume_unique_for_key(bytes);
                let tag = ring.seal_in_place_separate_tag(once(), Aad::from(AD), &mut buf).unwrap();
                ring.open_in_place_separate_tag(once(), Aad::from(AD), tag, &mut buf, 0..).unwrap();
            }
        }
        _ => {
            for _ in 0..n {
                let once = nonce().into();
                let tag = cipher.encrypt_in_place_detached(&once, AD, &mut buf).unwrap();
                cipher.decrypt_in_place_detached(&once, AD, &mut buf, &tag).unwrap();
            }
        }
    })
}

fn handshakes(c: &mut Criterion) {
    let mut group = c.benchmark_group("aecomms");
    group.bench_function(BenchmarkId::new("handshake", "full"), |bench| {
        bench.iter_batched(crate::parties, |p| black_box(handshake(&p)), BatchSize::SmallInput)
    });
    group.bench_function(BenchmarkId::new("handshake", "plain-snow"), |bench| {
        bench.iter(snow_handshake)
    });
    group.finish();
}

criterion_group!(benches, handshakes);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    if !skipped_by_filter("aecomms/seal-open") {
        let means: Vec<_> = SIZES.iter().map(|size| (*size, seal_open(*size))).collect();
        let row = |size: usize, subject: f64, baseline: f64, name: &str, target| Measured {
            label: format!("seal+open {size} B vs {name}"),
            subject_ns: subject,
            baseline_ns: baseline,
            bytes: size as u64,
            target,
        };
        // Framing costs little above the AEAD it runs on (a fixed ~0.1 µs per frame: the
        // counter, the rekey check, the clock read, the tag's copy; it weighs on small frames
        // only), and the frames beat the crate they used before.
        let mut rows: Vec<Measured> = means
            .iter()
            .map(|(size, m)| row(*size, m[0], m[1], "ring", if *size < 4096 { 0.8 } else { 0.95 }))
            .collect();
        rows.extend(means.iter().map(|(size, m)| row(*size, m[0], m[2], "chacha20poly1305", 1.0)));
        print_measured("etrid-aecomms frames (seal + open, in turns)", &rows);
    }
    let handshake = Row {
        label: "full handshake (both sides, certificates checked)".into(),
        subject: "aecomms/handshake/full".into(),
        baseline: "aecomms/handshake/plain-snow".into(),
        bytes: 0,
        target: 0.8,
    };
    detr_bench_report::print("etrid-aecomms handshake", &[handshake]);
    if let Some(ns) = detr_bench_report::mean_ns("aecomms/handshake/full") {
        println!("full handshakes per second on one core: {:.0}", 1e9 / ns);
    }
}
