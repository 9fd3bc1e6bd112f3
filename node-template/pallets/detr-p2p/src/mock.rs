//! A runtime with just `frame_system` and this pallet.

use crate as pallet_detr_p2p;
use frame_support::derive_impl;
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
    pub enum Test {
        System: frame_system,
        DetrP2p: pallet_detr_p2p,
    }
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
    type Block = Block;
}

impl pallet_detr_p2p::Config for Test {
    type WeightInfo = ();
}

/// Chains accepted at genesis in the tests.
pub const GENESIS_CHAINS: [u32; 2] = [7, 1];

/// Externalities with the default parameters and [`GENESIS_CHAINS`], at block 1.
pub fn new_test_ext() -> sp_io::TestExternalities {
    let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
    pallet_detr_p2p::GenesisConfig::<Test> {
        bridge_chains: GENESIS_CHAINS.to_vec(),
        ..Default::default()
    }
    .assimilate_storage(&mut storage)
    .unwrap();
    let mut ext: sp_io::TestExternalities = storage.into();
    // Events are only kept from block 1 on.
    ext.execute_with(|| System::set_block_number(1));
    ext
}
