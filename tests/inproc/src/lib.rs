//! In-process sc-network peers on 127.0.0.1 for tests and benchmarks.
//!
//! A [`Peer`] is a real network backend (litep2p or libp2p, see [`Backend`]) listening on a
//! loopback port, with a block-announce protocol whose opens and closes a [`SyncStandIn`] turns
//! into sync events (which is what makes the DETR P2P plugin open its streams, as in the node).
//! On top: the plugin itself, raw notification protocols, or both. [`raw`] drives a raw
//! protocol as the benches' baseline; [`sessions`] makes AEComms sessions without a network,
//! for the benches of the layers alone.

mod peer;
pub mod raw;
pub mod sessions;
mod sync;

use detrp2p::DetrConfig;
use sp_runtime::{generic, traits::BlakeTwo256, OpaqueExtrinsic};

pub use peer::{Peer, PeerBuilder, RawProtocol};
pub use sync::SyncStandIn;

/// The block type of the in-process peers: FlareChain's (u32 numbers, BLAKE2-256 hashes).
pub type Block = generic::Block<generic::Header<u32, BlakeTwo256>, OpaqueExtrinsic>;

/// `config` with every rate limit at its largest: a benchmark then measures the message path,
/// not the limiter.
pub fn without_rate_limits(mut config: DetrConfig) -> DetrConfig {
    let messages = "1000000 msg/s".parse().expect("a valid rate");
    let bytes = "4095 MiB/s".parse().expect("a valid rate");
    config.flow.rate_limit = messages;
    config.flow.peer_rate_limit = messages;
    config.flow.inbound_rate_limit = messages;
    config.flow.byte_rate_limit = bytes;
    config.flow.peer_byte_rate_limit = bytes;
    config.flow.inbound_byte_rate_limit = bytes;
    config
}

/// Which sc-network backend a peer runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// `Litep2pNetworkBackend`.
    Litep2p,
    /// `NetworkWorker` (rust-libp2p).
    Libp2p,
}

impl Backend {
    /// Both, litep2p first (the node's default).
    pub const ALL: [Backend; 2] = [Backend::Litep2p, Backend::Libp2p];

    /// `litep2p` or `libp2p`, as `--network-backend` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Litep2p => "litep2p",
            Backend::Libp2p => "libp2p",
        }
    }
}

impl std::str::FromStr for Backend {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "litep2p" => Ok(Backend::Litep2p),
            "libp2p" => Ok(Backend::Libp2p),
            other => Err(format!("unknown network backend {other:?}; expected litep2p or libp2p")),
        }
    }
}
