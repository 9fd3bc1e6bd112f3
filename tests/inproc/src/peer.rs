//! [`Peer`]: one in-process sc-network instance and what runs on it.

use std::{sync::Arc, time::Duration};

use codec::Encode;
use detrp2p::{DetrConfig, DetrP2pHandle};
use sc_network::{
    config::{
        ed25519::Keypair, FullNetworkConfiguration, MultiaddrWithPeerId, NetworkConfiguration,
        NodeKeyConfig, NonReservedPeerMode, NotificationHandshake, Params, ProtocolId, Role,
        Secret, SetConfig,
    },
    service::traits::NetworkService,
    Litep2pNetworkBackend, NetworkBackend, NetworkWorker, NotificationMetrics, NotificationService,
    PeerId, ProtocolName, Roles,
};
use sc_network_common::sync::message::BlockAnnouncesHandshake;
use sp_core::{traits::SpawnNamed, H256};
use substrate_prometheus_endpoint::Registry;

use crate::{Backend, Block, SyncStandIn};

/// Largest block announce accepted (what sc-network-sync allows).
const MAX_BLOCK_ANNOUNCE_SIZE: u64 = 1024 * 1024;
/// Non-reserved peers accepted each way on block-announce and raw streams, unless set.
pub const DEFAULT_SLOTS: u32 = 8;
/// How long a peer may take to listen on its port.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);

/// A notification protocol the caller drives itself.
pub struct RawProtocol {
    /// Protocol name.
    pub name: ProtocolName,
    /// Handshake sent when a stream opens.
    pub handshake: Vec<u8>,
    /// Largest notification accepted.
    pub max_size: u64,
}

/// What a [`Peer`] runs, set before it starts.
pub struct PeerBuilder {
    genesis: H256,
    key: Keypair,
    detr: Option<DetrConfig>,
    raw: Vec<RawProtocol>,
    reserved_only: bool,
    slots: u32,
    metrics: bool,
    discovery: bool,
}

/// One running in-process network peer. Dropping it stops its network.
pub struct Peer {
    /// The network service.
    pub network: Arc<dyn NetworkService>,
    /// Its PeerId.
    pub peer_id: PeerId,
    /// The DETR P2P plugin, if it runs.
    pub detr: Option<DetrP2pHandle>,
    /// The raw protocols' services, in the order they were added.
    pub raw: Vec<Box<dyn NotificationService>>,
    /// Peers with an open block-announce stream.
    pub sync: SyncStandIn,
    /// The Prometheus registry the network and the plugin report to, if metrics are on.
    pub registry: Option<Registry>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Spawns the plugin's tasks on the current tokio runtime.
#[derive(Clone)]
struct TokioSpawner;

impl SpawnNamed for TokioSpawner {
    fn spawn_blocking(
        &self,
        _: &'static str,
        _: Option<&'static str>,
        future: futures::future::BoxFuture<'static, ()>,
    ) {
        tokio::task::spawn_blocking(move || futures::executor::block_on(future));
    }

    fn spawn(
        &self,
        _: &'static str,
        _: Option<&'static str>,
        future: futures::future::BoxFuture<'static, ()>,
    ) {
        tokio::spawn(future);
    }
}

impl PeerBuilder {
    /// A peer of the chain with `genesis`, with a fresh Ed25519 node key.
    pub fn new(genesis: H256) -> Self {
        Self {
            genesis,
            key: Keypair::generate(),
            detr: None,
            raw: Vec::new(),
            reserved_only: false,
            slots: DEFAULT_SLOTS,
            metrics: false,
            discovery: true,
        }
    }

    /// Runs the DETR P2P plugin with `config`, installed as the node installs it.
    pub fn with_detr(mut self, config: DetrConfig) -> Self {
        self.detr = Some(config);
        self
    }

    /// Adds a raw notification protocol (both directions).
    pub fn with_raw(mut self, protocol: RawProtocol) -> Self {
        self.raw.push(protocol);
        self
    }

    /// Opens block-announce and raw streams with reserved peers only (by default, with any
    /// peer that comes along).
    pub fn reserved_only(mut self) -> Self {
        self.reserved_only = true;
        self
    }

    /// Accepts up to `n` non-reserved peers each way on block-announce and raw streams
    /// (by default [`DEFAULT_SLOTS`]): a hub of many peers needs as many.
    pub fn slots(mut self, n: u32) -> Self {
        self.slots = n;
        self
    }

    /// Keeps 127.0.0.1 addresses out of the DHT (in by default, as on a local test network), so
    /// that peers do not find each other through a peer they all know: the only connections
    /// are the ones the caller makes. Peers that all join one hub otherwise learn each other's
    /// addresses from it and, from about 10 s after they start, connect to one another (on
    /// litep2p the DHT's random walk runs whatever `enable_dht_random_walk` says), thousands of
    /// Noise handshakes that take the cores from whatever is being measured.
    pub fn without_discovery(mut self) -> Self {
        self.discovery = false;
        self
    }

    /// Turns Prometheus metrics on, as in a node started with them (the default there): the
    /// network, its notification protocols and the plugin report to one registry.
    pub fn with_metrics(mut self) -> Self {
        self.metrics = true;
        self
    }

    /// The node key (its PeerId and AEComms identity).
    pub fn key(&self) -> &Keypair {
        &self.key
    }

    /// Starts the peer on `backend`, listening on a free port of 127.0.0.1. Call it inside a
    /// tokio runtime: the network runs on it.
    pub async fn start(self, backend: Backend) -> Result<Peer, String> {
        match backend {
            Backend::Litep2p => self.start_on::<Litep2pNetworkBackend>().await,
            Backend::Libp2p => self.start_on::<NetworkWorker<Block, H256>>().await,
        }
    }

    async fn start_on<N: NetworkBackend<Block, H256>>(self) -> Result<Peer, String> {
        let (slots, mode) = match self.reserved_only {
            true => (0, NonReservedPeerMode::Deny),
            false => (self.slots, NonReservedPeerMode::Accept),
        };
        let open = SetConfig {
            in_peers: slots,
            out_peers: slots,
            reserved_nodes: Vec::new(),
            non_reserved_mode: mode,
        };
        let mut net = NetworkConfiguration::new_local();
        net.allow_non_globals_in_dht = self.discovery;
        net.node_key = NodeKeyConfig::Ed25519(Secret::Input(self.key.secret()));
        let registry = self.metrics.then(Registry::new);
        // One set of notification metrics for every protocol, as the node's service makes it.
        let metrics = NotificationMetrics::new(registry.as_ref());
        let mut full = FullNetworkConfiguration::<Block, H256, N>::new(&net, registry.clone());
        let role = Role::Full;
        let announce = BlockAnnouncesHandshake::<Block>::build(
            Roles::from(&role),
            0,
            self.genesis,
            self.genesis,
        )
        .encode();
        let (block_announce_config, block_announces) = N::notification_config(
            sc_network_sync::block_announces_protocol_name(self.genesis, None).into(),
            Vec::new(),
            MAX_BLOCK_ANNOUNCE_SIZE,
            Some(NotificationHandshake::from_bytes(announce.clone())),
            open.clone(),
            metrics.clone(),
            full.peer_store_handle(),
        );
        let prototype = match self.detr {
            Some(config) => Some(
                detrp2p::install::<Block, N>(
                    config,
                    &mut full,
                    self.genesis,
                    &role,
                    metrics.clone(),
                    registry.as_ref(),
                )
                .map_err(|e| format!("detr plugin: {e}"))?,
            ),
            None => None,
        };
        let mut raw = Vec::new();
        for protocol in self.raw {
            let (config, service) = N::notification_config(
                protocol.name,
                Vec::new(),
                protocol.max_size,
                Some(NotificationHandshake::from_bytes(protocol.handshake.clone())),
                open.clone(),
                metrics.clone(),
                full.peer_store_handle(),
            );
            full.add_notification_protocol(config);
            raw.push((service, protocol.handshake));
        }
        let peer_store = full.peer_store_handle();
        let network = N::new(Params {
            role,
            executor: Box::new(|future| {
                tokio::spawn(future);
            }),
            network_config: full,
            protocol_id: ProtocolId::from("flarechain-inproc"),
            genesis_hash: self.genesis,
            fork_id: None,
            metrics_registry: registry.clone(),
            block_announce_config,
            ipfs_config: None,
            notification_metrics: metrics,
        })
        .map_err(|e| format!("network: {e}"))?;
        let service = network.network_service();
        let sync = SyncStandIn::default();
        let tasks = vec![
            tokio::spawn(network.run()),
            tokio::spawn(sync.clone().run(block_announces, announce, peer_store)),
        ];
        let mut services = Vec::new();
        for (mut service, handshake) in raw {
            // litep2p starts every protocol with the node role as its handshake: set ours.
            let _ = service.set_handshake(handshake).await;
            services.push(service);
        }
        let detr = prototype.map(|p| p.start(service.clone(), &sync, TokioSpawner));
        Ok(Peer {
            peer_id: service.local_peer_id(),
            network: service,
            detr,
            raw: services,
            sync,
            registry,
            tasks,
        })
    }
}

impl Peer {
    /// Its listen address with `/p2p/<PeerId>`, once it listens.
    pub async fn address(&self) -> Result<MultiaddrWithPeerId, String> {
        let wait = async {
            loop {
                if let Some(addr) = self.network.listen_addresses().into_iter().next() {
                    return MultiaddrWithPeerId { multiaddr: addr, peer_id: self.peer_id };
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        tokio::time::timeout(LISTEN_TIMEOUT, wait)
            .await
            .map_err(|_| format!("{} does not listen after {LISTEN_TIMEOUT:?}", self.peer_id))
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
