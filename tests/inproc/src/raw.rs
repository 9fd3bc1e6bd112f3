//! The raw side of the benches: a notification protocol driven directly on sc-network, the
//! baseline the plugin's path is measured against, pipelined as the plugin is (the caller
//! queues without waiting; a sender task per peer drains the queue into the peer's sink).

use std::time::Instant;

use sc_network::{
    service::traits::{NotificationEvent, ValidationResult},
    MessageSink, NotificationService, Roles,
};
use tokio::sync::mpsc;

use crate::RawProtocol;

/// The raw protocol's name.
pub const RAW: &str = "/flarechain-bench/raw/1";

/// The raw protocol: full-node role handshake, notifications up to 1 MiB.
pub fn raw_protocol() -> RawProtocol {
    // libp2p opens streams of non-sync protocols only with peers whose role it knows: a
    // handshake that decodes as `Roles` says it.
    RawProtocol { name: RAW.into(), handshake: vec![Roles::FULL.bits()], max_size: 1024 * 1024 }
}

/// Accepts every stream of `service`; reports each notification's receipt time on `received`
/// and the sink of every peer whose stream opens on `opened`.
pub async fn pump(
    mut service: Box<dyn NotificationService>,
    received: mpsc::UnboundedSender<Instant>,
    opened: mpsc::UnboundedSender<Box<dyn MessageSink>>,
) {
    while let Some(event) = service.next_event().await {
        match event {
            NotificationEvent::ValidateInboundSubstream { result_tx, .. } => {
                let _ = result_tx.send(ValidationResult::Accept);
            }
            NotificationEvent::NotificationStreamOpened { peer, .. } => {
                if let Some(sink) = service.message_sink(&peer) {
                    let _ = opened.send(sink);
                }
            }
            NotificationEvent::NotificationReceived { .. } => {
                let _ = received.send(Instant::now());
            }
            NotificationEvent::NotificationStreamClosed { .. } => {}
        }
    }
}

/// Starts the sender task of one peer's sink (the counterpart of the plugin's per-peer
/// sender) and returns its queue.
pub fn spawn_sender(sink: Box<dyn MessageSink>) -> mpsc::UnboundedSender<Vec<u8>> {
    let (queue, mut queued) = mpsc::unbounded_channel::<Vec<u8>>();
    tokio::spawn(async move {
        while let Some(notification) = queued.recv().await {
            sink.send_async_notification(notification).await.expect("raw stream open");
        }
    });
    queue
}
