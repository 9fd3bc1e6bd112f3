//! Per-peer inbound rate limits that single out abusers.

use std::{collections::HashMap, hash::Hash, sync::Arc};

use parking_lot::Mutex;

use crate::{config::RateLimit, limiter::Limiter};

/// What to do with an inbound message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InboundVerdict {
    /// Within the peer's rate: process it.
    Allow,
    /// Over the rate: drop it.
    Drop,
    /// Over the rate for the `abuse_after`-th time since the last report: drop it and report
    /// the peer (the count starts again).
    Abuse,
}

struct PeerInbound {
    limiter: Arc<Limiter>,
    excess: u32,
}

/// Inbound token buckets, one per peer.
pub struct InboundLimiter<P> {
    limit: Mutex<RateLimit>,
    abuse_after: u32,
    peers: Mutex<HashMap<P, PeerInbound>>,
}

impl<P: Clone + Eq + Hash> InboundLimiter<P> {
    /// Limits every peer to `limit`; reports a peer after `abuse_after` dropped messages.
    pub fn new(limit: RateLimit, abuse_after: u32) -> Self {
        Self {
            limit: Mutex::new(limit),
            abuse_after: abuse_after.max(1),
            peers: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one message from `peer` and says what to do with it.
    pub fn check(&self, peer: &P) -> InboundVerdict {
        let limit = *self.limit.lock();
        let mut peers = self.peers.lock();
        let state = peers
            .entry(peer.clone())
            .or_insert_with(|| PeerInbound { limiter: Arc::new(Limiter::new(limit)), excess: 0 });
        if state.limiter.try_take().is_ok() {
            return InboundVerdict::Allow;
        }
        state.excess += 1;
        if state.excess >= self.abuse_after {
            state.excess = 0;
            InboundVerdict::Abuse
        } else {
            InboundVerdict::Drop
        }
    }

    /// Forgets `peer` (on disconnect).
    pub fn forget(&self, peer: &P) {
        self.peers.lock().remove(peer);
    }

    /// Sets the per-peer rate for every peer.
    pub fn set_rate_limit(&self, limit: RateLimit) {
        *self.limit.lock() = limit;
        for state in self.peers.lock().values_mut() {
            state.limiter = Arc::new(Limiter::new(limit));
        }
    }
}
