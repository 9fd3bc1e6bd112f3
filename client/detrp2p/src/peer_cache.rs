//! The node's peer cache (`etrid-p2p-stored`) under its network config path, encrypted with a key
//! derived from the node key, reloaded at start and flushed every [`FLUSH_EVERY`].

use std::{num::NonZeroUsize, path::Path, sync::Arc, time::Duration};

use etrid_p2p_stored::{LoadOutcome, PeerCache, Snapshot};
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
    let key = Zeroizing::new(<[u8; 32]>::from(Sha256::digest(
        [&b"detr-p2p/peer-cache-key/v1"[..], &node_secret[..]].concat(),
    )));
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
