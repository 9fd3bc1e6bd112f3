//! One peer's bounded five-level queue and its weighted scheduler.
//!
//! Scheduling: each level has credits, refilled to its weight when no level that has messages
//! has credits left. [`PriorityQueue::pop`] serves the highest-priority level that has both
//! messages and credits. So level 0 goes first whenever it has credits (a level-0 message waits
//! behind lower levels only after `weights[0]` level-0 sends in one round), and under a flood of
//! every level, level `i` gets `weights[i] / sum(weights)` of the sends: nobody starves.
//!
//! Shedding: when the queue is full, a new message evicts the oldest message of the lowest level
//! below its own; if there is none, the new message is refused.

use std::collections::VecDeque;

use etrid_protocol::Priority;

/// What [`PriorityQueue::push`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Push<M> {
    /// Queued.
    Queued,
    /// Queued after evicting this older, lower-priority message.
    Shed(Priority, M),
    /// Not queued: the queue is full of messages of equal or higher priority.
    Full(M),
}

/// A bounded queue with five priority levels.
pub struct PriorityQueue<M> {
    levels: [VecDeque<M>; Priority::LEVELS],
    credits: [u32; Priority::LEVELS],
    weights: [u32; Priority::LEVELS],
    len: usize,
    capacity: usize,
}

impl<M> PriorityQueue<M> {
    /// An empty queue of `capacity` messages with the given level weights.
    pub fn new(capacity: usize, weights: [u32; Priority::LEVELS]) -> Self {
        Self { levels: Default::default(), credits: weights, weights, len: 0, capacity }
    }

    /// Messages queued, all levels.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Most messages the queue holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Messages queued at `priority`.
    pub fn depth(&self, priority: Priority) -> usize {
        self.levels[priority.index()].len()
    }

    /// Changes capacity and weights; messages over a smaller capacity stay until sent.
    pub fn reconfigure(&mut self, capacity: usize, weights: [u32; Priority::LEVELS]) {
        self.capacity = capacity;
        self.weights = weights;
        self.credits = weights;
    }

    /// Queues `message` at `priority`, shedding a lower-priority one if the queue is full.
    pub fn push(&mut self, priority: Priority, message: M) -> Push<M> {
        if self.len < self.capacity {
            self.levels[priority.index()].push_back(message);
            self.len += 1;
            return Push::Queued;
        }
        let victim =
            (priority.index() + 1..Priority::LEVELS).rev().find(|l| !self.levels[*l].is_empty());
        match victim {
            Some(level) => {
                let shed = self.levels[level].pop_front().expect("level is not empty");
                self.levels[priority.index()].push_back(message);
                Push::Shed(Priority::from_index(level).expect("valid level"), shed)
            }
            None => Push::Full(message),
        }
    }

    /// The next message by weighted scheduling, with its priority.
    pub fn pop(&mut self) -> Option<(Priority, M)> {
        if self.len == 0 {
            return None;
        }
        let pick = |q: &Self| {
            (0..Priority::LEVELS).find(|l| !q.levels[*l].is_empty() && q.credits[*l] > 0)
        };
        let level = match pick(self) {
            Some(level) => level,
            None => {
                self.credits = self.weights;
                pick(self).expect("a non-empty level with fresh credits")
            }
        };
        self.credits[level] -= 1;
        self.len -= 1;
        let message = self.levels[level].pop_front().expect("level is not empty");
        Some((Priority::from_index(level).expect("valid level"), message))
    }

    /// Removes every message, returning how many there were per level.
    pub fn clear(&mut self) -> [usize; Priority::LEVELS] {
        let counts = std::array::from_fn(|l| self.levels[l].len());
        self.levels.iter_mut().for_each(VecDeque::clear);
        self.len = 0;
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: [u32; 5] = [16, 8, 4, 2, 1];

    #[test]
    fn under_a_flood_of_every_level_each_gets_its_weight() {
        let mut q = PriorityQueue::new(100_000, W);
        for i in 0..10_000 {
            for p in Priority::ALL {
                assert_eq!(q.push(p, i), Push::Queued);
            }
        }
        let mut served = [0usize; 5];
        for _ in 0..31 * 100 {
            served[q.pop().unwrap().0.index()] += 1;
        }
        assert_eq!(served, [1600, 800, 400, 200, 100]);
    }

    #[test]
    fn level_zero_goes_first_when_it_is_not_flooding() {
        let mut q = PriorityQueue::new(1000, W);
        for i in 0..500 {
            q.push(Priority::Bulk, i);
        }
        for round in 0..50 {
            q.pop();
            q.push(Priority::Critical, 10_000 + round);
            assert_eq!(q.pop().unwrap().0, Priority::Critical, "round {round}");
        }
    }

    #[test]
    fn a_flood_of_level_zero_does_not_starve_bulk() {
        let mut q = PriorityQueue::new(100_000, W);
        for i in 0..10_000 {
            q.push(Priority::Critical, i);
        }
        q.push(Priority::Bulk, 99);
        let position = (1..=100).find(|_| q.pop().unwrap().0 == Priority::Bulk).unwrap();
        assert!(position <= 17, "bulk served after {position} pops");
    }

    #[test]
    fn full_queue_sheds_lowest_oldest_first() {
        let mut q = PriorityQueue::new(4, W);
        q.push(Priority::Bulk, "b1");
        q.push(Priority::Low, "l1");
        q.push(Priority::Bulk, "b2");
        q.push(Priority::High, "h1");
        assert_eq!(q.push(Priority::Critical, "c1"), Push::Shed(Priority::Bulk, "b1"));
        assert_eq!(q.push(Priority::Critical, "c2"), Push::Shed(Priority::Bulk, "b2"));
        assert_eq!(q.push(Priority::Critical, "c3"), Push::Shed(Priority::Low, "l1"));
        assert_eq!(q.push(Priority::High, "h2"), Push::Full("h2"));
        assert_eq!(q.push(Priority::Bulk, "b3"), Push::Full("b3"));
        assert_eq!(q.len(), 4);
    }
}
