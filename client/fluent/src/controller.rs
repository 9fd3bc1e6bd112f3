//! [`FlowController`]: per-peer queues behind global and per-peer rate limits.

use std::{
    collections::HashMap,
    hash::Hash,
    sync::{
        atomic::{AtomicU32, Ordering},
        Arc,
    },
};

use parking_lot::{Mutex, RwLock};
use tokio::sync::Notify;

use crate::{
    config::{FlowConfig, RateLimit},
    error::FlowError,
    limiter::Limiter,
    queue::{PriorityQueue, Push},
    stats::{Counters, QueueStats},
    Priority,
};

struct PeerQueue<M> {
    queue: PriorityQueue<M>,
    limiter: Arc<Limiter>,
    /// Tokens already taken from `limiter` and not yet used.
    credit: u32,
    /// Woken when a message is queued (one consumer per peer).
    has_message: Arc<Notify>,
    /// Woken when room appears or the peer goes away (any number of waiting senders).
    has_room: Arc<Notify>,
}

struct Inner<P, M> {
    config: RwLock<FlowConfig>,
    global: RwLock<Arc<Limiter>>,
    /// Tokens already taken from `global` and not yet used.
    global_credit: AtomicU32,
    peers: Mutex<HashMap<P, PeerQueue<M>>>,
    counters: Counters,
}

/// Flow control of outbound messages to many peers. Cheap to clone; clones share state.
pub struct FlowController<P, M> {
    inner: Arc<Inner<P, M>>,
}

impl<P, M> Clone for FlowController<P, M> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone() }
    }
}

impl<P: Clone + Eq + Hash, M> FlowController<P, M> {
    /// A controller with `config` (validate it first with [`FlowConfig::validate`]).
    pub fn new(config: FlowConfig) -> Self {
        let global = Arc::new(Limiter::new(config.rate_limit));
        Self {
            inner: Arc::new(Inner {
                config: RwLock::new(config),
                global: RwLock::new(global),
                global_credit: AtomicU32::new(0),
                peers: Mutex::new(HashMap::new()),
                counters: Counters::default(),
            }),
        }
    }

    /// The settings in force.
    pub fn config(&self) -> FlowConfig {
        self.inner.config.read().clone()
    }

    /// Opens a queue for `peer` (no-op if it has one).
    pub fn add_peer(&self, peer: P) {
        let config = self.config();
        self.inner.peers.lock().entry(peer).or_insert_with(|| PeerQueue {
            queue: PriorityQueue::new(config.max_queue_size, config.weights),
            limiter: Arc::new(Limiter::new(config.peer_rate_limit)),
            credit: 0,
            has_message: Arc::new(Notify::new()),
            has_room: Arc::new(Notify::new()),
        });
    }

    /// Closes `peer`'s queue; its queued messages count as dropped, waiters get `UnknownPeer`.
    pub fn remove_peer(&self, peer: &P) {
        let Some(mut state) = self.inner.peers.lock().remove(peer) else { return };
        for (level, n) in state.queue.clear().into_iter().enumerate() {
            let p = Priority::from_index(level).expect("valid level");
            for _ in 0..n {
                self.inner.counters.dequeued(p);
            }
            self.inner.counters.dropped(p, n as u64);
        }
        state.has_room.notify_waiters();
        state.has_message.notify_one();
    }

    /// Peers with a queue.
    pub fn peers(&self) -> Vec<P> {
        self.inner.peers.lock().keys().cloned().collect()
    }

    /// Messages queued for `peer`.
    pub fn depth(&self, peer: &P) -> usize {
        self.inner.peers.lock().get(peer).map_or(0, |s| s.queue.len())
    }

    /// Queues without waiting: `QueueFull` when only equal or higher priority fills the queue.
    /// A refused message is counted as dropped: the caller cannot queue it.
    pub fn try_send(&self, peer: &P, message: M, priority: Priority) -> Result<(), FlowError> {
        self.push(peer, message, priority).map_err(|(e, refused)| {
            if refused.is_some() {
                self.inner.counters.dropped(priority, 1);
            }
            e
        })
    }

    /// Queues, waiting for room while the queue is full of equal or higher priority.
    pub async fn send_priority(
        &self,
        peer: &P,
        message: M,
        priority: Priority,
    ) -> Result<(), FlowError> {
        let mut message = message;
        loop {
            let room = {
                let peers = self.inner.peers.lock();
                let state = peers.get(peer).ok_or(FlowError::UnknownPeer)?;
                state.has_room.clone()
            };
            let notified = room.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.push(peer, message, priority) {
                Ok(()) => return Ok(()),
                Err((FlowError::QueueFull { .. }, Some(m))) => message = m,
                Err((e, _)) => return Err(e),
            }
            notified.await;
        }
    }

    fn push(&self, peer: &P, message: M, priority: Priority) -> Result<(), (FlowError, Option<M>)> {
        let mut peers = self.inner.peers.lock();
        let state = peers.get_mut(peer).ok_or((FlowError::UnknownPeer, None))?;
        match state.queue.push(priority, message) {
            Push::Queued => {}
            Push::Shed(level, _) => {
                self.inner.counters.dequeued(level);
                self.inner.counters.dropped(level, 1);
            }
            Push::Full(message) => {
                let capacity = state.queue.capacity();
                return Err((FlowError::QueueFull { capacity }, Some(message)));
            }
        }
        self.inner.counters.enqueued(priority);
        state.has_message.notify_one();
        Ok(())
    }

    /// The next message for `peer`, once scheduling and both rate limits allow it.
    /// `None` when the peer's queue is closed.
    pub async fn recv(&self, peer: &P) -> Option<(Priority, M)> {
        let (priority, message, peer_wait) = loop {
            let has_message = {
                let mut peers = self.inner.peers.lock();
                let state = peers.get_mut(peer)?;
                let was_full = state.queue.len() >= state.queue.capacity();
                if let Some((priority, message)) = state.queue.pop() {
                    self.inner.counters.dequeued(priority);
                    if was_full {
                        state.has_room.notify_waiters();
                    }
                    let peer_ok = take_credit(&mut state.credit, &state.limiter);
                    break (priority, message, (!peer_ok).then(|| state.limiter.clone()));
                }
                state.has_message.clone()
            };
            has_message.notified().await;
        };
        let mut throttled = false;
        if !self.take_global_credit() {
            throttled = true;
            let global = self.inner.global.read().clone();
            global.take().await;
        }
        if let Some(limiter) = peer_wait {
            throttled = true;
            limiter.take().await;
        }
        if throttled {
            self.inner.counters.throttled(priority);
        }
        self.inner.counters.sent(priority);
        Some((priority, message))
    }

    /// Uses a global token already taken, or takes a batch; `false` if the bucket is empty.
    fn take_global_credit(&self) -> bool {
        let credit = &self.inner.global_credit;
        if credit.fetch_update(Ordering::AcqRel, Ordering::Acquire, |c| c.checked_sub(1)).is_ok() {
            return true;
        }
        match self.inner.global.read().try_take_batch() {
            Some(n) => {
                credit.fetch_add(n - 1, Ordering::AcqRel);
                true
            }
            None => false,
        }
    }

    /// Sets the global outbound rate.
    pub fn set_rate_limit(&self, limit: RateLimit) {
        self.inner.config.write().rate_limit = limit;
        *self.inner.global.write() = Arc::new(Limiter::new(limit));
        self.inner.global_credit.store(0, Ordering::Release);
    }

    /// Sets the per-peer outbound rate, for current and future peers.
    pub fn set_peer_rate_limit(&self, limit: RateLimit) {
        self.inner.config.write().peer_rate_limit = limit;
        for state in self.inner.peers.lock().values_mut() {
            state.limiter = Arc::new(Limiter::new(limit));
            state.credit = 0;
        }
    }

    /// Sets queue capacity and weights, for current and future queues.
    pub fn set_queue(&self, max_queue_size: usize, weights: [u32; Priority::LEVELS]) {
        {
            let mut config = self.inner.config.write();
            config.max_queue_size = max_queue_size;
            config.weights = weights;
        }
        for state in self.inner.peers.lock().values_mut() {
            state.queue.reconfigure(max_queue_size, weights);
            state.has_room.notify_waiters();
        }
    }

    /// Counters per level, all peers together.
    pub fn queue_stats(&self) -> QueueStats {
        self.inner.counters.snapshot()
    }
}

/// Uses a peer token already taken, or takes a batch; `false` if the bucket is empty.
fn take_credit(credit: &mut u32, limiter: &Limiter) -> bool {
    if *credit > 0 {
        *credit -= 1;
        return true;
    }
    match limiter.try_take_batch() {
        Some(n) => {
            *credit = n - 1;
            true
        }
        None => false,
    }
}
