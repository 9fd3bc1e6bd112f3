//! The messages carried by the four detr protocols, and their wire form:
//! `version ‖ kind ‖ body`, the body in SCALE layout. Decoding takes the received frame as
//! [`Bytes`] and hands payloads out as slices of it: nothing is copied.

use bytes::Bytes;

use crate::{
    limits::{self, HEADER_LEN},
    priority::Priority,
    reader::{len_prefix, put_bytes, Reader},
    ProtocolError, PROTOCOL_VERSION,
};

/// Identifier of a chain taking part in bridging.
pub type ChainId = u32;

/// Encoded extrinsics for the peer's transaction pool (a batch).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransactionMessage {
    /// SCALE-encoded extrinsics, opaque to the protocol.
    pub extrinsics: Vec<Bytes>,
}

/// Announce of a block the sender has (`hash`, `number`, `parent_hash`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockAnnounce {
    /// Block hash.
    pub hash: [u8; 32],
    /// Block number.
    pub number: u64,
    /// Parent block hash.
    pub parent_hash: [u8; 32],
}

/// A whole block pushed by its author (or passed on once by a peer that imported it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockPush {
    /// The SCALE-encoded block (header and extrinsics).
    pub block: Bytes,
    /// SCALE-encoded justifications, if any.
    pub justifications: Option<Bytes>,
}

/// What the block protocol carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlockMessage {
    /// A block the sender has; the receiver asks sync for it if it does not.
    Announce(BlockAnnounce),
    /// A whole block to import.
    Push(BlockPush),
}

/// A payload of a consensus engine (GRANDPA's gossip).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsensusMessage {
    /// Four-byte engine id, as in Substrate digests (`*b"FRNK"` for GRANDPA).
    pub engine_id: [u8; 4],
    /// Engine-defined payload.
    pub payload: Bytes,
}

/// A cross-chain message relayed between FlareChain nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BridgeMessage {
    /// Chain the message comes from.
    pub source_chain: ChainId,
    /// Chain the message is for.
    pub destination_chain: ChainId,
    /// Sequence number of the message on its source chain: with `source_chain`, its identity.
    pub nonce: u64,
    /// Hops left; relays decrement it and stop at 0.
    pub ttl: u8,
    /// Opaque payload.
    pub payload: Bytes,
}

impl BridgeMessage {
    /// The copy to relay one hop further, or `None` when the hop limit is spent.
    pub fn relayed(&self) -> Option<Self> {
        let ttl = self.ttl.checked_sub(1).filter(|t| *t > 0)?;
        Some(Self { ttl, ..self.clone() })
    }
}

/// The addresses the sender can be dialled at (sent once per session, so that peers can dial
/// it again from their peer cache after a restart).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddressesMessage {
    /// Multiaddresses as UTF-8 text.
    pub addresses: Vec<Bytes>,
}

/// Every message a detr protocol carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// Extrinsics for the transaction pool.
    Transactions(TransactionMessage),
    /// A block announce or a pushed block.
    Block(BlockMessage),
    /// Consensus engine payload.
    Consensus(ConsensusMessage),
    /// Cross-chain message.
    Bridge(BridgeMessage),
    /// Application-defined bytes.
    Custom(Bytes),
    /// The sender's dialable addresses.
    Addresses(AddressesMessage),
}

/// The kind of a [`Message`]: its index on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum MessageKind {
    /// [`Message::Transactions`].
    Transactions = 1,
    /// [`Message::Block`].
    Block = 2,
    /// [`Message::Consensus`].
    Consensus = 3,
    /// [`Message::Bridge`].
    Bridge = 4,
    /// [`Message::Custom`].
    Custom = 5,
    /// [`Message::Addresses`].
    Addresses = 6,
}

impl MessageKind {
    /// All kinds, in index order.
    pub const ALL: [MessageKind; 6] = [
        MessageKind::Transactions,
        MessageKind::Block,
        MessageKind::Consensus,
        MessageKind::Bridge,
        MessageKind::Custom,
        MessageKind::Addresses,
    ];

    /// The kind with wire index `index`.
    pub fn from_index(index: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|k| *k as u8 == index)
    }

    /// Scheduling priority: Consensus 0, Block 1, Bridge and Addresses 2, Transactions 3,
    /// Custom 4.
    pub fn default_priority(self) -> Priority {
        match self {
            MessageKind::Consensus => Priority::Critical,
            MessageKind::Block => Priority::High,
            MessageKind::Bridge | MessageKind::Addresses => Priority::Normal,
            MessageKind::Transactions => Priority::Low,
            MessageKind::Custom => Priority::Bulk,
        }
    }

    /// Largest frame of this kind.
    pub fn max_frame(self) -> usize {
        match self {
            MessageKind::Transactions => limits::MAX_TX_FRAME,
            MessageKind::Block => limits::MAX_BLOCK_FRAME,
            MessageKind::Consensus => limits::MAX_CONSENSUS_FRAME,
            MessageKind::Bridge | MessageKind::Custom | MessageKind::Addresses => {
                limits::MAX_BRIDGE_FRAME
            }
        }
    }
}

const ANNOUNCE: u8 = 0;
const PUSH: u8 = 1;

impl Message {
    /// The kind of this message.
    pub fn kind(&self) -> MessageKind {
        match self {
            Message::Transactions(_) => MessageKind::Transactions,
            Message::Block(_) => MessageKind::Block,
            Message::Consensus(_) => MessageKind::Consensus,
            Message::Bridge(_) => MessageKind::Bridge,
            Message::Custom(_) => MessageKind::Custom,
            Message::Addresses(_) => MessageKind::Addresses,
        }
    }

    /// Bytes of the encoded frame.
    pub fn encoded_len(&self) -> usize {
        let field = |b: &[u8]| len_prefix(b.len()) + b.len();
        HEADER_LEN
            + match self {
                Message::Transactions(t) => {
                    len_prefix(t.extrinsics.len())
                        + t.extrinsics.iter().map(|x| field(x)).sum::<usize>()
                }
                Message::Block(BlockMessage::Announce(_)) => 1 + 32 + 8 + 32,
                Message::Block(BlockMessage::Push(p)) => {
                    1 + field(&p.block) + 1 + p.justifications.as_deref().map_or(0, field)
                }
                Message::Consensus(c) => 4 + field(&c.payload),
                Message::Bridge(b) => 4 + 4 + 8 + 1 + field(&b.payload),
                Message::Custom(c) => field(c),
                Message::Addresses(a) => {
                    len_prefix(a.addresses.len())
                        + a.addresses.iter().map(|x| field(x)).sum::<usize>()
                }
            }
    }

    /// Checks every field against the limit decoding enforces.
    fn check_limits(&self) -> Result<(), ProtocolError> {
        let check = |size: usize, limit: usize| {
            if size > limit {
                Err(ProtocolError::TooLarge { size, limit })
            } else {
                Ok(())
            }
        };
        match self {
            Message::Transactions(t) => {
                check(t.extrinsics.len(), limits::MAX_EXTRINSICS)?;
                t.extrinsics.iter().try_for_each(|x| check(x.len(), limits::MAX_EXTRINSIC_SIZE))
            }
            Message::Block(BlockMessage::Announce(_)) => Ok(()),
            Message::Block(BlockMessage::Push(p)) => {
                check(p.block.len(), limits::MAX_BLOCK_SIZE)?;
                check(
                    p.justifications.as_ref().map_or(0, Bytes::len),
                    limits::MAX_JUSTIFICATIONS_SIZE,
                )
            }
            Message::Consensus(c) => check(c.payload.len(), limits::MAX_CONSENSUS_PAYLOAD),
            Message::Bridge(BridgeMessage { payload, .. }) | Message::Custom(payload) => {
                check(payload.len(), limits::MAX_PAYLOAD_SIZE)
            }
            Message::Addresses(a) => {
                check(a.addresses.len(), limits::MAX_ADDRESSES)?;
                a.addresses.iter().try_for_each(|x| check(x.len(), limits::MAX_ADDRESS_LEN))
            }
        }?;
        check(self.encoded_len(), self.kind().max_frame())
    }

    /// Appends the frame to `out` (which may hold a reserved prefix, such as room for a seal
    /// header). Refuses, appending nothing, a message decoding would refuse for its size.
    pub fn encode_to(&self, out: &mut Vec<u8>) -> Result<(), ProtocolError> {
        self.check_limits()?;
        let size = self.encoded_len();
        out.reserve(size);
        out.extend_from_slice(&[PROTOCOL_VERSION, self.kind() as u8]);
        match self {
            Message::Transactions(t) => {
                codec::Encode::encode_to(&codec::Compact(t.extrinsics.len() as u32), out);
                t.extrinsics.iter().for_each(|x| put_bytes(out, x));
            }
            Message::Block(BlockMessage::Announce(a)) => {
                out.push(ANNOUNCE);
                out.extend_from_slice(&a.hash);
                out.extend_from_slice(&a.number.to_le_bytes());
                out.extend_from_slice(&a.parent_hash);
            }
            Message::Block(BlockMessage::Push(p)) => {
                out.push(PUSH);
                put_bytes(out, &p.block);
                match &p.justifications {
                    None => out.push(0),
                    Some(j) => {
                        out.push(1);
                        put_bytes(out, j);
                    }
                }
            }
            Message::Consensus(c) => {
                out.extend_from_slice(&c.engine_id);
                put_bytes(out, &c.payload);
            }
            Message::Bridge(b) => {
                out.extend_from_slice(&b.source_chain.to_le_bytes());
                out.extend_from_slice(&b.destination_chain.to_le_bytes());
                out.extend_from_slice(&b.nonce.to_le_bytes());
                out.push(b.ttl);
                put_bytes(out, &b.payload);
            }
            Message::Custom(c) => put_bytes(out, c),
            Message::Addresses(a) => {
                codec::Encode::encode_to(&codec::Compact(a.addresses.len() as u32), out);
                a.addresses.iter().for_each(|x| put_bytes(out, x));
            }
        }
        Ok(())
    }

    /// The frame as a new buffer.
    pub fn encode(&self) -> Result<Bytes, ProtocolError> {
        let mut out = Vec::new();
        self.encode_to(&mut out)?;
        Ok(out.into())
    }

    /// Decodes a whole frame, enforcing its kind's limits; payloads are slices of `frame`.
    pub fn decode(frame: Bytes) -> Result<Self, ProtocolError> {
        if frame.len() < HEADER_LEN {
            return Err(ProtocolError::Malformed("frame shorter than its header"));
        }
        if frame[0] != PROTOCOL_VERSION {
            return Err(ProtocolError::UnsupportedVersion(frame[0]));
        }
        let kind = MessageKind::from_index(frame[1]).ok_or(ProtocolError::UnknownKind(frame[1]))?;
        if frame.len() > kind.max_frame() {
            return Err(ProtocolError::TooLarge { size: frame.len(), limit: kind.max_frame() });
        }
        let mut r = Reader::new(frame, HEADER_LEN);
        let message = match kind {
            MessageKind::Transactions => {
                let n = r.len(limits::MAX_EXTRINSICS)?;
                let mut extrinsics = Vec::with_capacity(n.min(64));
                for _ in 0..n {
                    extrinsics.push(r.bytes(limits::MAX_EXTRINSIC_SIZE)?);
                }
                Message::Transactions(TransactionMessage { extrinsics })
            }
            MessageKind::Block => match r.u8()? {
                ANNOUNCE => Message::Block(BlockMessage::Announce(BlockAnnounce {
                    hash: r.array()?,
                    number: r.u64()?,
                    parent_hash: r.array()?,
                })),
                PUSH => Message::Block(BlockMessage::Push(BlockPush {
                    block: r.bytes(limits::MAX_BLOCK_SIZE)?,
                    justifications: r.option_bytes(limits::MAX_JUSTIFICATIONS_SIZE)?,
                })),
                _ => return Err(ProtocolError::Malformed("unknown block message")),
            },
            MessageKind::Consensus => Message::Consensus(ConsensusMessage {
                engine_id: r.array()?,
                payload: r.bytes(limits::MAX_CONSENSUS_PAYLOAD)?,
            }),
            MessageKind::Bridge => Message::Bridge(BridgeMessage {
                source_chain: r.u32()?,
                destination_chain: r.u32()?,
                nonce: r.u64()?,
                ttl: r.u8()?,
                payload: r.bytes(limits::MAX_PAYLOAD_SIZE)?,
            }),
            MessageKind::Custom => Message::Custom(r.bytes(limits::MAX_PAYLOAD_SIZE)?),
            MessageKind::Addresses => {
                let n = r.len(limits::MAX_ADDRESSES)?;
                let mut addresses = Vec::with_capacity(n);
                for _ in 0..n {
                    addresses.push(r.bytes(limits::MAX_ADDRESS_LEN)?);
                }
                Message::Addresses(AddressesMessage { addresses })
            }
        };
        r.finish()?;
        Ok(message)
    }
}
