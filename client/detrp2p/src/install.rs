//! The two calls a node's service makes: [`install`] before `build_network`, [`spawn`] after.

use std::sync::Arc;

use sc_client_api::{BlockchainEvents, HeaderBackend};
use sc_network::{
    config::{FullNetworkConfiguration, NodeKeyConfig, Role, Secret},
    service::{traits::NetworkService, NotificationMetrics},
    NetworkBackend,
};
use sc_network_sync::SyncEventStream;
use sc_transaction_pool_api::TransactionPool;
use sp_core::traits::SpawnNamed;
use sp_runtime::traits::Block as BlockT;
use substrate_prometheus_endpoint::Registry;
use zeroize::Zeroizing;

use crate::{discovery, flows, governance, DetrConfig, DetrP2pHandle, DetrP2pPrototype, Error};
use detrp2p_runtime_api::DetrP2pApi;
use sp_api::ProvideRuntimeApi;

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
    let local_peer = keypair.public().to_peer_id();
    let mut genesis_bytes = [0u8; 32];
    genesis_bytes.copy_from_slice(&genesis.as_ref()[..32]);
    let roles = sc_network_common::role::Roles::from(role).bits();
    let cache_dir = net_config.network_config.net_config_path.clone();
    let discovery = config.discovery_url.clone().filter(|_| config.enable_discovery).map(|url| {
        let net = &net_config.network_config;
        discovery::Settings {
            url,
            key: ed25519_dalek::SigningKey::from_bytes(&secret),
            roles,
            addrs: discovery::advertised(&net.public_addresses, &net.listen_addresses),
        }
    });
    let (mut prototype, configs) = DetrP2pPrototype::new::<B, N>(
        config,
        genesis_bytes,
        roles,
        secret,
        local_peer,
        cache_dir.as_deref(),
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

/// Starts the plugin, the flows of the node's blocks, finality and transactions, and the
/// task that applies the chain's network parameters.
pub fn spawn<B, C, P, S>(
    prototype: DetrP2pPrototype,
    network: Arc<dyn NetworkService>,
    sync: &S,
    client: Arc<C>,
    pool: Arc<P>,
    spawner: impl SpawnNamed + Clone + 'static,
) -> DetrP2pHandle
where
    B: BlockT,
    C: BlockchainEvents<B> + HeaderBackend<B> + ProvideRuntimeApi<B> + Send + Sync + 'static,
    C::Api: DetrP2pApi<B>,
    P: TransactionPool<Block = B> + 'static,
    S: SyncEventStream + ?Sized,
{
    let handle = prototype.start(network, sync, spawner.clone());
    let known = flows::KnownTransactions::default();
    let tasks: [(&'static str, futures::future::BoxFuture<'static, ()>); 5] = [
        ("detr-governance", Box::pin(governance::follow_chain(handle.clone(), client.clone()))),
        ("detr-blocks", Box::pin(flows::announce_blocks(handle.clone(), client.clone()))),
        ("detr-finality", Box::pin(flows::broadcast_finality(handle.clone(), client.clone()))),
        (
            "detr-tx-out",
            Box::pin(flows::propagate_transactions(handle.clone(), pool.clone(), known.clone())),
        ),
        ("detr-tx-in", Box::pin(flows::import_transactions(handle.clone(), pool, client, known))),
    ];
    for (name, task) in tasks {
        spawner.spawn(name, Some("detr-p2p"), task);
    }
    handle
}
