//! Behaviour of AEComms v2 handshakes and sessions between two (or three) parties.

use std::time::{Duration, Instant};

use ed25519_dalek::{SigningKey, VerifyingKey};
use etrid_aecomms::{
    ed25519_peer_id, handshake::in_memory, AeError, Binding, Handshake, LocalIdentity, Next,
    RekeyPolicy, RemoteIdentity, Role, Session, FRAME_OVERHEAD, HEADER_LEN, TAG_LEN,
};
use proptest::prelude::*;

const GENESIS: [u8; 32] = [7; 32];
const PROTOCOL: &[u8] = b"/0707/detr/block/1";

/// PeerId bytes of the Ed25519 key of `seed`, as libp2p encodes them.
fn peer_id(seed: u8) -> Vec<u8> {
    ed25519_peer_id(&SigningKey::from_bytes(&[seed; 32]).verifying_key())
}

fn identity(seed: u8) -> LocalIdentity {
    LocalIdentity::from_seed(&[seed; 32], peer_id(seed))
}

/// A binding towards the holder of seed `them`, over `protocol`.
fn binding_to(them: u8, protocol: &[u8]) -> Binding {
    Binding {
        remote: RemoteIdentity::ed25519(SigningKey::from_bytes(&[them; 32]).verifying_key()),
        protocol: protocol.to_vec(),
        genesis: GENESIS,
    }
}

fn pair_with(policy: RekeyPolicy) -> (Session, Session) {
    let (a, b) = (identity(1), identity(2));
    in_memory((&a, binding_to(2, PROTOCOL)), (&b, binding_to(1, PROTOCOL)), policy).unwrap()
}

fn pair() -> (Session, Session) {
    pair_with(RekeyPolicy::default())
}

fn seal(s: &mut Session, data: &[u8]) -> Vec<u8> {
    s.seal_to_vec(data, Instant::now()).unwrap()
}

fn open(s: &mut Session, frame: &[u8]) -> Result<Vec<u8>, AeError> {
    let mut frame = frame.to_vec();
    s.recv.open(&mut frame).map(|range| frame[range].to_vec())
}

#[test]
fn in_memory_runs_both_sides_in_either_order_and_fails_on_a_wrong_binding() {
    let (a, b) = (identity(1), identity(2));
    for a_first in [true, false] {
        let (x, y) = ((&a, binding_to(2, PROTOCOL)), (&b, binding_to(1, PROTOCOL)));
        let (x, y) = if a_first { (x, y) } else { (y, x) };
        let (mut sx, mut sy) = in_memory(x, y, RekeyPolicy::default()).unwrap();
        assert_eq!(sx.handshake_hash(), sy.handshake_hash());
        assert_eq!(open(&mut sy, &seal(&mut sx, b"x to y")).unwrap(), b"x to y");
        assert_eq!(open(&mut sx, &seal(&mut sy, b"y to x")).unwrap(), b"y to x");
    }
    // a expects peer 3, not b: no session comes out of it.
    let wrong = (&a, binding_to(3, PROTOCOL));
    let result = in_memory(wrong, (&b, binding_to(1, PROTOCOL)), RekeyPolicy::default());
    assert!(result.is_err());
}

#[test]
fn the_smaller_peer_id_initiates_and_both_sides_agree() {
    let (a, b) = (identity(1), identity(2));
    let role_a = binding_to(2, PROTOCOL).role(&a);
    assert_ne!(role_a, binding_to(1, PROTOCOL).role(&b));
    assert_eq!(role_a == Role::Initiator, a.peer_id() < b.peer_id());
    let (mut sa, mut sb) = pair();
    assert_eq!(sa.handshake_hash(), sb.handshake_hash());
    let frame = seal(&mut sa, b"hello");
    assert_eq!(frame.len(), 5 + FRAME_OVERHEAD);
    assert_eq!(open(&mut sb, &frame).unwrap(), b"hello");
    let frame = seal(&mut sb, b"world");
    assert_eq!(open(&mut sa, &frame).unwrap(), b"world");
}

#[test]
fn every_session_has_fresh_keys() {
    let (mut s1, _) = pair();
    let (mut s2, _) = pair();
    assert_ne!(s1.handshake_hash(), s2.handshake_hash());
    assert_ne!(seal(&mut s1, b"same"), seal(&mut s2, b"same"));
}

#[test]
fn a_man_in_the_middle_with_its_own_key_fails() {
    // Mallory claims B's PeerId towards A but holds only her own identity key (seed 3).
    let a = identity(1);
    let mallory_as_b = LocalIdentity::from_seed(&[3; 32], peer_id(2));
    let err = in_memory(
        (&a, binding_to(2, PROTOCOL)),
        (&mallory_as_b, binding_to(1, PROTOCOL)),
        RekeyPolicy::default(),
    )
    .err();
    // Only A can find it, whoever initiates: Mallory's certificate is not signed by B's key.
    assert_eq!(err, Some(AeError::WrongIdentity), "A finds Mallory's certificate");
}

#[test]
fn a_handshake_for_another_binding_fails() {
    let (a, b) = (identity(1), identity(2));
    for (protocol_b, genesis_b) in [(&b"/0707/detr/tx/1"[..], GENESIS), (PROTOCOL, [8; 32])] {
        let mut theirs = binding_to(1, protocol_b);
        theirs.genesis = genesis_b;
        let err =
            in_memory((&a, binding_to(2, PROTOCOL)), (&b, theirs), RekeyPolicy::default()).err();
        assert_eq!(err, Some(AeError::HandshakeFailed));
    }
}

/// (initiator identity, responder identity) of parties 1 and 2, with their bindings.
fn roles() -> ((LocalIdentity, Binding), (LocalIdentity, Binding)) {
    let (a, b) = (identity(1), identity(2));
    let (x, y) = ((a, binding_to(2, PROTOCOL)), (b, binding_to(1, PROTOCOL)));
    if x.1.role(&x.0) == Role::Initiator {
        (x, y)
    } else {
        (y, x)
    }
}

#[test]
fn replayed_handshake_messages_lead_nowhere() {
    let ((i, bi), (r, br)) = roles();
    let policy = RekeyPolicy::default();
    // A first, complete run, recorded.
    let (hi, m1) = Handshake::start(&i, bi.clone(), policy);
    let (hr, _) = Handshake::start(&r, br.clone(), policy);
    let m1 = m1.unwrap();
    let Next::Wait { handshake: hr, reply: m2 } = hr.read(&m1, &r).unwrap() else { panic!() };
    let Next::Done { reply: Some(m3), .. } = hi.read(&m2, &i).unwrap() else { panic!() };
    assert!(matches!(hr.read(&m3, &r), Ok(Next::Done { reply: None, .. })));

    // Message 1 replayed to a fresh responder gets a fresh answer, but the recorded message 3
    // does not complete it: the responder's new ephemeral key is in the transcript.
    let (hr2, _) = Handshake::start(&r, br, policy);
    let Next::Wait { handshake: hr2, reply: m2b } = hr2.read(&m1, &r).unwrap() else { panic!() };
    assert_ne!(m2b, m2);
    assert_eq!(hr2.read(&m3, &r).err(), Some(AeError::HandshakeFailed));

    // Message 2 replayed to a fresh initiator fails: its ephemeral key is another one.
    let (hi2, _) = Handshake::start(&i, bi, policy);
    assert_eq!(hi2.read(&m2, &i).err(), Some(AeError::HandshakeFailed));
}

#[test]
fn messages_of_the_wrong_size_are_refused_before_any_key_work() {
    let ((i, bi), (r, br)) = roles();
    let policy = RekeyPolicy::default();
    let (hr, _) = Handshake::start(&r, br, policy);
    assert_eq!(
        hr.read(&[0; 33], &r).err(),
        Some(AeError::UnexpectedHandshake { len: 33, step: 1 })
    );
    let (hi, _) = Handshake::start(&i, bi, policy);
    assert_eq!(
        hi.read(&[0; 32], &i).err(),
        Some(AeError::UnexpectedHandshake { len: 32, step: 2 })
    );
}

#[test]
fn a_low_order_ephemeral_key_is_refused() {
    let ((_, _), (r, br)) = roles();
    let (hr, _) = Handshake::start(&r, br, RekeyPolicy::default());
    assert_eq!(hr.read(&[0; 32], &r).err(), Some(AeError::HandshakeFailed));
}

#[test]
fn replays_and_reordering_are_refused() {
    let (mut a, mut b) = pair();
    let first = seal(&mut a, b"1");
    let second = seal(&mut a, b"2");
    assert_eq!(open(&mut b, &second).unwrap(), b"2");
    assert_eq!(open(&mut b, &first), Err(AeError::Replay { counter: 0, highest: 1 }));
    assert!(matches!(open(&mut b, &second), Err(AeError::Replay { .. })));
}

#[test]
fn a_failed_frame_changes_nothing_and_leaves_no_plaintext() {
    let (mut a, mut b) = pair();
    let frame = seal(&mut a, b"data");
    let mut bad = frame.clone();
    *bad.last_mut().unwrap() ^= 1;
    let mut opened = bad.clone();
    assert_eq!(b.recv.open(&mut opened), Err(AeError::BadTag));
    assert_eq!(opened[..HEADER_LEN], bad[..HEADER_LEN], "the header is left as it was");
    let body = HEADER_LEN..bad.len() - TAG_LEN;
    assert_eq!(opened[body], [0; 4], "no unauthenticated plaintext is left");
    assert_eq!(open(&mut b, &frame).unwrap(), b"data");
    assert_eq!(open(&mut b, &[0; 5]), Err(AeError::FrameTooShort(5)));
}

#[test]
fn rekey_happens_in_order_and_the_receiver_follows() {
    let policy = RekeyPolicy { max_messages: 3, max_age: Duration::from_secs(3600) };
    let (mut a, mut b) = pair_with(policy);
    let frames: Vec<_> = (0..7u8).map(|i| seal(&mut a, &[i])).collect();
    let epochs: Vec<u64> =
        frames.iter().map(|f| u64::from_le_bytes(f[..8].try_into().unwrap())).collect();
    assert_eq!(epochs, [0, 0, 0, 1, 1, 1, 2]);
    for (i, f) in frames.iter().enumerate() {
        assert_eq!(open(&mut b, f).unwrap(), [i as u8]);
    }
    assert_eq!((a.send.epoch(), b.recv.epoch()), (2, 2));
    // A frame claiming to skip an epoch is refused, and so is one from the past epoch.
    let mut skip = seal(&mut a, b"x");
    skip[..8].copy_from_slice(&4u64.to_le_bytes());
    assert_eq!(open(&mut b, &skip), Err(AeError::UnknownEpoch { got: 4, current: 2 }));
    let mut old = seal(&mut a, b"y");
    old[..8].copy_from_slice(&1u64.to_le_bytes());
    assert_eq!(open(&mut b, &old), Err(AeError::UnknownEpoch { got: 1, current: 2 }));
}

#[test]
fn rekey_every_fifty_messages_both_ways_loses_nothing() {
    let policy = RekeyPolicy { max_messages: 50, max_age: Duration::from_secs(3600) };
    let (mut a, mut b) = pair_with(policy);
    for i in 0..10_000u32 {
        let bytes = i.to_le_bytes();
        let f = seal(&mut a, &bytes);
        assert_eq!(open(&mut b, &f).unwrap(), bytes);
        let f = seal(&mut b, &bytes);
        assert_eq!(open(&mut a, &f).unwrap(), bytes);
    }
    assert_eq!((a.send.epoch(), b.recv.epoch()), (199, 199));
}

#[test]
fn rekey_after_age() {
    let policy = RekeyPolicy { max_messages: u64::MAX, max_age: Duration::from_secs(60) };
    let (mut a, mut b) = pair_with(policy);
    let later = Instant::now() + Duration::from_secs(61);
    let f = a.seal_to_vec(b"late", later).unwrap();
    assert_eq!(a.send.epoch(), 1);
    assert_eq!(open(&mut b, &f).unwrap(), b"late");
}

#[test]
fn counters_never_repeat() {
    let (mut a, _) = pair();
    let headers: std::collections::HashSet<_> =
        (0..1000).map(|_| seal(&mut a, b"x")[8..16].to_vec()).collect();
    assert_eq!(headers.len(), 1000);
}

#[test]
fn identities_debug_print_no_secret() {
    let printed = format!("{:?}", identity(9));
    let secret_hex: String = [9u8; 32].iter().map(|b| format!("{b}")).collect();
    assert!(!printed.contains(&secret_hex));
    let _ = VerifyingKey::from_bytes(&identity(9).public()).unwrap();
}

proptest! {
    #[test]
    fn seal_open_round_trip(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let (mut a, mut b) = pair();
        let frame = seal(&mut a, &data);
        prop_assert_eq!(frame.len(), data.len() + FRAME_OVERHEAD);
        prop_assert_eq!(open(&mut b, &frame).unwrap(), data);
    }

    #[test]
    fn any_single_bit_flip_is_rejected(data in proptest::collection::vec(any::<u8>(), 0..256), bit in any::<prop::sample::Index>()) {
        let (mut a, mut b) = pair();
        let mut frame = seal(&mut a, &data);
        let i = bit.index(frame.len() * 8);
        frame[i / 8] ^= 1 << (i % 8);
        prop_assert!(open(&mut b, &frame).is_err());
    }

    #[test]
    fn random_frames_never_panic(frame in proptest::collection::vec(any::<u8>(), 0..128)) {
        let (_, mut b) = pair();
        prop_assert!(open(&mut b, &frame).is_err());
    }

    #[test]
    fn random_handshake_messages_never_complete(message in proptest::collection::vec(any::<u8>(), 0..256)) {
        let ((i, bi), (r, br)) = roles();
        let (hr, _) = Handshake::start(&r, br, RekeyPolicy::default());
        if let Ok(Next::Wait { handshake, .. }) = hr.read(&message, &r) {
            prop_assert!(handshake.read(&message, &r).is_err());
        }
        let (hi, _) = Handshake::start(&i, bi, RekeyPolicy::default());
        prop_assert!(hi.read(&message, &i).is_err());
    }
}
