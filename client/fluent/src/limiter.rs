//! Token buckets on `governor` (GCRA), timed by tokio's clock so tests can pause time.

use std::{num::NonZeroU32, time::Duration};

use governor::{
    clock::Clock,
    middleware::NoOpMiddleware,
    state::{InMemoryState, NotKeyed},
    Quota,
};

use crate::config::{ByteRate, RateLimit};

/// Byte buckets count KiB: a token per started KiB keeps the bucket's interval in microseconds
/// (a bucket of bytes at 256 MiB/s would tick every 3.7 ns, which a `Duration` rounds by 20%).
const BYTE_UNIT: u64 = 1024;

/// Time since a fixed start, read from `tokio::time` (which tests can pause and advance).
#[derive(Clone, Debug)]
pub(crate) struct TokioClock {
    start: tokio::time::Instant,
}

impl TokioClock {
    fn new() -> Self {
        Self { start: tokio::time::Instant::now() }
    }
}

impl Clock for TokioClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        self.start.elapsed()
    }
}

type Gcra = governor::RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<Duration>>;

/// One token bucket.
pub(crate) struct Limiter {
    gcra: Gcra,
    clock: TokioClock,
}

impl Limiter {
    /// A bucket enforcing `limit`.
    pub(crate) fn new(limit: RateLimit) -> Self {
        let clock = TokioClock::new();
        let quota = Quota::with_period(limit.interval())
            .unwrap_or_else(|| Quota::per_second(limit.messages))
            .allow_burst(limit.burst);
        Self { gcra: Gcra::direct_with_clock(quota, &clock), clock }
    }

    /// A bucket of `rate` bytes that holds at least `min_burst` bytes at once.
    pub(crate) fn for_bytes(rate: ByteRate, min_burst: usize) -> Self {
        let units = |bytes: u64| {
            NonZeroU32::new(bytes.div_ceil(BYTE_UNIT).min(u32::MAX as u64) as u32)
                .unwrap_or(NonZeroU32::MIN)
        };
        let limit = RateLimit::new(units(rate.0.messages.get() as u64), rate.0.period);
        let burst = units(rate.0.burst.get() as u64).max(units(min_burst as u64));
        Self::new(RateLimit { burst, ..limit })
    }

    /// Takes the tokens of `bytes` bytes; see [`Self::try_take_n`].
    pub(crate) fn try_take_bytes(&self, bytes: usize) -> Result<(), Duration> {
        self.try_take_n((bytes as u64).div_ceil(BYTE_UNIT).min(u32::MAX as u64) as u32)
    }

    /// Takes a token if one is there; otherwise says how long until one is.
    pub(crate) fn try_take(&self) -> Result<(), Duration> {
        self.gcra.check().map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Takes `n` tokens at once if they are there; otherwise says how long until they are.
    /// More than the burst can never be there at once: such a request passes (the burst of a
    /// byte bucket is set to hold the largest frame, so this only follows a misconfiguration).
    pub(crate) fn try_take_n(&self, n: u32) -> Result<(), Duration> {
        let Some(n) = NonZeroU32::new(n) else { return Ok(()) };
        match self.gcra.check_n(n) {
            Ok(Ok(())) | Err(_) => Ok(()),
            Ok(Err(not_until)) => Err(not_until.wait_time_from(self.clock.now())),
        }
    }
}
