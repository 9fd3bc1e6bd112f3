//! One task per detr protocol: it owns the protocol's `NotificationService`, opens streams for
//! sync's peers (as GRANDPA does), checks each stream's handshake and each frame's size against
//! the peer's inbound budget, and routes frames to the stream's task. It does no cryptography:
//! the stream tasks open frames in parallel.

use std::{
    pin::Pin,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

use etrid_p2p_dpeers::ReputationChange;
use etrid_p2p_fluent::{InboundLimiter, InboundVerdict};
use futures::{FutureExt, Stream as FutStream, StreamExt};
use sc_network::{
    service::traits::{NetworkService, NotificationEvent, NotificationService, ValidationResult},
    PeerId,
};
use sc_network_sync::SyncEvent;

use crate::{
    metrics::{Loss, Stats},
    peers::{PeersTx, StreamOpened},
    protocols::{DetrProtocol, StreamHandshake},
    routes::{Delivery, Routes},
    views::Views,
    LOG_TARGET,
};

/// Over-budget frames from a peer before it is reported as flooding.
pub(crate) const FLOOD_AFTER: u32 = 100;

/// The task of one protocol.
pub(crate) struct Worker {
    pub protocol: DetrProtocol,
    pub service: Box<dyn NotificationService>,
    pub network: Arc<dyn NetworkService>,
    pub genesis: [u8; 32],
    pub refused: bool,
    pub peers: PeersTx,
    pub views: Arc<Views>,
    pub inbound: Arc<InboundLimiter<PeerId>>,
    pub stats: Arc<Stats>,
    pub sync_events: Pin<Box<dyn FutStream<Item = SyncEvent> + Send>>,
    /// Our SCALE-encoded [`StreamHandshake`].
    pub handshake: Vec<u8>,
    /// Shared by the four workers: stream ids are unique in the node.
    pub next_id: Arc<AtomicU64>,
}

impl Worker {
    /// Runs until the network shuts down.
    pub async fn run(mut self) {
        // litep2p replaces every notification handshake with the node role at start: set ours.
        if self.service.set_handshake(self.handshake.clone()).await.is_err() {
            log::warn!(target: LOG_TARGET, "cannot set the {} stream handshake", self.protocol.as_str());
        }
        if self.refused {
            log::warn!(target: LOG_TARGET, "refusing every {} stream (detrp2p.refuse_protocols)", self.protocol.as_str());
        }
        let mut routes = Routes::default();
        loop {
            futures::select! {
                event = self.service.next_event().fuse() => match event {
                    Some(event) => self.on_event(&mut routes, event),
                    None => return,
                },
                event = self.sync_events.next().fuse() => match event {
                    Some(event) => self.on_sync_event(event),
                    None => return,
                },
            }
        }
    }

    /// Opens our side of the protocol towards every peer sync knows (like GRANDPA does).
    fn on_sync_event(&mut self, event: SyncEvent) {
        let name = self.protocol.name(&self.genesis);
        match event {
            SyncEvent::PeerConnected { peer_id, .. } => {
                if self.refused || self.views.is_banned(&peer_id) {
                    return;
                }
                let addr = sc_network::multiaddr::Multiaddr::empty()
                    .with(sc_network::multiaddr::Protocol::P2p(peer_id.into()));
                if let Err(e) = self.network.add_peers_to_reserved_set(name, [addr].into()) {
                    log::debug!(target: LOG_TARGET, "cannot reserve {peer_id} on {}: {e}", self.protocol.as_str());
                }
            }
            SyncEvent::PeerDisconnected(peer_id) => {
                // A banned peer left the reserved sets with its ban; asking again only makes
                // sc-network warn about an unknown reserved node.
                if !self.views.is_banned(&peer_id) {
                    let _ = self.network.remove_peers_from_reserved_set(name, vec![peer_id]);
                }
            }
        }
    }

    fn validate(&self, peer: &PeerId, handshake: &[u8]) -> Option<StreamHandshake> {
        if self.refused || self.views.is_banned(peer) {
            return None;
        }
        match StreamHandshake::validate(handshake, &self.genesis) {
            Ok(hs) => Some(hs),
            Err(e) => {
                log::debug!(target: LOG_TARGET, "{peer} refused on {}: {e}", self.protocol.as_str());
                None
            }
        }
    }

    fn on_event(&mut self, routes: &mut Routes, event: NotificationEvent) {
        match event {
            NotificationEvent::ValidateInboundSubstream { peer, handshake, result_tx } => {
                let ok = self.validate(&peer, &handshake).is_some();
                let _ = result_tx.send(if ok {
                    ValidationResult::Accept
                } else {
                    ValidationResult::Reject
                });
            }
            NotificationEvent::NotificationStreamOpened { peer, handshake, direction, .. } => {
                // libp2p does not ask us to validate: check again here, on both backends.
                let sink = self.service.message_sink(&peer);
                match (self.validate(&peer, &handshake), sink) {
                    (Some(hs), Some(sink)) => {
                        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
                        let rx = routes.open(peer, id);
                        self.peers.stream_opened(StreamOpened {
                            peer,
                            protocol: self.protocol,
                            id,
                            roles: hs.roles,
                            inbound: direction.is_inbound(),
                            sink,
                            frames: rx,
                        });
                    }
                    _ => self.peers.drop_stream(peer, self.protocol),
                }
            }
            NotificationEvent::NotificationStreamClosed { peer } => {
                log::debug!(target: LOG_TARGET, "{} stream closed with {peer}", self.protocol.as_str());
                if let Some(id) = routes.close(&peer) {
                    self.peers.stream_closed(peer, self.protocol, id);
                }
            }
            NotificationEvent::NotificationReceived { peer, notification } => {
                self.route(routes, peer, notification);
            }
        }
    }

    fn route(&self, routes: &Routes, peer: PeerId, notification: Vec<u8>) {
        let Some(route) = routes.get(&peer) else {
            log::debug!(target: LOG_TARGET, "{} frame from {peer} without a stream", self.protocol.as_str());
            return;
        };
        let len = notification.len();
        if let Some(change) = over_budget(self.inbound.check(&peer, len)) {
            self.stats.dropped(self.protocol, Loss::InboundBudget);
            self.peers.report(peer, change);
            return;
        }
        match route.deliver(notification) {
            Delivery::Queued => {}
            Delivery::Full => self.stats.dropped(self.protocol, Loss::RouteFull),
            // The stream's task ended (a failed handshake or a fatal frame, reported): its
            // frames have nowhere to go until sc-network closes the stream.
            Delivery::Ended => {}
        }
    }
}

/// The reputation change of an inbound message over its peer's budget, `None` within it.
pub(crate) fn over_budget(verdict: InboundVerdict) -> Option<ReputationChange> {
    match verdict {
        InboundVerdict::Allow => None,
        InboundVerdict::Drop => Some(ReputationChange::RATE_LIMITED),
        InboundVerdict::Abuse => Some(ReputationChange::FLOOD),
    }
}
