//! State shared by the protocol workers, the per-peer senders and the handle.

use std::{
    collections::HashMap,
    num::NonZeroUsize,
    sync::{atomic::AtomicBool, atomic::AtomicU64, atomic::Ordering, Arc, OnceLock},
    time::Instant,
};

use etrid_aecomms::{Channel, LocalIdentity};
use etrid_p2p_dpeers::{PeerEvent, PeerRegistry, RegistryConfig, ReputationChange};
use etrid_p2p_fluent::{FlowController, InboundLimiter};
use etrid_p2p_stored::{ConnectionKind, PeerCache, PeerData, PeerSource};
use etrid_protocol::{Envelope, MessageId};
use lru::LruCache;
use parking_lot::{Mutex, RwLock};
use sc_network::{service::traits::NetworkService, types::ProtocolName, PeerId};
use tokio::sync::{broadcast, Notify};

use crate::{config::DetrConfig, governance, protocols::DetrProtocol, stats::Stats, LOG_TARGET};
use detrp2p_runtime_api::{ChainId, NetworkConfig};

/// Message ids remembered for de-duplication.
const SEEN_CAPACITY: usize = 65_536;
/// Inbound messages buffered per subscriber before it lags.
const SUBSCRIBER_BUFFER: usize = 4096;
/// Over-limit messages from a peer before it is reported as flooding.
const FLOOD_AFTER: u32 = 100;

/// One open detr stream (peer, protocol) and its AEComms channel.
pub(crate) struct Stream {
    /// The channel; locked only for seal/open, never across an await.
    pub channel: Mutex<Channel>,
    /// Set once the first session is established.
    pub established: AtomicBool,
    /// Woken when `established` is set.
    pub on_established: Notify,
    /// Roles the peer announced.
    pub roles: u8,
    /// When the stream opened.
    pub opened_at: Instant,
}

impl Stream {
    /// Whether the AEComms session is up.
    pub fn is_established(&self) -> bool {
        self.established.load(Ordering::Acquire)
    }
}

/// The registry's settings: `max_peers` is the smaller of `detrp2p.max_peers` (peers with detr
/// streams) and `dpeers.max_peers` (peers tracked as connected).
pub(crate) fn registry_config(config: &DetrConfig) -> RegistryConfig {
    let max_peers = config.peers.max_peers.min(config.max_peers as usize);
    RegistryConfig { max_peers, ..config.peers }
}

/// Everything the plugin's tasks share.
pub(crate) struct Shared {
    pub local: LocalIdentity,
    pub local_peer: PeerId,
    pub genesis: [u8; 32],
    pub config: RwLock<DetrConfig>,
    pub flows: HashMap<DetrProtocol, FlowController<PeerId, Vec<u8>>>,
    pub streams: Mutex<HashMap<(PeerId, DetrProtocol), Arc<Stream>>>,
    pub registry: Mutex<PeerRegistry<PeerId>>,
    pub inbound: InboundLimiter<(PeerId, DetrProtocol)>,
    pub seen: Mutex<LruCache<MessageId, ()>>,
    pub inbound_tx: broadcast::Sender<(PeerId, Envelope)>,
    pub best_blocks: Mutex<HashMap<PeerId, (u64, [u8; 32])>>,
    pub stats: Stats,
    pub network: OnceLock<Arc<dyn NetworkService>>,
    pub peer_cache: Option<Arc<PeerCache>>,
    /// The operator's settings: the bounds of what the chain may set.
    pub bounds: DetrConfig,
    /// Chains bridge messages may go to (`DetrP2pApi`); `None` while the chain says nothing.
    pub bridge_chains: RwLock<Option<Vec<ChainId>>>,
    /// Finalized block whose on-chain parameters are in force.
    pub config_block: RwLock<Option<u64>>,
    next_nonce: AtomicU64,
}

impl Shared {
    pub fn new(
        local: LocalIdentity,
        local_peer: PeerId,
        genesis: [u8; 32],
        config: DetrConfig,
        stats: Stats,
        peer_cache: Option<Arc<PeerCache>>,
    ) -> Self {
        let flows = DetrProtocol::ALL
            .into_iter()
            .map(|p| (p, FlowController::new(config.flow.clone())))
            .collect();
        Self {
            local,
            local_peer,
            genesis,
            inbound: InboundLimiter::new(config.flow.inbound_rate_limit, FLOOD_AFTER),
            registry: Mutex::new(PeerRegistry::new(registry_config(&config))),
            stats: {
                stats.set_config(&governance::as_network_config(&config));
                stats
            },
            config: RwLock::new(config.clone()),
            flows,
            streams: Mutex::new(HashMap::new()),
            seen: Mutex::new(LruCache::new(NonZeroUsize::new(SEEN_CAPACITY).expect("non-zero"))),
            inbound_tx: broadcast::channel(SUBSCRIBER_BUFFER).0,
            best_blocks: Mutex::new(HashMap::new()),
            network: OnceLock::new(),
            peer_cache,
            bounds: config.clone(),
            bridge_chains: RwLock::new(None),
            config_block: RwLock::new(None),
            next_nonce: AtomicU64::new(rand::random()),
        }
    }

    /// Applies the chain's parameters (read at finalized block `number`) within the operator's
    /// bounds, live: rate limits, queues, weights, peer limits, ban threshold, rekey policy.
    pub fn apply_chain_config(&self, chain: &NetworkConfig, chains: Vec<ChainId>, number: u64) {
        if let Err(field) = chain.validate() {
            log::warn!(
                target: LOG_TARGET,
                "on-chain detr config at #{number} ignored: {} is out of bounds",
                field.name()
            );
            return;
        }
        let (config, decisions) = governance::bounded(&self.bounds, chain, &self.config.read());
        if decisions.is_empty() && self.config_block.read().is_none() {
            log::info!(
                target: LOG_TARGET,
                "detr config from chain at #{number}: same as the local settings"
            );
        }
        for d in &decisions {
            log::info!(
                target: LOG_TARGET,
                "detr config from chain at #{number}: {} = {} ({})",
                d.field,
                d.value,
                d.source
            );
        }
        for flow in self.flows.values() {
            flow.set_rate_limit(config.flow.rate_limit);
            flow.set_peer_rate_limit(config.flow.peer_rate_limit);
            flow.set_queue(config.flow.max_queue_size, config.flow.weights);
        }
        self.registry.lock().set_config(registry_config(&config));
        for stream in self.streams.lock().values() {
            stream.channel.lock().set_policy(config.rekey);
        }
        self.stats.set_config(&governance::as_network_config(&config));
        if self.bridge_chains.read().as_ref() != Some(&chains) {
            log::info!(target: LOG_TARGET, "bridge chains accepted from #{number}: {chains:?}");
        }
        *self.bridge_chains.write() = Some(chains);
        *self.config_block.write() = Some(number);
        *self.config.write() = config;
    }

    /// The flow controller of `protocol`.
    pub fn flow(&self, protocol: DetrProtocol) -> &FlowController<PeerId, Vec<u8>> {
        &self.flows[&protocol]
    }

    /// A nonce never used before by this node.
    pub fn next_nonce(&self) -> u64 {
        self.next_nonce.fetch_add(1, Ordering::Relaxed)
    }

    /// Records `id` as seen; `false` if it was seen before.
    pub fn first_sight(&self, id: &MessageId) -> bool {
        self.seen.lock().put(*id, ()).is_none()
    }

    /// The reputation of `peer` now (0 if unknown).
    pub fn reputation(&self, peer: &PeerId) -> i32 {
        self.registry.lock().get_peer(peer, Instant::now()).map_or(0, |i| i.reputation)
    }

    /// Notes a connection change of `peer` in the peer cache.
    pub fn remember(&self, peer: &PeerId, kind: ConnectionKind, inbound: bool) {
        let Some(cache) = &self.peer_cache else { return };
        let id = peer.to_base58();
        if kind == ConnectionKind::Connected {
            let reputation = self.reputation(peer);
            let source = if inbound { PeerSource::Inbound } else { PeerSource::Bootnode };
            cache.store_peer(&id, PeerData { addresses: Vec::new(), source, reputation });
        }
        cache.record_connection(&id, kind);
    }

    /// The name of `protocol` on this chain.
    pub fn protocol_name(&self, protocol: DetrProtocol) -> ProtocolName {
        protocol.name(&self.genesis)
    }

    /// Closes the `protocol` stream with `peer`. sc-network ignores `disconnect_peer` for
    /// reserved peers, and detr streams are reserved ones: the peer leaves the reserved set first.
    pub fn drop_stream(&self, network: &dyn NetworkService, peer: PeerId, protocol: DetrProtocol) {
        let name = self.protocol_name(protocol);
        if let Err(e) = network.remove_peers_from_reserved_set(name.clone(), vec![peer]) {
            log::debug!(target: LOG_TARGET, "cannot unreserve {peer}: {e}");
        }
        network.disconnect_peer(peer, name);
    }

    /// Closes every detr stream with `peer`.
    pub fn drop_streams(&self, network: &dyn NetworkService, peer: PeerId) {
        for protocol in DetrProtocol::ALL {
            self.drop_stream(network, peer, protocol);
        }
    }

    /// Applies a reputation change and carries out what follows: report to sc-network,
    /// disconnect and ban below the threshold.
    pub fn report(&self, peer: PeerId, change: ReputationChange) {
        let events = {
            let mut registry = self.registry.lock();
            registry.update_reputation(&peer, change, Instant::now()).unwrap_or_default()
        };
        let network = self.network.get();
        for event in events {
            match event {
                PeerEvent::Report { peer, change } => {
                    if let Some(network) = network {
                        let change = sc_network::ReputationChange::new(change.value, change.reason);
                        network.report_peer(peer, change);
                    }
                }
                PeerEvent::Disconnect { peer, reason } => {
                    log::info!(target: LOG_TARGET, "disconnecting {peer}: {reason}");
                    if let Some(network) = network {
                        self.drop_streams(network.as_ref(), peer);
                    }
                }
                PeerEvent::Banned { peer, until } => {
                    log::warn!(
                        target: LOG_TARGET,
                        "banned {peer} for {:.0}s: {}",
                        until.saturating_duration_since(Instant::now()).as_secs_f64(),
                        change.reason
                    );
                    self.stats.banned(change.reason);
                    // sc-network drops the whole connection and refuses the peer for a while;
                    // the registry keeps refusing its detr streams for the rest of the ban.
                    if let Some(network) = network {
                        network.report_peer(
                            peer,
                            sc_network::ReputationChange::new_fatal(change.reason),
                        );
                    }
                }
                PeerEvent::Unbanned { .. } => {}
            }
        }
    }
}
