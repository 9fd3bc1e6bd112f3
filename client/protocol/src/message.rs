//! The messages carried by the four detr protocols.

use codec::{Decode, Encode, Input};

use crate::{bounded, limits, priority::Priority};

/// Identifier of a chain taking part in bridging.
pub type ChainId = u32;

/// AEComms handshake: the sender's fresh X25519 key, signed with its Ed25519 identity key.
///
/// The signature covers the transcript built by `etrid-aecomms` (both peer ids, protocol name,
/// genesis hash, generation and both keys), which both sides know without it being sent.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct HandshakeMessage {
    /// 0 for a stream's first handshake, +1 for each rekey.
    pub generation: u64,
    /// Ephemeral X25519 public key.
    pub ephemeral_public: [u8; 32],
    /// Ed25519 identity public key of the sender (must match its PeerId).
    pub identity_public: [u8; 32],
    /// Ed25519 signature over the handshake transcript.
    pub signature: [u8; 64],
}

/// Encoded extrinsics for the peer's transaction pool.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode)]
pub struct TransactionMessage {
    /// SCALE-encoded extrinsics, opaque to the protocol.
    pub extrinsics: Vec<Vec<u8>>,
}

/// Announce of a new best block.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct BlockAnnounce {
    /// Block hash.
    pub hash: [u8; 32],
    /// Block number.
    pub number: u64,
    /// Parent block hash.
    pub parent_hash: [u8; 32],
}

/// A payload of a consensus engine (e.g. GRANDPA finality notifications).
#[derive(Clone, Debug, PartialEq, Eq, Encode)]
pub struct ConsensusMessage {
    /// Four-byte engine id, as in Substrate digests (`*b"FRNK"` for GRANDPA).
    pub engine_id: [u8; 4],
    /// Engine-defined payload.
    pub payload: Vec<u8>,
}

/// A cross-chain message relayed between FlareChain nodes.
#[derive(Clone, Debug, PartialEq, Eq, Encode)]
pub struct BridgeMessage {
    /// Chain the message comes from.
    pub source_chain: ChainId,
    /// Chain the message is for.
    pub destination_chain: ChainId,
    /// Sequence number of the message on its source chain.
    pub nonce: u64,
    /// Opaque payload.
    pub payload: Vec<u8>,
}

/// Every message a detr protocol carries.
#[derive(Clone, Debug, PartialEq, Eq, Encode)]
pub enum Message {
    /// AEComms key exchange; first message on every stream.
    #[codec(index = 0)]
    Handshake(HandshakeMessage),
    /// Extrinsics for the transaction pool.
    #[codec(index = 1)]
    Transaction(TransactionMessage),
    /// New best block.
    #[codec(index = 2)]
    Block(BlockAnnounce),
    /// Consensus engine payload.
    #[codec(index = 3)]
    Consensus(ConsensusMessage),
    /// Cross-chain message.
    #[codec(index = 4)]
    Bridge(BridgeMessage),
    /// Application-defined bytes.
    #[codec(index = 5)]
    Custom(Vec<u8>),
}

/// The kind of a [`Message`]; its SCALE index, also carried in the envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum MessageKind {
    /// [`Message::Handshake`].
    Handshake = 0,
    /// [`Message::Transaction`].
    Transaction = 1,
    /// [`Message::Block`].
    Block = 2,
    /// [`Message::Consensus`].
    Consensus = 3,
    /// [`Message::Bridge`].
    Bridge = 4,
    /// [`Message::Custom`].
    Custom = 5,
}

impl MessageKind {
    /// All kinds, in index order.
    pub const ALL: [MessageKind; 6] = [
        MessageKind::Handshake,
        MessageKind::Transaction,
        MessageKind::Block,
        MessageKind::Consensus,
        MessageKind::Bridge,
        MessageKind::Custom,
    ];

    /// The kind with SCALE index `index`.
    pub fn from_index(index: u8) -> Option<Self> {
        Self::ALL.get(index as usize).copied()
    }

    /// Scheduling priority of this kind: Consensus 0 (and handshakes, which unblock a stream),
    /// Block 1, Bridge 2, Transaction 3, Custom 4.
    pub fn default_priority(self) -> Priority {
        match self {
            MessageKind::Handshake | MessageKind::Consensus => Priority::Critical,
            MessageKind::Block => Priority::High,
            MessageKind::Bridge => Priority::Normal,
            MessageKind::Transaction => Priority::Low,
            MessageKind::Custom => Priority::Bulk,
        }
    }
}

impl Message {
    /// The kind of this message.
    pub fn kind(&self) -> MessageKind {
        match self {
            Message::Handshake(_) => MessageKind::Handshake,
            Message::Transaction(_) => MessageKind::Transaction,
            Message::Block(_) => MessageKind::Block,
            Message::Consensus(_) => MessageKind::Consensus,
            Message::Bridge(_) => MessageKind::Bridge,
            Message::Custom(_) => MessageKind::Custom,
        }
    }
}

impl Decode for TransactionMessage {
    fn decode<I: Input>(input: &mut I) -> Result<Self, codec::Error> {
        let extrinsics =
            bounded::decode_byte_vecs(input, limits::MAX_EXTRINSICS, limits::MAX_EXTRINSIC_SIZE)?;
        Ok(Self { extrinsics })
    }
}

impl Decode for ConsensusMessage {
    fn decode<I: Input>(input: &mut I) -> Result<Self, codec::Error> {
        let engine_id = <[u8; 4]>::decode(input)?;
        let payload = bounded::decode_bytes(input, limits::MAX_PAYLOAD_SIZE)?;
        Ok(Self { engine_id, payload })
    }
}

impl Decode for BridgeMessage {
    fn decode<I: Input>(input: &mut I) -> Result<Self, codec::Error> {
        Ok(Self {
            source_chain: ChainId::decode(input)?,
            destination_chain: ChainId::decode(input)?,
            nonce: u64::decode(input)?,
            payload: bounded::decode_bytes(input, limits::MAX_PAYLOAD_SIZE)?,
        })
    }
}

impl Decode for Message {
    fn decode<I: Input>(input: &mut I) -> Result<Self, codec::Error> {
        let kind = MessageKind::from_index(input.read_byte()?).ok_or("unknown message kind")?;
        Ok(match kind {
            MessageKind::Handshake => Message::Handshake(HandshakeMessage::decode(input)?),
            MessageKind::Transaction => Message::Transaction(TransactionMessage::decode(input)?),
            MessageKind::Block => Message::Block(BlockAnnounce::decode(input)?),
            MessageKind::Consensus => Message::Consensus(ConsensusMessage::decode(input)?),
            MessageKind::Bridge => Message::Bridge(BridgeMessage::decode(input)?),
            MessageKind::Custom => {
                Message::Custom(bounded::decode_bytes(input, limits::MAX_PAYLOAD_SIZE)?)
            }
        })
    }
}
