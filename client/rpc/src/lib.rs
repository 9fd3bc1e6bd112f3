//! `detr_*` JSON-RPC methods: inspection of peers, sessions and counters, and bridge messages.
//! Everything but `detr_stats` is unsafe (refused under `--rpc-methods safe` on a public RPC),
//! as upstream's `system_peers` is: who a node talks to is not for everyone to see.

use std::collections::BTreeMap;

use detrp2p::{ConfigInForce, DetrP2pHandle, PeerSummary, ProtocolStats, SessionSummary};
use etrid_protocol::{limits::MAX_PAYLOAD_SIZE, ChainId, Message};
use jsonrpsee::{
    core::{async_trait, RpcResult, SubscriptionResult},
    proc_macros::rpc,
    types::{error::INVALID_PARAMS_CODE, ErrorObject, ErrorObjectOwned},
    Extensions, PendingSubscriptionSink, SubscriptionMessage,
};
use serde::{Deserialize, Serialize};

/// The chain id FlareChain uses as the source of bridge messages it originates.
pub const FLARECHAIN_CHAIN_ID: ChainId = detrp2p::bridge::LOCAL_CHAIN;
/// Bridge messages waiting for one slow subscriber before it loses them (counted).
const SUBSCRIPTION_MESSAGES: usize = 256;
/// Bytes waiting for one slow subscriber.
const SUBSCRIPTION_BYTES: usize = 16 << 20;

/// `detr_stats`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatsResponse {
    /// Counters per protocol.
    pub protocols: Vec<ProtocolStats>,
    /// Peers banned so far.
    pub bans: u64,
    /// Reputation costs applied to peers so far, by reason (`consensus` for GRANDPA's).
    pub penalties: BTreeMap<String, u64>,
    /// Bridge messages delivered to subscribers.
    pub bridge_deliveries: u64,
    /// Blocks pushed over detr and imported.
    pub blocks_imported: u64,
    /// Network parameters in force (on-chain values within the node's bounds).
    pub config: ConfigInForce,
}

/// `detr_sendBridgeMessage`'s answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BridgeSent {
    /// Source chain (this chain, [`FLARECHAIN_CHAIN_ID`]).
    pub source_chain: ChainId,
    /// The nonce: with the source chain, the message's identity.
    pub nonce: u64,
    /// Peers it was queued for.
    pub peers: usize,
}

/// One bridge message, as `detr_subscribeBridgeMessages` streams it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BridgeEvent {
    /// Peer it came from.
    pub from: String,
    /// Source chain.
    pub source_chain: ChainId,
    /// Destination chain.
    pub destination_chain: ChainId,
    /// Sequence number on the source chain.
    pub nonce: u64,
    /// Payload (hex, 0x-prefixed).
    pub payload: String,
}

/// The `detr_*` methods.
#[rpc(client, server)]
pub trait DetrApi {
    /// Peers with open detr streams: id, roles, reputation, sessions, best block, queue depth.
    /// Unsafe.
    #[method(name = "detr_peers", with_extensions)]
    async fn peers(&self) -> RpcResult<Vec<PeerSummary>>;

    /// Counters per protocol, bans, bridge deliveries and the parameters in force.
    #[method(name = "detr_stats")]
    fn stats(&self) -> RpcResult<StatsResponse>;

    /// Every open stream and its AEComms session. Unsafe.
    #[method(name = "detr_sessions", with_extensions)]
    async fn sessions(&self) -> RpcResult<Vec<SessionSummary>>;

    /// Sends a bridge message (hex payload) to every peer; it is relayed and delivered once per
    /// node. Refused for a destination the chain does not accept (`DetrP2pApi::bridge_chains`)
    /// and for a nonce this node already used. Unsafe.
    #[method(name = "detr_sendBridgeMessage", with_extensions)]
    async fn send_bridge_message(
        &self,
        destination_chain: ChainId,
        nonce: u64,
        payload: String,
    ) -> RpcResult<BridgeSent>;

    /// Bridge messages received from peers, each once. A client that reads too slowly loses
    /// messages (counted in the bridge protocol's `dropped`). Unsafe.
    #[subscription(
        name = "detr_subscribeBridgeMessages" => "detr_bridgeMessage",
        unsubscribe = "detr_unsubscribeBridgeMessages",
        item = BridgeEvent,
        with_extensions
    )]
    async fn subscribe_bridge_messages(&self) -> SubscriptionResult;
}

/// The `detr_*` methods over a running plugin.
pub struct Detr {
    handle: DetrP2pHandle,
}

impl Detr {
    /// Methods over `handle`.
    pub fn new(handle: DetrP2pHandle) -> Self {
        Self { handle }
    }
}

fn invalid_params(message: String) -> ErrorObjectOwned {
    ErrorObject::owned(INVALID_PARAMS_CODE, message, None::<()>)
}

/// Parses a `0x`-prefixed (or bare) hex payload within the size limit.
pub fn parse_payload(payload: &str) -> Result<Vec<u8>, ErrorObjectOwned> {
    let bytes = hex::decode(payload.trim_start_matches("0x"))
        .map_err(|e| invalid_params(format!("payload: malformed hex ({e})")))?;
    if bytes.len() > MAX_PAYLOAD_SIZE {
        return Err(invalid_params(format!(
            "payload: {} bytes is over the limit of {MAX_PAYLOAD_SIZE} bytes",
            bytes.len()
        )));
    }
    Ok(bytes)
}

#[async_trait]
impl DetrApiServer for Detr {
    async fn peers(&self, ext: &Extensions) -> RpcResult<Vec<PeerSummary>> {
        sc_rpc_api::check_if_safe(ext)?;
        Ok(self.handle.peers().await)
    }

    fn stats(&self) -> RpcResult<StatsResponse> {
        Ok(StatsResponse {
            protocols: self.handle.stats(),
            bans: self.handle.bans(),
            penalties: self.handle.penalties(),
            bridge_deliveries: self.handle.bridge_deliveries(),
            blocks_imported: self.handle.blocks_imported(),
            config: self.handle.config(),
        })
    }

    async fn sessions(&self, ext: &Extensions) -> RpcResult<Vec<SessionSummary>> {
        sc_rpc_api::check_if_safe(ext)?;
        Ok(self.handle.sessions().await)
    }

    async fn send_bridge_message(
        &self,
        ext: &Extensions,
        destination_chain: ChainId,
        nonce: u64,
        payload: String,
    ) -> RpcResult<BridgeSent> {
        sc_rpc_api::check_if_safe(ext)?;
        let payload = parse_payload(&payload)?;
        let peers = self
            .handle
            .send_bridge(destination_chain, nonce, payload.into())
            .await
            .map_err(|e| invalid_params(e.to_string()))?;
        Ok(BridgeSent { source_chain: FLARECHAIN_CHAIN_ID, nonce, peers })
    }

    async fn subscribe_bridge_messages(
        &self,
        pending: PendingSubscriptionSink,
        ext: &Extensions,
    ) -> SubscriptionResult {
        if let Err(e) = sc_rpc_api::check_if_safe(ext) {
            pending.reject(ErrorObjectOwned::from(e)).await;
            return Ok(());
        }
        let mut inbound = self.handle.subscribe_bridge(SUBSCRIPTION_MESSAGES, SUBSCRIPTION_BYTES);
        let sink = pending.accept().await?;
        while let Some(received) = inbound.next().await {
            let Message::Bridge(bridge) = &received.message else { continue };
            let event = BridgeEvent {
                from: received.peer.to_base58(),
                source_chain: bridge.source_chain,
                destination_chain: bridge.destination_chain,
                nonce: bridge.nonce,
                payload: format!("0x{}", hex::encode(&bridge.payload)),
            };
            if sink.send(SubscriptionMessage::from_json(&event)?).await.is_err() {
                break;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_errors_say_what_is_wrong() {
        assert_eq!(parse_payload("0x0102").unwrap(), vec![1, 2]);
        assert!(parse_payload("0xzz").unwrap_err().message().contains("malformed hex"));
        let big = format!("0x{}", "00".repeat(MAX_PAYLOAD_SIZE + 1));
        assert!(parse_payload(&big).unwrap_err().message().contains("over the limit"));
    }
}
