//! AEComms errors. Each names one thing a peer did wrong or one local limit.

/// Why a handshake or a frame was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AeError {
    /// The handshake's identity key is not the one expected for the remote PeerId.
    #[error("handshake identity key does not match the remote peer")]
    WrongIdentity,
    /// The handshake signature does not verify over the expected binding.
    #[error("handshake signature invalid (wrong key, peer ids, protocol or genesis)")]
    BadSignature,
    /// The X25519 exchange produced an all-zero secret (low-order point).
    #[error("non-contributory key exchange (low-order public key)")]
    LowOrderKey,
    /// A handshake for a generation already used, or older.
    #[error("stale or duplicate handshake: generation {got}, expected above {last}")]
    StaleHandshake {
        /// Generation received.
        got: u64,
        /// Highest generation already accepted.
        last: u64,
    },
    /// A handshake skipping generations.
    #[error("unexpected handshake generation {got}, expected {expected}")]
    UnexpectedGeneration {
        /// Generation received.
        got: u64,
        /// Generation expected.
        expected: u64,
    },
    /// A frame arrived before the session was established.
    #[error("no session established yet")]
    NotEstablished,
    /// A frame shorter than its header and tag.
    #[error("frame of {0} bytes is too short")]
    FrameTooShort(usize),
    /// A frame sealed under a generation this session has no key for.
    #[error("frame of unknown key generation {0}")]
    UnknownGeneration(u64),
    /// A counter at or below the highest accepted: a replay.
    #[error("replayed frame: counter {counter} not above {highest}")]
    Replay {
        /// Counter of the frame.
        counter: u64,
        /// Highest counter accepted.
        highest: u64,
    },
    /// Authentication failed: the frame was altered or sealed under another key.
    #[error("frame failed authentication")]
    BadTag,
    /// The send counter is exhausted; a rekey is required.
    #[error("send counter exhausted: rekey required")]
    CounterExhausted,
}
