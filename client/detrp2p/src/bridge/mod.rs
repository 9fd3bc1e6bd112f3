//! Bridge messages, exactly once per `(source chain, nonce)`: a task that owns one replay window
//! per source chain (a high-water mark and the last [`WINDOW`] nonces, persisted before anything
//! is delivered, so that restarts and cache churn do not reopen it), delivers new messages to
//! subscribers and relays them one hop further while their hop limit allows. Inbound messages
//! are taken in batches with one commit of the windows per batch (a synced write per message
//! capped the task near a thousand messages a second and its inbox overflowed); a commit appends
//! the nonces marked to a journal (`windows.rs`). Only chains the runtime accepts may send or
//! receive bridge messages; anything else is neither relayed nor delivered.

mod window;
mod windows;

pub use window::{Seen, Window, WINDOW};

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use etrid_p2p_dpeers::ReputationChange;
use etrid_protocol::{limits::DEFAULT_TTL, BridgeMessage, ChainId, Message, MessageKind};
use tokio::sync::{mpsc, oneshot};

use crate::{
    delivery::{Delivery, Inbound, Subscription},
    handle::{DetrP2pHandle, SendError},
    metrics::{Event, Loss},
    protocols::DetrProtocol,
};
use windows::Windows;

/// The chain id this node's own bridge messages carry as their source.
pub const LOCAL_CHAIN: ChainId = 0;
/// Inbound bridge messages waiting for the task.
const INBOX: usize = 1024;
/// Most inbound messages checked per commit of the windows.
const BATCH: usize = 256;

enum Cmd {
    Local(BridgeMessage, oneshot::Sender<Result<usize, SendError>>),
}

/// Local sends to the bridge task.
#[derive(Clone)]
pub(crate) struct BridgeTx(mpsc::Sender<Cmd>);

impl BridgeTx {
    pub async fn send_local(&self, message: BridgeMessage) -> Result<usize, SendError> {
        let (reply, rx) = oneshot::channel();
        self.0.send(Cmd::Local(message, reply)).await.map_err(|_| SendError::Stopped)?;
        rx.await.map_err(|_| SendError::Stopped)?
    }
}

/// The bridge task's receiving ends.
pub(crate) struct BridgeRx {
    local: mpsc::Receiver<Cmd>,
    dir: Option<PathBuf>,
    /// Delivered messages, for `detr_subscribeBridgeMessages`.
    pub delivered: Arc<Delivery>,
}

pub(crate) fn channel(dir: Option<&Path>) -> (BridgeTx, BridgeRx) {
    let (tx, rx) = mpsc::channel(64);
    let delivered = Arc::new(Delivery::default());
    (BridgeTx(tx), BridgeRx { local: rx, dir: dir.map(Path::to_path_buf), delivered })
}

/// Runs for the node's lifetime.
pub(crate) async fn run(handle: DetrP2pHandle, rx: BridgeRx) {
    let BridgeRx { mut local, dir, delivered } = rx;
    let mut windows = Windows::load(dir.as_deref());
    let mut inbound = handle.subscribe(MessageKind::Bridge, INBOX, 64 << 20);
    loop {
        tokio::select! {
            Some(Cmd::Local(message, reply)) = local.recv() => {
                let seen = windows.check(message.source_chain, message.nonce);
                windows.commit();
                let sent = match seen {
                    Some(Seen::New) => Ok(handle.relay(&Message::Bridge(message), None)),
                    _ => Err(SendError::NonceUsed(message.nonce)),
                };
                let _ = reply.send(sent);
            }
            Some(first) = inbound.next() => {
                let mut batch = vec![first];
                while batch.len() < BATCH {
                    let Some(next) = inbound.try_next() else { break };
                    batch.push(next);
                }
                let new: Vec<_> =
                    batch.iter().filter(|m| is_new(&handle, &mut windows, m)).collect();
                windows.commit();
                for received in new {
                    deliver(&handle, &delivered, received);
                }
            }
            else => break,
        }
    }
}

/// Whether `received` is a bridge message to deliver: accepted chains, a valid ttl, a new nonce
/// (marked, to be committed before delivery).
fn is_new(handle: &DetrP2pHandle, windows: &mut Windows, received: &Inbound) -> bool {
    let Message::Bridge(message) = &received.message else { return false };
    let stats = &handle.core.stats;
    let settings = &handle.core.settings;
    let accepted = |c: ChainId| c == LOCAL_CHAIN || settings.accepts_chain(c);
    if !accepted(message.destination_chain) || !accepted(message.source_chain) {
        // Perhaps a peer that read another finalized block's chain list: dropped, not blamed.
        stats.dropped(DetrProtocol::Bridge, Loss::NotAccepted);
        return false;
    }
    if message.ttl == 0 || message.ttl > DEFAULT_TTL {
        handle.report_peer(received.peer, ReputationChange::UNEXPECTED_MESSAGE);
        return false;
    }
    match windows.check(message.source_chain, message.nonce) {
        Some(Seen::New) => true,
        Some(Seen::Duplicate) => {
            stats.count(DetrProtocol::Bridge, Event::Duplicate);
            false
        }
        Some(Seen::TooOld) => {
            stats.dropped(DetrProtocol::Bridge, Loss::BelowWindow);
            false
        }
        None => {
            stats.dropped(DetrProtocol::Bridge, Loss::NotAccepted);
            false
        }
    }
}

/// Delivers a new bridge message to subscribers and relays it one hop further.
fn deliver(handle: &DetrP2pHandle, delivered: &Delivery, received: &Inbound) {
    let Message::Bridge(message) = &received.message else { return };
    let (stats, settings) = (&handle.core.stats, &handle.core.settings);
    let restricted = settings.bridge_chains().is_some();
    stats.bridge_delivered(message.source_chain, restricted);
    let lost =
        delivered.deliver(Inbound { peer: received.peer, message: received.message.clone() });
    stats.dropped_n(DetrProtocol::Bridge, Loss::SubscriberLag, lost);
    if let Some(next) = message.relayed() {
        handle.relay(&Message::Bridge(next), Some(received.peer));
    }
}

/// Delivered bridge messages, at most `max_messages` and `max_bytes` waiting.
pub(crate) fn subscribe(
    delivered: &Delivery,
    max_messages: usize,
    max_bytes: usize,
) -> Subscription {
    delivered.subscribe(MessageKind::Bridge, max_messages, max_bytes)
}
