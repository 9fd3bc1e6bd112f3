//! The network GRANDPA's gossip engine is given: sc-network's service, except that with the
//! plugin on reputation changes also reach the plugin's peer registry. GRANDPA's protocol name
//! is then the detr consensus protocol's, so the gossip engine reserves its peers on that
//! protocol.

use std::{collections::HashSet, pin::Pin, sync::Arc};

use futures::Stream;
use sc_network::{
    config::MultiaddrWithPeerId,
    event::Event,
    service::traits::{NetworkEventStream, NetworkPeers, NetworkService},
    types::ProtocolName,
    Multiaddr, ObservedRole, PeerId, ReputationChange,
};

use crate::peers::PeersTx;

/// GRANDPA's costs are made for sc-network's range (which bans below about -1.5e9): in the
/// registry (which bans below -50 by default) a change counts a hundredth. Two invalid commits
/// or catch-ups (-5000 each) ban. Benefits are not counted: reputation cannot be farmed with
/// gossip.
const SCALE: i32 = 100;

/// Costs honest peers incur in normal operation: a message the gossip engine already had (each
/// vote reaches a node from several peers), a vote that arrives after its round (late behind
/// load), answering or timing out a catch-up, a neighbor packet GRANDPA itself repeats. In
/// sc-network the benefits of the same peer's valid messages cancel them; the registry counts
/// no benefit, so it does not count these either (they still reach sc-network). Counted, they
/// cost honest peers −4 to −10 in a 10,000-message rekey run (81 duplicates on one node).
/// Floods of them are the inbound rate limiter's business.
const HONEST_COSTS: [&str; 6] = [
    "Duplicate gossip",
    "Grandpa: Past message",
    "Grandpa: Catch-up reply",
    "Grandpa: Out-of-scope catch-up",
    "Grandpa: Catch-up request timeout",
    "Grandpa: Duplicate neighbor message without grace period",
];

/// A GRANDPA reputation change in the registry's terms; `None` for benefits and for the costs
/// honest peers incur.
fn scaled(change: ReputationChange) -> Option<etrid_p2p_dpeers::ReputationChange> {
    (change.value < 0 && !HONEST_COSTS.contains(&change.reason)).then(|| {
        etrid_p2p_dpeers::ReputationChange {
            value: (change.value / SCALE).min(-1),
            reason: change.reason,
        }
    })
}

/// sc-network for GRANDPA, with reputation changes copied to the registry when the plugin is on.
#[derive(Clone)]
pub struct ConsensusNetwork {
    network: Arc<dyn NetworkService>,
    peers: Option<PeersTx>,
    /// The detr consensus protocol, whose reserved set the plugin keeps itself.
    protocol: Option<ProtocolName>,
}

impl ConsensusNetwork {
    pub(crate) fn new(
        network: Arc<dyn NetworkService>,
        peers: PeersTx,
        protocol: ProtocolName,
    ) -> Self {
        Self { network, peers: Some(peers), protocol: Some(protocol) }
    }

    /// sc-network as it is (the plugin is off).
    pub fn plain(network: Arc<dyn NetworkService>) -> Self {
        Self { network, peers: None, protocol: None }
    }

    /// Whether `protocol` is the detr consensus protocol: the plugin reserves sync's peers on
    /// it (and not banned ones), so GRANDPA's own reservations would only repeat it.
    fn ours(&self, protocol: &ProtocolName) -> bool {
        self.protocol.as_ref() == Some(protocol)
    }
}

#[async_trait::async_trait]
impl NetworkPeers for ConsensusNetwork {
    fn set_authorized_peers(&self, peers: HashSet<PeerId>) {
        self.network.set_authorized_peers(peers)
    }

    fn set_authorized_only(&self, reserved_only: bool) {
        self.network.set_authorized_only(reserved_only)
    }

    fn add_known_address(&self, peer_id: PeerId, addr: Multiaddr) {
        self.network.add_known_address(peer_id, addr)
    }

    fn report_peer(&self, peer_id: PeerId, change: ReputationChange) {
        self.network.report_peer(peer_id, change);
        if let (Some(peers), Some(scaled)) = (&self.peers, scaled(change)) {
            peers.report_local(peer_id, scaled);
        }
    }

    fn peer_reputation(&self, peer_id: &PeerId) -> i32 {
        self.network.peer_reputation(peer_id)
    }

    fn disconnect_peer(&self, peer_id: PeerId, protocol: ProtocolName) {
        self.network.disconnect_peer(peer_id, protocol)
    }

    fn accept_unreserved_peers(&self) {
        self.network.accept_unreserved_peers()
    }

    fn deny_unreserved_peers(&self) {
        self.network.deny_unreserved_peers()
    }

    fn add_reserved_peer(&self, peer: MultiaddrWithPeerId) -> Result<(), String> {
        self.network.add_reserved_peer(peer)
    }

    fn remove_reserved_peer(&self, peer_id: PeerId) {
        self.network.remove_reserved_peer(peer_id)
    }

    fn set_reserved_peers(
        &self,
        protocol: ProtocolName,
        peers: HashSet<Multiaddr>,
    ) -> Result<(), String> {
        self.network.set_reserved_peers(protocol, peers)
    }

    fn add_peers_to_reserved_set(
        &self,
        protocol: ProtocolName,
        peers: HashSet<Multiaddr>,
    ) -> Result<(), String> {
        if self.ours(&protocol) {
            return Ok(());
        }
        self.network.add_peers_to_reserved_set(protocol, peers)
    }

    fn remove_peers_from_reserved_set(
        &self,
        protocol: ProtocolName,
        peers: Vec<PeerId>,
    ) -> Result<(), String> {
        if self.ours(&protocol) {
            return Ok(());
        }
        self.network.remove_peers_from_reserved_set(protocol, peers)
    }

    fn sync_num_connected(&self) -> usize {
        self.network.sync_num_connected()
    }

    fn peer_role(&self, peer_id: PeerId, handshake: Vec<u8>) -> Option<ObservedRole> {
        self.network.peer_role(peer_id, handshake)
    }

    async fn reserved_peers(&self) -> Result<Vec<PeerId>, ()> {
        self.network.reserved_peers().await
    }
}

impl NetworkEventStream for ConsensusNetwork {
    fn event_stream(&self, name: &'static str) -> Pin<Box<dyn Stream<Item = Event> + Send>> {
        self.network.event_stream(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grandpa_costs_are_scaled_and_benefits_ignored() {
        let value = |v: i32| scaled(ReputationChange::new(v, "Grandpa: test")).map(|c| c.value);
        assert_eq!(value(-500), Some(-5), "a future message");
        assert_eq!(value(-5000), Some(-50), "an invalid commit");
        assert_eq!(value(-50), Some(-1), "the lightest cost still counts");
        assert_eq!(value(i32::MIN), Some(i32::MIN / SCALE));
        assert_eq!(value(100), None, "no reputation from gossip");
    }

    #[test]
    fn grandpa_costs_honest_peers_incur_are_not_counted() {
        let counted = |v: i32, reason| scaled(ReputationChange::new(v, reason)).is_some();
        assert!(!counted(-4, "Duplicate gossip"), "sc-network-gossip's, for a vote seen before");
        assert!(!counted(-50, "Grandpa: Past message"), "a late vote");
        assert!(!counted(-200, "Grandpa: Catch-up reply"));
        assert!(!counted(-200, "Grandpa: Out-of-scope catch-up"));
        assert!(!counted(-200, "Grandpa: Catch-up request timeout"));
        assert!(!counted(-500, "Grandpa: Duplicate neighbor message without grace period"));
        assert!(counted(-100, "Grandpa: Bad signature"), "proof of malice still counts");
        assert!(counted(-150, "Grandpa: Unknown voter"));
    }
}
