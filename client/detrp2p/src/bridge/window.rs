//! One source chain's replay window: the highest nonce seen and a bit for each of the
//! [`WINDOW`] nonces below it.

use codec::{Decode, Encode};

/// Nonces remembered below a source's highest (a message older than that is refused). A source's
/// messages may arrive this late with nothing lost: one node's own messages mark its window at
/// once while another node's wait behind that node's queue and a relay's, each up to
/// `max_queue_size` (default 10,000), so the window spans more than two full queues (4 KiB of
/// bits per source). Raise `max_queue_size` past 16,384 and late messages may count as
/// `below_window`.
pub const WINDOW: u64 = 32_768;

/// One source's replay window: the highest nonce and a bit per nonce of the [`WINDOW`] below.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode)]
pub struct Window {
    high: Option<u64>,
    bits: Vec<u64>,
}

/// What a window says of a nonce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// Not seen: now it is.
    New,
    /// Seen before.
    Duplicate,
    /// Below the window: cannot be told apart from a replay, refused.
    TooOld,
}

impl Window {
    fn bit(&mut self, nonce: u64) -> (&mut u64, u64) {
        if self.bits.len() != (WINDOW / 64) as usize {
            self.bits = vec![0; (WINDOW / 64) as usize];
        }
        let i = (nonce % WINDOW) as usize;
        (&mut self.bits[i / 64], 1 << (i % 64))
    }

    /// Checks `nonce` and marks it seen if it is new.
    pub fn check(&mut self, nonce: u64) -> Seen {
        let Some(high) = self.high else {
            self.high = Some(nonce);
            let (word, mask) = self.bit(nonce);
            *word |= mask;
            return Seen::New;
        };
        if nonce > high {
            // Clear the bits of the nonces the window slides past.
            let step = (nonce - high).min(WINDOW);
            for n in 1..=step {
                let (word, mask) = self.bit(high + n);
                *word &= !mask;
            }
            self.high = Some(nonce);
        } else if high - nonce >= WINDOW {
            return Seen::TooOld;
        }
        let (word, mask) = self.bit(nonce);
        if *word & mask != 0 {
            return Seen::Duplicate;
        }
        *word |= mask;
        Seen::New
    }

    /// A window read from disk, made the size of [`WINDOW`]. One written with another size (an
    /// older `WINDOW`, or a damaged file) keeps the marks of the nonces its bits covered, and every
    /// other nonce below its high-water mark counts as seen: nothing delivered before can be
    /// delivered again.
    pub(super) fn loaded(self) -> Self {
        let words = (WINDOW / 64) as usize;
        let Some(high) = self.high else { return Self::default() };
        if self.bits.len() == words {
            return self;
        }
        let old_span = self.bits.len() as u64 * 64;
        let old = self.bits;
        let mut window = Self { high: Some(high), bits: vec![u64::MAX; words] };
        for nonce in (0..=high).rev().take(old_span.min(WINDOW) as usize) {
            let i = (nonce % old_span) as usize;
            if old[i / 64] & (1 << (i % 64)) == 0 {
                let (word, mask) = window.bit(nonce);
                *word &= !mask;
            }
        }
        window
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_accepts_each_nonce_once_and_refuses_what_it_slid_past() {
        let mut w = Window::default();
        assert_eq!(w.check(10), Seen::New);
        assert_eq!(w.check(10), Seen::Duplicate);
        assert_eq!(w.check(5), Seen::New, "reordered within the window");
        assert_eq!(w.check(5), Seen::Duplicate);
        assert_eq!(w.check(10 + WINDOW), Seen::New);
        assert_eq!(w.check(10), Seen::TooOld);
        assert_eq!(w.check(11), Seen::New, "just inside the window");
        assert_eq!(w.check(u64::MAX), Seen::New);
        assert_eq!(w.check(u64::MAX - WINDOW + 1), Seen::New);
    }

    #[test]
    fn a_message_replayed_after_100_000_others_is_still_refused() {
        let mut w = Window::default();
        assert_eq!(w.check(7), Seen::New);
        for n in 1_000_000..1_100_000 {
            w.check(n);
        }
        assert_ne!(w.check(7), Seen::New);
    }

    #[test]
    fn a_message_overtaken_by_two_full_queues_of_others_is_still_new() {
        // One node's own messages mark its window at once; another node's wait behind that
        // node's queue and a relay's, each up to `max_queue_size` messages.
        let late = 2 * etrid_p2p_fluent::FlowConfig::default().max_queue_size as u64;
        let mut w = Window::default();
        assert_eq!(w.check(1 + late), Seen::New);
        assert_eq!(w.check(1), Seen::New, "{late} nonces late");
    }
}
