//! The DETR P2P wire format.
//!
//! A frame on a detr stream (inside its AEComms seal) is one [`Message`]:
//! `version ‖ kind ‖ body`, the body laid out as SCALE. There is no message id or hash: the
//! AEComms seal already authenticates each hop, GRANDPA, the transaction pool and sync identify
//! their own items, and bridge messages are identified by `(source chain, nonce)`.
//!
//! Decoding takes the frame as [`bytes::Bytes`] and hands out payloads as slices of it; it is
//! bounded by [`limits`] (every length is checked against its limit and the bytes left before
//! anything is read) and never panics. This crate does no I/O.

pub mod error;
pub mod limits;
pub mod message;
pub mod priority;

mod reader;

pub use error::ProtocolError;
pub use message::{
    AddressesMessage, BlockAnnounce, BlockMessage, BlockPush, BridgeMessage, ChainId,
    ConsensusMessage, Message, MessageKind, TransactionMessage,
};
pub use priority::Priority;

/// The wire version this crate speaks (2: no envelope id, zero-copy payloads).
pub const PROTOCOL_VERSION: u8 = 2;
