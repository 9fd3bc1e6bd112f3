//! The envelope around every message: version, kind, sender nonce, hop limit and message id.
//!
//! Wire layout (all integers little endian, as SCALE):
//!
//! | bytes | field                                   |
//! |-------|-----------------------------------------|
//! | 1     | version (`PROTOCOL_VERSION`)            |
//! | 1     | kind (the message's SCALE index)        |
//! | 8     | sender nonce                            |
//! | 1     | ttl: hops left for relayed messages     |
//! | 32    | id = SHA-256(`ID_DOMAIN` ‖ version ‖ kind ‖ nonce ‖ SCALE(message)) |
//! | rest  | SCALE(message)                          |
//!
//! The id covers everything but the ttl, so a relayed copy keeps its id and is de-duplicated.

use codec::{DecodeLimit, Encode};
use sha2::{Digest, Sha256};

use crate::{
    limits::{DEFAULT_TTL, MAX_DEPTH, MAX_FRAME_SIZE},
    message::{Message, MessageKind},
    Protocol, ProtocolError,
};

/// The protocol version this crate speaks.
pub const PROTOCOL_VERSION: u8 = 1;
/// SHA-256 identifier of a message, used for integrity and de-duplication.
pub type MessageId = [u8; 32];

/// Domain separator of message ids.
const ID_DOMAIN: &[u8] = b"detr-p2p/message-id/v1";
/// Bytes before the message: version, kind, nonce, ttl, id.
const HEADER_LEN: usize = 1 + 1 + 8 + 1 + 32;

/// A message with its envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// Sender-chosen nonce that makes equal messages distinct.
    pub nonce: u64,
    /// Hops left; relays decrement it and stop at 0.
    pub ttl: u8,
    /// SHA-256 id over version, kind, nonce and message.
    pub id: MessageId,
    /// The message.
    pub message: Message,
}

impl Envelope {
    /// Wraps `message` with `nonce` and the default hop limit, computing its id.
    pub fn new(nonce: u64, message: Message) -> Self {
        let id = compute_id(nonce, message.kind(), &message.encode());
        Self { nonce, ttl: DEFAULT_TTL, id, message }
    }

    /// The kind of the message inside.
    pub fn kind(&self) -> MessageKind {
        self.message.kind()
    }

    /// The copy to relay one hop further, or `None` when the hop limit is spent.
    pub fn relayed(&self) -> Option<Self> {
        let ttl = self.ttl.checked_sub(1).filter(|t| *t > 0)?;
        Some(Self { ttl, ..self.clone() })
    }
}

/// The id of a message of `kind` with `nonce` whose SCALE encoding is `message`.
pub fn compute_id(nonce: u64, kind: MessageKind, message: &[u8]) -> MessageId {
    let mut hasher = Sha256::new();
    hasher.update(ID_DOMAIN);
    hasher.update([PROTOCOL_VERSION, kind as u8]);
    hasher.update(nonce.to_le_bytes());
    hasher.update(message);
    hasher.finalize().into()
}

/// Refuses frames over [`MAX_FRAME_SIZE`].
fn check_size(size: usize) -> Result<(), ProtocolError> {
    if size > MAX_FRAME_SIZE {
        return Err(ProtocolError::TooLarge { size, limit: MAX_FRAME_SIZE });
    }
    Ok(())
}

impl Protocol for Envelope {
    fn serialize(&self) -> Result<Vec<u8>, ProtocolError> {
        let size = HEADER_LEN + self.message.size_hint();
        let mut out = Vec::with_capacity(size);
        out.push(PROTOCOL_VERSION);
        out.push(self.kind() as u8);
        out.extend_from_slice(&self.nonce.to_le_bytes());
        out.push(self.ttl);
        out.extend_from_slice(&self.id);
        self.message.encode_to(&mut out);
        check_size(out.len())?;
        Ok(out)
    }

    fn deserialize(data: &[u8]) -> Result<Self, ProtocolError> {
        check_size(data.len())?;
        if data.len() < HEADER_LEN {
            return Err(ProtocolError::Malformed(format!(
                "frame of {} bytes is shorter than the {HEADER_LEN}-byte header",
                data.len()
            )));
        }
        let (header, body) = data.split_at(HEADER_LEN);
        if header[0] != PROTOCOL_VERSION {
            return Err(ProtocolError::UnsupportedVersion(header[0]));
        }
        let kind = header[1];
        let nonce = u64::from_le_bytes(header[2..10].try_into().expect("8 bytes"));
        let ttl = header[10];
        let id: MessageId = header[11..HEADER_LEN].try_into().expect("32 bytes");

        let mut input = body;
        let message = Message::decode_with_depth_limit(MAX_DEPTH, &mut input)?;
        if !input.is_empty() {
            return Err(ProtocolError::TrailingBytes(input.len()));
        }
        let message_kind = message.kind();
        if kind != message_kind as u8 {
            return Err(ProtocolError::KindMismatch {
                envelope: kind,
                message: message_kind as u8,
            });
        }
        if compute_id(nonce, message_kind, body) != id {
            return Err(ProtocolError::BadMessageId);
        }
        Ok(Self { nonce, ttl, id, message })
    }
}

impl Protocol for Message {
    fn serialize(&self) -> Result<Vec<u8>, ProtocolError> {
        let out = self.encode();
        check_size(out.len())?;
        Ok(out)
    }

    fn deserialize(data: &[u8]) -> Result<Self, ProtocolError> {
        check_size(data.len())?;
        let mut input = data;
        let message = Message::decode_with_depth_limit(MAX_DEPTH, &mut input)?;
        if !input.is_empty() {
            return Err(ProtocolError::TrailingBytes(input.len()));
        }
        Ok(message)
    }
}
