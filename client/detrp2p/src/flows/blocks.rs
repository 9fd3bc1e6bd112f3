//! Blocks over detr. The author pushes each block it authors (header, body and justifications)
//! to its peers; a receiver imports it through the import queue (`NetworkBroadcast`) and,
//! once imported, passes it on once to the peers that lack it. Other new best blocks are
//! announced; an announce of an unknown block asks sync for it from that peer. A pushed block
//! that fails import costs its sender reputation; one whose parent is unknown is asked of sync.
//!
//! The import queue's results reach the plugin through [`ImportResults`]: the node wraps its
//! import queue in [`TeeImportQueue`], which passes every result on to sync except the
//! failures of pushed blocks (sync never asked for them, and would restart itself over them).

use std::{num::NonZeroUsize, sync::Arc};

use bytes::Bytes;
use codec::{Decode, Encode};
use etrid_p2p_dpeers::ReputationChange;
use etrid_protocol::{limits, BlockAnnounce, BlockMessage, BlockPush, Message, MessageKind};
use futures::StreamExt;
use lru::LruCache;
use parking_lot::Mutex;
use sc_client_api::{BlockBackend, BlockchainEvents, HeaderBackend};
use sc_consensus::import_queue::{
    BlockImportError, BlockImportStatus, ImportQueue, ImportQueueService, IncomingBlock,
    JustificationImportResult, Link, RuntimeOrigin,
};
use sc_network::{NetworkSyncForkRequest, PeerId};
use sp_consensus::{BlockOrigin, BlockStatus, SyncOracle};
use sp_runtime::{
    traits::{Block as BlockT, Header as HeaderT, NumberFor, UniqueSaturatedInto},
    Justifications,
};
use tokio::sync::mpsc;

use crate::{flows::Known, handle::DetrP2pHandle, protocols::DetrProtocol, LOG_TARGET};

/// Blocks remembered per peer as known to it.
pub const MAX_KNOWN: usize = 1024;
/// Pushed blocks remembered while their import is pending.
const MAX_PUSHED: usize = 1024;

fn hash32<H: AsRef<[u8]>>(hash: &H) -> [u8; 32] {
    let mut out = [0u8; 32];
    let bytes = hash.as_ref();
    let n = bytes.len().min(32);
    out[..n].copy_from_slice(&bytes[..n]);
    out
}

/// What the import queue says of one block.
type BlockImportResult<B> = Result<BlockImportStatus<NumberFor<B>>, BlockImportError>;

/// Pushed blocks whose import is pending, by hash: who sent each and its number.
type PendingImports<B> = LruCache<<B as BlockT>::Hash, (PeerId, NumberFor<B>)>;

/// Pushed blocks whose import is pending: hash → (sender, number).
pub struct Pushed<B: BlockT>(Arc<Mutex<PendingImports<B>>>);

impl<B: BlockT> Clone for Pushed<B> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<B: BlockT> Default for Pushed<B> {
    fn default() -> Self {
        Self(Arc::new(Mutex::new(LruCache::new(NonZeroUsize::new(MAX_PUSHED).expect("non-zero")))))
    }
}

/// The outcome of a pushed block's import.
enum Outcome<B: BlockT> {
    Imported,
    Failed { peer: PeerId },
    UnknownParent { peer: PeerId, hash: B::Hash, number: NumberFor<B> },
}

/// Import results of pushed blocks, from [`TeeImportQueue`] to [`import`].
pub struct ImportResults<B: BlockT>(mpsc::UnboundedReceiver<Outcome<B>>);

/// An import queue that also tells the plugin how its pushed blocks fared.
pub struct TeeImportQueue<B: BlockT, Q> {
    inner: Q,
    pushed: Pushed<B>,
    results: mpsc::UnboundedSender<Outcome<B>>,
}

impl<B: BlockT, Q> TeeImportQueue<B, Q> {
    /// Wraps `inner`; the receiver goes to [`import`].
    pub fn new(inner: Q, pushed: Pushed<B>) -> (Self, ImportResults<B>) {
        let (results, rx) = mpsc::unbounded_channel();
        (Self { inner, pushed, results }, ImportResults(rx))
    }
}

struct Tee<'a, B: BlockT> {
    link: &'a dyn Link<B>,
    pushed: &'a Pushed<B>,
    results: &'a mpsc::UnboundedSender<Outcome<B>>,
}

impl<B: BlockT> Link<B> for Tee<'_, B> {
    fn blocks_processed(
        &self,
        _imported: usize,
        _count: usize,
        results: Vec<(BlockImportResult<B>, B::Hash)>,
    ) {
        let mut forwarded = Vec::with_capacity(results.len());
        for (result, hash) in results {
            let Some((peer, number)) = self.pushed.0.lock().pop(&hash) else {
                forwarded.push((result, hash));
                continue;
            };
            let outcome = match &result {
                Ok(_) => Outcome::Imported,
                Err(BlockImportError::UnknownParent) => {
                    Outcome::UnknownParent { peer, hash, number }
                }
                Err(
                    BlockImportError::VerificationFailed(..)
                    | BlockImportError::BadBlock(_)
                    | BlockImportError::IncompleteHeader(_),
                ) => Outcome::Failed { peer },
                Err(_) => continue,
            };
            let _ = self.results.send(outcome);
            if result.is_ok() {
                forwarded.push((result, hash));
            }
        }
        let imported = forwarded.iter().filter(|(r, _)| r.is_ok()).count();
        if !forwarded.is_empty() {
            self.link.blocks_processed(imported, forwarded.len(), forwarded);
        }
    }

    fn justification_imported(
        &self,
        who: RuntimeOrigin,
        hash: &B::Hash,
        number: NumberFor<B>,
        result: JustificationImportResult,
    ) {
        self.link.justification_imported(who, hash, number, result)
    }

    fn request_justification(&self, hash: &B::Hash, number: NumberFor<B>) {
        self.link.request_justification(hash, number)
    }
}

#[async_trait::async_trait]
impl<B: BlockT, Q: ImportQueue<B>> ImportQueue<B> for TeeImportQueue<B, Q> {
    fn service(&self) -> Box<dyn ImportQueueService<B>> {
        self.inner.service()
    }

    fn service_ref(&mut self) -> &mut dyn ImportQueueService<B> {
        self.inner.service_ref()
    }

    fn poll_actions(&mut self, cx: &mut futures::task::Context, link: &dyn Link<B>) {
        let tee = Tee { link, pushed: &self.pushed, results: &self.results };
        self.inner.poll_actions(cx, &tee)
    }

    async fn run(self, link: &dyn Link<B>) {
        let Self { inner, pushed, results } = self;
        inner.run(&Tee { link, pushed: &pushed, results: &results }).await
    }
}

/// Pushes own blocks, passes on pushed ones once imported, announces other new best blocks.
/// Runs for the node's lifetime.
pub async fn push<B, C, S>(
    handle: DetrP2pHandle,
    client: Arc<C>,
    sync: Arc<S>,
    known: Known<B::Hash>,
) where
    B: BlockT,
    C: BlockchainEvents<B> + BlockBackend<B> + HeaderBackend<B>,
    S: SyncOracle + ?Sized,
{
    let mut imports = client.import_notification_stream();
    while let Some(n) = imports.next().await {
        if sync.is_major_syncing() {
            continue;
        }
        let peers = handle.session_peers(DetrProtocol::Block);
        known.retain(&peers);
        let lacking: Vec<_> = peers.into_iter().filter(|p| !known.contains(p, &n.hash)).collect();
        if lacking.is_empty() {
            continue;
        }
        let whole = matches!(n.origin, BlockOrigin::Own | BlockOrigin::NetworkBroadcast);
        let message = match whole.then(|| full_block(&*client, n.hash, n.header.clone())) {
            Some(Some(push)) => Message::Block(BlockMessage::Push(push)),
            _ if n.is_new_best => Message::Block(BlockMessage::Announce(BlockAnnounce {
                hash: hash32(&n.hash),
                number: (*n.header.number()).unique_saturated_into(),
                parent_hash: hash32(n.header.parent_hash()),
            })),
            _ => continue,
        };
        for peer in lacking {
            if handle.send_message(&peer, message.clone()).is_ok() {
                known.insert(peer, n.hash);
            }
        }
    }
}

/// The block `hash` as a push (header, body, justifications), if its body is here and it fits.
fn full_block<B: BlockT, C: BlockBackend<B>>(
    client: &C,
    hash: B::Hash,
    header: B::Header,
) -> Option<BlockPush> {
    let body = client.block_body(hash).ok().flatten()?;
    let block = B::new(header, body).encode();
    if block.len() > limits::MAX_BLOCK_SIZE {
        return None;
    }
    let justifications =
        client.justifications(hash).ok().flatten().map(|j| Bytes::from(j.encode()));
    Some(BlockPush { block: Bytes::from(block), justifications })
}

/// Imports pushed blocks, follows announces and acts on import results. Runs for the node's
/// lifetime.
#[allow(clippy::too_many_arguments)]
pub async fn import<B, C, S>(
    handle: DetrP2pHandle,
    client: Arc<C>,
    sync: Arc<S>,
    mut queue: Box<dyn ImportQueueService<B>>,
    ImportResults(mut results): ImportResults<B>,
    pushed: Pushed<B>,
    known: Known<B::Hash>,
) where
    B: BlockT,
    C: BlockBackend<B> + HeaderBackend<B>,
    S: SyncOracle + NetworkSyncForkRequest<B::Hash, NumberFor<B>> + ?Sized,
{
    let mut inbound = handle.subscribe(MessageKind::Block, 256, 64 << 20);
    loop {
        tokio::select! {
            received = inbound.next() => {
                let Some(received) = received else { return };
                let Message::Block(message) = &received.message else { continue };
                let peer = received.peer;
                match message {
                    BlockMessage::Push(push) => {
                        on_push(&handle, &*client, &*sync, &mut *queue, &pushed, &known, peer, push)
                    }
                    BlockMessage::Announce(a) => on_announce(&handle, &*client, &*sync, &known, peer, a),
                }
            }
            Some(outcome) = results.recv() => match outcome {
                Outcome::Imported => handle.core.stats.block_imported(),
                Outcome::Failed { peer } => handle.report_peer(peer, ReputationChange::BAD_BLOCK),
                Outcome::UnknownParent { peer, hash, number } => {
                    sync.set_sync_fork_request(vec![peer], hash, number)
                }
            },
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn on_push<B: BlockT, C: BlockBackend<B> + HeaderBackend<B>, S: SyncOracle + ?Sized>(
    handle: &DetrP2pHandle,
    client: &C,
    sync: &S,
    queue: &mut dyn ImportQueueService<B>,
    pushed: &Pushed<B>,
    known: &Known<B::Hash>,
    peer: PeerId,
    push: &BlockPush,
) {
    let Ok(block) = B::decode(&mut &push.block[..]) else {
        handle.report_peer(peer, ReputationChange::DECODE_ERROR);
        return;
    };
    let justifications =
        match push.justifications.as_ref().map(|j| Justifications::decode(&mut &j[..])) {
            Some(Err(_)) => {
                handle.report_peer(peer, ReputationChange::DECODE_ERROR);
                return;
            }
            Some(Ok(j)) => Some(j),
            None => None,
        };
    let (header, body) = block.deconstruct();
    let (hash, number) = (header.hash(), *header.number());
    known.insert(peer, hash);
    handle.core.peers.best_block(peer, number.unique_saturated_into(), hash32(&hash));
    if sync.is_major_syncing() {
        return;
    }
    if !matches!(client.block_status(hash), Ok(BlockStatus::Unknown)) {
        return;
    }
    pushed.0.lock().put(hash, (peer, number));
    log::debug!(target: LOG_TARGET, "importing block #{number} {hash} pushed by {peer}");
    queue.import_blocks(
        BlockOrigin::NetworkBroadcast,
        vec![IncomingBlock {
            hash,
            header: Some(header),
            body: Some(body),
            indexed_body: None,
            justifications,
            origin: None,
            allow_missing_state: false,
            skip_execution: false,
            import_existing: false,
            state: None,
        }],
    );
}

fn on_announce<B, C, S>(
    handle: &DetrP2pHandle,
    client: &C,
    sync: &S,
    known: &Known<B::Hash>,
    peer: PeerId,
    announce: &BlockAnnounce,
) where
    B: BlockT,
    C: HeaderBackend<B>,
    S: SyncOracle + NetworkSyncForkRequest<B::Hash, NumberFor<B>> + ?Sized,
{
    handle.core.peers.best_block(peer, announce.number, announce.hash);
    let Ok(hash) = B::Hash::decode(&mut &announce.hash[..]) else { return };
    known.insert(peer, hash);
    let Ok(number) = NumberFor::<B>::try_from(announce.number) else { return };
    if sync.is_major_syncing() || client.header(hash).ok().flatten().is_some() {
        return;
    }
    sync.set_sync_fork_request(vec![peer], hash, number);
}
