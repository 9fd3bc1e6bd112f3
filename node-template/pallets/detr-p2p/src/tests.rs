use crate::{mock::*, BridgeChains, Error, Event, NetworkConfig, Params};
use frame_support::{assert_noop, assert_ok};
use sp_runtime::DispatchError;

fn lowered() -> NetworkConfig {
    NetworkConfig { rate_limit: 200, peer_rate_limit: 100, max_peers: 25, ..Default::default() }
}

#[test]
fn genesis_holds_the_seed_defaults_and_sorted_chains() {
    new_test_ext().execute_with(|| {
        assert_eq!(Params::<Test>::get(), NetworkConfig::default());
        assert_eq!(DetrP2p::network_config().rate_limit, 1000);
        assert_eq!(DetrP2p::bridge_chains(), vec![1, 7]);
    });
}

#[test]
fn root_sets_the_config_and_an_event_says_so() {
    new_test_ext().execute_with(|| {
        assert_ok!(DetrP2p::set_config(RuntimeOrigin::root(), lowered()));
        assert_eq!(Params::<Test>::get(), lowered());
        System::assert_last_event(Event::ConfigSet { config: lowered() }.into());
    });
}

#[test]
fn signed_and_unsigned_origins_cannot_set_anything() {
    new_test_ext().execute_with(|| {
        for origin in [RuntimeOrigin::signed(1), RuntimeOrigin::none()] {
            assert_noop!(DetrP2p::set_config(origin.clone(), lowered()), DispatchError::BadOrigin);
            assert_noop!(DetrP2p::set_bridge_chains(origin, vec![3]), DispatchError::BadOrigin);
        }
        assert_eq!(Params::<Test>::get(), NetworkConfig::default());
        assert_eq!(System::events().len(), 0);
    });
}

#[test]
fn each_invalid_field_is_refused_with_its_own_error() {
    let base = NetworkConfig::default();
    let cases = [
        (NetworkConfig { max_peers: 0, ..base.clone() }, Error::<Test>::InvalidMaxPeers),
        (NetworkConfig { max_peers: 10_001, ..base.clone() }, Error::InvalidMaxPeers),
        (NetworkConfig { rate_limit: 0, ..base.clone() }, Error::InvalidRateLimit),
        (NetworkConfig { peer_rate_limit: 2000, ..base.clone() }, Error::InvalidPeerRateLimit),
        (NetworkConfig { max_queue_size: 0, ..base.clone() }, Error::InvalidMaxQueueSize),
        (
            NetworkConfig { reputation_threshold: 0, ..base.clone() },
            Error::InvalidReputationThreshold,
        ),
        (
            NetworkConfig { priority_weights: [1, 1, 1, 1, 1001], ..base.clone() },
            Error::InvalidPriorityWeights,
        ),
        (
            NetworkConfig { rekey_after_messages: 0, ..base.clone() },
            Error::InvalidRekeyAfterMessages,
        ),
        (NetworkConfig { rekey_after_secs: 0, ..base.clone() }, Error::InvalidRekeyAfterSecs),
    ];
    new_test_ext().execute_with(|| {
        for (config, error) in cases {
            assert_noop!(DetrP2p::set_config(RuntimeOrigin::root(), config), error);
        }
        assert_eq!(Params::<Test>::get(), NetworkConfig::default());
    });
}

#[test]
fn bridge_chains_are_sorted_bounded_and_unique() {
    new_test_ext().execute_with(|| {
        assert_ok!(DetrP2p::set_bridge_chains(RuntimeOrigin::root(), vec![9, 3, 5]));
        assert_eq!(DetrP2p::bridge_chains(), vec![3, 5, 9]);
        System::assert_last_event(Event::BridgeChainsSet { chains: vec![3, 5, 9] }.into());

        assert_noop!(
            DetrP2p::set_bridge_chains(RuntimeOrigin::root(), vec![4, 2, 4]),
            Error::<Test>::DuplicateBridgeChain
        );
        assert_noop!(
            DetrP2p::set_bridge_chains(RuntimeOrigin::root(), (0..65).collect()),
            Error::<Test>::TooManyBridgeChains
        );
        assert_ok!(DetrP2p::set_bridge_chains(RuntimeOrigin::root(), (0..64).collect()));
        assert_ok!(DetrP2p::set_bridge_chains(RuntimeOrigin::root(), vec![]));
        assert!(BridgeChains::<Test>::get().is_empty());
    });
}

#[test]
#[should_panic(expected = "network_config.rate_limit is out of bounds")]
fn a_genesis_with_a_bad_value_does_not_build() {
    use sp_runtime::BuildStorage;
    let _ = crate::GenesisConfig::<Test> {
        network_config: NetworkConfig { rate_limit: 0, ..Default::default() },
        ..Default::default()
    }
    .build_storage();
}
