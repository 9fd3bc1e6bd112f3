//! Several small messages to one peer on one protocol in one notification, under one seal.
//!
//! When a stream becomes free and its peer's queue holds more small messages of the protocol,
//! the link takes what the scheduler allows right now (never waiting for more) and sends them
//! together: one notification, one seal, one tag instead of one each. The layout is a
//! [`FrameTag::Batch`] notification whose plaintext is `(u32le(len) ‖ message)*`, in queue order.
//! Nothing waits for a batch to fill, so batching adds no delay; it only takes effect when
//! messages queue up, which is when per-notification costs matter.

use bytes::{Buf, Bytes};

use crate::{
    outbound::{frame_buffer, Outbound},
    protocols::FrameTag,
};

/// Most plaintext bytes in one batch: small beside every protocol's largest frame (1 MiB and
/// up), so a batch never holds a stream much longer than one message would.
pub(crate) const BATCH_BYTES: usize = 64 * 1024;
/// Most messages in one batch. The inbound budget charges each message of a batch, and a
/// receiver refuses a batch of more.
pub(crate) const BATCH_MESSAGES: usize = 64;
/// Only a message up to this size starts a batch: a larger one goes alone, sealed in its own
/// buffer with no copy.
pub(crate) const BATCH_FIRST: usize = 16 * 1024;
/// Bytes of each message's length prefix.
pub(crate) const LEN_PREFIX: usize = 4;

/// Why a batch was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BatchError {
    /// A length prefix cut short, a length past the end or a message of no bytes.
    #[error("malformed batch")]
    Malformed,
    /// More messages than [`BATCH_MESSAGES`].
    #[error("batch of more than {BATCH_MESSAGES} messages")]
    TooMany,
}

/// The notification of `messages` (two or more, each on the same protocol), ready to be sealed
/// in place at [`crate::protocols::SEAL_AT`].
pub(crate) fn frame(messages: &[Outbound]) -> Vec<u8> {
    let body: usize = messages.iter().map(|m| LEN_PREFIX + m.len()).sum();
    let mut buf = frame_buffer(FrameTag::Batch, body);
    for message in messages {
        let bytes = message.bytes();
        buf.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        buf.extend_from_slice(bytes);
    }
    buf
}

/// The messages of an opened batch, as slices of its buffer (no copy).
pub(crate) fn split(mut plaintext: Bytes) -> Result<Vec<Bytes>, BatchError> {
    let mut messages = Vec::new();
    while !plaintext.is_empty() {
        if messages.len() == BATCH_MESSAGES {
            return Err(BatchError::TooMany);
        }
        let len = plaintext.try_get_u32_le().map_err(|_| BatchError::Malformed)? as usize;
        if len == 0 || len > plaintext.len() {
            return Err(BatchError::Malformed);
        }
        messages.push(plaintext.split_to(len));
    }
    if messages.is_empty() {
        return Err(BatchError::Malformed);
    }
    Ok(messages)
}

#[cfg(test)]
mod tests {
    use etrid_protocol::{BridgeMessage, Message};

    use super::*;
    use crate::outbound::PREFIX;

    fn bridge(nonce: u64, payload: &[u8]) -> Message {
        Message::Bridge(BridgeMessage {
            source_chain: 1,
            destination_chain: 2,
            nonce,
            ttl: 3,
            payload: Bytes::copy_from_slice(payload),
        })
    }

    #[test]
    fn a_batch_splits_into_its_messages_in_order() {
        let messages = [bridge(1, b"one"), bridge(2, &[7; 3000]), bridge(3, b"three")];
        let outbound: Vec<_> = messages.iter().map(|m| Outbound::unicast(m).unwrap()).collect();
        let frame = frame(&outbound);
        assert_eq!(frame[0], FrameTag::Batch as u8);
        let plaintext = Bytes::from(frame).slice(PREFIX..);
        let split = split(plaintext).unwrap();
        let decoded: Vec<_> = split.into_iter().map(|b| Message::decode(b).unwrap()).collect();
        assert_eq!(decoded, messages);
    }

    #[test]
    fn malformed_and_oversized_batches_are_refused() {
        let entry = |len: u32, body: &[u8]| [&len.to_le_bytes()[..], body].concat();
        let cases: [(Vec<u8>, BatchError); 5] = [
            (vec![], BatchError::Malformed),
            (vec![1, 0], BatchError::Malformed),
            (entry(0, b""), BatchError::Malformed),
            (entry(9, b"short"), BatchError::Malformed),
            (entry(1, b"x").repeat(BATCH_MESSAGES + 1), BatchError::TooMany),
        ];
        for (plaintext, error) in cases {
            assert_eq!(split(Bytes::from(plaintext.clone())), Err(error), "{plaintext:?}");
        }
        assert_eq!(split(Bytes::from(entry(1, b"x").repeat(BATCH_MESSAGES))).unwrap().len(), 64);
    }
}
