//! One side of one handshake generation: a fresh X25519 key, signed; completed by the peer's.

use ed25519_dalek::{Signature, Signer, Verifier};
use etrid_protocol::HandshakeMessage;
use hkdf::Hkdf;
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use crate::{
    identity::{Binding, LocalIdentity},
    session::Session,
    transcript::{statement, transcript_hash, Context, Side},
    AeError,
};

const KEYS_INFO: &[u8] = b"detr-aecomms/v1/keys";

/// Our half of a handshake: the ephemeral secret (zeroized on drop) and the message we sent.
pub struct Handshake {
    ephemeral: StaticSecret,
    message: HandshakeMessage,
}

impl Handshake {
    /// A handshake of `generation` with a fresh random ephemeral key.
    pub fn new(local: &LocalIdentity, binding: &Binding, generation: u64) -> Self {
        Self::with_ephemeral(
            local,
            binding,
            generation,
            StaticSecret::random_from_rng(rand::rngs::OsRng),
        )
    }

    /// A handshake with the given ephemeral secret (for test vectors; never reuse one).
    pub fn with_ephemeral(
        local: &LocalIdentity,
        binding: &Binding,
        generation: u64,
        ephemeral: StaticSecret,
    ) -> Self {
        let ephemeral_public = PublicKey::from(&ephemeral).to_bytes();
        let identity_public = local.public();
        let ctx = context(binding, generation);
        let me = Side {
            peer_id: &local.peer_id,
            ephemeral: &ephemeral_public,
            identity: &identity_public,
        };
        let signature =
            local.signing.sign(&statement(&ctx, &me, &binding.remote.peer_id)).to_bytes();
        let message = HandshakeMessage { generation, ephemeral_public, identity_public, signature };
        Self { ephemeral, message }
    }

    /// The message to send to the peer.
    pub fn message(&self) -> &HandshakeMessage {
        &self.message
    }

    /// The generation of this handshake.
    pub fn generation(&self) -> u64 {
        self.message.generation
    }

    /// Verifies the peer's handshake and derives the session keys.
    pub fn complete(
        &self,
        local: &LocalIdentity,
        binding: &Binding,
        remote: &HandshakeMessage,
        now: std::time::Instant,
    ) -> Result<Session, AeError> {
        verify(local, binding, remote)?;
        self.derive_session(local, binding, remote, now)
    }

    /// Derives the session from a handshake the caller has already [`verify`]-ed.
    pub(crate) fn derive_session(
        &self,
        local: &LocalIdentity,
        binding: &Binding,
        remote: &HandshakeMessage,
        now: std::time::Instant,
    ) -> Result<Session, AeError> {
        if remote.generation != self.generation() {
            return Err(AeError::UnexpectedGeneration {
                got: remote.generation,
                expected: self.generation(),
            });
        }
        let shared = self.ephemeral.diffie_hellman(&PublicKey::from(remote.ephemeral_public));
        if !shared.was_contributory() {
            return Err(AeError::LowOrderKey);
        }
        let keys = derive_keys(local, binding, &self.message, remote, shared.as_bytes());
        let ab: &[u8; 32] = keys[..32].try_into().expect("32 bytes");
        let ba: &[u8; 32] = keys[32..].try_into().expect("32 bytes");
        let local_is_a = local.peer_id.as_slice() < binding.remote.peer_id.as_slice();
        let (send, recv) = if local_is_a { (ab, ba) } else { (ba, ab) };
        Ok(Session::new(self.generation(), send, recv, now))
    }
}

/// Checks that `remote` is signed by the expected identity over this channel's binding.
pub fn verify(
    local: &LocalIdentity,
    binding: &Binding,
    remote: &HandshakeMessage,
) -> Result<(), AeError> {
    if remote.identity_public != binding.remote.public.to_bytes() {
        return Err(AeError::WrongIdentity);
    }
    let ctx = context(binding, remote.generation);
    let them = Side {
        peer_id: &binding.remote.peer_id,
        ephemeral: &remote.ephemeral_public,
        identity: &remote.identity_public,
    };
    let signature = Signature::from_bytes(&remote.signature);
    binding
        .remote
        .public
        .verify(&statement(&ctx, &them, &local.peer_id), &signature)
        .map_err(|_| AeError::BadSignature)
}

/// The 64 bytes `key_ab ‖ key_ba`, zeroized on drop.
pub(crate) fn derive_keys(
    local: &LocalIdentity,
    binding: &Binding,
    ours: &HandshakeMessage,
    theirs: &HandshakeMessage,
    shared: &[u8; 32],
) -> Zeroizing<[u8; 64]> {
    let ctx = context(binding, ours.generation);
    let me = Side {
        peer_id: &local.peer_id,
        ephemeral: &ours.ephemeral_public,
        identity: &ours.identity_public,
    };
    let them = Side {
        peer_id: &binding.remote.peer_id,
        ephemeral: &theirs.ephemeral_public,
        identity: &theirs.identity_public,
    };
    let (a, b) = if me.peer_id < them.peer_id { (&me, &them) } else { (&them, &me) };
    let th = transcript_hash(&ctx, a, b);
    let mut okm = Zeroizing::new([0u8; 64]);
    Hkdf::<Sha256>::new(Some(&th), shared)
        .expand(KEYS_INFO, okm.as_mut())
        .expect("64 bytes is a valid HKDF-SHA256 output length");
    okm
}

fn context(binding: &Binding, generation: u64) -> Context<'_> {
    Context { protocol: &binding.protocol, genesis: &binding.genesis, generation }
}
