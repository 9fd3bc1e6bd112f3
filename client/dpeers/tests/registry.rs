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
    r.update_reputation(&1, ReputationChange::GOOD_TRANSACTION, t).unwrap();
    r.update_reputation(&1, ReputationChange::GOOD_TRANSACTION, t).unwrap();
    assert_eq!(r.get_peer(&1, t).unwrap().reputation, 10);
    r.set_config(RegistryConfig { reputation_threshold: 0, ..r.config() });
    let events = r.update_reputation(&1, ReputationChange::RATE_LIMITED, t).unwrap();
    assert_eq!(events.len(), 1, "10 - 10 = 0 is not below 0");
    let events = r.update_reputation(&1, ReputationChange::RATE_LIMITED, t).unwrap();
    assert_eq!(events.len(), 3, "-10 is");
}

#[test]
fn proofs_of_malice_ban_at_once_whatever_the_score() {
    let t = Instant::now();
    let mut r = registry(10);
    for peer in [1, 2] {
        r.connected_peer(&peer, t).unwrap();
        for _ in 0..1000 {
            r.update_reputation(&peer, ReputationChange::GOOD_TRANSACTION, t).unwrap();
        }
    }
    for (peer, change) in [(1, ReputationChange::BAD_TAG), (2, ReputationChange::REPLAY)] {
        assert!(change.is_fatal());
        let events = r.update_reputation(&peer, change, t).unwrap();
        assert!(matches!(events.last(), Some(PeerEvent::Banned { .. })), "{events:?}");
    }
    assert!(!ReputationChange::BAD_HANDSHAKE.is_fatal());
}

#[test]
fn peers_gone_longer_than_the_retention_are_forgotten_bans_are_kept() {
    let t = Instant::now();
    let retention = Duration::from_secs(60);
    let mut r = PeerRegistry::new(RegistryConfig { retention, ..RegistryConfig::default() });
    for peer in 1..=3 {
        r.connected_peer(&peer, t).unwrap();
    }
    r.disconnected(&1, t);
    r.update_reputation(&2, ReputationChange::REPLAY, t).unwrap();
    assert_eq!(r.prune(t + retention / 2), 0);
    assert_eq!(r.prune(t + retention), 1, "peer 1 left long enough ago");
    let mut left: Vec<_> = r.list_peers();
    left.sort();
    assert_eq!(left, [2, 3], "the ban and the connected peer stay");
}

#[test]
fn ten_thousand_peers_that_come_and_go_stay_within_the_bound() {
    let t = Instant::now();
    let max_known = 256;
    let mut r = PeerRegistry::new(RegistryConfig { max_known, ..RegistryConfig::default() });
    for peer in 0..10_000u32 {
        let now = t + Duration::from_millis(peer as u64);
        r.connected_peer(&peer, now).unwrap();
        if peer % 10 == 0 {
            r.update_reputation(&peer, ReputationChange::BAD_TAG, now).unwrap();
        } else {
            r.disconnected(&peer, now);
        }
        assert!(r.len() <= max_known, "{} known after {peer}", r.len());
    }
    // The newest bans are among those kept.
    assert!(r.is_banned(&9990, t + Duration::from_secs(10)));
}

#[test]
fn bans_read_back_from_disk_hold_until_they_end() {
    let t = Instant::now();
    let mut r = registry(10);
    r.restore_ban(7, t + Duration::from_secs(60), t);
    r.restore_ban(8, t - Duration::from_secs(1), t);
    assert!(r.is_banned(&7, t));
    assert!(!r.is_banned(&8, t), "an ended ban is not restored");
    assert_eq!(r.bans(t), vec![(7, t + Duration::from_secs(60))]);
    assert_eq!(r.connected_peer(&7, t), Err(PeerError::Banned));
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
