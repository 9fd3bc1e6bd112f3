//! What the node sends over detr: new best blocks, GRANDPA finality, and transactions, both
//! ways. Each is a task the node spawns with its client and pool.

use std::{num::NonZeroUsize, sync::Arc};

use codec::{Decode, Encode};
use etrid_p2p_dpeers::ReputationChange;
use etrid_protocol::{BlockAnnounce, ConsensusMessage, Message, MessageKind, TransactionMessage};
use futures::StreamExt;
use lru::LruCache;
use parking_lot::Mutex;
use sc_client_api::{BlockchainEvents, HeaderBackend};
use sc_network::PeerId;
use sc_transaction_pool_api::{
    error::IntoPoolError, InPoolTransaction, TransactionPool, TransactionSource,
};
use sha2::{Digest, Sha256};
use sp_runtime::{
    traits::{Block as BlockT, Header as HeaderT, UniqueSaturatedInto},
    SaturatedConversion,
};

use crate::{handle::DetrP2pHandle, protocols::DetrProtocol, LOG_TARGET};

/// GRANDPA's engine id, as in Substrate digests.
pub const GRANDPA_ENGINE_ID: [u8; 4] = *b"FRNK";

fn hash32<H: AsRef<[u8]>>(hash: &H) -> [u8; 32] {
    let mut out = [0u8; 32];
    let bytes = hash.as_ref();
    let n = bytes.len().min(32);
    out[..n].copy_from_slice(&bytes[..n]);
    out
}

/// Announces every new best block (hash, number, parent) to all peers.
pub async fn announce_blocks<B: BlockT, C: BlockchainEvents<B>>(
    handle: DetrP2pHandle,
    client: Arc<C>,
) {
    let mut imports = client.import_notification_stream();
    while let Some(n) = imports.next().await {
        if !n.is_new_best {
            continue;
        }
        let announce = BlockAnnounce {
            hash: hash32(&n.hash),
            number: (*n.header.number()).unique_saturated_into(),
            parent_hash: hash32(n.header.parent_hash()),
        };
        if let Err(e) = handle.broadcast(Message::Block(announce)) {
            log::debug!(target: LOG_TARGET, "block announce not sent: {e}");
        }
    }
}

/// Broadcasts each finalized block (GRANDPA) at top priority: payload SCALE `(hash, number)`.
pub async fn broadcast_finality<B: BlockT, C: BlockchainEvents<B>>(
    handle: DetrP2pHandle,
    client: Arc<C>,
) {
    let mut finality = client.finality_notification_stream();
    while let Some(n) = finality.next().await {
        let number: u64 = (*n.header.number()).saturated_into();
        let payload = (hash32(&n.hash), number).encode();
        let message =
            Message::Consensus(ConsensusMessage { engine_id: GRANDPA_ENGINE_ID, payload });
        if let Err(e) = handle.broadcast(message) {
            log::debug!(target: LOG_TARGET, "finality notification not sent: {e}");
        }
    }
}

/// (peer, transaction) pairs remembered as known to the peer: sent to it or received from it.
const KNOWN_TRANSACTIONS: usize = 65_536;

/// Which peers know which transactions, so that none is sent to a peer that has it.
#[derive(Clone)]
pub struct KnownTransactions(Arc<Mutex<LruCache<KnownPair, ()>>>);

/// A peer and the SHA-256 of a transaction's encoding.
type KnownPair = (PeerId, [u8; 32]);

impl Default for KnownTransactions {
    fn default() -> Self {
        let capacity = NonZeroUsize::new(KNOWN_TRANSACTIONS).expect("non-zero");
        Self(Arc::new(Mutex::new(LruCache::new(capacity))))
    }
}

impl KnownTransactions {
    /// Records that `peer` knows the transaction `encoded`; `false` if it was known already.
    pub fn insert(&self, peer: PeerId, encoded: &[u8]) -> bool {
        self.0.lock().put((peer, Sha256::digest(encoded).into()), ()).is_none()
    }
}

/// Sends every transaction imported into the local pool to each peer that does not know it.
pub async fn propagate_transactions<P: TransactionPool>(
    handle: DetrP2pHandle,
    pool: Arc<P>,
    known: KnownTransactions,
) {
    let mut imported = pool.import_notification_stream();
    while let Some(hash) = imported.next().await {
        let Some(tx) = pool.ready_transaction(&hash) else { continue };
        let encoded = tx.data().encode();
        for peer in handle.session_peers(DetrProtocol::Tx) {
            if !known.insert(peer, &encoded) {
                continue;
            }
            let extrinsics = vec![encoded.clone()];
            if let Err(e) =
                handle.send_message(&peer, Message::Transaction(TransactionMessage { extrinsics }))
            {
                log::debug!(target: LOG_TARGET, "transaction not sent to {peer}: {e}");
            }
        }
    }
}

/// Submits transactions received over detr to the local pool; invalid ones cost the sender.
pub async fn import_transactions<B, P, C>(
    handle: DetrP2pHandle,
    pool: Arc<P>,
    client: Arc<C>,
    known: KnownTransactions,
) where
    B: BlockT,
    P: TransactionPool<Block = B>,
    C: HeaderBackend<B>,
{
    let mut inbound = handle.subscribe(MessageKind::Transaction);
    while let Some((peer, envelope)) = inbound.next().await {
        let Message::Transaction(message) = envelope.message else { continue };
        for bytes in message.extrinsics {
            known.insert(peer, &bytes);
            let Ok(xt) = B::Extrinsic::decode(&mut &bytes[..]) else {
                handle.report_peer(peer, ReputationChange::BAD_TRANSACTION);
                continue;
            };
            let best = client.info().best_hash;
            match pool.submit_one(best, TransactionSource::External, xt).await {
                Ok(_) => handle.report_peer(peer, ReputationChange::GOOD_TRANSACTION),
                Err(e) => {
                    // Only invalid transactions cost the sender; already known, outdated or a
                    // full pool are nobody's fault.
                    if let Ok(sc_transaction_pool_api::error::Error::InvalidTransaction(_)) =
                        e.into_pool_error()
                    {
                        handle.report_peer(peer, ReputationChange::BAD_TRANSACTION);
                    }
                }
            }
        }
    }
}
