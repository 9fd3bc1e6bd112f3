//! What the cache keeps about a peer.

use std::collections::VecDeque;

use codec::{Decode, Encode};

/// Most addresses kept per peer.
pub const MAX_ADDRESSES: usize = 8;
/// Most connection events kept per peer.
pub const MAX_HISTORY: usize = 16;

/// How the node learned of a peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub enum PeerSource {
    /// From the Go discovery daemon.
    Discovery,
    /// The peer connected to us.
    Inbound,
    /// A configured bootnode or reserved peer.
    Bootnode,
}

/// What happened to a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub enum ConnectionKind {
    /// Connected.
    Connected,
    /// Disconnected.
    Disconnected,
    /// A connection attempt failed.
    Failed,
}

/// One entry of a peer's connection history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct ConnectionEvent {
    /// Unix time, seconds.
    pub at: u64,
    /// What happened.
    pub kind: ConnectionKind,
}

/// What a caller stores about a peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerData {
    /// Multiaddresses, as text.
    pub addresses: Vec<String>,
    /// How the peer was learned of.
    pub source: PeerSource,
    /// Its reputation when last seen.
    pub reputation: i32,
}

/// A peer's cached record.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct PeerRecord {
    /// The PeerId (base58).
    pub peer_id: String,
    /// Known addresses, newest first, at most [`MAX_ADDRESSES`].
    pub addresses: Vec<String>,
    /// How the peer was first learned of.
    pub source: PeerSource,
    /// Unix time the peer was first seen.
    pub first_seen: u64,
    /// Unix time the peer was last seen.
    pub last_seen: u64,
    /// Reputation when last seen.
    pub reputation: i32,
    /// Latest connection events, oldest first, at most [`MAX_HISTORY`].
    pub history: VecDeque<ConnectionEvent>,
    /// Unix time a ban of the peer ends, if it is banned.
    pub banned_until: Option<u64>,
}

impl PeerRecord {
    /// A new record from `data` seen at `now`.
    pub fn new(peer_id: String, data: PeerData, now: u64) -> Self {
        let mut record = Self {
            peer_id,
            addresses: Vec::new(),
            source: data.source,
            first_seen: now,
            last_seen: now,
            reputation: data.reputation,
            history: VecDeque::new(),
            banned_until: None,
        };
        record.merge_addresses(data.addresses);
        record
    }

    /// Updates the record with `data` seen at `now` (the first source is kept).
    pub fn update(&mut self, data: PeerData, now: u64) {
        self.last_seen = self.last_seen.max(now);
        self.reputation = data.reputation;
        self.merge_addresses(data.addresses);
    }

    /// Puts `addresses` first, drops duplicates, keeps at most [`MAX_ADDRESSES`].
    fn merge_addresses(&mut self, addresses: Vec<String>) {
        let mut merged = addresses;
        merged.append(&mut self.addresses);
        let mut seen = std::collections::HashSet::new();
        merged.retain(|a| seen.insert(a.clone()));
        merged.truncate(MAX_ADDRESSES);
        self.addresses = merged;
    }

    /// Appends a connection event, dropping the oldest beyond [`MAX_HISTORY`].
    pub fn record(&mut self, event: ConnectionEvent) {
        self.last_seen = self.last_seen.max(event.at);
        self.history.push_back(event);
        while self.history.len() > MAX_HISTORY {
            self.history.pop_front();
        }
    }
}
