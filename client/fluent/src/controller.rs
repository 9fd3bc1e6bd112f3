//! [`FlowController`]: one bounded, scheduled queue per peer behind global and per-peer token
//! buckets of messages and bytes.

use std::{collections::HashMap, hash::Hash, sync::Arc, time::Duration};

use parking_lot::{Mutex, RwLock};
use tokio::{sync::Notify, time::Instant};

use crate::{
    config::FlowConfig,
    error::FlowError,
    limiter::Limiter,
    queue::{Item, PriorityQueue, Push, Servable},
    stats::{Counters, QueueStats},
    Priority,
};

/// The largest frame: a byte bucket holds at least this much at once.
const MAX_FRAME: usize = 8 << 20;

/// A message and a byte bucket.
struct Buckets {
    messages: Limiter,
    bytes: Limiter,
}

impl Buckets {
    fn new(messages: crate::RateLimit, bytes: crate::ByteRate) -> Arc<Self> {
        Arc::new(Self {
            messages: Limiter::new(messages),
            bytes: Limiter::for_bytes(bytes, MAX_FRAME),
        })
    }
}

/// The message being paid for: taken off the queue, kept here (not in a future) so that a
/// cancelled [`FlowController::recv`] loses nothing. `paid` marks the buckets already charged:
/// peer messages, peer bytes, global messages, global bytes.
struct Head<M> {
    item: Item<M>,
    paid: [bool; 4],
    throttled: bool,
}

struct PeerQueue<M> {
    queue: PriorityQueue<M>,
    buckets: Arc<Buckets>,
    head: Option<Head<M>>,
    /// Woken when a message is queued (one consumer per peer).
    has_message: Arc<Notify>,
    /// Woken when room appears or the peer goes away (any number of waiting senders).
    has_room: Arc<Notify>,
}

struct Inner<P, M> {
    config: RwLock<FlowConfig>,
    global: RwLock<Arc<Buckets>>,
    peers: Mutex<HashMap<P, PeerQueue<M>>>,
    counters: Counters,
}

/// What one attempt to take a message found.
enum Step<M> {
    /// A message, paid for.
    Ready(Dequeued<M>),
    /// Nothing servable: wait for this.
    Empty(Arc<Notify>),
    /// A rate limit: wait this long, or until a message comes.
    Throttled(Duration, Arc<Notify>),
}

/// A message handed to a peer's sender, with how long it waited in the queue.
#[derive(Debug, PartialEq, Eq)]
pub struct Dequeued<M> {
    /// The message.
    pub message: M,
    /// Its priority.
    pub priority: Priority,
    /// Its size in bytes.
    pub bytes: usize,
    /// Time from queueing to now (scheduling and rate limits).
    pub waited: Duration,
    /// Whether a rate limit held it back.
    pub throttled: bool,
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
        let global = Buckets::new(config.rate_limit, config.byte_rate_limit);
        Self {
            inner: Arc::new(Inner {
                config: RwLock::new(config),
                global: RwLock::new(global),
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
        let c = self.config();
        self.inner.peers.lock().entry(peer).or_insert_with(|| PeerQueue {
            queue: PriorityQueue::new(c.max_queue_size, c.max_queue_bytes, c.weights, c.levels),
            buckets: Buckets::new(c.peer_rate_limit, c.peer_byte_rate_limit),
            head: None,
            has_message: Arc::new(Notify::new()),
            has_room: Arc::new(Notify::new()),
        });
    }

    /// Closes `peer`'s queue; its queued messages count as dropped, waiters get `UnknownPeer`.
    pub fn remove_peer(&self, peer: &P) {
        let Some(mut state) = self.inner.peers.lock().remove(peer) else { return };
        let head = state.head.take().map(|h| h.item);
        for item in state.queue.clear().into_iter().chain(head) {
            self.inner.counters.dequeued(item.priority);
            self.inner.counters.dropped(item.priority, 1);
        }
        state.has_room.notify_waiters();
        state.has_message.notify_one();
    }

    /// Whether `peer` has a queue.
    pub fn has_peer(&self, peer: &P) -> bool {
        self.inner.peers.lock().contains_key(peer)
    }

    /// Messages queued for `peer`.
    pub fn depth(&self, peer: &P) -> usize {
        let peers = self.inner.peers.lock();
        peers.get(peer).map_or(0, |s| s.queue.len() + usize::from(s.head.is_some()))
    }

    /// How long the oldest message of priority `p` queued for any peer has waited (`None` if
    /// none is): a backlog shows here before its messages are sent and their delay observed.
    pub fn oldest_queued(&self, p: Priority) -> Option<Duration> {
        let peers = self.inner.peers.lock();
        let oldest = peers
            .values()
            .flat_map(|s| {
                let head = s.head.as_ref().filter(|h| h.item.priority == p);
                s.queue.oldest(p).into_iter().chain(head.map(|h| h.item.enqueued))
            })
            .min()?;
        Some(Instant::now().saturating_duration_since(oldest))
    }

    /// Queues without waiting: `QueueFull` when only equal or higher priority fills the queue.
    /// A refused message is counted as dropped: the caller cannot queue it.
    pub fn try_send(
        &self,
        peer: &P,
        message: M,
        priority: Priority,
        bytes: usize,
    ) -> Result<(), FlowError> {
        self.push(peer, message, priority, bytes).map_err(|(e, refused)| {
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
        bytes: usize,
    ) -> Result<(), FlowError> {
        let mut message = message;
        loop {
            let room = {
                let peers = self.inner.peers.lock();
                peers.get(peer).ok_or(FlowError::UnknownPeer)?.has_room.clone()
            };
            let notified = room.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.push(peer, message, priority, bytes) {
                Ok(()) => return Ok(()),
                Err((FlowError::QueueFull { .. }, Some(m))) => message = m,
                Err((e, _)) => return Err(e),
            }
            notified.await;
        }
    }

    fn push(
        &self,
        peer: &P,
        message: M,
        priority: Priority,
        bytes: usize,
    ) -> Result<(), (FlowError, Option<M>)> {
        let mut peers = self.inner.peers.lock();
        let state = peers.get_mut(peer).ok_or((FlowError::UnknownPeer, None))?;
        let item = Item { message, priority, bytes, enqueued: Instant::now() };
        match state.queue.push(item) {
            Push::Queued(evicted) => {
                for shed in evicted {
                    self.inner.counters.dequeued(shed.priority);
                    self.inner.counters.dropped(shed.priority, 1);
                }
            }
            Push::Full(item) => {
                let capacity = state.queue.capacity();
                let bytes = self.inner.config.read().max_queue_bytes;
                return Err((FlowError::QueueFull { capacity, bytes }, Some(item.message)));
            }
        }
        self.inner.counters.enqueued(priority);
        state.has_message.notify_one();
        Ok(())
    }

    /// The next message for `peer` whose priority is `servable`, once scheduling and the
    /// message and byte buckets (the peer's and the global ones) allow it. `None` when the
    /// peer's queue is closed.
    ///
    /// Cancellation-safe: a message taken off the queue waits in the controller, not in the
    /// future, with the buckets it already paid; the next call goes on with it (even if its
    /// priority is no longer servable, so that nothing is lost).
    pub async fn recv(&self, peer: &P, servable: Servable) -> Option<Dequeued<M>> {
        loop {
            match self.step(peer, servable)? {
                Step::Ready(dequeued) => return Some(dequeued),
                Step::Empty(has_message) => has_message.notified().await,
                // A new message may be one that should go first: look again when it comes.
                Step::Throttled(wait, has_message) => tokio::select! {
                    () = tokio::time::sleep(wait.max(Duration::from_micros(1))) => {}
                    () = has_message.notified() => {}
                },
            }
        }
    }

    /// One attempt of [`Self::recv`], under the lock; `None` when the peer has no queue.
    fn step(&self, peer: &P, servable: Servable) -> Option<Step<M>> {
        let mut peers = self.inner.peers.lock();
        let state = peers.get_mut(peer)?;
        if state.head.is_none() && !take_head(state, servable) {
            return Some(Step::Empty(state.has_message.clone()));
        }
        let global = self.inner.global.read().clone();
        preempt(state, servable);
        let head = state.head.as_mut().expect("set above");
        if let Some(wait) = pay(head, &state.buckets, &global) {
            return Some(Step::Throttled(wait, state.has_message.clone()));
        }
        Some(Step::Ready(self.hand_out(state)))
    }

    /// The next message for `peer` whose priority is `servable` and whose size is at most
    /// `max_bytes`, if one is queued and every bucket allows it now; never waits. For a sender
    /// that fills one notification with several messages. A message it cannot take now stays
    /// first in line for [`Self::recv`], with the tokens it already paid.
    pub fn try_recv_within(
        &self,
        peer: &P,
        servable: Servable,
        max_bytes: usize,
    ) -> Option<Dequeued<M>> {
        let mut peers = self.inner.peers.lock();
        let state = peers.get_mut(peer)?;
        match &state.head {
            Some(head) if !servable.contains(head.item.priority) || head.item.bytes > max_bytes => {
                return None
            }
            Some(_) => {}
            None => {
                if state.queue.front(servable)?.bytes > max_bytes || !take_head(state, servable) {
                    return None;
                }
            }
        }
        let global = self.inner.global.read().clone();
        let head = state.head.as_mut().expect("set above");
        if pay(head, &state.buckets, &global).is_some() {
            return None;
        }
        Some(self.hand_out(state))
    }

    /// Hands out the paid head.
    fn hand_out(&self, state: &mut PeerQueue<M>) -> Dequeued<M> {
        let Head { item, throttled, .. } = state.head.take().expect("a paid head");
        self.inner.counters.dequeued(item.priority);
        self.inner.counters.sent(item.priority);
        if throttled {
            self.inner.counters.throttled(item.priority);
        }
        Dequeued {
            waited: item.enqueued.elapsed(),
            message: item.message,
            priority: item.priority,
            bytes: item.bytes,
            throttled,
        }
    }

    /// Sets the global and per-peer message and byte rates, for current and future peers.
    pub fn set_rate_limits(&self, config: &FlowConfig) {
        {
            let mut c = self.inner.config.write();
            c.rate_limit = config.rate_limit;
            c.peer_rate_limit = config.peer_rate_limit;
            c.byte_rate_limit = config.byte_rate_limit;
            c.peer_byte_rate_limit = config.peer_byte_rate_limit;
        }
        *self.inner.global.write() = Buckets::new(config.rate_limit, config.byte_rate_limit);
        for state in self.inner.peers.lock().values_mut() {
            state.buckets = Buckets::new(config.peer_rate_limit, config.peer_byte_rate_limit);
        }
    }

    /// Sets queue bounds and weights, for current and future queues.
    pub fn set_queue(
        &self,
        max_queue_size: usize,
        max_queue_bytes: usize,
        weights: [u32; Priority::LEVELS],
    ) {
        {
            let mut config = self.inner.config.write();
            config.max_queue_size = max_queue_size;
            config.max_queue_bytes = max_queue_bytes;
            config.weights = weights;
        }
        for state in self.inner.peers.lock().values_mut() {
            state.queue.reconfigure(max_queue_size, max_queue_bytes, weights);
            state.has_room.notify_waiters();
        }
    }

    /// Counters per priority, all peers together.
    pub fn queue_stats(&self) -> QueueStats {
        self.inner.counters.snapshot()
    }
}

/// Takes the next servable message off the queue into the empty head; `false` when there is
/// none. Wakes waiting senders when that makes room in a full queue.
fn take_head<M>(state: &mut PeerQueue<M>, servable: Servable) -> bool {
    let was_full = state.queue.len() >= state.queue.capacity();
    let Some(item) = state.queue.pop(servable) else { return false };
    state.head = Some(Head { item, paid: [false; 4], throttled: false });
    if was_full {
        state.has_room.notify_waiters();
    }
    true
}

/// A message of higher priority than the head, which still waits for a token, takes the head's
/// place (and the message tokens it already holds); the head goes back to the front of its
/// level. So a consensus message waits at most one token interval behind a transaction backlog.
fn preempt<M>(state: &mut PeerQueue<M>, servable: Servable) {
    let Some(head) = state.head.as_ref() else { return };
    if head.paid.iter().all(|p| *p) {
        return;
    }
    if state.queue.peek(servable).is_none_or(|p| p >= head.item.priority) {
        return;
    }
    let old = state.head.take().expect("checked above");
    state.queue.unpop(old.item);
    let item = state.queue.pop(servable).expect("the higher-priority message is there");
    // Message tokens are the same for any message; byte tokens are paid by size, afresh.
    let paid = [old.paid[0], false, old.paid[2], false];
    state.head = Some(Head { item, paid, throttled: old.throttled });
}

/// Charges the head's message to every bucket it has not paid yet. `None` when all are paid,
/// else how long to wait before trying again.
fn pay<M>(head: &mut Head<M>, peer: &Buckets, global: &Buckets) -> Option<Duration> {
    let bytes = head.item.bytes;
    let charges: [&dyn Fn() -> Result<(), Duration>; 4] = [
        &|| peer.messages.try_take(),
        &|| peer.bytes.try_take_bytes(bytes),
        &|| global.messages.try_take(),
        &|| global.bytes.try_take_bytes(bytes),
    ];
    for (paid, charge) in head.paid.iter_mut().zip(charges) {
        if !*paid {
            match charge() {
                Ok(()) => *paid = true,
                Err(wait) => {
                    head.throttled = true;
                    return Some(wait);
                }
            }
        }
    }
    None
}
