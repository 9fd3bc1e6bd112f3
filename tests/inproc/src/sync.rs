//! [`SyncStandIn`]: what sc-network-sync tells other protocols about peers, without a chain.
//! A peer that opens the block-announce protocol with us is "connected"; when it closes, it is
//! "disconnected". Like sync, it records the peer's role in the peer store, which libp2p needs
//! before it lets other notification protocols open with that peer.

use std::{collections::HashSet, pin::Pin, sync::Arc};

use codec::Decode;
use futures::{channel::mpsc, Stream};
use sc_network::{
    peer_store::PeerStoreProvider,
    service::traits::{NotificationEvent, ValidationResult},
    NotificationService, PeerId, Roles,
};
use sc_network_common::sync::message::BlockAnnouncesHandshake;
use sc_network_sync::{types::SyncEventStream, SyncEvent};
use std::sync::Mutex;

/// Sync events from the block-announce protocol's opens and closes.
#[derive(Clone, Default)]
pub struct SyncStandIn {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    connected: HashSet<PeerId>,
    subscribers: Vec<mpsc::UnboundedSender<SyncEvent>>,
}

impl Inner {
    fn publish(&mut self, event: impl Fn() -> SyncEvent) {
        self.subscribers.retain(|tx| tx.unbounded_send(event()).is_ok());
    }
}

impl SyncStandIn {
    /// Peers with an open block-announce stream.
    pub fn connected(&self) -> Vec<PeerId> {
        self.inner.lock().expect("not poisoned").connected.iter().copied().collect()
    }

    /// Serves the block-announce protocol: accepts every stream, publishes opens and closes.
    pub async fn run(
        self,
        mut service: Box<dyn NotificationService>,
        handshake: Vec<u8>,
        peer_store: Arc<dyn PeerStoreProvider>,
    ) {
        // litep2p starts every protocol with the node role as its handshake: set ours.
        let _ = service.set_handshake(handshake).await;
        while let Some(event) = service.next_event().await {
            let mut inner = self.inner.lock().expect("not poisoned");
            match event {
                NotificationEvent::ValidateInboundSubstream { result_tx, .. } => {
                    let _ = result_tx.send(ValidationResult::Accept);
                }
                NotificationEvent::NotificationStreamOpened { peer, handshake, .. } => {
                    let roles =
                        BlockAnnouncesHandshake::<crate::Block>::decode(&mut &handshake[..])
                            .map_or(Roles::FULL, |h| h.roles);
                    peer_store.set_peer_role(&peer, roles.into());
                    if inner.connected.insert(peer) {
                        inner.publish(|| SyncEvent::PeerConnected { peer_id: peer, roles });
                    }
                }
                NotificationEvent::NotificationStreamClosed { peer } => {
                    if inner.connected.remove(&peer) {
                        inner.publish(|| SyncEvent::PeerDisconnected(peer));
                    }
                }
                NotificationEvent::NotificationReceived { .. } => {}
            }
        }
    }
}

impl SyncEventStream for SyncStandIn {
    fn event_stream(&self, _name: &'static str) -> Pin<Box<dyn Stream<Item = SyncEvent> + Send>> {
        let (tx, rx) = mpsc::unbounded();
        let mut inner = self.inner.lock().expect("not poisoned");
        for peer in &inner.connected {
            let _ =
                tx.unbounded_send(SyncEvent::PeerConnected { peer_id: *peer, roles: Roles::FULL });
        }
        inner.subscribers.push(tx);
        Box::pin(rx)
    }
}
