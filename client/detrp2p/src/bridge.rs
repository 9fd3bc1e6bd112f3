//! Bridge messages, exactly once per `(source chain, nonce)`: a task that owns one replay window
//! per source chain (a high-water mark and the last [`WINDOW`] nonces, persisted before anything
//! is delivered, so that restarts and cache churn do not reopen it), delivers new messages to
//! subscribers and relays them one hop further while their hop limit allows. Inbound messages
//! are taken in batches with one write of the windows per batch (a write per message, synced
//! to disk, capped the task near a thousand messages a second and its inbox overflowed). Only
//! chains the runtime accepts may send or receive bridge messages; anything else is neither
//! relayed nor delivered.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::Arc,
};

use codec::{Decode, Encode};
use etrid_p2p_dpeers::ReputationChange;
use etrid_protocol::{limits::DEFAULT_TTL, BridgeMessage, ChainId, Message, MessageKind};
use tokio::sync::{mpsc, oneshot};

use crate::{
    delivery::{Delivery, Inbound, Subscription},
    handle::{DetrP2pHandle, SendError},
    metrics::{Event, Loss},
    protocols::DetrProtocol,
    LOG_TARGET,
};

/// The chain id this node's own bridge messages carry as their source.
pub const LOCAL_CHAIN: ChainId = 0;
/// Nonces remembered below a source's highest (a message older than that is refused). A source's
/// messages may arrive this late with nothing lost: one node's own messages mark its window at
/// once while another node's wait behind that node's queue and a relay's, each up to
/// `max_queue_size` (default 10,000), so the window spans more than two full queues (4 KiB of
/// bits per source). Raise `max_queue_size` past 16,384 and late messages may count as
/// `below_window`.
pub const WINDOW: u64 = 32_768;
/// Most source chains with a window (the runtime accepts at most 64 chains; when it does not
/// restrict them, this bounds what peers can make us remember).
const MAX_SOURCES: usize = 256;
/// Inbound bridge messages waiting for the task.
const INBOX: usize = 1024;
/// Most inbound messages checked per write of the windows.
const BATCH: usize = 256;

/// One source's replay window: the highest nonce and a bit per nonce of the [`WINDOW`] below.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode)]
pub struct Window {
    high: Option<u64>,
    bits: Vec<u64>,
}

/// What a window says of a nonce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// Not seen: now it is.
    New,
    /// Seen before.
    Duplicate,
    /// Below the window: cannot be told apart from a replay, refused.
    TooOld,
}

impl Window {
    fn bit(&mut self, nonce: u64) -> (&mut u64, u64) {
        if self.bits.len() != (WINDOW / 64) as usize {
            self.bits = vec![0; (WINDOW / 64) as usize];
        }
        let i = (nonce % WINDOW) as usize;
        (&mut self.bits[i / 64], 1 << (i % 64))
    }

    /// Checks `nonce` and marks it seen if it is new.
    pub fn check(&mut self, nonce: u64) -> Seen {
        let Some(high) = self.high else {
            self.high = Some(nonce);
            let (word, mask) = self.bit(nonce);
            *word |= mask;
            return Seen::New;
        };
        if nonce > high {
            // Clear the bits of the nonces the window slides past.
            let step = (nonce - high).min(WINDOW);
            for n in 1..=step {
                let (word, mask) = self.bit(high + n);
                *word &= !mask;
            }
            self.high = Some(nonce);
        } else if high - nonce >= WINDOW {
            return Seen::TooOld;
        }
        let (word, mask) = self.bit(nonce);
        if *word & mask != 0 {
            return Seen::Duplicate;
        }
        *word |= mask;
        Seen::New
    }

    /// A window read from disk, made the size of [`WINDOW`]. One written with another size (an
    /// older `WINDOW`, or a damaged file) keeps the marks of the nonces its bits covered, and every
    /// other nonce below its high-water mark counts as seen: nothing delivered before can be
    /// delivered again.
    fn loaded(self) -> Self {
        let words = (WINDOW / 64) as usize;
        let Some(high) = self.high else { return Self::default() };
        if self.bits.len() == words {
            return self;
        }
        let old_span = self.bits.len() as u64 * 64;
        let old = self.bits;
        let mut window = Self { high: Some(high), bits: vec![u64::MAX; words] };
        for nonce in (0..=high).rev().take(old_span.min(WINDOW) as usize) {
            let i = (nonce % old_span) as usize;
            if old[i / 64] & (1 << (i % 64)) == 0 {
                let (word, mask) = window.bit(nonce);
                *word &= !mask;
            }
        }
        window
    }
}

/// The windows of every source, kept in a file.
struct Windows {
    path: Option<PathBuf>,
    windows: HashMap<ChainId, Window>,
    /// A nonce was marked since the last write.
    dirty: bool,
}

impl Windows {
    fn load(dir: Option<&Path>) -> Self {
        let path = dir.map(|d| d.join("detr").join("bridge.bin"));
        let windows = match path.as_ref().map(std::fs::read) {
            Some(Ok(bytes)) => match Vec::<(ChainId, Window)>::decode(&mut &bytes[..]) {
                Ok(list) => {
                    list.into_iter().take(MAX_SOURCES).map(|(c, w)| (c, w.loaded())).collect()
                }
                Err(e) => {
                    log::warn!(target: LOG_TARGET, "bridge windows unreadable ({e}): starting empty");
                    HashMap::new()
                }
            },
            _ => HashMap::new(),
        };
        Self { path, windows, dirty: false }
    }

    /// Checks (and marks) `(source, nonce)`. A new one counts only after [`Self::commit`].
    fn check(&mut self, source: ChainId, nonce: u64) -> Option<Seen> {
        if !self.windows.contains_key(&source) && self.windows.len() >= MAX_SOURCES {
            return None;
        }
        let seen = self.windows.entry(source).or_default().check(nonce);
        self.dirty |= seen == Seen::New;
        Some(seen)
    }

    /// Writes the windows to disk if a nonce was marked since the last write.
    fn commit(&mut self) {
        if std::mem::take(&mut self.dirty) {
            self.save();
        }
    }

    fn save(&self) {
        let Some(path) = &self.path else { return };
        let list: Vec<_> = self.windows.iter().map(|(c, w)| (*c, w.clone())).collect();
        let write = || -> std::io::Result<()> {
            let dir = path.parent().expect("a file in a directory");
            std::fs::create_dir_all(dir)?;
            let tmp = path.with_extension("tmp");
            let file = std::fs::File::create(&tmp)?;
            std::io::Write::write_all(&mut &file, &list.encode())?;
            file.sync_all()?;
            std::fs::rename(&tmp, path)
        };
        if let Err(e) = write() {
            log::warn!(target: LOG_TARGET, "saving the bridge windows failed: {e}");
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_accepts_each_nonce_once_and_refuses_what_it_slid_past() {
        let mut w = Window::default();
        assert_eq!(w.check(10), Seen::New);
        assert_eq!(w.check(10), Seen::Duplicate);
        assert_eq!(w.check(5), Seen::New, "reordered within the window");
        assert_eq!(w.check(5), Seen::Duplicate);
        assert_eq!(w.check(10 + WINDOW), Seen::New);
        assert_eq!(w.check(10), Seen::TooOld);
        assert_eq!(w.check(11), Seen::New, "just inside the window");
        assert_eq!(w.check(u64::MAX), Seen::New);
        assert_eq!(w.check(u64::MAX - WINDOW + 1), Seen::New);
    }

    #[test]
    fn a_message_replayed_after_100_000_others_is_still_refused() {
        let mut w = Window::default();
        assert_eq!(w.check(7), Seen::New);
        for n in 1_000_000..1_100_000 {
            w.check(n);
        }
        assert_ne!(w.check(7), Seen::New);
    }

    #[test]
    fn a_message_overtaken_by_two_full_queues_of_others_is_still_new() {
        // One node's own messages mark its window at once; another node's wait behind that
        // node's queue and a relay's, each up to `max_queue_size` messages.
        let late = 2 * etrid_p2p_fluent::FlowConfig::default().max_queue_size as u64;
        let mut w = Window::default();
        assert_eq!(w.check(1 + late), Seen::New);
        assert_eq!(w.check(1), Seen::New, "{late} nonces late");
    }

    #[test]
    fn a_window_saved_with_another_size_delivers_nothing_twice() {
        // A window of 4,096 nonces (an older size) that saw 9,999 and 10,000 but not 9,998.
        let mut old = Window { high: Some(10_000), bits: vec![0; 4096 / 64] };
        for nonce in [9_999u64, 10_000] {
            let i = (nonce % 4096) as usize;
            old.bits[i / 64] |= 1 << (i % 64);
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("detr")).unwrap();
        std::fs::write(dir.path().join("detr/bridge.bin"), vec![(7u32, old)].encode()).unwrap();
        let mut windows = Windows::load(Some(dir.path()));
        assert_eq!(windows.check(7, 9_999), Some(Seen::Duplicate));
        assert_eq!(windows.check(7, 10_000), Some(Seen::Duplicate));
        assert_eq!(windows.check(7, 9_998), Some(Seen::New), "the old window knew it was not seen");
        let below = 10_000 - 4096;
        assert_ne!(windows.check(7, below), Some(Seen::New), "the old window could not tell");
        assert_eq!(windows.check(7, 10_001), Some(Seen::New));
    }

    #[test]
    fn windows_survive_a_restart_and_sources_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let mut windows = Windows::load(Some(dir.path()));
        assert_eq!(windows.check(7, 42), Some(Seen::New));
        windows.commit();
        let mut again = Windows::load(Some(dir.path()));
        assert_eq!(again.check(7, 42), Some(Seen::Duplicate));
        for source in 0..MAX_SOURCES as u32 + 10 {
            windows.check(1000 + source, 1);
        }
        assert_eq!(windows.windows.len(), MAX_SOURCES);
        assert_eq!(windows.check(99_999, 1), None);
    }
}
