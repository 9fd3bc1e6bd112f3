//! GRANDPA's `NotificationService`, implemented over the detr consensus protocol: a stream is
//! open when its AEComms session is up, what GRANDPA receives was opened from a sealed frame,
//! and what it sends is queued at priority 0 on the peer's scheduler and sealed.

use std::sync::Arc;

use bytes::Bytes;
use etrid_p2p_fluent::FlowError;
use etrid_protocol::{ConsensusMessage, Message, Priority};
use sc_network::{
    error,
    service::traits::{MessageSink, NotificationEvent, NotificationService},
    types::ProtocolName,
    PeerId,
};

use crate::{
    consensus::events::ConsensusEvents,
    metrics::{Loss, Stats},
    outbound::{Outbound, Outbox},
    protocols::DetrProtocol,
};

/// GRANDPA's engine id, as in Substrate digests.
pub const GRANDPA_ENGINE_ID: [u8; 4] = *b"FRNK";

/// Queues GRANDPA's messages to one peer.
#[derive(Clone)]
struct Sender {
    outbox: Outbox,
    stats: Arc<Stats>,
}

impl Sender {
    fn frame(notification: Vec<u8>) -> Option<(Outbound, usize)> {
        let message = Message::Consensus(ConsensusMessage {
            engine_id: GRANDPA_ENGINE_ID,
            payload: Bytes::from(notification),
        });
        let out = Outbound::unicast(&message).ok()?;
        let len = out.len();
        Some((out, len))
    }

    fn send_now(&self, peer: &PeerId, notification: Vec<u8>) {
        let Some((out, len)) = Self::frame(notification) else {
            self.stats.dropped(DetrProtocol::Consensus, Loss::TooLarge);
            return;
        };
        match self.outbox.try_send(peer, out, Priority::Critical, len) {
            Ok(()) => {}
            Err(FlowError::UnknownPeer) => {
                self.stats.dropped(DetrProtocol::Consensus, Loss::StreamGone)
            }
            Err(FlowError::QueueFull { .. }) => {
                self.stats.dropped(DetrProtocol::Consensus, Loss::OutboundFull)
            }
        }
    }

    async fn send(&self, peer: &PeerId, notification: Vec<u8>) -> Result<(), error::Error> {
        let Some((out, len)) = Self::frame(notification) else {
            self.stats.dropped(DetrProtocol::Consensus, Loss::TooLarge);
            return Ok(());
        };
        self.outbox.send_priority(peer, out, Priority::Critical, len).await.map_err(|e| match e {
            FlowError::UnknownPeer => error::Error::PeerDoesntExist(*peer),
            FlowError::QueueFull { .. } => error::Error::ChannelClosed,
        })
    }
}

/// The service GRANDPA's voter is given.
pub struct ConsensusService {
    protocol: ProtocolName,
    events: Arc<ConsensusEvents>,
    sender: Sender,
}

impl std::fmt::Debug for ConsensusService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsensusService").field("protocol", &self.protocol).finish()
    }
}

impl ConsensusService {
    pub(crate) fn new(
        protocol: ProtocolName,
        events: Arc<ConsensusEvents>,
        outbox: Outbox,
        stats: Arc<Stats>,
    ) -> Self {
        events.start();
        Self { protocol, events, sender: Sender { outbox, stats } }
    }
}

#[async_trait::async_trait]
impl NotificationService for ConsensusService {
    /// Streams follow sync's peers (sc-network does not implement this either).
    async fn open_substream(&mut self, _peer: PeerId) -> Result<(), ()> {
        Err(())
    }

    /// Streams follow sync's peers (sc-network does not implement this either).
    async fn close_substream(&mut self, _peer: PeerId) -> Result<(), ()> {
        Err(())
    }

    fn send_sync_notification(&mut self, peer: &PeerId, notification: Vec<u8>) {
        self.sender.send_now(peer, notification);
    }

    async fn send_async_notification(
        &mut self,
        peer: &PeerId,
        notification: Vec<u8>,
    ) -> Result<(), error::Error> {
        self.sender.send(peer, notification).await
    }

    /// The detr stream handshake is the plugin's (version, roles, genesis): not GRANDPA's to set.
    async fn set_handshake(&mut self, _handshake: Vec<u8>) -> Result<(), ()> {
        Err(())
    }

    fn try_set_handshake(&mut self, _handshake: Vec<u8>) -> Result<(), ()> {
        Err(())
    }

    async fn next_event(&mut self) -> Option<NotificationEvent> {
        Some(self.events.next().await)
    }

    /// One consumer only (as on litep2p).
    fn clone(&mut self) -> Result<Box<dyn NotificationService>, ()> {
        Err(())
    }

    fn protocol(&self) -> &ProtocolName {
        &self.protocol
    }

    fn message_sink(&self, peer: &PeerId) -> Option<Box<dyn MessageSink>> {
        Some(Box::new(PeerSink { peer: *peer, sender: self.sender.clone() }))
    }
}

/// A sink towards one peer, for senders outside the service.
struct PeerSink {
    peer: PeerId,
    sender: Sender,
}

#[async_trait::async_trait]
impl MessageSink for PeerSink {
    fn send_sync_notification(&self, notification: Vec<u8>) {
        self.sender.send_now(&self.peer, notification);
    }

    async fn send_async_notification(&self, notification: Vec<u8>) -> Result<(), error::Error> {
        self.sender.send(&self.peer, notification).await
    }
}
