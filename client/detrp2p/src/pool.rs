//! The transaction pool sc-network's own transactions protocol is given. While the plugin
//! carries transactions it is the node's pool with nothing ready to propagate: sc-network sends
//! no transaction, and what a node without the plugin sends on that protocol is still imported
//! (a mixed network keeps working). With the plugin off it is the node's pool as it is.

use std::{collections::HashMap, pin::Pin, sync::Arc};

use sc_transaction_pool_api::{
    ImportNotificationStream, PoolStatus, ReadyTransactions, TransactionFor, TransactionPool,
    TransactionSource, TransactionStatusStreamFor, TxHash, TxInvalidityReportMap,
};
use sp_runtime::traits::Block as BlockT;

/// The node's pool as sc-network's transactions protocol sees it.
pub struct TxProtocolPool<P> {
    pool: Arc<P>,
    propagate: bool,
}

impl<P> TxProtocolPool<P> {
    /// `pool` with nothing to propagate (the plugin carries transactions).
    pub fn silent(pool: Arc<P>) -> Self {
        Self { pool, propagate: false }
    }

    /// `pool` as it is (the plugin is off).
    pub fn standard(pool: Arc<P>) -> Self {
        Self { pool, propagate: true }
    }
}

type Ready<P> =
    Box<dyn ReadyTransactions<Item = Arc<<P as TransactionPool>::InPoolTransaction>> + Send>;

#[async_trait::async_trait]
impl<P> TransactionPool for TxProtocolPool<P>
where
    P: TransactionPool,
    P::InPoolTransaction: 'static,
{
    type Block = P::Block;
    type Hash = P::Hash;
    type InPoolTransaction = P::InPoolTransaction;
    type Error = P::Error;

    async fn submit_at(
        &self,
        at: <Self::Block as BlockT>::Hash,
        source: TransactionSource,
        xts: Vec<TransactionFor<Self>>,
    ) -> Result<Vec<Result<TxHash<Self>, Self::Error>>, Self::Error> {
        self.pool.submit_at(at, source, xts).await
    }

    async fn submit_one(
        &self,
        at: <Self::Block as BlockT>::Hash,
        source: TransactionSource,
        xt: TransactionFor<Self>,
    ) -> Result<TxHash<Self>, Self::Error> {
        self.pool.submit_one(at, source, xt).await
    }

    async fn submit_and_watch(
        &self,
        at: <Self::Block as BlockT>::Hash,
        source: TransactionSource,
        xt: TransactionFor<Self>,
    ) -> Result<Pin<Box<TransactionStatusStreamFor<Self>>>, Self::Error> {
        self.pool.submit_and_watch(at, source, xt).await
    }

    async fn ready_at(&self, at: <Self::Block as BlockT>::Hash) -> Ready<P> {
        match self.propagate {
            true => self.pool.ready_at(at).await,
            false => Box::new(std::iter::empty()),
        }
    }

    fn ready(&self) -> Ready<P> {
        match self.propagate {
            true => self.pool.ready(),
            false => Box::new(std::iter::empty()),
        }
    }

    async fn report_invalid(
        &self,
        at: Option<<Self::Block as BlockT>::Hash>,
        invalid: TxInvalidityReportMap<TxHash<Self>>,
    ) -> Vec<Arc<Self::InPoolTransaction>> {
        self.pool.report_invalid(at, invalid).await
    }

    fn futures(&self) -> Vec<Self::InPoolTransaction> {
        self.pool.futures()
    }

    fn status(&self) -> PoolStatus {
        self.pool.status()
    }

    fn import_notification_stream(&self) -> ImportNotificationStream<TxHash<Self>> {
        self.pool.import_notification_stream()
    }

    fn on_broadcasted(&self, propagations: HashMap<TxHash<Self>, Vec<String>>) {
        self.pool.on_broadcasted(propagations)
    }

    fn hash_of(&self, xt: &TransactionFor<Self>) -> TxHash<Self> {
        self.pool.hash_of(xt)
    }

    fn ready_transaction(&self, hash: &TxHash<Self>) -> Option<Arc<Self::InPoolTransaction>> {
        self.propagate.then(|| self.pool.ready_transaction(hash)).flatten()
    }

    async fn ready_at_with_timeout(
        &self,
        at: <Self::Block as BlockT>::Hash,
        timeout: std::time::Duration,
    ) -> Ready<P> {
        match self.propagate {
            true => self.pool.ready_at_with_timeout(at, timeout).await,
            false => Box::new(std::iter::empty()),
        }
    }
}
