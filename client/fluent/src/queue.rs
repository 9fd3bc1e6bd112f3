//! One peer's bounded queue of up to five levels and its weighted scheduler.
//!
//! Levels: a message of priority `p` waits at level `min(p, levels - 1)`; with one level the
//! queue is a FIFO. Scheduling: each level has credits, refilled to its weight when no level
//! that may be served has credits left, and when the level empties (shares apply to backlogs).
//! [`PriorityQueue::pop`] serves the highest level that has a servable message and credits. So
//! level 0 goes first unless it is itself backlogged (then a level-0 message waits behind lower
//! levels only after `weights[0]` level-0 sends in one round), and under a flood of every
//! level, level `i` gets `weights[i] / sum(weights)` of the sends: nobody starves.
//!
//! Bounds: a message count and a byte count. When either would be exceeded, a new message
//! evicts the oldest messages of the lowest levels below its own until it fits; if that is not
//! enough, the new message is refused and nothing is evicted.

use std::collections::VecDeque;

use tokio::time::Instant;

use etrid_protocol::Priority;

/// A queued message with what scheduling needs to know of it.
#[derive(Debug, PartialEq, Eq)]
pub struct Item<M> {
    /// The message.
    pub message: M,
    /// Its priority.
    pub priority: Priority,
    /// Its size in bytes (for byte budgets).
    pub bytes: usize,
    /// When it was queued.
    pub enqueued: Instant,
}

/// What [`PriorityQueue::push`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Push<M> {
    /// Queued, after evicting these older, lower-priority messages (often none).
    Queued(Vec<Item<M>>),
    /// Not queued: the queue is full of messages of equal or higher priority.
    Full(Item<M>),
}

/// Which priorities may be served now (a bit per priority).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Servable(u8);

impl Servable {
    /// Every priority.
    pub const ALL: Self = Self(0b1_1111);

    /// No priority.
    pub const NONE: Self = Self(0);

    /// These and `p`.
    pub fn with(self, p: Priority) -> Self {
        Self(self.0 | 1 << p.index())
    }

    /// These and `other`'s.
    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Whether `p` may be served.
    pub fn contains(self, p: Priority) -> bool {
        self.0 & 1 << p.index() != 0
    }
}

/// A bounded queue of up to five levels.
pub struct PriorityQueue<M> {
    levels: [VecDeque<Item<M>>; Priority::LEVELS],
    in_use: usize,
    credits: [u32; Priority::LEVELS],
    weights: [u32; Priority::LEVELS],
    len: usize,
    bytes: usize,
    capacity: usize,
    max_bytes: usize,
}

impl<M> PriorityQueue<M> {
    /// An empty queue of `capacity` messages and `max_bytes` bytes over `levels` levels.
    pub fn new(
        capacity: usize,
        max_bytes: usize,
        weights: [u32; Priority::LEVELS],
        levels: usize,
    ) -> Self {
        Self {
            levels: Default::default(),
            in_use: levels.clamp(1, Priority::LEVELS),
            credits: weights,
            weights,
            len: 0,
            bytes: 0,
            capacity,
            max_bytes,
        }
    }

    /// Messages queued, all levels.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Bytes queued, all levels.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Most messages the queue holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn level_of(&self, p: Priority) -> usize {
        p.index().min(self.in_use - 1)
    }

    /// Changes bounds and weights (levels stay: messages already queued keep their place);
    /// messages over smaller bounds stay until sent.
    pub fn reconfigure(
        &mut self,
        capacity: usize,
        max_bytes: usize,
        weights: [u32; Priority::LEVELS],
    ) {
        self.capacity = capacity;
        self.max_bytes = max_bytes;
        self.weights = weights;
        self.credits = weights;
    }

    fn fits(&self, bytes: usize) -> bool {
        self.len < self.capacity && self.bytes + bytes <= self.max_bytes
    }

    /// Queues `item`, evicting lower-priority messages if the queue is full.
    pub fn push(&mut self, item: Item<M>) -> Push<M> {
        let level = self.level_of(item.priority);
        let mut evicted = Vec::new();
        if !self.fits(item.bytes) {
            // Would evicting every lower level make room? If not, evict nothing.
            let below: (usize, usize) = self.levels[level + 1..]
                .iter()
                .flatten()
                .fold((0, 0), |(n, b), i| (n + 1, b + i.bytes));
            let room_n = self.len - below.0 < self.capacity;
            let room_b = self.bytes - below.1 + item.bytes <= self.max_bytes;
            if !(room_n && room_b) {
                return Push::Full(item);
            }
            while !self.fits(item.bytes) {
                let victim = (level + 1..self.in_use).rev().find(|l| !self.levels[*l].is_empty());
                let victim = victim.expect("enough lower-level messages to make room");
                let shed = self.levels[victim].pop_front().expect("level is not empty");
                self.len -= 1;
                self.bytes -= shed.bytes;
                evicted.push(shed);
            }
        }
        self.len += 1;
        self.bytes += item.bytes;
        self.levels[level].push_back(item);
        Push::Queued(evicted)
    }

    /// The level [`Self::pop`] would serve, and whether it refills the credits first.
    fn pick(&self, servable: Servable) -> Option<(usize, bool)> {
        let ok = |l: usize, need_credit: bool| {
            self.levels[l].front().is_some_and(|i| servable.contains(i.priority))
                && (!need_credit || self.credits[l] > 0)
        };
        match (0..self.in_use).find(|l| ok(*l, true)) {
            Some(level) => Some((level, false)),
            None => (0..self.in_use).find(|l| ok(*l, false)).map(|level| (level, true)),
        }
    }

    /// The priority of the message [`Self::pop`] would serve, without taking it.
    pub fn peek(&self, servable: Servable) -> Option<Priority> {
        self.front(servable).map(|i| i.priority)
    }

    /// The message [`Self::pop`] would serve, without taking it.
    pub fn front(&self, servable: Servable) -> Option<&Item<M>> {
        let (level, _) = self.pick(servable)?;
        self.levels[level].front()
    }

    /// When the oldest queued message of priority `p` was queued (`None` if none is).
    pub fn oldest(&self, p: Priority) -> Option<Instant> {
        self.levels[self.level_of(p)].iter().find(|i| i.priority == p).map(|i| i.enqueued)
    }

    /// Puts back a message [`Self::pop`] gave, at the front of its level (bounds aside: it was
    /// counted in them before).
    pub fn unpop(&mut self, item: Item<M>) {
        let level = self.level_of(item.priority);
        self.len += 1;
        self.bytes += item.bytes;
        self.credits[level] = self.credits[level].saturating_add(1).min(self.weights[level]);
        self.levels[level].push_front(item);
    }

    /// The next message whose priority is servable, by weighted scheduling.
    pub fn pop(&mut self, servable: Servable) -> Option<Item<M>> {
        let (level, refill) = self.pick(servable)?;
        if refill {
            self.credits = self.weights;
        }
        self.credits[level] = self.credits[level].saturating_sub(1);
        let item = self.levels[level].pop_front().expect("level is not empty");
        self.len -= 1;
        self.bytes -= item.bytes;
        if self.levels[level].is_empty() {
            // Shares apply to backlogs: a level that keeps up starts afresh.
            self.credits[level] = self.weights[level];
        }
        Some(item)
    }

    /// Removes every message.
    pub fn clear(&mut self) -> Vec<Item<M>> {
        self.len = 0;
        self.bytes = 0;
        self.levels.iter_mut().flat_map(|l| l.drain(..)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: [u32; 5] = [16, 8, 4, 2, 1];

    fn item<M>(priority: Priority, message: M) -> Item<M> {
        Item { message, priority, bytes: 1, enqueued: Instant::now() }
    }

    fn queue<M>(capacity: usize) -> PriorityQueue<M> {
        PriorityQueue::new(capacity, usize::MAX, W, 5)
    }

    fn queued<M>(push: Push<M>) -> Vec<M> {
        match push {
            Push::Queued(evicted) => evicted.into_iter().map(|i| i.message).collect(),
            Push::Full(_) => panic!("refused"),
        }
    }

    #[test]
    fn under_a_flood_of_every_level_each_gets_its_weight() {
        let mut q = queue(100_000);
        for i in 0..10_000 {
            for p in Priority::ALL {
                assert!(queued(q.push(item(p, i))).is_empty());
            }
        }
        let mut served = [0usize; 5];
        for _ in 0..31 * 100 {
            served[q.pop(Servable::ALL).unwrap().priority.index()] += 1;
        }
        assert_eq!(served, [1600, 800, 400, 200, 100]);
    }

    #[test]
    fn level_zero_goes_first_when_it_is_not_flooding() {
        let mut q = queue(1000);
        for i in 0..500 {
            q.push(item(Priority::Bulk, i));
        }
        for round in 0..50 {
            q.pop(Servable::ALL);
            q.push(item(Priority::Critical, 10_000 + round));
            assert_eq!(q.pop(Servable::ALL).unwrap().priority, Priority::Critical, "round {round}");
        }
    }

    #[test]
    fn a_flood_of_level_zero_does_not_starve_bulk() {
        let mut q = queue(100_000);
        for i in 0..10_000 {
            q.push(item(Priority::Critical, i));
        }
        q.push(item(Priority::Bulk, 99));
        let position =
            (1..=100).find(|_| q.pop(Servable::ALL).unwrap().priority == Priority::Bulk).unwrap();
        assert!(position <= 17, "bulk served after {position} pops");
    }

    #[test]
    fn full_queue_sheds_lowest_oldest_first() {
        let mut q = queue(4);
        q.push(item(Priority::Bulk, "b1"));
        q.push(item(Priority::Low, "l1"));
        q.push(item(Priority::Bulk, "b2"));
        q.push(item(Priority::High, "h1"));
        assert_eq!(queued(q.push(item(Priority::Critical, "c1"))), ["b1"]);
        assert_eq!(queued(q.push(item(Priority::Critical, "c2"))), ["b2"]);
        assert_eq!(queued(q.push(item(Priority::Critical, "c3"))), ["l1"]);
        assert!(matches!(q.push(item(Priority::High, "h2")), Push::Full(_)));
        assert!(matches!(q.push(item(Priority::Bulk, "b3")), Push::Full(_)));
        assert_eq!(q.len(), 4);
    }

    #[test]
    fn the_byte_bound_sheds_as_many_as_needed_or_nothing() {
        let mut q = PriorityQueue::new(100, 100, W, 5);
        for i in 0..4 {
            q.push(Item {
                message: i,
                priority: Priority::Bulk,
                bytes: 25,
                enqueued: Instant::now(),
            });
        }
        let big =
            Item { message: 9, priority: Priority::Critical, bytes: 60, enqueued: Instant::now() };
        assert_eq!(queued(q.push(big)), [0, 1, 2]);
        assert_eq!((q.len(), q.bytes()), (2, 85));
        let too_big =
            Item { message: 10, priority: Priority::Low, bytes: 90, enqueued: Instant::now() };
        assert!(matches!(q.push(too_big), Push::Full(_)));
        assert_eq!((q.len(), q.bytes()), (2, 85), "a refused message evicts nothing");
    }

    #[test]
    fn only_servable_priorities_are_popped() {
        let mut q = queue(10);
        q.push(item(Priority::Critical, "c"));
        q.push(item(Priority::Low, "l"));
        let only_low = Servable::NONE.with(Priority::Low);
        assert_eq!(q.pop(only_low).unwrap().message, "l");
        assert!(q.pop(only_low).is_none());
        assert_eq!(q.pop(Servable::ALL).unwrap().message, "c");
    }

    #[test]
    fn one_level_is_a_fifo() {
        let mut q = PriorityQueue::new(10, usize::MAX, W, 1);
        for (i, p) in [Priority::Bulk, Priority::Critical, Priority::Low].into_iter().enumerate() {
            q.push(item(p, i));
        }
        let order: Vec<_> =
            std::iter::from_fn(|| q.pop(Servable::ALL)).map(|i| i.message).collect();
        assert_eq!(order, [0, 1, 2]);
        // A head that may not be served blocks the rest (head-of-line, as a FIFO does).
        q.push(item(Priority::Bulk, 5));
        q.push(item(Priority::Critical, 6));
        assert!(q.pop(Servable::NONE.with(Priority::Critical)).is_none());
    }
}
