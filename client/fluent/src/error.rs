//! Errors of flow control.

/// Why a message was not queued.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FlowError {
    /// The peer's queue is full of messages of the same or higher priority.
    #[error("queue full ({capacity} messages or {bytes} bytes of equal or higher priority)")]
    QueueFull {
        /// The queue's capacity in messages.
        capacity: usize,
        /// The queue's capacity in bytes.
        bytes: usize,
    },
    /// The peer has no queue (not connected, or removed while waiting).
    #[error("no queue for this peer")]
    UnknownPeer,
}

/// Why a configuration value was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A rate limit string that does not parse.
    #[error("invalid rate limit {0:?}: expected e.g. \"1000 msg/s\" or \"600 msg/min\"")]
    BadRateLimit(String),
    /// A byte rate string that does not parse.
    #[error("invalid byte rate {0:?}: expected e.g. \"64 MiB/s\", \"512 KiB/s\" or \"1000 B/s\"")]
    BadByteRate(String),
    /// A value out of its range.
    #[error("{key} = {value}: {reason}")]
    OutOfRange {
        /// Name of the setting.
        key: &'static str,
        /// The value given.
        value: String,
        /// What is allowed.
        reason: &'static str,
    },
}
