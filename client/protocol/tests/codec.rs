//! Round trips, limits and robustness of the wire format.

use codec::{Compact, Encode};
use etrid_protocol::{
    limits, BlockAnnounce, BridgeMessage, ConsensusMessage, Envelope, HandshakeMessage, Message,
    MessageKind, Priority, Protocol, ProtocolError, TransactionMessage,
};
use proptest::prelude::*;

fn arb_message() -> impl Strategy<Value = Message> {
    let bytes = || proptest::collection::vec(any::<u8>(), 0..256);
    prop_oneof![
        (
            any::<u64>(),
            any::<[u8; 32]>(),
            any::<[u8; 32]>(),
            proptest::collection::vec(any::<u8>(), 64)
        )
            .prop_map(|(generation, e, i, sig)| Message::Handshake(HandshakeMessage {
                generation,
                ephemeral_public: e,
                identity_public: i,
                signature: sig.try_into().unwrap(),
            })),
        proptest::collection::vec(bytes(), 0..8)
            .prop_map(|extrinsics| Message::Transaction(TransactionMessage { extrinsics })),
        (any::<[u8; 32]>(), any::<u64>(), any::<[u8; 32]>()).prop_map(
            |(hash, number, parent_hash)| {
                Message::Block(BlockAnnounce { hash, number, parent_hash })
            }
        ),
        (any::<[u8; 4]>(), bytes()).prop_map(|(engine_id, payload)| Message::Consensus(
            ConsensusMessage { engine_id, payload }
        )),
        (any::<u32>(), any::<u32>(), any::<u64>(), bytes()).prop_map(|(s, d, nonce, payload)| {
            Message::Bridge(BridgeMessage { source_chain: s, destination_chain: d, nonce, payload })
        }),
        bytes().prop_map(Message::Custom),
    ]
}

proptest! {
    #[test]
    fn envelope_round_trips(nonce in any::<u64>(), message in arb_message()) {
        let envelope = Envelope::new(nonce, message);
        let bytes = envelope.serialize().unwrap();
        prop_assert_eq!(Envelope::deserialize(&bytes).unwrap(), envelope);
    }

    #[test]
    fn message_round_trips(message in arb_message()) {
        let bytes = message.serialize().unwrap();
        prop_assert_eq!(Message::deserialize(&bytes).unwrap(), message);
    }

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = Envelope::deserialize(&data);
        let _ = Message::deserialize(&data);
    }

    #[test]
    fn any_changed_byte_is_detected(nonce in any::<u64>(), message in arb_message(), pos in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let envelope = Envelope::new(nonce, message);
        let mut bytes = envelope.serialize().unwrap();
        let ttl_offset = 10; // the hop limit is the one field outside the id
        let i = pos.index(bytes.len());
        prop_assume!(i != ttl_offset);
        bytes[i] ^= flip;
        prop_assert!(Envelope::deserialize(&bytes).is_err());
    }
}

#[test]
fn every_kind_round_trips_and_maps_to_its_priority() {
    let cases = [
        (
            Message::Consensus(ConsensusMessage { engine_id: *b"FRNK", payload: vec![1] }),
            Priority::Critical,
        ),
        (
            Message::Block(BlockAnnounce { hash: [1; 32], number: 7, parent_hash: [0; 32] }),
            Priority::High,
        ),
        (
            Message::Bridge(BridgeMessage {
                source_chain: 1,
                destination_chain: 2,
                nonce: 3,
                payload: vec![],
            }),
            Priority::Normal,
        ),
        (Message::Transaction(TransactionMessage { extrinsics: vec![vec![1, 2]] }), Priority::Low),
        (Message::Custom(vec![9]), Priority::Bulk),
    ];
    for (message, priority) in cases {
        assert_eq!(message.kind().default_priority(), priority);
        let envelope = Envelope::new(1, message);
        assert_eq!(Envelope::deserialize(&envelope.serialize().unwrap()).unwrap(), envelope);
    }
    assert_eq!(MessageKind::Handshake.default_priority(), Priority::Critical);
}

#[test]
fn equal_messages_with_different_nonces_have_different_ids() {
    let a = Envelope::new(1, Message::Custom(vec![1]));
    let b = Envelope::new(2, Message::Custom(vec![1]));
    assert_ne!(a.id, b.id);
    assert_eq!(a.id, Envelope::new(1, Message::Custom(vec![1])).id);
}

#[test]
fn relayed_copy_keeps_its_id_and_runs_out_of_hops() {
    let mut envelope = Envelope::new(5, Message::Custom(vec![1]));
    let mut hops = 0;
    while let Some(next) = envelope.relayed() {
        assert_eq!(next.id, envelope.id);
        assert_eq!(Envelope::deserialize(&next.serialize().unwrap()).unwrap(), next);
        envelope = next;
        hops += 1;
    }
    assert_eq!(hops, limits::DEFAULT_TTL as usize - 1);
}

#[test]
fn oversize_frames_are_refused_both_ways() {
    let big = Message::Custom(vec![0; limits::MAX_PAYLOAD_SIZE + 1]);
    let bytes = Envelope::new(1, big).serialize().unwrap();
    assert!(matches!(Envelope::deserialize(&bytes), Err(ProtocolError::Malformed(_))));

    let huge = vec![0u8; limits::MAX_FRAME_SIZE + 1];
    assert!(matches!(Envelope::deserialize(&huge), Err(ProtocolError::TooLarge { .. })));
    let many = Message::Transaction(TransactionMessage {
        extrinsics: vec![vec![0; limits::MAX_EXTRINSIC_SIZE]; 5],
    });
    assert!(matches!(Envelope::new(1, many).serialize(), Err(ProtocolError::TooLarge { .. })));
}

#[test]
fn too_many_extrinsics_are_refused() {
    let message = Message::Transaction(TransactionMessage {
        extrinsics: vec![vec![]; limits::MAX_EXTRINSICS + 1],
    });
    assert!(Message::deserialize(&message.encode()).is_err());
}

#[test]
fn lying_length_prefix_is_refused_without_allocating() {
    // A custom message claiming u32::MAX bytes of payload, carrying none.
    let mut bytes = vec![MessageKind::Custom as u8];
    bytes.extend(Compact(u32::MAX).encode());
    assert!(matches!(Message::deserialize(&bytes), Err(ProtocolError::Malformed(_))));
}

#[test]
fn header_errors_are_named() {
    let mut bytes = Envelope::new(1, Message::Custom(vec![1])).serialize().unwrap();
    bytes[0] = 9;
    assert_eq!(Envelope::deserialize(&bytes), Err(ProtocolError::UnsupportedVersion(9)));

    let mut bytes = Envelope::new(1, Message::Custom(vec![1])).serialize().unwrap();
    bytes[1] = MessageKind::Bridge as u8;
    assert!(matches!(Envelope::deserialize(&bytes), Err(ProtocolError::KindMismatch { .. })));

    let mut bytes = Envelope::new(1, Message::Custom(vec![1])).serialize().unwrap();
    bytes.push(0);
    assert_eq!(Envelope::deserialize(&bytes), Err(ProtocolError::TrailingBytes(1)));

    let mut bytes = Envelope::new(1, Message::Custom(vec![1])).serialize().unwrap();
    bytes[20] ^= 1; // inside the id
    assert_eq!(Envelope::deserialize(&bytes), Err(ProtocolError::BadMessageId));

    assert!(matches!(Envelope::deserialize(&[1, 2, 3]), Err(ProtocolError::Malformed(_))));
}
