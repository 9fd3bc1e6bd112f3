//! Token buckets on `governor` (GCRA), timed by tokio's clock so tests can pause time.

use std::{num::NonZeroU32, time::Duration};

use governor::{
    clock::Clock,
    middleware::NoOpMiddleware,
    state::{InMemoryState, NotKeyed},
    Quota,
};

use crate::config::RateLimit;

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

/// Most tokens taken from a bucket at once (bounded by its burst). Batching keeps the clock
/// reads and atomic updates of the bucket off most messages.
const TOKEN_BATCH: u32 = 8;

/// One token bucket.
pub(crate) struct Limiter {
    gcra: Gcra,
    clock: TokioClock,
    batch: NonZeroU32,
}

impl Limiter {
    /// A bucket enforcing `limit`.
    pub(crate) fn new(limit: RateLimit) -> Self {
        let clock = TokioClock::new();
        let quota = Quota::with_period(limit.interval())
            .unwrap_or_else(|| Quota::per_second(limit.messages))
            .allow_burst(limit.burst);
        let batch = NonZeroU32::new(TOKEN_BATCH.min(limit.burst.get())).unwrap_or(NonZeroU32::MIN);
        Self { gcra: Gcra::direct_with_clock(quota, &clock), clock, batch }
    }

    /// Takes a batch of tokens if there are that many, else one; `None` if there is none.
    pub(crate) fn try_take_batch(&self) -> Option<u32> {
        if self.batch.get() > 1 && matches!(self.gcra.check_n(self.batch), Ok(Ok(()))) {
            return Some(self.batch.get());
        }
        self.try_take().ok().map(|()| 1)
    }

    /// Takes a token if one is there; otherwise says how long until one is.
    pub(crate) fn try_take(&self) -> Result<(), Duration> {
        self.gcra.check().map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Waits for a token. Returns whether it had to wait.
    pub(crate) async fn take(&self) -> bool {
        let mut waited = false;
        while let Err(wait) = self.try_take() {
            waited = true;
            tokio::time::sleep(wait.max(Duration::from_micros(1))).await;
        }
        waited
    }
}
