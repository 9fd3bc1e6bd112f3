//! Flow control settings: queue bounds, message and byte rates, scheduling weights and levels.

use std::{fmt, num::NonZeroU32, str::FromStr, time::Duration};

use crate::error::ConfigError;
use etrid_protocol::Priority;

/// A rate of units (messages or bytes) per period, with a burst allowance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Units per `period`.
    pub messages: NonZeroU32,
    /// The period `messages` refers to.
    pub period: Duration,
    /// Units allowed at once after an idle spell.
    pub burst: NonZeroU32,
}

impl RateLimit {
    /// `n` per second with a burst of 1/20 s worth (at least 1).
    pub fn per_second(n: NonZeroU32) -> Self {
        Self::new(n, Duration::from_secs(1))
    }

    /// `n` per `period`, burst of 1/20 of `n` (at least 1).
    pub fn new(messages: NonZeroU32, period: Duration) -> Self {
        let burst = NonZeroU32::new(messages.get() / 20).unwrap_or(NonZeroU32::MIN);
        Self { messages, period, burst }
    }

    /// Units per second, as a float.
    pub fn per_second_f64(&self) -> f64 {
        self.messages.get() as f64 / self.period.as_secs_f64()
    }

    /// Time between two units at a steady rate.
    pub fn interval(&self) -> Duration {
        self.period / self.messages.get()
    }

    /// The same rate with a burst of at least `min` units (a byte bucket must hold the largest
    /// frame at once).
    pub fn with_min_burst(mut self, min: u32) -> Self {
        self.burst = self.burst.max(NonZeroU32::new(min).unwrap_or(NonZeroU32::MIN));
        self
    }
}

fn parse_period(unit: &str) -> Option<Duration> {
    match unit.trim() {
        "s" | "sec" => Some(Duration::from_secs(1)),
        "min" => Some(Duration::from_secs(60)),
        _ => None,
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
        Ok(Self::new(messages, parse_period(unit).ok_or_else(bad)?))
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

/// A byte rate, written `"64 MiB/s"`, `"512 KiB/s"`, `"1 GiB/s"` or `"1000000 B/s"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRate(pub RateLimit);

impl FromStr for ByteRate {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ConfigError::BadByteRate(s.to_string());
        let (amount, unit) = s.trim().split_once('/').ok_or_else(bad)?;
        let amount = amount.trim();
        let split = amount.find(|c: char| !c.is_ascii_digit()).unwrap_or(amount.len());
        let (number, suffix) = amount.split_at(split);
        let scale: u64 = match suffix.trim() {
            "B" | "" => 1,
            "KiB" => 1 << 10,
            "MiB" => 1 << 20,
            "GiB" => 1 << 30,
            _ => return Err(bad()),
        };
        let bytes =
            number.parse::<u64>().ok().and_then(|n| n.checked_mul(scale)).ok_or_else(bad)?;
        let bytes = u32::try_from(bytes).ok().and_then(NonZeroU32::new).ok_or_else(bad)?;
        Ok(Self(RateLimit::new(bytes, parse_period(unit).ok_or_else(bad)?)))
    }
}

impl fmt::Display for ByteRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let per_second = self.0.per_second_f64();
        match per_second {
            b if b >= (1 << 20) as f64 && b % (1 << 20) as f64 == 0.0 => {
                write!(f, "{} MiB/s", b / (1 << 20) as f64)
            }
            b if b >= 1024.0 && b % 1024.0 == 0.0 => write!(f, "{} KiB/s", b / 1024.0),
            b => write!(f, "{b} B/s"),
        }
    }
}

/// Flow control settings; message defaults as in the seed (`[fluent]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowConfig {
    /// Most messages queued per peer (all levels together).
    pub max_queue_size: usize,
    /// Most bytes queued per peer (all levels together).
    pub max_queue_bytes: usize,
    /// Outbound messages over all peers.
    pub rate_limit: RateLimit,
    /// Outbound messages to one peer.
    pub peer_rate_limit: RateLimit,
    /// Outbound bytes over all peers.
    pub byte_rate_limit: ByteRate,
    /// Outbound bytes to one peer.
    pub peer_byte_rate_limit: ByteRate,
    /// Inbound messages accepted from one peer.
    pub inbound_rate_limit: RateLimit,
    /// Inbound bytes accepted from one peer.
    pub inbound_byte_rate_limit: ByteRate,
    /// Scheduling weight of each level, highest priority first: under load, level `i` gets
    /// `weights[i] / sum(weights)` of the sends.
    pub weights: [u32; Priority::LEVELS],
    /// Priority levels in use, 1 to 5: priority `p` is queued at level `min(p, levels - 1)`.
    /// With 1, every message waits in one FIFO (no priority at all).
    pub levels: usize,
}

fn mib(n: u32) -> ByteRate {
    ByteRate(RateLimit::per_second(NonZeroU32::new(n << 20).expect("non-zero")))
}

impl Default for FlowConfig {
    fn default() -> Self {
        let thousand = NonZeroU32::new(1000).expect("non-zero");
        Self {
            max_queue_size: 10_000,
            max_queue_bytes: 64 << 20,
            rate_limit: RateLimit::per_second(thousand),
            peer_rate_limit: RateLimit::per_second(thousand),
            byte_rate_limit: mib(256),
            peer_byte_rate_limit: mib(64),
            inbound_rate_limit: RateLimit::per_second(NonZeroU32::new(2000).expect("non-zero")),
            inbound_byte_rate_limit: mib(64),
            weights: [16, 8, 4, 2, 1],
            levels: Priority::LEVELS,
        }
    }
}

impl FlowConfig {
    /// Checks every field, naming the first bad one.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let out_of_range =
            |key, value: String, reason| Err(ConfigError::OutOfRange { key, value, reason });
        if self.max_queue_size == 0 || self.max_queue_size > 10_000_000 {
            return out_of_range(
                "max_queue_size",
                self.max_queue_size.to_string(),
                "must be between 1 and 10000000",
            );
        }
        if self.max_queue_bytes < (8 << 20) {
            return out_of_range(
                "max_queue_bytes",
                self.max_queue_bytes.to_string(),
                "must be at least 8 MiB (the largest frame)",
            );
        }
        if let Some(w) = self.weights.iter().find(|w| **w == 0 || **w > 1_000) {
            return out_of_range(
                "weights",
                w.to_string(),
                "every weight must be between 1 and 1000",
            );
        }
        if !(1..=Priority::LEVELS).contains(&self.levels) {
            return out_of_range("priority_levels", self.levels.to_string(), "must be 1 to 5");
        }
        Ok(())
    }
}
