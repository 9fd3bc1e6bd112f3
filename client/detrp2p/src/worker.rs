//! One task per detr protocol: owns its `NotificationService`, opens streams for synced peers,
//! runs the AEComms handshake, opens, checks and dispatches inbound frames.

use std::{collections::HashMap, pin::Pin, sync::Arc, time::Instant};

use codec::{Decode, Encode};
use etrid_aecomms::{AeError, Binding, Channel, HandshakeMessage, RemoteIdentity};
use etrid_p2p_dpeers::ReputationChange;
use etrid_p2p_fluent::InboundVerdict;
use etrid_p2p_stored::ConnectionKind;
use etrid_protocol::{Envelope, Message, Protocol};
use futures::{FutureExt, Stream as FutStream, StreamExt};
use sc_network::{
    service::traits::{NotificationEvent, NotificationService, ValidationResult},
    PeerId,
};
use sc_network_sync::SyncEvent;
use sp_core::traits::SpawnNamed;

use crate::{
    handle::{relay, Hop},
    protocols::{DetrProtocol, FrameTag, StreamHandshake},
    sender,
    shared::{Shared, Stream},
    stats::Event,
    LOG_TARGET,
};

/// The task of one protocol.
pub(crate) struct Worker {
    pub protocol: DetrProtocol,
    pub service: Box<dyn NotificationService>,
    pub shared: Arc<Shared>,
    pub sync_events: Pin<Box<dyn FutStream<Item = SyncEvent> + Send>>,
    pub spawner: Box<dyn SpawnNamed>,
    /// Our SCALE-encoded [`StreamHandshake`].
    pub handshake: Vec<u8>,
}

impl Worker {
    /// Runs until the network shuts down.
    pub async fn run(mut self) {
        // litep2p replaces every notification handshake with the node role at start: set ours.
        if self.service.set_handshake(self.handshake.clone()).await.is_err() {
            log::warn!(target: LOG_TARGET, "cannot set the {} stream handshake", self.protocol.as_str());
        }
        loop {
            futures::select! {
                event = self.service.next_event().fuse() => match event {
                    Some(event) => self.on_event(event),
                    None => return,
                },
                event = self.sync_events.next().fuse() => match event {
                    Some(event) => self.on_sync_event(event),
                    None => return,
                },
            }
        }
    }

    fn network(&self) -> Option<&Arc<dyn sc_network::service::traits::NetworkService>> {
        self.shared.network.get()
    }

    /// Opens our side of the protocol towards every peer sync knows (like GRANDPA does).
    fn on_sync_event(&mut self, event: SyncEvent) {
        let Some(network) = self.network() else { return };
        let name = self.shared.protocol_name(self.protocol);
        match event {
            SyncEvent::PeerConnected { peer_id, .. } => {
                if self.shared.registry.lock().is_banned(&peer_id, Instant::now()) {
                    return;
                }
                let addr = sc_network::multiaddr::Multiaddr::empty()
                    .with(sc_network::multiaddr::Protocol::P2p(peer_id.into()));
                if let Err(e) =
                    network.add_peers_to_reserved_set(name, [addr].into_iter().collect())
                {
                    log::debug!(target: LOG_TARGET, "cannot reserve {peer_id} on {}: {e}", self.protocol.as_str());
                }
            }
            SyncEvent::PeerDisconnected(peer_id) => {
                // A banned peer left the reserved sets with its ban; asking again only makes
                // sc-network warn about an unknown reserved node.
                if !self.shared.registry.lock().is_banned(&peer_id, Instant::now()) {
                    let _ = network.remove_peers_from_reserved_set(name, vec![peer_id]);
                }
            }
        }
    }

    fn validate(&self, peer: &PeerId, handshake: &[u8]) -> Option<StreamHandshake> {
        if self.shared.registry.lock().is_banned(peer, Instant::now()) {
            return None;
        }
        match StreamHandshake::validate(handshake, &self.shared.genesis) {
            Ok(hs) => Some(hs),
            Err(e) => {
                log::debug!(target: LOG_TARGET, "{peer} refused on {}: {e}", self.protocol.as_str());
                None
            }
        }
    }

    pub(crate) fn on_event(&mut self, event: NotificationEvent) {
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
                self.on_opened(peer, &handshake, direction.is_inbound());
            }
            NotificationEvent::NotificationStreamClosed { peer } => self.on_closed(peer),
            NotificationEvent::NotificationReceived { peer, notification } => {
                self.on_received(peer, notification);
            }
        }
    }

    /// Closes this protocol's stream with `peer`.
    fn disconnect(&self, peer: PeerId) {
        if let Some(network) = self.network() {
            self.shared.drop_stream(network.as_ref(), peer, self.protocol);
        }
    }

    fn on_opened(&mut self, peer: PeerId, handshake: &[u8], inbound: bool) {
        // libp2p does not ask us to validate: check again here, on both backends.
        let Some(hs) = self.validate(&peer, handshake) else {
            self.disconnect(peer);
            return;
        };
        let Some(public) =
            peer.into_ed25519().and_then(|k| ed25519_dalek::VerifyingKey::from_bytes(&k).ok())
        else {
            log::debug!(target: LOG_TARGET, "{peer} has no Ed25519 identity: refused");
            self.disconnect(peer);
            return;
        };
        let now = Instant::now();
        if let Err(e) = self.shared.registry.lock().connected_peer(&peer, now) {
            log::debug!(target: LOG_TARGET, "{peer} refused: {e}");
            self.disconnect(peer);
            return;
        }
        let binding = Binding {
            remote: RemoteIdentity { peer_id: peer.to_bytes(), public },
            protocol: self.shared.protocol_name(self.protocol).as_bytes().to_vec(),
            genesis: self.shared.genesis,
        };
        let policy = self.shared.config.read().rekey;
        let mut channel = Channel::new(self.shared.local.clone(), binding, policy);
        let hello = channel.start_handshake();
        let stream = Arc::new(Stream {
            channel: parking_lot::Mutex::new(channel),
            established: Default::default(),
            on_established: Default::default(),
            roles: hs.roles,
            opened_at: now,
        });
        let first = {
            let mut streams = self.shared.streams.lock();
            let first = !streams.keys().any(|(p, _)| *p == peer);
            streams.insert((peer, self.protocol), stream.clone());
            first
        };
        if first {
            self.shared.remember(&peer, ConnectionKind::Connected, inbound);
        }
        self.shared.flow(self.protocol).add_peer(peer);
        self.update_sessions();
        self.service.send_sync_notification(&peer, FrameTag::Handshake.frame(&hello.encode()));
        match self.service.message_sink(&peer) {
            Some(sink) => {
                let task = sender::run(self.shared.clone(), self.protocol, peer, stream, sink);
                self.spawner.spawn("detr-sender", Some("detr-p2p"), Box::pin(task));
            }
            None => log::debug!(target: LOG_TARGET, "no message sink for {peer}"),
        }
        log::debug!(target: LOG_TARGET, "{} stream open with {peer}", self.protocol.as_str());
    }

    fn on_closed(&mut self, peer: PeerId) {
        self.shared.streams.lock().remove(&(peer, self.protocol));
        self.shared.flow(self.protocol).remove_peer(&peer);
        self.shared.inbound.forget(&(peer, self.protocol));
        let still_open = self.shared.streams.lock().keys().any(|(p, _)| *p == peer);
        if !still_open {
            self.shared.remember(&peer, ConnectionKind::Disconnected, false);
            self.shared.registry.lock().disconnected(&peer, Instant::now());
            self.shared.best_blocks.lock().remove(&peer);
        }
        self.update_sessions();
    }

    fn update_sessions(&self) {
        let n = self
            .shared
            .streams
            .lock()
            .iter()
            .filter(|((_, p), s)| *p == self.protocol && s.is_established())
            .count();
        self.shared.stats.set_sessions(self.protocol, n as u64);
    }

    fn on_received(&mut self, peer: PeerId, notification: Vec<u8>) {
        let Some(stream) = self.shared.streams.lock().get(&(peer, self.protocol)).cloned() else {
            return;
        };
        match notification.split_first() {
            Some((tag, body)) if *tag == FrameTag::Handshake as u8 => {
                self.on_handshake(peer, &stream, body)
            }
            Some((tag, body)) if *tag == FrameTag::Sealed as u8 => {
                self.on_sealed(peer, &stream, body)
            }
            _ => {
                self.shared.stats.count(self.protocol, Event::DecodeError);
                self.shared.report(peer, ReputationChange::DECODE_ERROR);
            }
        }
    }

    fn on_handshake(&mut self, peer: PeerId, stream: &Stream, body: &[u8]) {
        let result = HandshakeMessage::decode(&mut &body[..])
            .map_err(|_| AeError::BadSignature)
            .and_then(|msg| stream.channel.lock().on_handshake(&msg, Instant::now()));
        match result {
            Ok(reply) => {
                if let Some(reply) = reply {
                    self.service
                        .send_sync_notification(&peer, FrameTag::Handshake.frame(&reply.encode()));
                }
                self.shared.stats.count(self.protocol, Event::Handshake);
                self.shared.report(peer, ReputationChange::HANDSHAKE_OK);
                if !stream.established.swap(true, std::sync::atomic::Ordering::AcqRel) {
                    stream.on_established.notify_waiters();
                    self.update_sessions();
                    log::debug!(target: LOG_TARGET, "{} session up with {peer}", self.protocol.as_str());
                }
            }
            Err(e) => {
                log::debug!(target: LOG_TARGET, "bad handshake from {peer} on {}: {e}", self.protocol.as_str());
                self.shared.stats.count(self.protocol, Event::HandshakeFailure);
                self.shared.report(peer, ReputationChange::BAD_HANDSHAKE);
            }
        }
    }

    fn on_sealed(&mut self, peer: PeerId, stream: &Stream, body: &[u8]) {
        match self.shared.inbound.check(&(peer, self.protocol)) {
            InboundVerdict::Allow => {}
            InboundVerdict::Drop => {
                self.shared.stats.count(self.protocol, Event::Dropped);
                self.shared.report(peer, ReputationChange::RATE_LIMITED);
                return;
            }
            InboundVerdict::Abuse => {
                self.shared.stats.count(self.protocol, Event::Dropped);
                self.shared.report(peer, ReputationChange::FLOOD);
                return;
            }
        }
        let opened = stream.channel.lock().open(body);
        let plaintext = match opened {
            Ok(p) => p,
            Err(e) => {
                self.shared.stats.count(self.protocol, Event::DecryptFailure);
                let change = match e {
                    AeError::Replay { .. } => ReputationChange::REPLAY,
                    _ => ReputationChange::BAD_TAG,
                };
                log::debug!(target: LOG_TARGET, "frame from {peer} refused: {e}");
                self.shared.report(peer, change);
                return;
            }
        };
        let envelope = match Envelope::deserialize(&plaintext) {
            Ok(e) if DetrProtocol::for_kind(e.kind()) == Some(self.protocol) => e,
            Ok(_) | Err(_) => {
                self.shared.stats.count(self.protocol, Event::DecodeError);
                self.shared.report(peer, ReputationChange::DECODE_ERROR);
                return;
            }
        };
        if !self.shared.first_sight(&envelope.id) {
            self.shared.stats.count(self.protocol, Event::Duplicate);
            return;
        }
        self.shared.stats.count(self.protocol, Event::Received);
        self.dispatch(peer, envelope);
    }

    fn dispatch(&mut self, peer: PeerId, envelope: Envelope) {
        match &envelope.message {
            Message::Block(announce) => {
                self.shared.best_blocks.lock().insert(peer, (announce.number, announce.hash));
            }
            Message::Bridge(bridge) => {
                self.shared.stats.bridge_delivered(bridge.source_chain);
                relay(&self.shared, &envelope, Hop::Next, Some(peer));
            }
            _ => {}
        }
        let _ = self.shared.inbound_tx.send((peer, envelope));
    }
}

/// Peers with an established session on `protocol`.
pub(crate) fn session_peers(shared: &Shared, protocol: DetrProtocol) -> Vec<PeerId> {
    shared
        .streams
        .lock()
        .iter()
        .filter(|((_, p), s)| *p == protocol && s.is_established())
        .map(|((peer, _), _)| *peer)
        .collect()
}

/// Open streams by peer, for inspection.
pub(crate) fn streams_by_peer(
    shared: &Shared,
) -> HashMap<PeerId, Vec<(DetrProtocol, Arc<Stream>)>> {
    let mut by_peer: HashMap<PeerId, Vec<(DetrProtocol, Arc<Stream>)>> = HashMap::new();
    for ((peer, protocol), stream) in shared.streams.lock().iter() {
        by_peer.entry(*peer).or_default().push((*protocol, stream.clone()));
    }
    by_peer
}
