//! Genesis presets: `development` (Alice alone) and `local_testnet` (Alice, Bob, Charlie).
//! Both keep the seed's DETR P2P parameters and accept bridge messages for [`BRIDGE_CHAINS`].

use crate::{AccountId, BalancesConfig, DetrP2pConfig, RuntimeGenesisConfig, SudoConfig};
use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::PresetId;
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

/// Chains the dev and local networks accept bridge messages for (examples: 1 and 7).
pub const BRIDGE_CHAINS: [u32; 2] = [1, 7];

/// Balance given to every endowed account.
const ENDOWMENT: u128 = 1 << 60;

fn testnet_genesis(
    authorities: Vec<(AuraId, GrandpaId)>,
    endowed_accounts: Vec<AccountId>,
    root: AccountId,
) -> Value {
    build_struct_json_patch!(RuntimeGenesisConfig {
        balances: BalancesConfig {
            balances: endowed_accounts.iter().cloned().map(|k| (k, ENDOWMENT)).collect::<Vec<_>>(),
        },
        aura: pallet_aura::GenesisConfig {
            authorities: authorities.iter().map(|x| x.0.clone()).collect::<Vec<_>>(),
        },
        grandpa: pallet_grandpa::GenesisConfig {
            authorities: authorities.iter().map(|x| (x.1.clone(), 1)).collect::<Vec<_>>(),
        },
        sudo: SudoConfig { key: Some(root) },
        // construct_runtime names the field after `DetrP2p` in heck's snake case.
        detr_p_2p: DetrP2pConfig { bridge_chains: BRIDGE_CHAINS.to_vec() },
    })
}

fn authority(who: Sr25519Keyring, grandpa: Ed25519Keyring) -> (AuraId, GrandpaId) {
    (who.public().into(), grandpa.public().into())
}

fn endowed() -> Vec<AccountId> {
    Sr25519Keyring::iter()
        .filter(|k| k != &Sr25519Keyring::One && k != &Sr25519Keyring::Two)
        .map(|k| k.to_account_id())
        .collect()
}

/// The development preset: Alice authors and finalizes alone.
pub fn development_config_genesis() -> Value {
    testnet_genesis(
        vec![authority(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
        endowed(),
        Sr25519Keyring::Alice.to_account_id(),
    )
}

/// The local testnet preset: Alice, Bob and Charlie are validators.
pub fn local_config_genesis() -> Value {
    testnet_genesis(
        vec![
            authority(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
            authority(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
            authority(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
        ],
        endowed(),
        Sr25519Keyring::Alice.to_account_id(),
    )
}

/// The JSON patch of the preset `id`, if there is one.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
    let patch = match id.as_ref() {
        sp_genesis_builder::DEV_RUNTIME_PRESET => development_config_genesis(),
        sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(),
        _ => return None,
    };
    serde_json::to_vec(&patch).ok()
}

/// Names of the presets this runtime provides.
pub fn preset_names() -> Vec<PresetId> {
    vec![
        PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
        PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
    ]
}
