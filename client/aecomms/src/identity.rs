//! Who talks to whom, over what: the local identity with its certified Noise static key, the
//! remote identity and the binding of a session.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use crate::AeError;

/// Domain of the certificate signature.
const CERTIFICATE_DOMAIN: &[u8] = b"detr-aecomms/v2/static-key";
/// Domain at the start of every prologue.
const PROLOGUE_DOMAIN: &[u8] = b"detr-aecomms/v2";
/// Bytes of a certificate: identity key, then its signature over the static key.
pub const CERTIFICATE_LEN: usize = 32 + 64;
/// The head of a libp2p PeerId of an Ed25519 key: the identity multihash (code 0x00, 36 bytes)
/// of the protobuf public key (field 1 `KeyType` = 1 Ed25519, field 2 `Data` of 32 bytes).
const ED25519_PEER_ID_HEAD: [u8; 6] = [0x00, 0x24, 0x08, 0x01, 0x12, 0x20];

/// The libp2p PeerId bytes of the Ed25519 key `public` (what the node's PeerId of that key is).
pub fn ed25519_peer_id(public: &VerifyingKey) -> Vec<u8> {
    [&ED25519_PEER_ID_HEAD[..], public.as_bytes()].concat()
}

/// The local node: its Ed25519 identity (the libp2p node key), its PeerId bytes and the X25519
/// static key of its Noise handshakes, certified by the identity. Secrets are zeroized on drop.
#[derive(Clone)]
pub struct LocalIdentity {
    signing: SigningKey,
    peer_id: Vec<u8>,
    static_secret: Zeroizing<[u8; 32]>,
    /// The public key of `static_secret`, computed once: every handshake loads the static key.
    static_public: [u8; 32],
    certificate: [u8; CERTIFICATE_LEN],
}

impl LocalIdentity {
    /// The identity of the 32-byte Ed25519 secret `seed` and its PeerId, with a fresh random
    /// static key for this run.
    pub fn from_seed(seed: &[u8; 32], peer_id: Vec<u8>) -> Self {
        let secret = StaticSecret::random_from_rng(rand::rngs::OsRng);
        Self::with_static_secret(seed, peer_id, Zeroizing::new(secret.to_bytes()))
    }

    /// The identity with the given static secret (for test vectors).
    pub fn with_static_secret(
        seed: &[u8; 32],
        peer_id: Vec<u8>,
        static_secret: Zeroizing<[u8; 32]>,
    ) -> Self {
        let signing = SigningKey::from_bytes(seed);
        let static_public = PublicKey::from(&StaticSecret::from(*static_secret)).to_bytes();
        let mut certificate = [0u8; CERTIFICATE_LEN];
        certificate[..32].copy_from_slice(signing.verifying_key().as_bytes());
        let signature = signing.sign(&[CERTIFICATE_DOMAIN, &static_public].concat());
        certificate[32..].copy_from_slice(&signature.to_bytes());
        Self { signing, peer_id, static_secret, static_public, certificate }
    }

    /// The public identity key.
    pub fn public(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    /// The local PeerId bytes.
    pub fn peer_id(&self) -> &[u8] {
        &self.peer_id
    }

    /// The Noise static public key.
    pub fn static_public(&self) -> [u8; 32] {
        self.static_public
    }

    /// The handshake payload: identity key ‖ signature over the static key.
    pub fn certificate(&self) -> &[u8; CERTIFICATE_LEN] {
        &self.certificate
    }

    pub(crate) fn static_secret(&self) -> &[u8; 32] {
        &self.static_secret
    }
}

impl std::fmt::Debug for LocalIdentity {
    // Never prints a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalIdentity").field("public", &self.public()).finish_non_exhaustive()
    }
}

/// Checks a peer's certificate: issued by `expected` and covering `remote_static`.
pub(crate) fn check_certificate(
    certificate: &[u8],
    expected: &VerifyingKey,
    remote_static: &[u8],
) -> Result<(), AeError> {
    let certificate: &[u8; CERTIFICATE_LEN] =
        certificate.try_into().map_err(|_| AeError::BadCertificate)?;
    if certificate[..32] != expected.to_bytes() {
        return Err(AeError::WrongIdentity);
    }
    let signature = Signature::from_bytes(certificate[32..].try_into().expect("64 bytes"));
    expected
        .verify_strict(&[CERTIFICATE_DOMAIN, remote_static].concat(), &signature)
        .map_err(|_| AeError::BadCertificate)
}

/// The remote peer's PeerId bytes and the Ed25519 key that PeerId stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteIdentity {
    /// The remote PeerId, as bytes.
    pub peer_id: Vec<u8>,
    /// The remote identity key, taken from its PeerId by the caller.
    pub public: VerifyingKey,
}

impl RemoteIdentity {
    /// The node of the Ed25519 key `public`, with the libp2p PeerId of that key.
    pub fn ed25519(public: VerifyingKey) -> Self {
        Self { peer_id: ed25519_peer_id(&public), public }
    }
}

/// Which side of the Noise handshake a node plays on a binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Sends message 1 and 3: the side whose PeerId bytes compare smaller.
    Initiator,
    /// Sends message 2.
    Responder,
}

/// What a session is bound to: the remote side, the stream's protocol and the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The remote side.
    pub remote: RemoteIdentity,
    /// Notification protocol name of the stream.
    pub protocol: Vec<u8>,
    /// Genesis hash of the chain.
    pub genesis: [u8; 32],
}

/// Appends `u32le(len(bytes)) ‖ bytes`.
fn push_lp(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

impl Binding {
    /// Our role towards the remote peer: initiator when our PeerId bytes are smaller.
    pub fn role(&self, local: &LocalIdentity) -> Role {
        if local.peer_id() < self.remote.peer_id.as_slice() {
            Role::Initiator
        } else {
            Role::Responder
        }
    }

    /// `"detr-aecomms/v2" ‖ lp(initiator) ‖ lp(responder) ‖ lp(protocol) ‖ genesis`.
    pub fn prologue(&self, local: &LocalIdentity) -> Vec<u8> {
        let (initiator, responder) = match self.role(local) {
            Role::Initiator => (local.peer_id(), self.remote.peer_id.as_slice()),
            Role::Responder => (self.remote.peer_id.as_slice(), local.peer_id()),
        };
        let mut out = Vec::with_capacity(PROLOGUE_DOMAIN.len() + 128 + self.protocol.len());
        out.extend_from_slice(PROLOGUE_DOMAIN);
        push_lp(&mut out, initiator);
        push_lp(&mut out, responder);
        push_lp(&mut out, &self.protocol);
        out.extend_from_slice(&self.genesis);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(seed: u8) -> LocalIdentity {
        LocalIdentity::with_static_secret(&[seed; 32], vec![seed], Zeroizing::new([seed; 32]))
    }

    #[test]
    fn a_certificate_holds_only_for_its_identity_and_static_key() {
        let (a, b) = (identity(1), identity(2));
        let key_a = VerifyingKey::from_bytes(&a.public()).unwrap();
        assert_eq!(check_certificate(a.certificate(), &key_a, &a.static_public()), Ok(()));
        // Another identity's certificate, or A's over another static key.
        assert_eq!(
            check_certificate(b.certificate(), &key_a, &b.static_public()),
            Err(AeError::WrongIdentity)
        );
        assert_eq!(
            check_certificate(a.certificate(), &key_a, &b.static_public()),
            Err(AeError::BadCertificate)
        );
        // A's identity key in front of B's signature.
        let mut forged = *b.certificate();
        forged[..32].copy_from_slice(&a.public());
        assert_eq!(
            check_certificate(&forged, &key_a, &b.static_public()),
            Err(AeError::BadCertificate)
        );
        assert_eq!(
            check_certificate(&forged[..95], &key_a, &a.static_public()),
            Err(AeError::BadCertificate)
        );
    }
}
