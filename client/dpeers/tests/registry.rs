//! Lifecycle, reputation and bans of the peer registry.

use std::time::{Duration, Instant};

use etrid_p2p_dpeers::{
    reputation::HALF_LIFE, PeerError, PeerEvent, PeerMetadata, PeerRegistry, PeerState,
    RegistryConfig, ReputationChange,
};

fn registry(max_peers: usize) -> PeerRegistry<u32> {
    PeerRegistry::new(RegistryConfig { max_peers, ..RegistryConfig::default() })
}

fn meta(addr: &str) -> PeerMetadata {
    PeerMetadata { addresses: vec![addr.into()], role: Some("full".into()) }
}

#[test]
fn lifecycle_from_discovered_to_disconnected() {
    let t = Instant::now();
    let mut r = registry(10);
    r.add_peer(1, meta("/ip4/127.0.0.1/tcp/1"), t).unwrap();
    assert_eq!(r.get_peer(&1, t).unwrap().state, PeerState::Discovered);
    r.connecting(&1, t).unwrap();
    assert_eq!(r.get_peer(&1, t).unwrap().state, PeerState::Connecting);
    r.connected_peer(&1, t).unwrap();
    let info = r.get_peer(&1, t).unwrap();
    assert_eq!((info.state, info.connected_since), (PeerState::Connected, Some(t)));
    r.disconnected(&1, t);
    assert_eq!(r.get_peer(&1, t).unwrap().state, PeerState::Disconnected);
    assert_eq!(r.connecting(&2, t), Err(PeerError::UnknownPeer));
    assert_eq!(r.list_peers(), vec![1]);
}

#[test]
fn max_peers_is_enforced() {
    let t = Instant::now();
    let mut r = registry(2);
    r.connected_peer(&1, t).unwrap();
    r.connected_peer(&2, t).unwrap();
    assert_eq!(r.connected_peer(&3, t), Err(PeerError::TooManyPeers(2)));
    r.connected_peer(&2, t).unwrap(); // already connected: fine
    r.disconnected(&1, t);
    r.connected_peer(&3, t).unwrap();
}

#[test]
fn misbehaviour_bans_below_the_threshold_and_emits_events() {
    let t = Instant::now();
    let mut r = registry(10);
    r.connected_peer(&1, t).unwrap();
    // threshold 50: five rate-limit strikes (-50) are not yet below -50...
    for _ in 0..5 {
        let events = r.update_reputation(&1, ReputationChange::RATE_LIMITED, t).unwrap();
        assert_eq!(events.len(), 1);
    }
    // ...the sixth is.
    let events = r.update_reputation(&1, ReputationChange::RATE_LIMITED, t).unwrap();
    let until = t + RegistryConfig::default().ban_duration;
    assert_eq!(
        events,
        vec![
            PeerEvent::Report { peer: 1, change: ReputationChange::RATE_LIMITED },
            PeerEvent::Disconnect { peer: 1, reason: "over inbound rate limit" },
            PeerEvent::Banned { peer: 1, until },
        ]
    );
    assert!(r.is_banned(&1, t));
    assert_eq!(r.connected_peer(&1, t), Err(PeerError::Banned));
    assert_eq!(r.add_peer(1, meta("x"), t), Err(PeerError::Banned));
    assert_eq!(r.get_peer(&1, t).unwrap().bans, 1);
    // Further misbehaviour while banned reports but does not ban again.
    assert_eq!(r.update_reputation(&1, ReputationChange::BAD_TAG, t).unwrap().len(), 1);
}

#[test]
fn bans_expire_and_the_peer_starts_neutral() {
    let t = Instant::now();
    let mut r = registry(10);
    r.connected_peer(&1, t).unwrap();
    r.update_reputation(&1, ReputationChange::BAD_HANDSHAKE, t).unwrap();
    let ban = RegistryConfig::default().ban_duration;
    assert!(r.tick(t + ban - Duration::from_secs(1)).is_empty());
    assert_eq!(r.tick(t + ban), vec![PeerEvent::Unbanned { peer: 1 }]);
    assert_eq!(r.get_peer(&1, t + ban).unwrap().reputation, 0);
    r.connected_peer(&1, t + ban).unwrap();
}

#[test]
fn reputation_decays_so_occasional_faults_are_forgiven() {
    let t = Instant::now();
    let mut r = registry(10);
    r.connected_peer(&1, t).unwrap();
    let mut now = t;
    // One -10 fault per minute never accumulates to a ban (steady state about -20).
    for _ in 0..60 {
        now += HALF_LIFE;
        let events = r.update_reputation(&1, ReputationChange::RATE_LIMITED, now).unwrap();
        assert_eq!(events.len(), 1);
    }
    assert!(r.get_peer(&1, now).unwrap().reputation >= -20);
    assert!(!r.is_banned(&1, now));
}

#[test]
fn good_behaviour_is_rewarded_and_lowering_the_threshold_applies_at_once() {
    let t = Instant::now();
    let mut r = registry(10);
    r.connected_peer(&1, t).unwrap();
    r.update_reputation(&1, ReputationChange::HANDSHAKE_OK, t).unwrap();
    assert_eq!(r.get_peer(&1, t).unwrap().reputation, 10);
    r.set_config(RegistryConfig { reputation_threshold: 0, ..r.config() });
    let events = r.update_reputation(&1, ReputationChange::DUPLICATE, t).unwrap();
    assert_eq!(events.len(), 1, "10 - 5 = 5 is not below 0");
    let events = r.update_reputation(&1, ReputationChange::DUPLICATE, t).unwrap();
    let events2 = r.update_reputation(&1, ReputationChange::DUPLICATE, t).unwrap();
    assert_eq!((events.len(), events2.len()), (1, 3));
}

#[test]
fn removal_keeps_bans() {
    let t = Instant::now();
    let mut r = registry(10);
    r.connected_peer(&1, t).unwrap();
    r.connected_peer(&2, t).unwrap();
    r.update_reputation(&1, ReputationChange::REPLAY, t).unwrap();
    r.remove(&1, t);
    r.remove(&2, t);
    assert!(r.is_banned(&1, t));
    assert_eq!(r.len(), 1);
}
