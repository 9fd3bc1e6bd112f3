//! dpeers: who the node knows, in what state, and how much it trusts them.
//!
//! A [`PeerRegistry`] tracks each peer through its [`PeerState`] lifecycle
//! (discovered → connecting → connected → disconnected, and banned), holds its reputation
//! ([`reputation`]), and returns [`PeerEvent`]s that the networking glue turns into
//! sc-network calls (`report_peer`, `disconnect_peer`). Time is passed in by the caller
//! (`now: Instant`), so the registry does no I/O and tests control the clock.

pub mod registry;
pub mod reputation;

pub use registry::{
    PeerError, PeerEvent, PeerInfo, PeerMetadata, PeerRegistry, PeerState, RegistryConfig,
};
pub use reputation::{Reputation, ReputationChange};
