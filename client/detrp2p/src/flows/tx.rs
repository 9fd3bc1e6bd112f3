//! The node's transactions over detr, with sc-network-transactions' discipline: nothing while
//! major syncing; each peer gets a transaction once (a per-peer known set, marked when a
//! transaction is queued to the peer or received from it); new transactions go out in batches
//! of many extrinsics up to [`BATCH_BYTES`]; every ready transaction is offered again every
//! [`PROPAGATE_EVERY`]; at most [`MAX_PENDING`] imports wait for the pool, and invalid ones cost
//! their sender reputation.

use std::{collections::HashMap, sync::Arc, time::Duration};

use bytes::Bytes;
use codec::{Decode, Encode};
use etrid_p2p_dpeers::ReputationChange;
use etrid_protocol::{Message, MessageKind, TransactionMessage};
use futures::{stream::FuturesUnordered, StreamExt};
use sc_client_api::HeaderBackend;
use sc_network::PeerId;
use sc_transaction_pool_api::{
    error::IntoPoolError, InPoolTransaction, TransactionPool, TransactionSource, TxHash,
};
use sp_consensus::SyncOracle;
use sp_runtime::traits::Block as BlockT;

use crate::{flows::Known, handle::DetrP2pHandle, protocols::DetrProtocol, LOG_TARGET};

/// Every ready transaction is offered again this often (as sc-network-transactions does).
pub const PROPAGATE_EVERY: Duration = Duration::from_millis(2900);
/// New transactions are gathered this long before they go out in one batch per peer.
pub const BATCH_DELAY: Duration = Duration::from_millis(20);
/// Largest batch (one message): consensus never waits behind more than this on a link.
pub const BATCH_BYTES: usize = 256 * 1024;
/// Transactions remembered per peer as known to it.
pub const MAX_KNOWN: usize = 10_240;
/// Imports waiting for the pool; beyond, received transactions are ignored.
pub const MAX_PENDING: usize = 8192;

/// Sends `txs` (hash, encoding) to every peer with a tx session that does not know them, in
/// batches; marks what was queued as known. Returns how many transactions were queued.
fn send<H: std::hash::Hash + Eq + Clone>(
    handle: &DetrP2pHandle,
    known: &Known<H>,
    txs: &[(H, Bytes)],
) -> usize {
    let peers = handle.session_peers(DetrProtocol::Tx);
    known.retain(&peers);
    let mut queued = 0;
    for peer in peers {
        let fresh: Vec<_> = txs.iter().filter(|(h, _)| !known.contains(&peer, h)).collect();
        for batch in batches(&fresh) {
            let extrinsics = batch.iter().map(|(_, x)| x.clone()).collect();
            let message = Message::Transactions(TransactionMessage { extrinsics });
            if handle.send_message(&peer, message).is_err() {
                // Queue full or session gone: not known, offered again later.
                break;
            }
            for (hash, _) in batch {
                known.insert(peer, hash.clone());
            }
            queued += batch.len();
        }
    }
    queued
}

/// Splits `txs` into batches of at most [`BATCH_BYTES`] (a larger transaction goes alone).
fn batches<'a, T>(txs: &'a [&'a (T, Bytes)]) -> Vec<&'a [&'a (T, Bytes)]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, (_, x)) in txs.iter().enumerate() {
        if i > start && bytes + x.len() > BATCH_BYTES {
            out.push(&txs[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += x.len();
    }
    if start < txs.len() {
        out.push(&txs[start..]);
    }
    out
}

/// Propagates the local pool's transactions. Runs for the node's lifetime.
pub async fn propagate<P, S>(
    handle: DetrP2pHandle,
    pool: Arc<P>,
    sync: Arc<S>,
    known: Known<TxHash<P>>,
) where
    P: TransactionPool + 'static,
    S: SyncOracle + ?Sized,
{
    let mut imported = pool.import_notification_stream();
    let mut every = tokio::time::interval(PROPAGATE_EVERY);
    let mut fresh: Vec<TxHash<P>> = Vec::new();
    let flush = tokio::time::sleep(BATCH_DELAY);
    tokio::pin!(flush);
    loop {
        tokio::select! {
            hash = imported.next() => match hash {
                Some(hash) => {
                    if fresh.is_empty() {
                        flush.as_mut().reset(tokio::time::Instant::now() + BATCH_DELAY);
                    }
                    if fresh.len() < MAX_PENDING {
                        fresh.push(hash);
                    }
                }
                None => return,
            },
            () = &mut flush, if !fresh.is_empty() => {
                let txs: Vec<_> = fresh
                    .drain(..)
                    .filter_map(|h| pool.ready_transaction(&h))
                    .filter(|tx| tx.is_propagable())
                    .map(|tx| (tx.hash().clone(), Bytes::from(tx.data().encode())))
                    .collect();
                if !sync.is_major_syncing() {
                    send(&handle, &known, &txs);
                }
            },
            _ = every.tick() => {
                if sync.is_major_syncing() {
                    continue;
                }
                let txs: Vec<_> = pool
                    .ready()
                    .filter(|tx| tx.is_propagable())
                    .map(|tx| (tx.hash().clone(), Bytes::from(tx.data().encode())))
                    .collect();
                let queued = send(&handle, &known, &txs);
                if queued > 0 {
                    log::debug!(target: LOG_TARGET, "re-propagated {queued} transactions");
                }
            },
        }
    }
}

/// Imports transactions received over detr into the pool. Runs for the node's lifetime.
pub async fn import<B, P, C, S>(
    handle: DetrP2pHandle,
    pool: Arc<P>,
    client: Arc<C>,
    sync: Arc<S>,
    known: Known<TxHash<P>>,
) where
    B: BlockT,
    P: TransactionPool<Block = B> + 'static,
    C: HeaderBackend<B>,
    S: SyncOracle + ?Sized,
{
    let mut inbound = handle.subscribe(MessageKind::Transactions, 1024, 64 << 20);
    let mut pending = FuturesUnordered::new();
    let mut waiting: HashMap<TxHash<P>, Vec<PeerId>> = HashMap::new();
    loop {
        tokio::select! {
            received = inbound.next() => {
                let Some(received) = received else { return };
                let Message::Transactions(message) = &received.message else { continue };
                if sync.is_major_syncing() {
                    continue;
                }
                let peer = received.peer;
                for bytes in &message.extrinsics {
                    if pending.len() >= MAX_PENDING {
                        log::debug!(target: LOG_TARGET, "over {MAX_PENDING} pending imports: transactions ignored");
                        break;
                    }
                    let Ok(xt) = B::Extrinsic::decode(&mut &bytes[..]) else {
                        handle.report_peer(peer, ReputationChange::BAD_TRANSACTION);
                        continue;
                    };
                    let hash = pool.hash_of(&xt);
                    known.insert(peer, hash.clone());
                    if let Some(peers) = waiting.get_mut(&hash) {
                        peers.push(peer);
                        continue;
                    }
                    waiting.insert(hash.clone(), vec![peer]);
                    let (pool, best) = (pool.clone(), client.info().best_hash);
                    pending.push(async move {
                        let result = pool.submit_one(best, TransactionSource::External, xt).await;
                        (hash, result)
                    });
                }
            }
            Some((hash, result)) = pending.next(), if !pending.is_empty() => {
                let peers = waiting.remove(&hash).unwrap_or_default();
                let change = match result {
                    Ok(_) => Some(ReputationChange::GOOD_TRANSACTION),
                    // Only invalid transactions cost the sender; already known, outdated or a
                    // full pool are nobody's fault.
                    Err(e) => matches!(
                        e.into_pool_error(),
                        Ok(sc_transaction_pool_api::error::Error::InvalidTransaction(_))
                    )
                    .then_some(ReputationChange::BAD_TRANSACTION),
                };
                if let Some(change) = change {
                    for peer in peers {
                        handle.report_peer(peer, change);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_hold_many_extrinsics_up_to_the_bound() {
        let small: Vec<(u8, Bytes)> = (0..100).map(|i| (i, Bytes::from(vec![0; 10_000]))).collect();
        let refs: Vec<_> = small.iter().collect();
        let sizes: Vec<usize> = batches(&refs).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [26, 26, 26, 22], "26 of 10 kB fit in 256 KiB");
        let big = [(0u8, Bytes::from(vec![0; BATCH_BYTES * 2])), (1, Bytes::from(vec![0; 10]))];
        let refs: Vec<_> = big.iter().collect();
        assert_eq!(batches(&refs).iter().map(|b| b.len()).collect::<Vec<_>>(), [1, 1]);
    }
}
