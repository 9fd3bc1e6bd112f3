//! The node's peer cache (`etrid-p2p-stored`) under its network config path: encrypted with a
//! key derived from the node key, reloaded at start (its bans restored, its best peers dialled)
//! and written every [`FLUSH_EVERY`].

use std::{
    num::NonZeroUsize,
    path::Path,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use etrid_p2p_stored::{LoadOutcome, PeerCache, PeerRecord, Snapshot};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::LOG_TARGET;

/// Records kept.
const CAPACITY: usize = 10_000;
/// How often the cache is written.
pub const FLUSH_EVERY: Duration = Duration::from_secs(10);

/// Opens (and loads) the cache at `<dir>/detr/peers.bin`, logging what was found.
pub(crate) fn open(dir: &Path, node_secret: &[u8; 32]) -> Arc<PeerCache> {
    // Domain-separated, so the cache key is never the node key itself.
    let mut input = Zeroizing::new(b"detr-p2p/peer-cache-key/v1".to_vec());
    input.extend_from_slice(node_secret);
    let key = Zeroizing::new(<[u8; 32]>::from(Sha256::digest(&input[..])));
    let path = dir.join("detr").join("peers.bin");
    let capacity = NonZeroUsize::new(CAPACITY).expect("non-zero");
    let (cache, outcome) = PeerCache::open(capacity, Snapshot::new(path.clone(), Some(*key)));
    match outcome {
        LoadOutcome::Loaded(n) => {
            log::info!(target: LOG_TARGET, "peer cache reloaded: {n} peers from {}", path.display())
        }
        LoadOutcome::Missing => {
            log::info!(target: LOG_TARGET, "no peer cache yet at {}", path.display())
        }
        LoadOutcome::SetAside { moved_to, reason } => log::warn!(
            target: LOG_TARGET,
            "peer cache unusable ({reason}); moved to {}",
            moved_to.display()
        ),
    }
    Arc::new(cache)
}

/// Unix time now, in seconds.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Cached peers to dial at start: not banned, with addresses, best reputation first (the most
/// recently seen first among equals), at most `max`.
pub(crate) fn to_dial(records: &[PeerRecord], now: u64, max: usize) -> Vec<&PeerRecord> {
    let mut candidates: Vec<&PeerRecord> = records
        .iter()
        .filter(|r| !r.addresses.is_empty() && r.banned_until.is_none_or(|until| until <= now))
        .collect();
    candidates.sort_by(|a, b| b.reputation.cmp(&a.reputation).then(b.last_seen.cmp(&a.last_seen)));
    candidates.truncate(max);
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;
    use etrid_p2p_stored::{PeerData, PeerSource};

    fn record(
        id: &str,
        reputation: i32,
        addresses: &[&str],
        banned_until: Option<u64>,
    ) -> PeerRecord {
        let data = PeerData {
            addresses: addresses.iter().map(|a| a.to_string()).collect(),
            source: PeerSource::Inbound,
            reputation,
        };
        PeerRecord { banned_until, ..PeerRecord::new(id.into(), data, 100) }
    }

    #[test]
    fn the_best_dialable_unbanned_peers_come_first() {
        let records = [
            record("low", -10, &["/ip4/127.0.0.1/tcp/1"], None),
            record("high", 50, &["/ip4/127.0.0.1/tcp/2"], None),
            record("no-address", 99, &[], None),
            record("banned", 90, &["/ip4/127.0.0.1/tcp/3"], Some(2000)),
            record("ban-over", 20, &["/ip4/127.0.0.1/tcp/4"], Some(500)),
        ];
        let ids: Vec<_> = to_dial(&records, 1000, 10).iter().map(|r| r.peer_id.as_str()).collect();
        assert_eq!(ids, ["high", "ban-over", "low"]);
        assert_eq!(to_dial(&records, 1000, 1).len(), 1);
    }
}
