//! Reputation: an i32 score, named changes, exponential decay towards 0.
//!
//! Decay halves the distance to 0 every [`HALF_LIFE`] (60 s): a peer that misbehaved once is
//! forgiven within minutes, one that keeps misbehaving stays low. Scores saturate at
//! [`MIN`]/[`MAX`].

use std::time::{Duration, Instant};

/// Time for a score to halve towards 0.
pub const HALF_LIFE: Duration = Duration::from_secs(60);
/// Lowest score.
pub const MIN: i32 = -1_000_000;
/// Highest score.
pub const MAX: i32 = 1_000_000;

/// A named reputation change, for logs and metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReputationChange {
    /// Amount added to the score.
    pub value: i32,
    /// Why.
    pub reason: &'static str,
}

impl ReputationChange {
    /// A transaction accepted into the pool.
    pub const GOOD_TRANSACTION: Self = Self { value: 5, reason: "good transaction" };
    /// A message over the inbound rate or byte budget.
    pub const RATE_LIMITED: Self = Self { value: -10, reason: "over inbound rate limit" };
    /// A new handshake on an established stream beyond the few a minute allowed.
    pub const REHANDSHAKE: Self = Self { value: -20, reason: "repeated handshakes" };
    /// Repeatedly over the inbound budget.
    pub const FLOOD: Self = Self { value: -200, reason: "flooding" };
    /// A transaction the pool refused as invalid.
    pub const BAD_TRANSACTION: Self = Self { value: -50, reason: "invalid transaction" };
    /// A frame that does not decode.
    pub const DECODE_ERROR: Self = Self { value: -200, reason: "undecodable message" };
    /// A message of a kind its protocol does not carry, or to a chain the runtime refuses.
    pub const UNEXPECTED_MESSAGE: Self = Self { value: -200, reason: "unexpected message" };
    /// A pushed block that failed import.
    pub const BAD_BLOCK: Self = Self { value: -500, reason: "bad block" };
    /// A handshake that fails (forged, another binding, a bad certificate).
    pub const BAD_HANDSHAKE: Self = Self { value: -500, reason: "invalid handshake" };
    /// A frame that no key opens after the session is up: proves malice, fatal.
    pub const BAD_TAG: Self = Self { value: MIN, reason: "frame failed authentication" };
    /// A replayed frame: proves malice, fatal.
    pub const REPLAY: Self = Self { value: MIN, reason: "replayed frame" };

    /// Whether this change bans at once, whatever the score.
    pub fn is_fatal(&self) -> bool {
        self.value == MIN
    }
}

/// A decaying score.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reputation {
    value: i32,
    updated: Instant,
}

impl Reputation {
    /// A neutral (0) score.
    pub fn new(now: Instant) -> Self {
        Self { value: 0, updated: now }
    }

    /// A score of `value` as of `now`.
    pub fn with_value(value: i32, now: Instant) -> Self {
        Self { value: value.clamp(MIN, MAX), updated: now }
    }

    /// The score at `now`, after decay.
    pub fn value(&self, now: Instant) -> i32 {
        let elapsed = now.saturating_duration_since(self.updated);
        let halvings = elapsed.as_secs_f64() / HALF_LIFE.as_secs_f64();
        (self.value as f64 * 0.5f64.powf(halvings)).trunc() as i32
    }

    /// Applies `delta` at `now` and returns the new score.
    pub fn apply(&mut self, delta: i32, now: Instant) -> i32 {
        let decayed = self.value(now);
        self.value = decayed.saturating_add(delta).clamp(MIN, MAX);
        self.updated = now;
        self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_every_half_life_towards_zero() {
        let t0 = Instant::now();
        let mut r = Reputation::new(t0);
        r.apply(-1000, t0);
        assert_eq!(r.value(t0 + HALF_LIFE), -500);
        assert_eq!(r.value(t0 + 2 * HALF_LIFE), -250);
        assert_eq!(r.value(t0 + 30 * HALF_LIFE), 0);
        let mut good = Reputation::with_value(800, t0);
        assert_eq!(good.apply(0, t0 + HALF_LIFE), 400);
    }

    #[test]
    fn saturates() {
        let t0 = Instant::now();
        let mut r = Reputation::new(t0);
        r.apply(i32::MIN, t0);
        assert_eq!(r.value(t0), MIN);
        r.apply(i32::MAX, t0);
        r.apply(i32::MAX, t0);
        assert_eq!(r.value(t0), MAX);
    }
}
