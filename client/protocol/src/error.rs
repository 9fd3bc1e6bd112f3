//! Errors of encoding and decoding.

/// Why a frame could not be encoded or decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProtocolError {
    /// The frame is larger than [`crate::limits::MAX_FRAME_SIZE`].
    #[error("frame of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Size of the frame.
        size: usize,
        /// The limit it exceeds.
        limit: usize,
    },
    /// The envelope carries a protocol version this node does not speak.
    #[error("unsupported protocol version {0}")]
    UnsupportedVersion(u8),
    /// The envelope's kind byte does not match its message.
    #[error("envelope kind {envelope:?} does not match message kind {message:?}")]
    KindMismatch {
        /// Kind named by the envelope.
        envelope: u8,
        /// Kind of the message inside.
        message: u8,
    },
    /// The message id is not the SHA-256 of the envelope's content.
    #[error("message id does not match its content")]
    BadMessageId,
    /// Bytes left after the envelope.
    #[error("{0} trailing bytes after the frame")]
    TrailingBytes(usize),
    /// SCALE decoding failed (bad tag, bad length, truncated input, limit exceeded).
    #[error("malformed frame: {0}")]
    Malformed(String),
}

impl From<codec::Error> for ProtocolError {
    fn from(e: codec::Error) -> Self {
        ProtocolError::Malformed(e.to_string())
    }
}
