//! What the node sends and receives over detr: its transactions ([`tx`]) and its blocks
//! ([`blocks`]). GRANDPA's gossip goes through [`crate::consensus`], bridge messages through
//! [`crate::bridge`].

pub mod blocks;
pub mod tx;

pub use blocks::Pushed;

use std::{collections::HashMap, hash::Hash, num::NonZeroUsize, sync::Arc};

use lru::LruCache;
use parking_lot::Mutex;
use sc_network::PeerId;

/// Which peers know which items (sent to them or received from them), each peer's set bounded
/// by `capacity` (oldest first out). Peers that left are forgotten by [`Known::retain`].
pub struct Known<H: Hash + Eq> {
    peers: Arc<Mutex<HashMap<PeerId, LruCache<H, ()>>>>,
    capacity: NonZeroUsize,
}

impl<H: Hash + Eq> Clone for Known<H> {
    fn clone(&self) -> Self {
        Self { peers: self.peers.clone(), capacity: self.capacity }
    }
}

impl<H: Hash + Eq + Clone> Known<H> {
    /// Per-peer sets of at most `capacity` items.
    pub fn new(capacity: usize) -> Self {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        Self { peers: Default::default(), capacity }
    }

    /// Marks `item` known to `peer`; `false` if it was already.
    pub fn insert(&self, peer: PeerId, item: H) -> bool {
        let mut peers = self.peers.lock();
        let set = peers.entry(peer).or_insert_with(|| LruCache::new(self.capacity));
        set.put(item, ()).is_none()
    }

    /// Whether `peer` knows `item`.
    pub fn contains(&self, peer: &PeerId, item: &H) -> bool {
        self.peers.lock().get(peer).is_some_and(|set| set.contains(item))
    }

    /// Forgets every peer not in `peers`.
    pub fn retain(&self, peers: &[PeerId]) {
        self.peers.lock().retain(|p, _| peers.contains(p));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_peer_knows_a_bounded_set_and_gone_peers_are_forgotten() {
        let known = Known::new(2);
        let (a, b) = (PeerId::random(), PeerId::random());
        assert!(known.insert(a, 1));
        assert!(!known.insert(a, 1));
        known.insert(a, 2);
        known.insert(a, 3);
        assert!(!known.contains(&a, &1), "the oldest went");
        assert!(known.insert(b, 1));
        known.retain(&[b]);
        assert!(!known.contains(&a, &3));
        assert!(known.contains(&b, &1));
    }
}
