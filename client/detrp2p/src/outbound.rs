//! Outbound messages as the per-peer scheduler holds them, and their frames.
//!
//! A message to one peer is encoded straight into its notification buffer: frame tag, room for
//! the AEComms header, the message, room for the tag; the peer's link seals it in place. A
//! message to many peers is encoded once and shared; each link copies it into its own buffer
//! (each seal is under another key, so that one copy per peer is the floor).

use bytes::Bytes;
use etrid_aecomms::{HEADER_LEN, TAG_LEN};
use etrid_p2p_fluent::FlowController;
use etrid_protocol::{Message, Priority, ProtocolError};
use sc_network::PeerId;

use crate::protocols::{DetrProtocol, FrameTag, SEAL_AT};

/// Bytes in front of a message in its notification: the frame tag and the AEComms header.
pub(crate) const PREFIX: usize = SEAL_AT + HEADER_LEN;

/// The bytes of an outbound message.
pub(crate) enum Payload {
    /// A notification buffer laid out for sealing in place (see [`Outbound::unicast`]).
    Owned(Vec<u8>),
    /// An encoded message shared by several peers.
    Shared(Bytes),
}

/// A message queued to one peer.
pub(crate) struct Outbound {
    pub protocol: DetrProtocol,
    pub payload: Payload,
}

/// The outbox: one scheduler per peer, across the four protocols.
pub(crate) type Outbox = FlowController<PeerId, Outbound>;

/// A notification buffer of frame `tag` for a plaintext of `body_len` bytes: the tag, room for
/// the AEComms header, then capacity for the plaintext (appended by the caller) and the tag.
pub(crate) fn frame_buffer(tag: FrameTag, body_len: usize) -> Vec<u8> {
    let mut buf = Vec::with_capacity(PREFIX + body_len + TAG_LEN);
    buf.push(tag as u8);
    buf.resize(PREFIX, 0);
    buf
}

impl Outbound {
    /// `message` for one peer, encoded into its notification buffer.
    pub fn unicast(message: &Message) -> Result<Self, ProtocolError> {
        let mut buf = frame_buffer(FrameTag::Sealed, message.encoded_len());
        message.encode_to(&mut buf)?;
        Ok(Self { protocol: DetrProtocol::for_kind(message.kind()), payload: Payload::Owned(buf) })
    }

    /// `message` encoded once, for several peers.
    pub fn shared(message: &Message) -> Result<(DetrProtocol, Bytes), ProtocolError> {
        Ok((DetrProtocol::for_kind(message.kind()), message.encode()?))
    }

    /// Bytes the message counts for in queues and buckets.
    pub fn len(&self) -> usize {
        self.bytes().len()
    }

    /// The encoded message.
    pub fn bytes(&self) -> &[u8] {
        match &self.payload {
            Payload::Owned(buf) => &buf[PREFIX..],
            Payload::Shared(bytes) => bytes,
        }
    }

    /// The notification buffer, ready for [`etrid_aecomms::SendHalf::seal`] at [`SEAL_AT`].
    pub fn into_frame(self) -> Vec<u8> {
        match self.payload {
            Payload::Owned(buf) => buf,
            Payload::Shared(bytes) => {
                let mut buf = frame_buffer(FrameTag::Sealed, bytes.len());
                buf.extend_from_slice(&bytes);
                buf
            }
        }
    }
}

/// The scheduling priority of messages on `protocol` of `kind`.
pub(crate) fn priority(message: &Message) -> Priority {
    message.kind().default_priority()
}
