//! DETR P2P inside a Substrate node: four notification protocols
//! (`/{genesis}/detr/{block,tx,consensus,bridge}/1`) whose every message is an `etrid-protocol`
//! envelope, queued by priority (`etrid-p2p-fluent`), sealed in a per-stream AEComms session
//! (`etrid-aecomms`) and sent through sc-network; peers are scored in `etrid-p2p-dpeers`.
//!
//! Wiring, like `sc-network-transactions`: build a [`DetrP2pPrototype`] before the network and
//! add its protocol configs; after `build_network`, [`DetrP2pPrototype::start`] spawns one
//! worker per protocol and returns the [`DetrP2pHandle`]. The [`flows`] put the node's blocks,
//! finality and transactions on the protocols; [`governance`] applies the parameters the chain
//! sets (`DetrP2pApi`) within the operator's bounds.

pub mod cli;
pub mod config;
pub mod discovery;
pub mod flows;
pub mod governance;
pub mod handle;
pub mod install;
pub mod protocols;
pub mod stats;

mod peer_cache;
mod sender;
mod shared;
mod worker;

#[cfg(test)]
mod misbehaviour_tests;

use std::sync::Arc;

use etrid_aecomms::LocalIdentity;
use etrid_p2p_dpeers::ReputationChange;
use sc_network::{
    config::{NonReservedPeerMode, NotificationHandshake, SetConfig},
    peer_store::PeerStoreProvider,
    service::{
        traits::{NetworkService, NotificationService},
        NotificationMetrics,
    },
    NetworkBackend, PeerId,
};
use sc_network_sync::SyncEventStream;
use sp_core::traits::SpawnNamed;
use sp_runtime::traits::Block as BlockT;
use substrate_prometheus_endpoint::Registry;
use zeroize::Zeroizing;

pub use cli::DetrParams;
pub use config::{ConfigError, ConfigFile, DetrConfig};
pub use handle::{ConfigInForce, DetrP2pHandle, PeerSummary, SendError, SessionSummary};
pub use install::{install, spawn};
pub use protocols::DetrProtocol;
pub use stats::ProtocolStats;

/// Log target of the plugin.
pub const LOG_TARGET: &str = "detr-p2p";

/// The plugin before the network exists: protocol configs made, services kept.
pub struct DetrP2pPrototype {
    services: Vec<(DetrProtocol, Box<dyn NotificationService>)>,
    handshake: protocols::StreamHandshake,
    shared: Arc<shared::Shared>,
    discovery: Option<discovery::Settings>,
}

/// Why the plugin could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Prometheus registration failed.
    #[error("registering detr metrics: {0}")]
    Prometheus(#[from] substrate_prometheus_endpoint::PrometheusError),
    /// The node key could not be read or created.
    #[error("node key: {0}")]
    NodeKey(std::io::Error),
}

impl DetrP2pPrototype {
    /// Creates the four protocol configs for backend `N`; add each to the network config.
    ///
    /// `node_key` is the node's libp2p Ed25519 secret (32 bytes): AEComms handshakes are signed
    /// with it so that peers can check them against our PeerId.
    #[allow(clippy::too_many_arguments)]
    pub fn new<B: BlockT, N: NetworkBackend<B, B::Hash>>(
        config: DetrConfig,
        genesis: [u8; 32],
        roles: u8,
        node_key: Zeroizing<[u8; 32]>,
        local_peer: PeerId,
        cache_dir: Option<&std::path::Path>,
        metrics: NotificationMetrics,
        peer_store: Arc<dyn PeerStoreProvider>,
        registry: Option<&Registry>,
    ) -> Result<(Self, Vec<N::NotificationProtocolConfig>), Error> {
        let handshake =
            protocols::StreamHandshake { version: protocols::WIRE_VERSION, roles, genesis };
        let mut services = Vec::new();
        let mut configs = Vec::new();
        for protocol in DetrProtocol::ALL {
            let (cfg, service) = N::notification_config(
                protocol.name(&genesis),
                Vec::new(),
                protocols::MAX_NOTIFICATION_SIZE,
                Some(NotificationHandshake::new(handshake)),
                // Streams are opened for every synced peer (see the worker), like GRANDPA.
                SetConfig {
                    in_peers: 0,
                    out_peers: 0,
                    reserved_nodes: Vec::new(),
                    non_reserved_mode: NonReservedPeerMode::Deny,
                },
                metrics.clone(),
                peer_store.clone(),
            );
            configs.push(cfg);
            services.push((protocol, service));
        }
        let local = LocalIdentity::from_seed(&node_key, local_peer.to_bytes());
        let stats = stats::Stats::new(registry)?;
        let cache = cache_dir.map(|dir| peer_cache::open(dir, &node_key));
        let shared =
            Arc::new(shared::Shared::new(local, local_peer, genesis, config, stats, cache));
        Ok((Self { services, handshake, shared, discovery: None }, configs))
    }

    /// Starts one worker per protocol and returns the handle.
    pub fn start<S: SyncEventStream + ?Sized>(
        self,
        network: Arc<dyn NetworkService>,
        sync: &S,
        spawner: impl SpawnNamed + Clone + 'static,
    ) -> DetrP2pHandle {
        let _ = self.shared.network.set(network);
        if let Some(cache) = self.shared.peer_cache.clone() {
            let flusher = etrid_p2p_stored::run_flusher(
                cache,
                peer_cache::FLUSH_EVERY,
                futures::future::pending(),
            );
            spawner.spawn("detr-peer-cache", Some("detr-p2p"), Box::pin(flusher));
        }
        if let Some(settings) = self.discovery {
            let client = discovery::run(self.shared.clone(), settings);
            spawner.spawn("detr-discovery", Some("detr-p2p"), Box::pin(client));
        }
        for (protocol, service) in self.services {
            let worker = worker::Worker {
                protocol,
                service,
                shared: self.shared.clone(),
                sync_events: sync.event_stream("detr-p2p"),
                spawner: Box::new(spawner.clone()),
                handshake: codec::Encode::encode(&self.handshake),
            };
            spawner.spawn("detr-worker", Some("detr-p2p"), Box::pin(worker.run()));
        }
        log::info!(
            target: LOG_TARGET,
            "DETR P2P started: {} protocols, AEComms sessions as {}",
            DetrProtocol::ALL.len(),
            self.shared.local_peer
        );
        DetrP2pHandle { shared: self.shared }
    }
}

impl DetrP2pHandle {
    /// Applies a reputation change to `peer` (reported to sc-network; bans below threshold).
    pub fn report_peer(&self, peer: PeerId, change: ReputationChange) {
        self.shared.report(peer, change);
    }
}
