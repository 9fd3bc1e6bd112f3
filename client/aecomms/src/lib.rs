//! AEComms: the authenticated, encrypted session of every DETR P2P stream. No I/O.
//!
//! # Construction (version 1)
//!
//! Every (peer, protocol stream) pair runs one [`Channel`]. Both sides send one
//! [`HandshakeMessage`] per *generation* (0 first, +1 per rekey):
//!
//! 1. Fresh X25519 ephemeral key `e` per handshake.
//! 2. `statement = "detr-aecomms/v1/handshake" ‖ lp(sender_peer_id) ‖ lp(receiver_peer_id) ‖
//!    lp(protocol_name) ‖ genesis_hash[32] ‖ u64le(generation) ‖ e_pub[32] ‖ identity_pub[32]`,
//!    where `lp(x) = u32le(len(x)) ‖ x`. The sender signs it with its Ed25519 identity key
//!    (`signature = Ed25519(identity, statement)`); the receiver rebuilds it from what it knows
//!    (the two PeerIds, the protocol, the genesis hash) and verifies it against the identity key it
//!    expects for the remote PeerId. A different key, binding or generation fails.
//! 3. Order the sides by PeerId bytes: `a` is the smaller, `b` the larger.
//!    `th = SHA-256("detr-aecomms/v1/transcript" ‖ lp(peer_a) ‖ lp(peer_b) ‖ lp(protocol_name) ‖
//!    genesis_hash ‖ u64le(generation) ‖ e_pub_a ‖ e_pub_b ‖ identity_a ‖ identity_b)`.
//! 4. `dh = X25519(e_self, e_remote)`; an all-zero (non-contributory) result is refused.
//! 5. `okm = HKDF-SHA256(salt = th, ikm = dh, info = "detr-aecomms/v1/keys", L = 64)`;
//!    `key_ab = okm[0..32]` seals messages from `a` to `b`, `key_ba = okm[32..64]` the other way.
//! 6. A sealed frame is `u64le(generation) ‖ u64le(counter) ‖ ChaCha20-Poly1305(key, nonce,
//!    plaintext, aad = those 16 header bytes)` with `nonce = [0; 4] ‖ u64le(counter)`. Counters
//!    start at 0 per generation and direction and only go up; a receiver accepts a counter only if
//!    it is above the highest it has accepted (a replay or reordering is refused).
//!
//! Rekey: after [`RekeyPolicy::max_messages`] frames or [`RekeyPolicy::max_age`], the owner
//! starts generation + 1. Ephemeral secrets are dropped (and zeroized) as soon as keys are
//! derived; old keys are zeroized when the new generation's first frame arrives.
//!
//! The seed's API is here as [`establish_channel`], [`encrypt_send`] and [`receive_decrypt`].

pub mod channel;
pub mod error;
pub mod handshake;
pub mod identity;
pub mod session;

mod transcript;
#[cfg(test)]
mod vectors;

pub use channel::{Channel, RekeyPolicy};
pub use error::AeError;
pub use etrid_protocol::HandshakeMessage;
pub use handshake::Handshake;
pub use identity::{Binding, LocalIdentity, RemoteIdentity};
pub use session::{Session, FRAME_OVERHEAD};

/// The seed's name for an established session.
pub type SecureChannel = Session;

/// Starts a channel to the peer of `binding`: returns the channel and the handshake to send.
pub fn establish_channel(
    local: LocalIdentity,
    binding: Binding,
    policy: RekeyPolicy,
) -> (Channel, HandshakeMessage) {
    let mut channel = Channel::new(local, binding, policy);
    let hello = channel.start_handshake();
    (channel, hello)
}

/// Seals `data` for the channel's peer.
pub fn encrypt_send(channel: &mut Session, data: &[u8]) -> Result<Vec<u8>, AeError> {
    channel.seal(data)
}

/// Opens a sealed frame from the channel's peer.
pub fn receive_decrypt(channel: &mut Session, frame: &[u8]) -> Result<Vec<u8>, AeError> {
    channel.open(frame)
}
