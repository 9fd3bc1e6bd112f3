//! `pallet-detr-p2p`: the DETR P2P network parameters ([`NetworkConfig`]) and the chains bridge
//! messages may be addressed to, both set by root. Every node reads them through
//! `DetrP2pApi` and applies them live.
//!
//! A call that carries an out-of-bounds value fails with the error naming the field
//! ([`Error`]); nothing is stored. Each change emits an [`Event`].

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use detrp2p_runtime_api::{ChainId, InvalidField, NetworkConfig};
pub use pallet::*;
pub use weights::WeightInfo;

pub mod weights;

#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

#[frame_support::pallet]
pub mod pallet {
    use super::*;
    use alloc::vec::Vec;
    use frame_support::pallet_prelude::*;
    use frame_system::pallet_prelude::*;

    /// Most accepted bridge chains.
    pub type MaxBridgeChains = ConstU32<{ detrp2p_runtime_api::bounds::MAX_BRIDGE_CHAINS }>;

    #[pallet::config]
    pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
        /// Weights of the calls.
        type WeightInfo: WeightInfo;
    }

    #[pallet::pallet]
    pub struct Pallet<T>(_);

    /// The network parameters every node applies.
    #[pallet::storage]
    pub type Params<T> = StorageValue<_, NetworkConfig, ValueQuery>;

    /// Chains bridge messages may be addressed to, sorted, without duplicates.
    #[pallet::storage]
    pub type BridgeChains<T> = StorageValue<_, BoundedVec<ChainId, MaxBridgeChains>, ValueQuery>;

    /// Genesis: the parameters (the seed's defaults unless given) and the accepted chains.
    #[pallet::genesis_config]
    #[derive(frame_support::DefaultNoBound)]
    pub struct GenesisConfig<T: Config> {
        /// Network parameters at genesis.
        pub network_config: NetworkConfig,
        /// Accepted bridge chains at genesis.
        pub bridge_chains: Vec<ChainId>,
        #[serde(skip)]
        #[doc(hidden)]
        pub _config: core::marker::PhantomData<T>,
    }

    #[pallet::genesis_build]
    impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
        fn build(&self) {
            if let Err(field) = self.network_config.validate() {
                panic!("detrP2p genesis: network_config.{} is out of bounds", field.name());
            }
            let chains = Pallet::<T>::checked_chains(self.bridge_chains.clone())
                .unwrap_or_else(|e| panic!("detrP2p genesis: bridge_chains: {e:?}"));
            Params::<T>::put(&self.network_config);
            BridgeChains::<T>::put(chains);
        }
    }

    /// Changes, as polkadot-js shows them.
    #[pallet::event]
    #[pallet::generate_deposit(pub(super) fn deposit_event)]
    pub enum Event<T: Config> {
        /// New network parameters; nodes apply them when the block is finalized.
        ConfigSet {
            /// The parameters now in force.
            config: NetworkConfig,
        },
        /// A new list of accepted bridge chains.
        BridgeChainsSet {
            /// The chains now accepted.
            chains: Vec<ChainId>,
        },
    }

    /// Why a change was refused. Field errors name the field that is out of bounds (see
    /// `detrp2p_runtime_api::bounds`).
    #[pallet::error]
    pub enum Error<T> {
        /// `max_peers` must be 1..=10000.
        InvalidMaxPeers,
        /// `rate_limit` must be 1..=1000000 messages per second.
        InvalidRateLimit,
        /// `peer_rate_limit` must be 1..=1000000 and at most `rate_limit`.
        InvalidPeerRateLimit,
        /// `max_queue_size` must be 1..=10000000.
        InvalidMaxQueueSize,
        /// `reputation_threshold` must be 1..=1000000.
        InvalidReputationThreshold,
        /// Every priority weight must be 1..=1000.
        InvalidPriorityWeights,
        /// `rekey_after_messages` must be 1..=2^32.
        InvalidRekeyAfterMessages,
        /// `rekey_after_secs` must be 10..=86400.
        InvalidRekeyAfterSecs,
        /// More than 64 bridge chains.
        TooManyBridgeChains,
        /// A bridge chain is listed twice.
        DuplicateBridgeChain,
    }

    impl<T> From<InvalidField> for Error<T> {
        fn from(field: InvalidField) -> Self {
            match field {
                InvalidField::MaxPeers => Self::InvalidMaxPeers,
                InvalidField::RateLimit => Self::InvalidRateLimit,
                InvalidField::PeerRateLimit => Self::InvalidPeerRateLimit,
                InvalidField::MaxQueueSize => Self::InvalidMaxQueueSize,
                InvalidField::ReputationThreshold => Self::InvalidReputationThreshold,
                InvalidField::PriorityWeights => Self::InvalidPriorityWeights,
                InvalidField::RekeyAfterMessages => Self::InvalidRekeyAfterMessages,
                InvalidField::RekeyAfterSecs => Self::InvalidRekeyAfterSecs,
            }
        }
    }

    #[pallet::call]
    impl<T: Config> Pallet<T> {
        /// Replaces the network parameters. Root only; every field is checked.
        #[pallet::call_index(0)]
        #[pallet::weight(T::WeightInfo::set_config())]
        pub fn set_config(origin: OriginFor<T>, config: NetworkConfig) -> DispatchResult {
            ensure_root(origin)?;
            config.validate().map_err(Error::<T>::from)?;
            Params::<T>::put(&config);
            Self::deposit_event(Event::ConfigSet { config });
            Ok(())
        }

        /// Replaces the accepted bridge chains (at most 64, no duplicates). Root only.
        #[pallet::call_index(1)]
        #[pallet::weight(T::WeightInfo::set_bridge_chains(chains.len() as u32))]
        pub fn set_bridge_chains(origin: OriginFor<T>, chains: Vec<ChainId>) -> DispatchResult {
            ensure_root(origin)?;
            let chains = Self::checked_chains(chains)?;
            BridgeChains::<T>::put(&chains);
            Self::deposit_event(Event::BridgeChainsSet { chains: chains.into_inner() });
            Ok(())
        }
    }

    impl<T: Config> Pallet<T> {
        /// The parameters in force (for `DetrP2pApi::network_config`).
        pub fn network_config() -> NetworkConfig {
            Params::<T>::get()
        }

        /// The accepted bridge chains (for `DetrP2pApi::bridge_chains`).
        pub fn bridge_chains() -> Vec<ChainId> {
            BridgeChains::<T>::get().into_inner()
        }

        /// `chains` sorted, refused if too long or with a duplicate.
        fn checked_chains(
            mut chains: Vec<ChainId>,
        ) -> Result<BoundedVec<ChainId, MaxBridgeChains>, Error<T>> {
            chains.sort_unstable();
            if chains.windows(2).any(|w| w[0] == w[1]) {
                return Err(Error::DuplicateBridgeChain);
            }
            chains.try_into().map_err(|_| Error::TooManyBridgeChains)
        }
    }
}
