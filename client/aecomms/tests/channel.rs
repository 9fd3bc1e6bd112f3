//! Behaviour of AEComms channels between two (or three) parties.

use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use etrid_aecomms::{AeError, Binding, Channel, LocalIdentity, RekeyPolicy, RemoteIdentity};
use proptest::prelude::*;

const GENESIS: [u8; 32] = [7; 32];
const PROTOCOL: &[u8] = b"/0707/detr/block/1";

/// PeerId bytes of an Ed25519 key, as libp2p encodes them.
fn peer_id(seed: u8) -> Vec<u8> {
    let public = SigningKey::from_bytes(&[seed; 32]).verifying_key().to_bytes();
    [&[0x00, 0x24, 0x08, 0x01, 0x12, 0x20][..], &public[..]].concat()
}

fn identity(seed: u8) -> LocalIdentity {
    LocalIdentity::from_seed(&[seed; 32], peer_id(seed))
}

fn remote(seed: u8) -> RemoteIdentity {
    RemoteIdentity {
        peer_id: peer_id(seed),
        public: SigningKey::from_bytes(&[seed; 32]).verifying_key(),
    }
}

fn channel(me: u8, them: u8, policy: RekeyPolicy) -> Channel {
    let binding = Binding { remote: remote(them), protocol: PROTOCOL.to_vec(), genesis: GENESIS };
    Channel::new(identity(me), binding, policy)
}

/// Two channels with an established session (A starts, B answers).
fn pair() -> (Channel, Channel) {
    let (mut a, mut b) =
        (channel(1, 2, RekeyPolicy::default()), channel(2, 1, RekeyPolicy::default()));
    connect(&mut a, &mut b);
    (a, b)
}

fn connect(a: &mut Channel, b: &mut Channel) {
    let now = Instant::now();
    let hello = a.start_handshake();
    let reply = b.on_handshake(&hello, now).unwrap().expect("B answers A's handshake");
    assert_eq!(a.on_handshake(&reply, now).unwrap(), None);
}

#[test]
fn both_sides_derive_the_same_keys() {
    let (mut a, mut b) = pair();
    assert!(a.is_established() && b.is_established());
    let frame = a.seal(b"hello").unwrap();
    assert_eq!(b.open(&frame).unwrap(), b"hello");
    let frame = b.seal(b"world").unwrap();
    assert_eq!(a.open(&frame).unwrap(), b"world");
}

#[test]
fn simultaneous_handshakes_also_agree() {
    let (mut a, mut b) =
        (channel(1, 2, RekeyPolicy::default()), channel(2, 1, RekeyPolicy::default()));
    let now = Instant::now();
    let (ha, hb) = (a.start_handshake(), b.start_handshake());
    assert_eq!(a.on_handshake(&hb, now).unwrap(), None);
    assert_eq!(b.on_handshake(&ha, now).unwrap(), None);
    let frame = a.seal(b"x").unwrap();
    assert_eq!(b.open(&frame).unwrap(), b"x");
}

#[test]
fn replays_and_reordering_are_refused() {
    let (mut a, mut b) = pair();
    let first = a.seal(b"1").unwrap();
    let second = a.seal(b"2").unwrap();
    assert_eq!(b.open(&second).unwrap(), b"2");
    assert!(matches!(b.open(&first), Err(AeError::Replay { counter: 0, highest: 1 })));
    assert!(matches!(b.open(&second), Err(AeError::Replay { .. })));
}

#[test]
fn a_failed_frame_does_not_advance_the_counter() {
    let (mut a, mut b) = pair();
    let frame = a.seal(b"data").unwrap();
    let mut bad = frame.clone();
    *bad.last_mut().unwrap() ^= 1;
    assert_eq!(b.open(&bad), Err(AeError::BadTag));
    assert_eq!(b.open(&frame).unwrap(), b"data");
}

#[test]
fn frames_before_a_session_and_short_frames_are_refused() {
    let mut a = channel(1, 2, RekeyPolicy::default());
    assert_eq!(a.seal(b"x"), Err(AeError::NotEstablished));
    assert_eq!(a.open(&[0; 40]), Err(AeError::NotEstablished));
    let (_, mut b) = pair();
    assert_eq!(b.open(&[0; 5]), Err(AeError::FrameTooShort(5)));
}

#[test]
fn a_man_in_the_middle_with_its_own_key_fails() {
    // Mallory (3) claims to be A (1) towards B, signing with her own key.
    let mut mallory = channel(3, 2, RekeyPolicy::default());
    let forged = mallory.start_handshake();
    let mut b = channel(2, 1, RekeyPolicy::default());
    assert_eq!(b.on_handshake(&forged, Instant::now()), Err(AeError::WrongIdentity));

    // Same, but Mallory puts A's public key in the message: the signature fails.
    let mut forged = forged;
    forged.identity_public = remote(1).public.to_bytes();
    assert_eq!(b.on_handshake(&forged, Instant::now()), Err(AeError::BadSignature));
    assert!(!b.is_established() && !b.is_handshaking());
}

#[test]
fn a_handshake_for_another_binding_fails() {
    let mut b = channel(2, 1, RekeyPolicy::default());
    let other_protocol = {
        let binding =
            Binding { remote: remote(2), protocol: b"/0707/detr/tx/1".to_vec(), genesis: GENESIS };
        Channel::new(identity(1), binding, RekeyPolicy::default()).start_handshake()
    };
    assert_eq!(b.on_handshake(&other_protocol, Instant::now()), Err(AeError::BadSignature));
    let other_genesis = {
        let binding = Binding { remote: remote(2), protocol: PROTOCOL.to_vec(), genesis: [8; 32] };
        Channel::new(identity(1), binding, RekeyPolicy::default()).start_handshake()
    };
    assert_eq!(b.on_handshake(&other_genesis, Instant::now()), Err(AeError::BadSignature));
}

#[test]
fn low_order_ephemeral_keys_are_refused() {
    let mut a = channel(1, 2, RekeyPolicy::default());
    let mut b = channel(2, 1, RekeyPolicy::default());
    let mut hello = a.start_handshake();
    hello.ephemeral_public = [0; 32];
    // The signature no longer matches the altered key...
    assert_eq!(b.on_handshake(&hello, Instant::now()), Err(AeError::BadSignature));
    // ...and a validly signed low-order key is refused by the exchange itself.
    let low = etrid_aecomms::Handshake::with_ephemeral(
        &identity(1),
        a.binding(),
        0,
        x25519_dalek::StaticSecret::from([0u8; 32]),
    );
    let mut msg = low.message().clone();
    msg.ephemeral_public = [0; 32];
    let signed = resign(1, 2, msg);
    assert_eq!(b.on_handshake(&signed, Instant::now()), Err(AeError::LowOrderKey));
    assert!(!b.is_established() && !b.is_handshaking());
}

/// Re-signs `msg` as party `me` for `them` (to test checks after the signature).
fn resign(
    me: u8,
    them: u8,
    mut msg: etrid_aecomms::HandshakeMessage,
) -> etrid_aecomms::HandshakeMessage {
    use ed25519_dalek::Signer;
    let lp = |b: &[u8]| [&(b.len() as u32).to_le_bytes()[..], b].concat();
    let statement = [
        &b"detr-aecomms/v1/handshake"[..],
        &lp(&peer_id(me)),
        &lp(&peer_id(them)),
        &lp(PROTOCOL),
        &GENESIS,
        &msg.generation.to_le_bytes(),
        &msg.ephemeral_public,
        &msg.identity_public,
    ]
    .concat();
    msg.signature = SigningKey::from_bytes(&[me; 32]).sign(&statement).to_bytes();
    msg
}

#[test]
fn stale_and_duplicate_handshakes_are_refused() {
    let mut a = channel(1, 2, RekeyPolicy::default());
    let mut b = channel(2, 1, RekeyPolicy::default());
    let hello = a.start_handshake();
    let reply = b.on_handshake(&hello, Instant::now()).unwrap().unwrap();
    a.on_handshake(&reply, Instant::now()).unwrap();
    assert_eq!(
        b.on_handshake(&hello, Instant::now()),
        Err(AeError::StaleHandshake { got: 0, last: 0 })
    );
    assert_eq!(
        a.on_handshake(&reply, Instant::now()),
        Err(AeError::StaleHandshake { got: 0, last: 0 })
    );
    let mut skipped = hello.clone();
    skipped.generation = 5;
    assert!(matches!(
        b.on_handshake(&skipped, Instant::now()),
        Err(AeError::UnexpectedGeneration { .. })
    ));
}

#[test]
fn rekey_after_message_count_gives_new_keys_and_old_frames_still_open() {
    let policy = RekeyPolicy { max_messages: 3, max_age: Duration::from_secs(3600) };
    let (mut a, mut b) = (channel(1, 2, policy), channel(2, 1, policy));
    connect(&mut a, &mut b);
    let now = Instant::now();
    let mut in_flight = Vec::new();
    for i in 0..3u8 {
        assert!(!a.needs_rekey(now));
        in_flight.push(a.seal(&[i]).unwrap());
    }
    assert!(a.needs_rekey(now));
    let old_frame = a.seal(b"old").unwrap();
    connect(&mut a, &mut b);
    assert_eq!((a.generation(), b.generation()), (Some(1), Some(1)));
    // A frame sealed before the rekey still opens at B...
    assert_eq!(b.open(&old_frame).unwrap(), b"old");
    // ...until the first frame of the new generation arrives; then the old key is gone.
    let new_frame = a.seal(b"new").unwrap();
    assert_eq!(&new_frame[..8], &1u64.to_le_bytes());
    assert_eq!(b.open(&new_frame).unwrap(), b"new");
    assert!(matches!(b.open(&in_flight[0]), Err(AeError::UnknownGeneration(0))));
}

#[test]
fn rekey_after_age() {
    let policy = RekeyPolicy { max_messages: u64::MAX, max_age: Duration::from_secs(60) };
    let (mut a, mut b) = (channel(1, 2, policy), channel(2, 1, policy));
    connect(&mut a, &mut b);
    let now = Instant::now();
    assert!(!a.needs_rekey(now));
    assert!(a.needs_rekey(now + Duration::from_secs(61)));
    a.start_handshake();
    assert!(!a.needs_rekey(now + Duration::from_secs(61)), "a handshake is already in flight");
}

#[test]
fn nonces_never_repeat() {
    let (mut a, _) = pair();
    let counters: std::collections::HashSet<_> =
        (0..1000).map(|_| a.seal(b"x").unwrap()[..16].to_vec()).collect();
    assert_eq!(counters.len(), 1000);
}

proptest! {
    #[test]
    fn seal_open_round_trip(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let (mut a, mut b) = pair();
        let frame = a.seal(&data).unwrap();
        prop_assert_eq!(frame.len(), data.len() + etrid_aecomms::FRAME_OVERHEAD);
        prop_assert_eq!(b.open(&frame).unwrap(), data);
    }

    #[test]
    fn any_single_bit_flip_is_rejected(data in proptest::collection::vec(any::<u8>(), 0..256), bit in any::<prop::sample::Index>()) {
        let (mut a, mut b) = pair();
        let mut frame = a.seal(&data).unwrap();
        let i = bit.index(frame.len() * 8);
        frame[i / 8] ^= 1 << (i % 8);
        prop_assert!(b.open(&frame).is_err());
    }

    #[test]
    fn random_frames_never_panic(frame in proptest::collection::vec(any::<u8>(), 0..128)) {
        let (_, mut b) = pair();
        prop_assert!(b.open(&frame).is_err());
    }
}
