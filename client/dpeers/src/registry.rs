//! The peer registry: lifecycle, reputation, bans, and the events they cause.

use std::{
    collections::HashMap,
    hash::Hash,
    time::{Duration, Instant},
};

use crate::reputation::{Reputation, ReputationChange};

/// Where a peer is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerState {
    /// Known (from discovery, a bootnode or an inbound connection), not connected.
    Discovered,
    /// A connection is being set up.
    Connecting,
    /// Connected.
    Connected,
    /// Was connected, is not any more.
    Disconnected,
    /// Refused until the given time.
    Banned {
        /// End of the ban.
        until: Instant,
    },
}

/// What the caller knows about a peer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerMetadata {
    /// Multiaddresses, as text.
    pub addresses: Vec<String>,
    /// Role as announced in the handshake (e.g. "authority", "full").
    pub role: Option<String>,
}

/// A peer as the registry sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerInfo<P> {
    /// The peer.
    pub peer_id: P,
    /// Its metadata.
    pub metadata: PeerMetadata,
    /// Its state.
    pub state: PeerState,
    /// Its score now (decayed).
    pub reputation: i32,
    /// Since when it is connected.
    pub connected_since: Option<Instant>,
    /// How often it was banned.
    pub bans: u32,
}

/// What the networking glue must do after a registry call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerEvent<P> {
    /// Report the change to the network's peer store (`report_peer`).
    Report {
        /// The peer.
        peer: P,
        /// The change.
        change: ReputationChange,
    },
    /// Disconnect the peer (`disconnect_peer` on the detr protocols).
    Disconnect {
        /// The peer.
        peer: P,
        /// Why.
        reason: &'static str,
    },
    /// The peer is banned until `until`.
    Banned {
        /// The peer.
        peer: P,
        /// End of the ban.
        until: Instant,
    },
    /// A ban ended.
    Unbanned {
        /// The peer.
        peer: P,
    },
}

/// Why a registry call was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PeerError {
    /// The peer is not in the registry.
    #[error("unknown peer")]
    UnknownPeer,
    /// The peer is banned.
    #[error("peer is banned")]
    Banned,
    /// `max_peers` peers are connected already.
    #[error("peer limit of {0} reached")]
    TooManyPeers(usize),
}

/// Registry settings; defaults as in the seed (`[dpeers]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegistryConfig {
    /// Most peers connected at once.
    pub max_peers: usize,
    /// A peer whose score falls below `-reputation_threshold` is disconnected and banned.
    pub reputation_threshold: i32,
    /// How long a ban lasts.
    pub ban_duration: Duration,
    /// How long a peer that left is remembered (its score with it).
    pub retention: Duration,
    /// Most peers remembered in all (connected, gone and banned): Sybil PeerIds cost nothing,
    /// so the registry forgets the longest gone first, then the bans closest to their end.
    pub max_known: usize,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        Self {
            max_peers: 100,
            reputation_threshold: 50,
            ban_duration: Duration::from_secs(300),
            retention: Duration::from_secs(600),
            max_known: 4096,
        }
    }
}

struct Entry {
    metadata: PeerMetadata,
    state: PeerState,
    reputation: Reputation,
    connected_since: Option<Instant>,
    /// When it was last seen (added, connected or disconnected).
    seen: Instant,
    bans: u32,
}

impl Entry {
    fn new(metadata: PeerMetadata, now: Instant) -> Self {
        Self {
            metadata,
            state: PeerState::Discovered,
            reputation: Reputation::new(now),
            connected_since: None,
            seen: now,
            bans: 0,
        }
    }
}

/// The peers the node knows.
pub struct PeerRegistry<P> {
    config: RegistryConfig,
    peers: HashMap<P, Entry>,
}

impl<P: Clone + Eq + Hash> PeerRegistry<P> {
    /// An empty registry.
    pub fn new(config: RegistryConfig) -> Self {
        Self { config, peers: HashMap::new() }
    }

    /// The settings in force.
    pub fn config(&self) -> RegistryConfig {
        self.config
    }

    /// Changes the settings; takes effect for the next decisions.
    pub fn set_config(&mut self, config: RegistryConfig) {
        self.config = config;
    }

    /// Adds a discovered peer, or updates the metadata of a known one.
    pub fn add_peer(
        &mut self,
        peer: P,
        metadata: PeerMetadata,
        now: Instant,
    ) -> Result<(), PeerError> {
        if self.is_banned(&peer, now) {
            return Err(PeerError::Banned);
        }
        if !self.peers.contains_key(&peer) {
            self.make_room(now);
        }
        self.peers
            .entry(peer)
            .and_modify(|e| e.metadata = metadata.clone())
            .or_insert_with(|| Entry::new(metadata, now));
        Ok(())
    }

    /// The peer's record, with its score decayed to `now`.
    pub fn get_peer(&self, peer: &P, now: Instant) -> Option<PeerInfo<P>> {
        self.peers.get(peer).map(|e| PeerInfo {
            peer_id: peer.clone(),
            metadata: e.metadata.clone(),
            state: e.state,
            reputation: e.reputation.value(now),
            connected_since: e.connected_since,
            bans: e.bans,
        })
    }

    /// Every known peer.
    pub fn list_peers(&self) -> Vec<P> {
        self.peers.keys().cloned().collect()
    }

    /// Peers in the `Connected` state.
    pub fn connected(&self) -> Vec<P> {
        self.peers
            .iter()
            .filter(|(_, e)| e.state == PeerState::Connected)
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// Whether `peer` is banned at `now`.
    pub fn is_banned(&self, peer: &P, now: Instant) -> bool {
        matches!(self.peers.get(peer).map(|e| e.state), Some(PeerState::Banned { until }) if until > now)
    }

    /// Marks a connection attempt.
    pub fn connecting(&mut self, peer: &P, now: Instant) -> Result<(), PeerError> {
        self.transition(peer, now, PeerState::Connecting)
    }

    /// Marks the peer connected, adding it if unknown. Refused for banned peers and above
    /// `max_peers` (the caller then disconnects it).
    pub fn connected_peer(&mut self, peer: &P, now: Instant) -> Result<(), PeerError> {
        if !self.peers.contains_key(peer) {
            self.add_peer(peer.clone(), PeerMetadata::default(), now)?;
        }
        let already = self.peers.get(peer).is_some_and(|e| e.state == PeerState::Connected);
        if !already && self.connected().len() >= self.config.max_peers {
            return Err(PeerError::TooManyPeers(self.config.max_peers));
        }
        self.transition(peer, now, PeerState::Connected)?;
        let entry = self.peers.get_mut(peer).expect("present");
        entry.connected_since.get_or_insert(now);
        entry.seen = now;
        Ok(())
    }

    /// Marks the peer disconnected (a banned peer stays banned).
    pub fn disconnected(&mut self, peer: &P, now: Instant) {
        if let Some(e) = self.peers.get_mut(peer) {
            e.connected_since = None;
            e.seen = now;
            if !matches!(e.state, PeerState::Banned { until } if until > now) {
                e.state = PeerState::Disconnected;
            }
        }
    }

    fn transition(&mut self, peer: &P, now: Instant, to: PeerState) -> Result<(), PeerError> {
        if self.is_banned(peer, now) {
            return Err(PeerError::Banned);
        }
        self.peers.get_mut(peer).ok_or(PeerError::UnknownPeer)?.state = to;
        Ok(())
    }

    /// Applies a reputation change. Returns the events it causes: always a `Report`, and
    /// `Disconnect` + `Banned` when the score falls below `-reputation_threshold`.
    pub fn update_reputation(
        &mut self,
        peer: &P,
        change: ReputationChange,
        now: Instant,
    ) -> Result<Vec<PeerEvent<P>>, PeerError> {
        let threshold = self.config.reputation_threshold;
        let ban = self.config.ban_duration;
        let entry = self.peers.get_mut(peer).ok_or(PeerError::UnknownPeer)?;
        let score = entry.reputation.apply(change.value, now);
        let mut events = vec![PeerEvent::Report { peer: peer.clone(), change }];
        let banned = matches!(entry.state, PeerState::Banned { until } if until > now);
        if (score < -threshold || change.is_fatal()) && !banned {
            let until = now + ban;
            entry.state = PeerState::Banned { until };
            entry.connected_since = None;
            entry.bans += 1;
            events.push(PeerEvent::Disconnect { peer: peer.clone(), reason: change.reason });
            events.push(PeerEvent::Banned { peer: peer.clone(), until });
        }
        Ok(events)
    }

    /// Ends expired bans; their peers start again from a neutral score.
    pub fn tick(&mut self, now: Instant) -> Vec<PeerEvent<P>> {
        let mut events = Vec::new();
        for (peer, e) in &mut self.peers {
            if matches!(e.state, PeerState::Banned { until } if until <= now) {
                e.state = PeerState::Disconnected;
                e.reputation = Reputation::new(now);
                events.push(PeerEvent::Unbanned { peer: peer.clone() });
            }
        }
        events
    }

    /// Bans `peer` until `until` (a ban read back from disk at start).
    pub fn restore_ban(&mut self, peer: P, until: Instant, now: Instant) {
        if until <= now {
            return;
        }
        if !self.peers.contains_key(&peer) {
            self.make_room(now);
        }
        let entry = self.peers.entry(peer).or_insert_with(|| Entry::new(Default::default(), now));
        entry.state = PeerState::Banned { until };
        entry.bans += 1;
    }

    /// Bans in force, with their end.
    pub fn bans(&self, now: Instant) -> Vec<(P, Instant)> {
        self.peers
            .iter()
            .filter_map(|(p, e)| match e.state {
                PeerState::Banned { until } if until > now => Some((p.clone(), until)),
                _ => None,
            })
            .collect()
    }

    /// Forgets peers gone (or only discovered) for longer than the retention period; bans and
    /// connected peers stay. Returns how many were forgotten.
    pub fn prune(&mut self, now: Instant) -> usize {
        let retention = self.config.retention;
        let before = self.peers.len();
        self.peers.retain(|_, e| match e.state {
            PeerState::Connected | PeerState::Connecting => true,
            PeerState::Banned { until } if until > now => true,
            _ => now.saturating_duration_since(e.seen) < retention,
        });
        before - self.peers.len()
    }

    /// Makes room for one more peer under `max_known`: forgets the peer gone longest, else
    /// the ban closest to its end. Connected peers are bounded by `max_peers` and stay.
    fn make_room(&mut self, now: Instant) {
        while self.peers.len() >= self.config.max_known.max(1) {
            let gone = self
                .peers
                .iter()
                .filter(|(_, e)| {
                    !matches!(e.state, PeerState::Connected | PeerState::Connecting)
                        && !matches!(e.state, PeerState::Banned { until } if until > now)
                })
                .min_by_key(|(_, e)| e.seen)
                .map(|(p, _)| p.clone());
            let victim = gone.or_else(|| {
                self.peers
                    .iter()
                    .filter_map(|(p, e)| match e.state {
                        PeerState::Banned { until } => Some((p, until)),
                        _ => None,
                    })
                    .min_by_key(|(_, until)| *until)
                    .map(|(p, _)| p.clone())
            });
            match victim {
                Some(peer) => {
                    self.peers.remove(&peer);
                }
                None => return,
            }
        }
    }

    /// Forgets `peer` unless it is banned (bans outlive forgetting).
    pub fn remove(&mut self, peer: &P, now: Instant) {
        if !self.is_banned(peer, now) {
            self.peers.remove(peer);
        }
    }

    /// Number of known peers.
    pub fn len(&self) -> usize {
        self.peers.len()
    }

    /// Whether no peer is known.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }
}
