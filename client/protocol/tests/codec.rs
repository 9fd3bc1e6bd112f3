//! Round trips, limits and robustness of the wire format.

use bytes::Bytes;
use codec::{Compact, Encode};
use etrid_protocol::{
    limits, BlockAnnounce, BlockMessage, BlockPush, BridgeMessage, ConsensusMessage, Message,
    MessageKind, Priority, ProtocolError, TransactionMessage, PROTOCOL_VERSION,
};
use proptest::prelude::*;

fn arb_bytes() -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..256).prop_map(Bytes::from)
}

fn arb_message() -> impl Strategy<Value = Message> {
    prop_oneof![
        proptest::collection::vec(arb_bytes(), 0..8)
            .prop_map(|extrinsics| Message::Transactions(TransactionMessage { extrinsics })),
        (any::<[u8; 32]>(), any::<u64>(), any::<[u8; 32]>()).prop_map(
            |(hash, number, parent_hash)| Message::Block(BlockMessage::Announce(BlockAnnounce {
                hash,
                number,
                parent_hash
            }))
        ),
        (arb_bytes(), proptest::option::of(arb_bytes())).prop_map(|(block, justifications)| {
            Message::Block(BlockMessage::Push(BlockPush { block, justifications }))
        }),
        (any::<[u8; 4]>(), arb_bytes()).prop_map(|(engine_id, payload)| Message::Consensus(
            ConsensusMessage { engine_id, payload }
        )),
        (any::<u32>(), any::<u32>(), any::<u64>(), any::<u8>(), arb_bytes()).prop_map(
            |(s, d, nonce, ttl, payload)| Message::Bridge(BridgeMessage {
                source_chain: s,
                destination_chain: d,
                nonce,
                ttl,
                payload
            })
        ),
        arb_bytes().prop_map(Message::Custom),
        proptest::collection::vec(arb_bytes(), 0..8).prop_map(|addresses| Message::Addresses(
            etrid_protocol::AddressesMessage { addresses }
        )),
    ]
}

proptest! {
    #[test]
    fn messages_round_trip_and_know_their_length(message in arb_message()) {
        let frame = message.encode().unwrap();
        prop_assert_eq!(frame.len(), message.encoded_len());
        prop_assert_eq!(Message::decode(frame).unwrap(), message);
    }

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = Message::decode(Bytes::from(data));
    }

    #[test]
    fn what_decodes_re_encodes_to_the_same_bytes(kind in 1u8..=6, body in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut frame = vec![PROTOCOL_VERSION, kind];
        frame.extend(body);
        if let Ok(message) = Message::decode(Bytes::from(frame.clone())) {
            prop_assert_eq!(message.encode().unwrap().to_vec(), frame);
        }
    }
}

#[test]
fn decoded_payloads_are_slices_of_the_frame() {
    let message = Message::Custom(Bytes::from_static(&[7; 100]));
    let frame = message.encode().unwrap();
    let range = frame.as_ptr_range();
    let Message::Custom(payload) = Message::decode(frame.clone()).unwrap() else { panic!() };
    assert!(range.contains(&payload.as_ptr()), "the payload points into the frame");
}

#[test]
fn every_kind_maps_to_its_priority() {
    let cases = [
        (MessageKind::Consensus, Priority::Critical),
        (MessageKind::Block, Priority::High),
        (MessageKind::Bridge, Priority::Normal),
        (MessageKind::Transactions, Priority::Low),
        (MessageKind::Custom, Priority::Bulk),
        (MessageKind::Addresses, Priority::Normal),
    ];
    for (kind, priority) in cases {
        assert_eq!(kind.default_priority(), priority);
        assert_eq!(MessageKind::from_index(kind as u8), Some(kind));
    }
    assert_eq!(MessageKind::from_index(0), None);
}

#[test]
fn relayed_bridge_copies_run_out_of_hops() {
    let mut message = BridgeMessage {
        source_chain: 1,
        destination_chain: 2,
        nonce: 3,
        ttl: limits::DEFAULT_TTL,
        payload: Bytes::new(),
    };
    let mut hops = 0;
    while let Some(next) = message.relayed() {
        assert_eq!((next.source_chain, next.nonce), (1, 3));
        message = next;
        hops += 1;
    }
    assert_eq!(hops, limits::DEFAULT_TTL as usize - 1);
}

#[test]
fn oversize_messages_are_refused_both_ways() {
    let big = Message::Custom(Bytes::from(vec![0; limits::MAX_PAYLOAD_SIZE + 1]));
    assert!(matches!(big.encode(), Err(ProtocolError::TooLarge { .. })));
    let mut frame = vec![PROTOCOL_VERSION, MessageKind::Custom as u8];
    frame.extend(Compact(limits::MAX_PAYLOAD_SIZE as u32 + 1).encode());
    frame.resize(limits::MAX_BRIDGE_FRAME, 0);
    assert_eq!(
        Message::decode(Bytes::from(frame)),
        Err(ProtocolError::Malformed("length over the limit"))
    );
    let huge = vec![PROTOCOL_VERSION, MessageKind::Consensus as u8]
        .into_iter()
        .chain(std::iter::repeat_n(0, limits::MAX_CONSENSUS_FRAME))
        .collect::<Vec<_>>();
    assert!(matches!(Message::decode(Bytes::from(huge)), Err(ProtocolError::TooLarge { .. })));
}

#[test]
fn too_many_extrinsics_are_refused() {
    let message = Message::Transactions(TransactionMessage {
        extrinsics: vec![Bytes::new(); limits::MAX_EXTRINSICS + 1],
    });
    let mut frame = vec![PROTOCOL_VERSION, MessageKind::Transactions as u8];
    if let Message::Transactions(t) = &message {
        Compact(t.extrinsics.len() as u32).encode_to(&mut frame);
        frame.resize(frame.len() + t.extrinsics.len(), 0);
    }
    assert_eq!(
        Message::decode(Bytes::from(frame)),
        Err(ProtocolError::Malformed("length over the limit"))
    );
}

#[test]
fn lying_length_prefix_is_refused_without_allocating() {
    let mut frame = vec![PROTOCOL_VERSION, MessageKind::Custom as u8];
    frame.extend(Compact(1000u32).encode());
    assert_eq!(
        Message::decode(Bytes::from(frame)),
        Err(ProtocolError::Malformed("frame cut short"))
    );
}

#[test]
fn header_errors_are_named() {
    let frame = Message::Custom(Bytes::from_static(&[1])).encode().unwrap().to_vec();
    let mut bad = frame.clone();
    bad[0] = 9;
    assert_eq!(Message::decode(bad.into()), Err(ProtocolError::UnsupportedVersion(9)));
    let mut bad = frame.clone();
    bad[1] = 0;
    assert_eq!(Message::decode(bad.into()), Err(ProtocolError::UnknownKind(0)));
    let mut bad = frame.clone();
    bad.push(0);
    assert_eq!(Message::decode(bad.into()), Err(ProtocolError::TrailingBytes(1)));
    assert!(matches!(Message::decode(Bytes::from_static(&[2])), Err(ProtocolError::Malformed(_))));
}
