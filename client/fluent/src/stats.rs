//! Counters per priority level.

use std::sync::atomic::{AtomicU64, Ordering};

use etrid_protocol::Priority;

/// Counters of one level.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LevelStats {
    /// Messages queued now.
    pub depth: u64,
    /// Messages accepted into a queue.
    pub enqueued: u64,
    /// Messages handed to a sender.
    pub sent: u64,
    /// Messages shed or discarded with their peer.
    pub dropped: u64,
    /// Messages that had to wait for a rate limit token.
    pub throttled: u64,
}

/// Counters of all levels, highest priority first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// One entry per level, index = priority.
    pub levels: [LevelStats; Priority::LEVELS],
}

impl QueueStats {
    /// Sum over all levels.
    pub fn total(&self) -> LevelStats {
        self.levels.iter().fold(LevelStats::default(), |a, l| LevelStats {
            depth: a.depth + l.depth,
            enqueued: a.enqueued + l.enqueued,
            sent: a.sent + l.sent,
            dropped: a.dropped + l.dropped,
            throttled: a.throttled + l.throttled,
        })
    }
}

#[derive(Default)]
struct LevelCounters {
    depth: AtomicU64,
    enqueued: AtomicU64,
    sent: AtomicU64,
    dropped: AtomicU64,
    throttled: AtomicU64,
}

/// Live counters, shared by the controller's users.
#[derive(Default)]
pub(crate) struct Counters {
    levels: [LevelCounters; Priority::LEVELS],
}

impl Counters {
    pub(crate) fn enqueued(&self, p: Priority) {
        let l = &self.levels[p.index()];
        l.enqueued.fetch_add(1, Ordering::Relaxed);
        l.depth.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn dequeued(&self, p: Priority) {
        self.levels[p.index()].depth.fetch_sub(1, Ordering::Relaxed);
    }

    pub(crate) fn sent(&self, p: Priority) {
        self.levels[p.index()].sent.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn dropped(&self, p: Priority, n: u64) {
        self.levels[p.index()].dropped.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn throttled(&self, p: Priority) {
        self.levels[p.index()].throttled.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> QueueStats {
        QueueStats {
            levels: std::array::from_fn(|i| {
                let l = &self.levels[i];
                LevelStats {
                    depth: l.depth.load(Ordering::Relaxed),
                    enqueued: l.enqueued.load(Ordering::Relaxed),
                    sent: l.sent.load(Ordering::Relaxed),
                    dropped: l.dropped.load(Ordering::Relaxed),
                    throttled: l.throttled.load(Ordering::Relaxed),
                }
            }),
        }
    }
}
