//! The parameters in force: the operator's bounds, the values governance applied within them,
//! and the bridge chains the runtime accepts. Written by governance only; read everywhere.

use detrp2p_runtime_api::ChainId;
use parking_lot::RwLock;

use crate::config::DetrConfig;

/// Settings in force.
pub(crate) struct Settings {
    /// The operator's settings: the bounds of what the chain may set.
    pub bounds: DetrConfig,
    current: RwLock<DetrConfig>,
    /// Chains bridge messages may come from or go to (`DetrP2pApi`); `None` while the chain
    /// says nothing.
    bridge_chains: RwLock<Option<Vec<ChainId>>>,
    /// Finalized block whose on-chain parameters are in force.
    config_block: RwLock<Option<u64>>,
}

impl Settings {
    pub fn new(config: DetrConfig) -> Self {
        Self {
            bounds: config.clone(),
            current: RwLock::new(config),
            bridge_chains: RwLock::new(None),
            config_block: RwLock::new(None),
        }
    }

    /// The settings in force.
    pub fn current(&self) -> DetrConfig {
        self.current.read().clone()
    }

    /// Replaces the settings in force, as read at finalized block `number`.
    pub fn set(&self, config: DetrConfig, chains: Vec<ChainId>, number: u64) {
        *self.current.write() = config;
        *self.bridge_chains.write() = Some(chains);
        *self.config_block.write() = Some(number);
    }

    /// Accepted bridge chains, if the chain restricts them.
    pub fn bridge_chains(&self) -> Option<Vec<ChainId>> {
        self.bridge_chains.read().clone()
    }

    /// Whether bridge messages may come from or go to `chain`.
    pub fn accepts_chain(&self, chain: ChainId) -> bool {
        self.bridge_chains.read().as_ref().is_none_or(|chains| chains.contains(&chain))
    }

    /// The finalized block the on-chain values were read at.
    pub fn config_block(&self) -> Option<u64> {
        *self.config_block.read()
    }
}
