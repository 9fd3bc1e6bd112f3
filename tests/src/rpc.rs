//! The few JSON-RPC calls the tests make, each returning `None` while the node is not ready.

use jsonrpsee::{
    core::{client::ClientT, params::ArrayParams},
    http_client::{HttpClient, HttpClientBuilder},
    rpc_params,
};
use serde_json::Value;

/// A JSON-RPC client of one node.
#[derive(Clone)]
pub struct Rpc {
    client: HttpClient,
}

impl Rpc {
    /// A client of the node whose RPC listens on 127.0.0.1:`port`.
    pub fn new(port: u16) -> Self {
        let client = HttpClientBuilder::default()
            .request_timeout(std::time::Duration::from_secs(5))
            .build(format!("http://127.0.0.1:{port}"))
            .expect("a valid URL");
        Self { client }
    }

    /// Calls `method`; `None` on any error (node not up yet, method failed).
    pub async fn call(&self, method: &str, params: ArrayParams) -> Option<Value> {
        self.client.request::<Value, _>(method, params).await.ok()
    }

    /// Calls `method` expecting it to fail: the JSON-RPC error's message, `None` if it succeeded
    /// or the node did not answer.
    pub async fn call_error(&self, method: &str, params: ArrayParams) -> Option<String> {
        match self.client.request::<Value, _>(method, params).await {
            Err(jsonrpsee::core::ClientError::Call(e)) => Some(e.message().to_string()),
            _ => None,
        }
    }

    /// Number of the finalized head.
    pub async fn finalized_number(&self) -> Option<u64> {
        let hash = self.call("chain_getFinalizedHead", rpc_params![]).await?;
        let header = self.call("chain_getHeader", rpc_params![hash]).await?;
        parse_hex_u64(header.get("number")?.as_str()?)
    }

    /// Number of the best block.
    pub async fn best_number(&self) -> Option<u64> {
        let header = self.call("chain_getHeader", rpc_params![]).await?;
        parse_hex_u64(header.get("number")?.as_str()?)
    }

    /// Number of connected peers (`system_health`).
    pub async fn peer_count(&self) -> Option<u64> {
        self.call("system_health", rpc_params![]).await?.get("peers")?.as_u64()
    }

    /// The node's PeerId (`system_localPeerId`).
    pub async fn local_peer_id(&self) -> Option<String> {
        Some(self.call("system_localPeerId", rpc_params![]).await?.as_str()?.to_string())
    }
}

/// Parses `0x`-prefixed hex as used for block numbers.
pub fn parse_hex_u64(s: &str) -> Option<u64> {
    u64::from_str_radix(s.trim_start_matches("0x"), 16).ok()
}
