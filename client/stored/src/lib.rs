//! stored: the node's cache of peers it has seen, kept across restarts.
//!
//! [`PeerCache`] is an LRU (the `lru` crate) of [`PeerRecord`]s bounded by a capacity, bans
//! included. A [`Snapshot`] file under the node's base path holds it between runs: written
//! atomically (temp file, fsync, rename, fsync of the directory) and sealed with
//! ChaCha20-Poly1305 under a key the caller derives (the node uses its node key), the AEAD being
//! the integrity check; without a key it is plain with a SHA-256 checksum against damage. A
//! corrupt, truncated, undecryptable file, or a plain one when a key is set, is renamed aside
//! with a warning and the cache starts empty: never fatal.

pub mod cache;
pub mod record;
pub mod snapshot;

pub use cache::{run_flusher, PeerCache};
pub use record::{ConnectionEvent, ConnectionKind, PeerData, PeerRecord, PeerSource};
pub use snapshot::{LoadOutcome, Snapshot, SnapshotError};
