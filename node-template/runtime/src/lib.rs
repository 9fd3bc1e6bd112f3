//! The FlareChain runtime: Aura block production, GRANDPA finality, balances, sudo, timestamp,
//! transaction payment and the DETR P2P network parameters (`pallet-detr-p2p`, read by the
//! node through `DetrP2pApi`). Genesis comes from presets (`dev`, `local_testnet`), see
//! [`genesis_config_presets`].

#![cfg_attr(not(feature = "std"), no_std)]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

use alloc::vec::Vec;

pub mod apis;
pub mod configs;
pub mod genesis_config_presets;

use sp_runtime::{
    generic, impl_opaque_keys,
    traits::{BlakeTwo256, IdentifyAccount, Verify},
    MultiAddress, MultiSignature,
};
use sp_version::RuntimeVersion;

pub use frame_system::Call as SystemCall;
pub use pallet_balances::Call as BalancesCall;
#[cfg(any(feature = "std", test))]
pub use sp_runtime::BuildStorage;

/// Types the client needs without knowing the runtime's extrinsic format.
pub mod opaque {
    use super::*;
    use sp_runtime::traits::Hash as HashT;

    pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

    /// Opaque block header type.
    pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
    /// Opaque block type.
    pub type Block = generic::Block<Header, UncheckedExtrinsic>;
    /// Opaque block hash type.
    pub type Hash = <BlakeTwo256 as HashT>::Output;
}

impl_opaque_keys! {
    /// The session keys of a FlareChain validator.
    pub struct SessionKeys {
        /// Aura block authoring key.
        pub aura: Aura,
        /// GRANDPA finality voting key.
        pub grandpa: Grandpa,
    }
}

/// The runtime version.
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
    spec_name: alloc::borrow::Cow::Borrowed("flarechain"),
    impl_name: alloc::borrow::Cow::Borrowed("flarechain"),
    authoring_version: 1,
    spec_version: 100,
    impl_version: 1,
    apis: apis::RUNTIME_API_VERSIONS,
    transaction_version: 1,
    system_version: 1,
};

/// Target block time. Blocks are authored at most once per slot.
pub const MILLI_SECS_PER_BLOCK: u64 = 6000;
/// Aura slot length; it cannot change once the chain has started.
pub const SLOT_DURATION: u64 = MILLI_SECS_PER_BLOCK;

/// One FLARE in its smallest units.
pub const UNIT: Balance = 1_000_000_000_000;
/// One thousandth of a FLARE.
pub const MILLI_UNIT: Balance = 1_000_000_000;
/// The smallest balance an account may hold.
pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNIT;

/// Transaction signature type.
pub type Signature = MultiSignature;
/// Account identifier: the public key of the signing scheme.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Balance of an account.
pub type Balance = u128;
/// Transaction index of an account.
pub type Nonce = u32;
/// Hash type of the chain.
pub type Hash = sp_core::H256;
/// Block number type.
pub type BlockNumber = u32;
/// Address format of extrinsics.
pub type Address = MultiAddress<AccountId, ()>;
/// Block header type.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Block type.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;

/// The transaction extensions every signed extrinsic carries.
pub type TxExtension = (
    frame_system::CheckNonZeroSender<Runtime>,
    frame_system::CheckSpecVersion<Runtime>,
    frame_system::CheckTxVersion<Runtime>,
    frame_system::CheckGenesis<Runtime>,
    frame_system::CheckEra<Runtime>,
    frame_system::CheckNonce<Runtime>,
    frame_system::CheckWeight<Runtime>,
    pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
    frame_system::WeightReclaim<Runtime>,
);

/// Unchecked extrinsic type.
pub type UncheckedExtrinsic =
    generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;

/// Executive: dispatches to the pallets.
pub type Executive = frame_executive::Executive<
    Runtime,
    Block,
    frame_system::ChainContext<Runtime>,
    Runtime,
    AllPalletsWithSystem,
>;

#[frame_support::runtime]
mod runtime {
    /// The FlareChain runtime.
    #[runtime::runtime]
    #[runtime::derive(
        RuntimeCall,
        RuntimeEvent,
        RuntimeError,
        RuntimeOrigin,
        RuntimeFreezeReason,
        RuntimeHoldReason,
        RuntimeSlashReason,
        RuntimeLockId,
        RuntimeTask,
        RuntimeViewFunction
    )]
    pub struct Runtime;

    /// Accounts, blocks, events.
    #[runtime::pallet_index(0)]
    pub type System = frame_system;
    /// Block timestamps.
    #[runtime::pallet_index(1)]
    pub type Timestamp = pallet_timestamp;
    /// Aura authorities.
    #[runtime::pallet_index(2)]
    pub type Aura = pallet_aura;
    /// GRANDPA authorities.
    #[runtime::pallet_index(3)]
    pub type Grandpa = pallet_grandpa;
    /// Balances.
    #[runtime::pallet_index(4)]
    pub type Balances = pallet_balances;
    /// Fees.
    #[runtime::pallet_index(5)]
    pub type TransactionPayment = pallet_transaction_payment;
    /// Root access.
    #[runtime::pallet_index(6)]
    pub type Sudo = pallet_sudo;
    /// DETR P2P network parameters and accepted bridge chains.
    #[runtime::pallet_index(7)]
    pub type DetrP2p = pallet_detr_p2p;
}
