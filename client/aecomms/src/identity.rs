//! Who talks to whom, over what: the local identity and the binding of a channel.

use ed25519_dalek::{SigningKey, VerifyingKey};

/// The local node's Ed25519 identity (its libp2p node key) and PeerId bytes.
pub struct LocalIdentity {
    /// Signing key; zeroized on drop by `ed25519-dalek`.
    pub(crate) signing: SigningKey,
    /// The local PeerId, as bytes.
    pub(crate) peer_id: Vec<u8>,
}

impl LocalIdentity {
    /// An identity from a 32-byte Ed25519 secret seed and the PeerId it belongs to.
    pub fn from_seed(seed: &[u8; 32], peer_id: Vec<u8>) -> Self {
        Self { signing: SigningKey::from_bytes(seed), peer_id }
    }

    /// The public identity key.
    pub fn public(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    /// The local PeerId bytes.
    pub fn peer_id(&self) -> &[u8] {
        &self.peer_id
    }
}

impl Clone for LocalIdentity {
    fn clone(&self) -> Self {
        Self { signing: self.signing.clone(), peer_id: self.peer_id.clone() }
    }
}

impl std::fmt::Debug for LocalIdentity {
    // Never prints the secret key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalIdentity").field("public", &self.public()).finish_non_exhaustive()
    }
}

/// The remote peer's PeerId bytes and the Ed25519 key that PeerId stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteIdentity {
    /// The remote PeerId, as bytes.
    pub peer_id: Vec<u8>,
    /// The remote identity key, taken from its PeerId by the caller.
    pub public: VerifyingKey,
}

/// What a channel's handshakes are bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The remote side.
    pub remote: RemoteIdentity,
    /// Notification protocol name of the stream.
    pub protocol: Vec<u8>,
    /// Genesis hash of the chain.
    pub genesis: [u8; 32],
}
