//! The DETR P2P wire format.
//!
//! A frame on a detr notification stream is one SCALE-encoded [`Envelope`]: protocol version,
//! message kind, sender nonce, hop limit, a SHA-256 [`MessageId`] and the [`Message`]. Decoding is
//! bounded by [`limits`]: no input can make the decoder allocate more than those limits allow, and
//! no input makes it panic. This crate does no I/O.

pub mod envelope;
pub mod error;
pub mod limits;
pub mod message;
pub mod priority;

mod bounded;

pub use envelope::{Envelope, MessageId, PROTOCOL_VERSION};
pub use error::ProtocolError;
pub use message::{
    BlockAnnounce, BridgeMessage, ChainId, ConsensusMessage, HandshakeMessage, Message,
    MessageKind, TransactionMessage,
};
pub use priority::Priority;

/// Byte-level (de)serialization of a wire type, as in the seed's `Protocol` trait.
pub trait Protocol: Sized {
    /// Encodes `self`; fails when the result would exceed [`limits::MAX_FRAME_SIZE`].
    fn serialize(&self) -> Result<Vec<u8>, ProtocolError>;
    /// Decodes a whole frame, enforcing every limit; trailing bytes are an error.
    fn deserialize(data: &[u8]) -> Result<Self, ProtocolError>;
}
