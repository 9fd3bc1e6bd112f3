//! fluent: flow control of DETR P2P.
//!
//! Outbound, every peer has a bounded queue with five priority levels
//! ([`etrid_protocol::Priority`]). [`FlowController::recv`] hands out the next message by
//! weighted scheduling ([`queue`]) once a global and a per-peer token bucket allow it; that wait
//! is the backpressure a peer's sender task feels. A full queue sheds its lowest-priority, oldest
//! message for a higher-priority one, and otherwise refuses ([`FlowController::try_send`]) or
//! waits ([`FlowController::send_priority`]). Inbound, an [`InboundLimiter`] per peer tells the
//! caller which messages to drop and which peers to report. Every drop and throttle is counted
//! in [`QueueStats`].

pub mod config;
pub mod controller;
pub mod error;
pub mod inbound;
pub mod queue;
pub mod stats;

mod limiter;

pub use config::{FlowConfig, RateLimit};
pub use controller::FlowController;
pub use error::FlowError;
pub use etrid_protocol::Priority;
pub use inbound::{InboundLimiter, InboundVerdict};
pub use stats::{LevelStats, QueueStats};
