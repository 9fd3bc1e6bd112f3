//! The two calls a node's service makes: [`install`] before `build_network`, [`spawn`] after.

use std::sync::Arc;

use sc_client_api::{BlockBackend, BlockchainEvents, HeaderBackend};
use sc_consensus::import_queue::ImportQueueService;
use sc_network::{
    config::{FullNetworkConfiguration, NodeKeyConfig, Role, Secret},
    service::{traits::NetworkService, NotificationMetrics},
    NetworkBackend, NetworkSyncForkRequest,
};
use sc_network_sync::SyncEventStream;
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_consensus::SyncOracle;
use sp_core::traits::SpawnNamed;
use sp_runtime::traits::{Block as BlockT, NumberFor};
use substrate_prometheus_endpoint::Registry;
use zeroize::Zeroizing;

use crate::{
    discovery,
    flows::{self, blocks::ImportResults, Known, Pushed},
    governance, DetrConfig, DetrP2pHandle, DetrP2pPrototype, Error, NodeInfo,
};
use detrp2p_runtime_api::DetrP2pApi;

/// Creates the plugin and adds its four protocols to `net_config`.
///
/// Resolves the node key the network will use; a key that would be generated afresh is pinned
/// so that the network and AEComms use the same identity.
pub fn install<B: BlockT, N: NetworkBackend<B, B::Hash>>(
    config: DetrConfig,
    net_config: &mut FullNetworkConfiguration<B, B::Hash, N>,
    genesis: B::Hash,
    role: &Role,
    metrics: NotificationMetrics,
    registry: Option<&Registry>,
) -> Result<DetrP2pPrototype, Error> {
    let node_key = &mut net_config.network_config.node_key;
    let keypair = node_key.clone().into_keypair().map_err(Error::NodeKey)?;
    if matches!(node_key, NodeKeyConfig::Ed25519(Secret::New)) {
        *node_key = NodeKeyConfig::Ed25519(Secret::Input(keypair.secret()));
    }
    let secret = Zeroizing::new(keypair.secret().to_bytes());
    let mut genesis_bytes = [0u8; 32];
    genesis_bytes.copy_from_slice(&genesis.as_ref()[..32]);
    let roles = sc_network_common::role::Roles::from(role).bits();
    let net = &net_config.network_config;
    let addresses = discovery::advertised(&net.public_addresses, &net.listen_addresses);
    let discovery = config.discovery_url.clone().filter(|_| config.enable_discovery).map(|url| {
        discovery::Settings {
            url,
            key: ed25519_dalek::SigningKey::from_bytes(&secret),
            roles,
            addrs: addresses.clone(),
        }
    });
    let data_dir = net.net_config_path.clone();
    let node = NodeInfo {
        genesis: genesis_bytes,
        roles,
        node_key: secret,
        local_peer: keypair.public().to_peer_id(),
        data_dir: data_dir.as_deref(),
        addresses,
    };
    let (mut prototype, configs) = DetrP2pPrototype::new::<B, N>(
        config,
        node,
        metrics,
        net_config.peer_store_handle(),
        registry,
    )?;
    for cfg in configs {
        net_config.add_notification_protocol(cfg);
    }
    prototype.discovery = discovery;
    Ok(prototype)
}

/// The import queue's side of block pushing: the queue's service (to import pushed blocks),
/// the results of those imports and the pushed blocks awaiting them (see
/// [`crate::TeeImportQueue`]).
pub struct BlockImport<B: BlockT> {
    /// `import_queue.service()`, taken before the queue goes to `build_network`.
    pub service: Box<dyn ImportQueueService<B>>,
    /// The results [`crate::TeeImportQueue::new`] gave.
    pub results: ImportResults<B>,
    /// The same [`Pushed`] the tee was given.
    pub pushed: Pushed<B>,
}

/// Starts the plugin, the flows of the node's blocks and transactions, and the task that
/// applies the chain's network parameters.
pub fn spawn<B, C, P, S>(
    prototype: DetrP2pPrototype,
    network: Arc<dyn NetworkService>,
    sync: Arc<S>,
    client: Arc<C>,
    pool: Arc<P>,
    blocks: BlockImport<B>,
    spawner: impl SpawnNamed + Clone + 'static,
) -> DetrP2pHandle
where
    B: BlockT,
    C: BlockchainEvents<B>
        + BlockBackend<B>
        + HeaderBackend<B>
        + ProvideRuntimeApi<B>
        + Send
        + Sync
        + 'static,
    C::Api: DetrP2pApi<B>,
    P: TransactionPool<Block = B> + 'static,
    S: SyncEventStream
        + SyncOracle
        + NetworkSyncForkRequest<B::Hash, NumberFor<B>>
        + Send
        + Sync
        + 'static,
{
    let handle = prototype.start(network, &*sync, spawner.clone());
    let known_tx = Known::new(flows::tx::MAX_KNOWN);
    let known_blocks = Known::new(flows::blocks::MAX_KNOWN);
    let BlockImport { service, results, pushed } = blocks;
    let tasks: [(&'static str, futures::future::BoxFuture<'static, ()>); 5] = [
        ("detr-governance", Box::pin(governance::follow_chain(handle.clone(), client.clone()))),
        (
            "detr-tx-out",
            Box::pin(flows::tx::propagate(
                handle.clone(),
                pool.clone(),
                sync.clone(),
                known_tx.clone(),
            )),
        ),
        (
            "detr-tx-in",
            Box::pin(flows::tx::import(
                handle.clone(),
                pool,
                client.clone(),
                sync.clone(),
                known_tx,
            )),
        ),
        (
            "detr-blocks-out",
            Box::pin(flows::blocks::push(
                handle.clone(),
                client.clone(),
                sync.clone(),
                known_blocks.clone(),
            )),
        ),
        (
            "detr-blocks-in",
            Box::pin(flows::blocks::import(
                handle.clone(),
                client,
                sync,
                service,
                results,
                pushed,
                known_blocks,
            )),
        ),
    ];
    for (name, task) in tasks {
        spawner.spawn(name, Some("detr-p2p"), task);
    }
    handle
}
