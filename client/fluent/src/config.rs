//! Flow control settings: queue size, rate limits, scheduling weights.

use std::{fmt, num::NonZeroU32, str::FromStr, time::Duration};

use crate::error::ConfigError;
use etrid_protocol::Priority;

/// A message rate with a burst allowance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Messages per `period`.
    pub messages: NonZeroU32,
    /// The period `messages` refers to.
    pub period: Duration,
    /// Messages allowed at once after an idle spell.
    pub burst: NonZeroU32,
}

impl RateLimit {
    /// `n` messages per second with a burst of 1/20 s worth (at least 1).
    pub fn per_second(n: NonZeroU32) -> Self {
        Self::new(n, Duration::from_secs(1))
    }

    /// `n` messages per `period`, burst of 1/20 of `n` (at least 1).
    pub fn new(messages: NonZeroU32, period: Duration) -> Self {
        let burst = NonZeroU32::new(messages.get() / 20).unwrap_or(NonZeroU32::MIN);
        Self { messages, period, burst }
    }

    /// Messages per second, as a float.
    pub fn per_second_f64(&self) -> f64 {
        self.messages.get() as f64 / self.period.as_secs_f64()
    }

    /// Time between two messages at a steady rate.
    pub fn interval(&self) -> Duration {
        self.period / self.messages.get()
    }
}

impl FromStr for RateLimit {
    type Err = ConfigError;

    /// Parses `"<n> msg/s"`, `"<n>/s"`, `"<n> msg/min"` or `"<n>/min"`, with `n > 0`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ConfigError::BadRateLimit(s.to_string());
        let (count, unit) = s.trim().split_once('/').ok_or_else(bad)?;
        let count = count.trim().trim_end_matches("msg").trim();
        let messages = count.parse::<u32>().ok().and_then(NonZeroU32::new).ok_or_else(bad)?;
        let period = match unit.trim() {
            "s" | "sec" => Duration::from_secs(1),
            "min" => Duration::from_secs(60),
            _ => return Err(bad()),
        };
        Ok(Self::new(messages, period))
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.period == Duration::from_secs(60) {
            write!(f, "{} msg/min", self.messages)
        } else {
            write!(f, "{} msg/s", self.per_second_f64())
        }
    }
}

/// Flow control settings; defaults as in the seed (`[fluent]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowConfig {
    /// Most messages queued per peer (all levels together).
    pub max_queue_size: usize,
    /// Outbound rate over all peers.
    pub rate_limit: RateLimit,
    /// Outbound rate to one peer.
    pub peer_rate_limit: RateLimit,
    /// Inbound rate accepted from one peer.
    pub inbound_rate_limit: RateLimit,
    /// Scheduling weight of each level, highest priority first: under load, level `i` gets
    /// `weights[i] / sum(weights)` of the sends.
    pub weights: [u32; Priority::LEVELS],
}

impl Default for FlowConfig {
    fn default() -> Self {
        let thousand = NonZeroU32::new(1000).expect("non-zero");
        Self {
            max_queue_size: 10_000,
            rate_limit: RateLimit::per_second(thousand),
            peer_rate_limit: RateLimit::per_second(thousand),
            inbound_rate_limit: RateLimit::per_second(NonZeroU32::new(2000).expect("non-zero")),
            weights: [16, 8, 4, 2, 1],
        }
    }
}

impl FlowConfig {
    /// Checks every field, naming the first bad one.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_queue_size == 0 || self.max_queue_size > 10_000_000 {
            return Err(ConfigError::OutOfRange {
                key: "max_queue_size",
                value: self.max_queue_size.to_string(),
                reason: "must be between 1 and 10000000",
            });
        }
        if let Some(w) = self.weights.iter().find(|w| **w == 0 || **w > 1_000) {
            return Err(ConfigError::OutOfRange {
                key: "weights",
                value: w.to_string(),
                reason: "every weight must be between 1 and 1000",
            });
        }
        Ok(())
    }
}
