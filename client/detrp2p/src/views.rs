//! What the peers task knows that other tasks read on their hot path: banned peers, and the
//! peers with an established session on each protocol. Written by the peers task only.

use std::collections::HashSet;

use parking_lot::RwLock;
use sc_network::PeerId;

use crate::protocols::DetrProtocol;

/// Read-mostly views of the peers task's state.
#[derive(Default)]
pub(crate) struct Views {
    banned: RwLock<HashSet<PeerId>>,
    sessions: RwLock<[Vec<PeerId>; 4]>,
}

impl Views {
    /// Whether `peer` is banned.
    pub fn is_banned(&self, peer: &PeerId) -> bool {
        self.banned.read().contains(peer)
    }

    pub fn set_banned(&self, peer: PeerId, banned: bool) {
        let mut set = self.banned.write();
        if banned {
            set.insert(peer);
        } else {
            set.remove(&peer);
        }
    }

    /// Peers with an established session on `protocol`.
    pub fn session_peers(&self, protocol: DetrProtocol) -> Vec<PeerId> {
        self.sessions.read()[protocol as usize].clone()
    }

    /// Whether `peer` has an established session on `protocol`.
    pub fn has_session(&self, peer: &PeerId, protocol: DetrProtocol) -> bool {
        self.sessions.read()[protocol as usize].contains(peer)
    }

    /// Marks the session of `peer` on `protocol` up or down; returns the sessions now open.
    pub fn set_session(&self, peer: PeerId, protocol: DetrProtocol, up: bool) -> usize {
        let mut sessions = self.sessions.write();
        let list = &mut sessions[protocol as usize];
        list.retain(|p| *p != peer);
        if up {
            list.push(peer);
        }
        list.len()
    }
}
