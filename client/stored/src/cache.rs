//! The in-memory LRU of peer records, with its snapshot.

use std::{
    future::Future,
    num::NonZeroUsize,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use lru::LruCache;
use parking_lot::Mutex;

use crate::{
    record::{ConnectionEvent, ConnectionKind, PeerData, PeerRecord},
    snapshot::{LoadOutcome, Snapshot, SnapshotError},
};

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// An LRU of peer records, optionally backed by a snapshot file.
pub struct PeerCache {
    lru: Mutex<LruCache<String, PeerRecord>>,
    snapshot: Option<Snapshot>,
}

impl PeerCache {
    /// An in-memory cache of `capacity` records.
    pub fn new(capacity: NonZeroUsize) -> Self {
        Self { lru: Mutex::new(LruCache::new(capacity)), snapshot: None }
    }

    /// A cache backed by `snapshot`, loaded from it now. The outcome says what loading found.
    pub fn open(capacity: NonZeroUsize, snapshot: Snapshot) -> (Self, LoadOutcome) {
        let (records, outcome) = snapshot.load(capacity.get());
        let mut lru = LruCache::new(capacity);
        // The snapshot lists the most recently used first: insert oldest first.
        for record in records.into_iter().rev() {
            lru.put(record.peer_id.clone(), record);
        }
        (Self { lru: Mutex::new(lru), snapshot: Some(snapshot) }, outcome)
    }

    /// Stores or updates `peer_id`, evicting the least recently used record when full.
    pub fn store_peer(&self, peer_id: &str, data: PeerData) {
        let now = unix_now();
        let mut lru = self.lru.lock();
        if let Some(record) = lru.get_mut(peer_id) {
            record.update(data, now);
        } else {
            lru.put(peer_id.to_string(), PeerRecord::new(peer_id.to_string(), data, now));
        }
    }

    /// Appends a connection event to a known peer's history; `false` if the peer is unknown.
    pub fn record_connection(&self, peer_id: &str, kind: ConnectionKind) -> bool {
        let mut lru = self.lru.lock();
        match lru.get_mut(peer_id) {
            Some(record) => {
                record.record(ConnectionEvent { at: unix_now(), kind });
                true
            }
            None => false,
        }
    }

    /// Records a ban of a peer until `until` (unix seconds), adding the peer if unknown.
    pub fn record_ban(&self, peer_id: &str, until: u64) {
        let now = unix_now();
        let mut lru = self.lru.lock();
        if !lru.contains(peer_id) {
            let data = PeerData {
                addresses: Vec::new(),
                source: crate::PeerSource::Inbound,
                reputation: 0,
            };
            lru.put(peer_id.to_string(), PeerRecord::new(peer_id.to_string(), data, now));
        }
        if let Some(record) = lru.get_mut(peer_id) {
            record.banned_until = Some(until);
        }
    }

    /// The record of `peer_id` (marks it recently used).
    pub fn get_peer_data(&self, peer_id: &str) -> Option<PeerRecord> {
        self.lru.lock().get(peer_id).cloned()
    }

    /// Every record, most recently used first.
    pub fn peers(&self) -> Vec<PeerRecord> {
        self.lru.lock().iter().map(|(_, r)| r.clone()).collect()
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.lru.lock().len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes every record.
    pub fn clear_cache(&self) {
        self.lru.lock().clear();
    }

    /// Writes the snapshot (no-op without one). Blocking: call it from a blocking task.
    pub fn save(&self) -> Result<(), SnapshotError> {
        let Some(snapshot) = &self.snapshot else { return Ok(()) };
        let records = self.peers();
        snapshot.save(&records)
    }
}

/// Saves `cache` every `every` and once more when `shutdown` completes. Failures are logged and
/// retried at the next tick.
pub async fn run_flusher(
    cache: Arc<PeerCache>,
    every: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let save = |cache: Arc<PeerCache>| async move {
        match tokio::task::spawn_blocking(move || cache.save()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(target: "detr-stored", "saving the peer cache failed: {e}")
            }
            Err(e) => tracing::warn!(target: "detr-stored", "peer cache save task failed: {e}"),
        }
    };
    let mut ticks = tokio::time::interval(every);
    ticks.tick().await;
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = ticks.tick() => save(cache.clone()).await,
            _ = &mut shutdown => break,
        }
    }
    save(cache).await;
}
