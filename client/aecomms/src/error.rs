//! AEComms errors. Each names one thing a peer did wrong or one local limit.

/// Why a handshake or a frame was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AeError {
    /// A handshake message of the wrong size for its step, or none was expected.
    #[error("unexpected handshake message ({len} bytes at step {step})")]
    UnexpectedHandshake {
        /// Length of the message.
        len: usize,
        /// Handshake step (1, 2 or 3) that was expected.
        step: u8,
    },
    /// The Noise handshake failed: a message not sealed for this binding, a bad key.
    #[error("handshake failed (another binding, a forged message or a bad key)")]
    HandshakeFailed,
    /// The certificate's identity key is not the one of the remote PeerId.
    #[error("handshake identity key does not match the remote peer")]
    WrongIdentity,
    /// The certificate's signature does not cover the Noise static key received.
    #[error("static key not certified by the peer's identity")]
    BadCertificate,
    /// A frame shorter than its header and tag.
    #[error("frame of {0} bytes is too short")]
    FrameTooShort(usize),
    /// A frame sealed under a key epoch the receiver cannot be at.
    #[error("frame of key epoch {got}, receiver at {current}")]
    UnknownEpoch {
        /// Epoch of the frame.
        got: u64,
        /// Epoch of the receiver.
        current: u64,
    },
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
    /// The send counter is exhausted (2^64 - 1 frames): the session must be replaced.
    #[error("send counter exhausted: a new session is required")]
    CounterExhausted,
    /// ChaCha20 cannot seal this much in one frame.
    #[error("frame of {0} bytes is beyond the cipher's limit")]
    FrameTooLarge(usize),
}
