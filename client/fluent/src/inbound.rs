//! Per-peer inbound budgets, in messages and bytes, that single out abusers.

use std::{collections::HashMap, hash::Hash};

use parking_lot::Mutex;

use crate::{
    config::{ByteRate, RateLimit},
    limiter::Limiter,
};

/// What to do with an inbound message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InboundVerdict {
    /// Within the peer's budget: process it.
    Allow,
    /// Over the budget: drop it.
    Drop,
    /// Over the budget for the `abuse_after`-th time since the last report: drop it and report
    /// the peer (the count starts again).
    Abuse,
}

/// The largest inbound frame: a byte bucket holds at least this much at once.
const MAX_FRAME: usize = 8 << 20;

/// `limit` with a burst of its whole period.
fn full_period(limit: RateLimit) -> RateLimit {
    RateLimit { burst: limit.messages, ..limit }
}

struct PeerInbound {
    messages: Limiter,
    bytes: Limiter,
    excess: u32,
}

/// Inbound budgets, one per peer; a peer's entry goes with [`InboundLimiter::forget`].
pub struct InboundLimiter<P> {
    limits: Mutex<(RateLimit, ByteRate)>,
    abuse_after: u32,
    peers: Mutex<HashMap<P, PeerInbound>>,
}

impl<P: Clone + Eq + Hash> InboundLimiter<P> {
    /// Limits every peer to `messages` and `bytes`; reports a peer after `abuse_after` drops.
    /// Each bucket holds one full period of its rate: a receiver sees a sender's steady rate in
    /// bursts (network buffers, a stalled task on a loaded host), and a peer within the rate
    /// must never be cut off, let alone reported, because of our own jitter.
    pub fn new(messages: RateLimit, bytes: ByteRate, abuse_after: u32) -> Self {
        Self {
            limits: Mutex::new((full_period(messages), ByteRate(full_period(bytes.0)))),
            abuse_after: abuse_after.max(1),
            peers: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one message of `len` bytes from `peer` and says what to do with it.
    pub fn check(&self, peer: &P, len: usize) -> InboundVerdict {
        let (messages, bytes) = *self.limits.lock();
        let mut peers = self.peers.lock();
        let state = peers.entry(peer.clone()).or_insert_with(|| PeerInbound {
            messages: Limiter::new(messages),
            bytes: Limiter::for_bytes(bytes, MAX_FRAME),
            excess: 0,
        });
        // A message over the message budget costs no bytes; one over the byte budget has spent
        // its message token (that is the cost of having sent it).
        if state.messages.try_take().is_ok() && state.bytes.try_take_bytes(len).is_ok() {
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

    /// Sets the per-peer budgets for every peer.
    pub fn set_limits(&self, messages: RateLimit, bytes: ByteRate) {
        let (messages, bytes) = (full_period(messages), ByteRate(full_period(bytes.0)));
        *self.limits.lock() = (messages, bytes);
        for state in self.peers.lock().values_mut() {
            state.messages = Limiter::new(messages);
            state.bytes = Limiter::for_bytes(bytes, MAX_FRAME);
        }
    }
}
