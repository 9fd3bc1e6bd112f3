//! fluent: flow control of DETR P2P.
//!
//! Outbound, every peer has one bounded queue (messages and bytes) across all its protocols,
//! with up to five priority levels ([`etrid_protocol::Priority`]). [`FlowController::recv`]
//! hands out the next servable message by weighted scheduling ([`queue`]) once the global and
//! the peer's token buckets of messages and of bytes allow it; that wait is the backpressure a
//! peer's sender feels, and each message says how long it waited. A full queue sheds its
//! lowest-priority, oldest messages for a higher-priority one, and otherwise refuses
//! ([`FlowController::try_send`]) or waits ([`FlowController::send_priority`]). Inbound, an
//! [`InboundLimiter`] per peer tells the caller which messages to drop and which peers to
//! report. Every drop and throttle is counted in [`QueueStats`].

pub mod config;
pub mod controller;
pub mod error;
pub mod inbound;
pub mod queue;
pub mod stats;

mod limiter;

pub use config::{ByteRate, FlowConfig, RateLimit};
pub use controller::{Dequeued, FlowController};
pub use error::FlowError;
pub use etrid_protocol::Priority;
pub use inbound::{InboundLimiter, InboundVerdict};
pub use queue::Servable;
pub use stats::{LevelStats, QueueStats};
