//! AEComms: the authenticated, encrypted session of every DETR P2P stream. No I/O.
//!
//! # Construction (version 2)
//!
//! Built on the Noise framework (`snow`), not a hand-written exchange:
//! `Noise_XX_25519_ChaChaPoly_SHA256`.
//!
//! - **Roles.** On each (peer, protocol) stream the side whose PeerId bytes compare smaller is
//!   the initiator.
//! - **Prologue** (binds the session to both peers, the stream and the chain):
//!   `"detr-aecomms/v2" ‖ lp(initiator PeerId) ‖ lp(responder PeerId) ‖ lp(protocol name) ‖
//!   genesis hash[32]`, where `lp(x) = u32le(len(x)) ‖ x`.
//! - **Static keys** are X25519 keys certified by the node's libp2p Ed25519 identity, as
//!   libp2p's Noise spec does: the payload of messages 2 and 3 is the certificate
//!   `identity_public[32] ‖ Ed25519(identity, "detr-aecomms/v2/static-key" ‖ static_public)[64]`.
//!   The receiver requires the identity key inside the remote PeerId and a signature over the
//!   static key Noise received.
//! - **Messages**: 1 `-> e` (32 bytes, empty payload), 2 `<- e, ee, s, es` (192 bytes),
//!   3 `-> s, se` (160 bytes). Sizes are checked before any key work. Every message is bound to
//!   the running transcript hash, keys are confirmed by the AEAD payloads, and both sides
//!   contribute fresh ephemerals: a replayed message leads nowhere.
//! - **Frames**: `u64le(epoch) ‖ u64le(counter) ‖ ChaCha20-Poly1305(k, nonce = 0u32 ‖
//!   u64le(counter), ad = the 16 header bytes)`, with Noise's `Split()` keys, one per direction.
//!   Counters start at 0, only go up (across epochs too), and `2^64 - 1` is never used. On an
//!   ordered stream a counter at or below the highest accepted is a replay.
//! - **Rekey in order**: a sender moves to epoch + 1 with Noise's `REKEY(k)` (the first 32 bytes
//!   of `ENCRYPT(k, 2^64 - 1, "", zeros[32])`) after [`RekeyPolicy::max_messages`] frames or
//!   [`RekeyPolicy::max_age`]; its next frame carries the new epoch and the receiver ratchets
//!   once. No message is exchanged, so no frame can overtake a key change. Old keys are
//!   zeroized.
//!
//! Secrets (identity, static key, ephemerals inside the handshake, transport keys) are zeroized
//! on drop; `snow`'s own chaining key and hash are plain arrays it does not clear.
//!
//! `tests/vectors/aecomms.json` pins the construction byte for byte; `go-core/crypto` reproduces
//! it with `flynn/noise`.

pub mod error;
pub mod handshake;
pub mod identity;
pub mod session;

mod cipher;
mod resolver;
#[cfg(test)]
mod vectors;

pub use cipher::TAG_LEN;
pub use error::AeError;
pub use handshake::{Handshake, Next, MAX_HANDSHAKE_MESSAGE, NOISE_PATTERN};
pub use identity::{
    ed25519_peer_id, Binding, LocalIdentity, RemoteIdentity, Role, CERTIFICATE_LEN,
};
pub use session::{RecvHalf, RekeyPolicy, SendHalf, Session, FRAME_OVERHEAD, HEADER_LEN};
