//! The four detr notification protocols, their names and their stream handshake.

use codec::{Decode, DecodeAll, Encode};
use etrid_protocol::MessageKind;
use sc_network::types::ProtocolName;

/// Version of the stream handshake and wire rules.
pub const WIRE_VERSION: u8 = 1;
/// Largest notification on a detr stream: a full frame, its seal and the frame tag.
pub const MAX_NOTIFICATION_SIZE: u64 =
    (etrid_protocol::limits::MAX_FRAME_SIZE + etrid_aecomms::FRAME_OVERHEAD + 1) as u64;

/// One of the four detr protocols; the discriminant is its index in [`DetrProtocol::ALL`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DetrProtocol {
    /// Block announces.
    Block,
    /// Transactions.
    Tx,
    /// Consensus payloads (finality).
    Consensus,
    /// Bridge and custom messages.
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

    /// `/{genesis_hash_hex}/detr/{block|tx|consensus|bridge}/1`.
    pub fn name(self, genesis: &[u8; 32]) -> ProtocolName {
        format!("/{}/detr/{}/1", hex::encode(genesis), self.as_str()).into()
    }

    /// The protocol that carries messages of `kind`.
    pub fn for_kind(kind: MessageKind) -> Option<Self> {
        match kind {
            MessageKind::Block => Some(DetrProtocol::Block),
            MessageKind::Transaction => Some(DetrProtocol::Tx),
            MessageKind::Consensus => Some(DetrProtocol::Consensus),
            MessageKind::Bridge | MessageKind::Custom => Some(DetrProtocol::Bridge),
            MessageKind::Handshake => None,
        }
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
    /// An AEComms handshake (SCALE `HandshakeMessage`, signed, not sealed).
    Handshake = 0,
    /// An AEComms-sealed envelope.
    Sealed = 1,
}

impl FrameTag {
    /// The notification `tag ‖ body`.
    pub fn frame(self, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(body.len() + 1);
        out.push(self as u8);
        out.extend_from_slice(body);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discriminants_index_all() {
        for (i, protocol) in DetrProtocol::ALL.into_iter().enumerate() {
            assert_eq!(protocol as usize, i);
        }
    }

    #[test]
    fn names_follow_the_substrate_convention() {
        let name = DetrProtocol::Bridge.name(&[0xab; 32]);
        assert_eq!(name.to_string(), format!("/{}/detr/bridge/1", "ab".repeat(32)));
    }

    #[test]
    fn handshakes_of_other_chains_or_versions_are_refused() {
        let genesis = [1; 32];
        let ok = StreamHandshake { version: WIRE_VERSION, roles: 4, genesis }.encode();
        assert!(StreamHandshake::validate(&ok, &genesis).is_ok());
        assert_eq!(StreamHandshake::validate(&ok, &[2; 32]), Err(HandshakeError::Genesis));
        let v2 = StreamHandshake { version: 2, roles: 4, genesis }.encode();
        assert_eq!(StreamHandshake::validate(&v2, &genesis), Err(HandshakeError::Version(2)));
        assert_eq!(StreamHandshake::validate(&[1, 2], &genesis), Err(HandshakeError::Malformed));
        let mut long = ok.clone();
        long.push(0);
        assert_eq!(StreamHandshake::validate(&long, &genesis), Err(HandshakeError::Malformed));
    }
}
