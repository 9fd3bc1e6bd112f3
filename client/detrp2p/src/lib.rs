//! DETR P2P inside a Substrate node: four notification protocols
//! (`/{genesis}/detr/{block,tx,consensus,bridge}/1`) that carry the node's own traffic —
//! GRANDPA's gossip, its transactions, its blocks and bridge messages — each message an
//! `etrid-protocol` frame, scheduled per peer across the four protocols (`etrid-p2p-fluent`),
//! sealed in a per-stream Noise session (`etrid-aecomms`), from peers scored in
//! `etrid-p2p-dpeers` and cached in `etrid-p2p-stored`.
//!
//! Wiring, like `sc-network-transactions`: [`install`] builds the [`DetrP2pPrototype`] and adds
//! its protocol configs before the network exists; after `build_network`, [`spawn`] starts it
//! and the flows (transactions, blocks, governance) and returns the [`DetrP2pHandle`]. GRANDPA
//! is given [`DetrP2pHandle::consensus_service`] and [`DetrP2pHandle::consensus_network`].
//!
//! Tasks, each owning its state (see the README's "Message path"):
//! - one [`worker`] per protocol owns its `NotificationService` and routes frames;
//! - the [`peers`] task owns the registry, the cache and the links;
//! - one [`link`] per peer owns the send halves and consumes the peer's scheduler;
//! - one stream task per (peer, protocol) owns the handshake and the receive half;
//! - the [`bridge`] task owns the exactly-once windows; the [`flows`] feed the node.

pub mod bridge;
pub mod cli;
pub mod config;
pub mod consensus;
pub mod delivery;
pub mod discovery;
pub mod flows;
pub mod governance;
pub mod handle;
pub mod install;
pub mod metrics;
pub mod peers;
pub mod pool;
pub mod protocols;

mod batch;
mod link;
mod outbound;
mod routes;
mod settings;
mod views;
mod worker;

use std::{
    path::{Path, PathBuf},
    sync::{atomic::AtomicU64, Arc},
};

use etrid_aecomms::LocalIdentity;
use etrid_p2p_fluent::InboundLimiter;
use etrid_p2p_stored::PeerCache;
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
pub use delivery::{Inbound, Subscription};
pub use flows::blocks::{ImportResults, Pushed, TeeImportQueue};
pub use handle::{ConfigInForce, DetrP2pHandle, SendError};
pub use install::{install, spawn, BlockImport};
pub use metrics::ProtocolStats;
pub use peers::{PeerSummary, SessionSummary};
pub use pool::TxProtocolPool;
pub use protocols::DetrProtocol;

/// Log target of the plugin.
pub const LOG_TARGET: &str = "detr-p2p";

/// The plugin before the network exists: protocol configs made, services kept.
pub struct DetrP2pPrototype {
    services: Vec<(DetrProtocol, Box<dyn NotificationService>)>,
    handshake: protocols::StreamHandshake,
    local: Arc<LocalIdentity>,
    local_peer: PeerId,
    genesis: [u8; 32],
    config: DetrConfig,
    stats: Arc<metrics::Stats>,
    cache: Option<Arc<PeerCache>>,
    data_dir: Option<PathBuf>,
    addresses: Vec<String>,
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

/// What [`DetrP2pPrototype::new`] needs to know of the node.
pub struct NodeInfo<'a> {
    /// The chain's genesis hash.
    pub genesis: [u8; 32],
    /// Substrate roles bits.
    pub roles: u8,
    /// The node's libp2p Ed25519 secret: it certifies our Noise static keys.
    pub node_key: Zeroizing<[u8; 32]>,
    /// The node's PeerId.
    pub local_peer: PeerId,
    /// Where the peer cache and the bridge windows live (the network config path).
    pub data_dir: Option<&'a Path>,
    /// Addresses peers can dial us at (told to every peer for its cache).
    pub addresses: Vec<String>,
}

impl DetrP2pPrototype {
    /// Creates the four protocol configs for backend `N`; add each to the network config.
    pub fn new<B: BlockT, N: NetworkBackend<B, B::Hash>>(
        config: DetrConfig,
        node: NodeInfo,
        metrics: NotificationMetrics,
        peer_store: Arc<dyn PeerStoreProvider>,
        registry: Option<&Registry>,
    ) -> Result<(Self, Vec<N::NotificationProtocolConfig>), Error> {
        let handshake = protocols::StreamHandshake {
            version: protocols::WIRE_VERSION,
            roles: node.roles,
            genesis: node.genesis,
        };
        let mut services = Vec::new();
        let mut configs = Vec::new();
        for protocol in DetrProtocol::ALL {
            let (cfg, service) = N::notification_config(
                protocol.name(&node.genesis),
                Vec::new(),
                protocol.max_notification(),
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
        let local = Arc::new(LocalIdentity::from_seed(&node.node_key, node.local_peer.to_bytes()));
        let stats = Arc::new(metrics::Stats::new(registry)?);
        stats.set_config(&governance::as_network_config(&config));
        let cache = node.data_dir.map(|dir| peers::cache::open(dir, &node.node_key));
        let prototype = Self {
            services,
            handshake,
            local,
            local_peer: node.local_peer,
            genesis: node.genesis,
            config,
            stats,
            cache,
            data_dir: node.data_dir.map(Path::to_path_buf),
            addresses: node.addresses,
            discovery: None,
        };
        Ok((prototype, configs))
    }

    /// Starts the workers, the peers task and the bridge task; returns the handle.
    pub fn start<S: SyncEventStream + ?Sized>(
        self,
        network: Arc<dyn NetworkService>,
        sync: &S,
        spawner: impl SpawnNamed + Clone + 'static,
    ) -> DetrP2pHandle {
        let flow = self.config.flow.clone();
        let inbound = Arc::new(InboundLimiter::new(
            flow.inbound_rate_limit,
            flow.inbound_byte_rate_limit,
            worker::FLOOD_AFTER,
        ));
        let (peers_tx, peers_rx) = peers::channel();
        let (bridge_tx, bridge_rx) = bridge::channel(self.data_dir.as_deref());
        let core = Arc::new(handle::Core {
            local_peer: self.local_peer,
            genesis: self.genesis,
            network: network.clone(),
            outbox: outbound::Outbox::new(flow),
            views: Default::default(),
            peers: peers_tx.clone(),
            stats: self.stats.clone(),
            settings: Arc::new(settings::Settings::new(self.config.clone())),
            delivery: Default::default(),
            consensus: Default::default(),
            bridge: bridge_tx,
            bridge_delivered: bridge_rx.delivered.clone(),
        });
        let handle = DetrP2pHandle { core: core.clone() };
        let peers = peers::Peers::new(peers::Context {
            local: self.local.clone(),
            local_peer: self.local_peer,
            genesis: self.genesis,
            network: network.clone(),
            settings: core.settings.clone(),
            views: core.views.clone(),
            stats: self.stats.clone(),
            outbox: core.outbox.clone(),
            delivery: core.delivery.clone(),
            consensus: core.consensus.clone(),
            inbound: inbound.clone(),
            cache: self.cache.clone(),
            addresses: self.addresses.clone(),
            spawner: Box::new(spawner.clone()),
            tx: peers_tx.clone(),
        });
        spawner.spawn("detr-peers", Some("detr-p2p"), Box::pin(peers.run(peers_rx)));
        spawner.spawn(
            "detr-bridge",
            Some("detr-p2p"),
            Box::pin(bridge::run(handle.clone(), bridge_rx)),
        );
        if let Some(settings) = self.discovery {
            let client = discovery::run(core.clone(), self.cache.clone(), settings);
            spawner.spawn("detr-discovery", Some("detr-p2p"), Box::pin(client));
        }
        let next_id = Arc::new(AtomicU64::new(1));
        for (protocol, service) in self.services {
            let worker = worker::Worker {
                protocol,
                service,
                network: network.clone(),
                genesis: self.genesis,
                refused: self.config.refused.contains(&protocol),
                peers: peers_tx.clone(),
                views: core.views.clone(),
                inbound: inbound.clone(),
                stats: self.stats.clone(),
                sync_events: sync.event_stream("detr-p2p"),
                handshake: codec::Encode::encode(&self.handshake),
                next_id: next_id.clone(),
            };
            spawner.spawn("detr-worker", Some("detr-p2p"), Box::pin(worker.run()));
        }
        log::info!(
            target: LOG_TARGET,
            "DETR P2P started: {} protocols carry GRANDPA, blocks, transactions and bridge \
             messages; Noise sessions as {}",
            DetrProtocol::ALL.len(),
            self.local_peer
        );
        handle
    }
}
