//! The four detr notification protocols: names, what each carries, frame limits and the
//! stream handshake.

use codec::{Decode, DecodeAll, Encode};
use etrid_aecomms::{FRAME_OVERHEAD, MAX_HANDSHAKE_MESSAGE};
use etrid_p2p_fluent::Servable;
use etrid_protocol::{MessageKind, Priority};
use sc_network::types::ProtocolName;

/// Version of the stream handshake and wire rules (2: Noise sessions, protocol v2 frames;
/// 3: batches of small messages in one sealed notification).
pub const WIRE_VERSION: u8 = 3;

/// One of the four detr protocols; the discriminant is its index in [`DetrProtocol::ALL`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DetrProtocol {
    /// Blocks pushed by their authors, and announces.
    Block,
    /// Transactions.
    Tx,
    /// GRANDPA's gossip.
    Consensus,
    /// Bridge, custom and address messages.
    Bridge,
}

impl DetrProtocol {
    /// All four.
    pub const ALL: [DetrProtocol; 4] =
        [DetrProtocol::Block, DetrProtocol::Tx, DetrProtocol::Consensus, DetrProtocol::Bridge];

    /// The name's distinguishing part.
    pub fn as_str(self) -> &'static str {
        match self {
            DetrProtocol::Block => "block",
            DetrProtocol::Tx => "tx",
            DetrProtocol::Consensus => "consensus",
            DetrProtocol::Bridge => "bridge",
        }
    }

    /// The protocol named `name` (`block`, `tx`, `consensus`, `bridge`).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// `/{genesis_hash_hex}/detr/{block|tx|consensus|bridge}/1`.
    pub fn name(self, genesis: &[u8; 32]) -> ProtocolName {
        format!("/{}/detr/{}/1", hex::encode(genesis), self.as_str()).into()
    }

    /// The protocol that carries messages of `kind`.
    pub fn for_kind(kind: MessageKind) -> Self {
        match kind {
            MessageKind::Block => DetrProtocol::Block,
            MessageKind::Transactions => DetrProtocol::Tx,
            MessageKind::Consensus => DetrProtocol::Consensus,
            MessageKind::Bridge | MessageKind::Custom | MessageKind::Addresses => {
                DetrProtocol::Bridge
            }
        }
    }

    /// Whether this protocol carries messages of `kind`.
    pub fn carries(self, kind: MessageKind) -> bool {
        Self::for_kind(kind) == self
    }

    /// The priorities of the messages this protocol carries.
    pub fn priorities(self) -> Servable {
        let kinds = MessageKind::ALL.into_iter().filter(|k| self.carries(*k));
        kinds.fold(Servable::NONE, |s, k| s.with(k.default_priority()))
    }

    /// The protocol of a message of priority `p`.
    pub fn for_priority(p: Priority) -> Self {
        Self::ALL.into_iter().find(|d| d.priorities().contains(p)).expect("every priority")
    }

    /// Largest notification on this protocol: its largest frame, sealed, with the frame tag.
    pub fn max_notification(self) -> u64 {
        let frame = MessageKind::ALL
            .into_iter()
            .filter(|k| self.carries(*k))
            .map(MessageKind::max_frame)
            .max()
            .expect("every protocol carries a kind");
        (1 + FRAME_OVERHEAD + frame.max(MAX_HANDSHAKE_MESSAGE)) as u64
    }
}

/// The notification handshake of a detr stream (≤ 1024 bytes, checked on both backends).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct StreamHandshake {
    /// Wire version, [`WIRE_VERSION`].
    pub version: u8,
    /// Substrate roles bits of the sender.
    pub roles: u8,
    /// Genesis hash of the sender's chain.
    pub genesis: [u8; 32],
}

/// Why a stream handshake was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HandshakeError {
    /// Not a handshake.
    #[error("malformed stream handshake")]
    Malformed,
    /// Another wire version.
    #[error("wire version {0}, expected {WIRE_VERSION}")]
    Version(u8),
    /// Another chain.
    #[error("genesis hash of another chain")]
    Genesis,
}

impl StreamHandshake {
    /// Decodes and checks a peer's handshake against our genesis.
    pub fn validate(bytes: &[u8], genesis: &[u8; 32]) -> Result<Self, HandshakeError> {
        let hs = Self::decode_all(&mut &bytes[..]).map_err(|_| HandshakeError::Malformed)?;
        if hs.version != WIRE_VERSION {
            return Err(HandshakeError::Version(hs.version));
        }
        if &hs.genesis != genesis {
            return Err(HandshakeError::Genesis);
        }
        Ok(hs)
    }
}

/// First byte of every notification on a detr stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum FrameTag {
    /// A Noise handshake message.
    Handshake = 0,
    /// An AEComms-sealed message.
    Sealed = 1,
    /// "I hold no session on this stream": sent by a responder when its stream opens, so that
    /// an initiator still holding a session (it did not see this side restart) starts over.
    Restart = 2,
    /// An AEComms-sealed batch of small messages of one protocol (`batch.rs`).
    Batch = 3,
}

/// Where a sealed frame's AEComms header starts in a notification (after the tag).
pub const SEAL_AT: usize = 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discriminants_index_all() {
        for (i, protocol) in DetrProtocol::ALL.into_iter().enumerate() {
            assert_eq!(protocol as usize, i);
            assert_eq!(DetrProtocol::from_name(protocol.as_str()), Some(protocol));
        }
    }

    #[test]
    fn names_follow_the_substrate_convention() {
        let name = DetrProtocol::Bridge.name(&[0xab; 32]);
        assert_eq!(name.to_string(), format!("/{}/detr/bridge/1", "ab".repeat(32)));
    }

    #[test]
    fn every_priority_has_one_protocol_and_consensus_goes_first() {
        assert_eq!(DetrProtocol::for_priority(Priority::Critical), DetrProtocol::Consensus);
        assert_eq!(DetrProtocol::for_priority(Priority::High), DetrProtocol::Block);
        assert_eq!(DetrProtocol::for_priority(Priority::Normal), DetrProtocol::Bridge);
        assert_eq!(DetrProtocol::for_priority(Priority::Low), DetrProtocol::Tx);
        assert_eq!(DetrProtocol::for_priority(Priority::Bulk), DetrProtocol::Bridge);
    }

    #[test]
    fn frame_limits_are_sized_to_what_each_protocol_carries() {
        let limit = |p: DetrProtocol| p.max_notification() as usize;
        assert!(limit(DetrProtocol::Block) > etrid_protocol::limits::MAX_BLOCK_SIZE);
        assert!(limit(DetrProtocol::Consensus) < 2 * 1024 * 1024);
        assert!(limit(DetrProtocol::Bridge) < 2 * 1024 * 1024);
    }

    #[test]
    fn handshakes_of_other_chains_or_versions_are_refused() {
        let genesis = [1; 32];
        let ok = StreamHandshake { version: WIRE_VERSION, roles: 4, genesis }.encode();
        assert!(StreamHandshake::validate(&ok, &genesis).is_ok());
        assert_eq!(StreamHandshake::validate(&ok, &[2; 32]), Err(HandshakeError::Genesis));
        let v1 = StreamHandshake { version: 1, roles: 4, genesis }.encode();
        assert_eq!(StreamHandshake::validate(&v1, &genesis), Err(HandshakeError::Version(1)));
        assert_eq!(StreamHandshake::validate(&[1, 2], &genesis), Err(HandshakeError::Malformed));
        let mut long = ok.clone();
        long.push(0);
        assert_eq!(StreamHandshake::validate(&long, &genesis), Err(HandshakeError::Malformed));
    }
}
