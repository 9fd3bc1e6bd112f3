//! The two calls the node makes to its `detr-discovery` daemon's HTTP API (loopback).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::{
    client::legacy::{connect::HttpConnector, Client},
    rt::TokioExecutor,
};
use serde::Deserialize;

/// Longest a request may take.
const TIMEOUT: Duration = Duration::from_secs(5);
/// Largest answer read (the daemon lists at most a few hundred records).
const MAX_RESPONSE: usize = 1 << 20;

/// One record the daemon hands out.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscoveredPeer {
    /// PeerId bytes, hex.
    pub peer_id: String,
    /// Multiaddrs without `/p2p/`.
    pub addrs: Vec<String>,
}

#[derive(Deserialize)]
struct PeersAnswer {
    peers: Vec<DiscoveredPeer>,
}

/// A client of one daemon.
pub struct Daemon {
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Daemon {
    /// A client of the daemon at `base` (e.g. `http://127.0.0.1:30401`).
    pub fn new(base: &str) -> Self {
        let client = Client::builder(TokioExecutor::new()).build_http();
        Self { base: base.trim_end_matches('/').to_string(), client }
    }

    async fn call(&self, request: hyper::Request<Full<Bytes>>) -> Result<Bytes, String> {
        let response = tokio::time::timeout(TIMEOUT, self.client.request(request))
            .await
            .map_err(|_| format!("no answer within {TIMEOUT:?}"))?
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_RESPONSE)
            .collect()
            .await
            .map_err(|e| format!("reading the answer: {e}"))?
            .to_bytes();
        if !status.is_success() {
            return Err(format!("{status}: {}", String::from_utf8_lossy(&body).trim()));
        }
        Ok(body)
    }

    /// Registers the node's signed record.
    pub async fn register(&self, record: &[u8]) -> Result<(), String> {
        let body = serde_json::json!({ "record": hex::encode(record) }).to_string();
        let request = hyper::Request::post(format!("{}/v1/records", self.base))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        self.call(request).await.map(|_| ())
    }

    /// The live records of the chain `genesis`.
    pub async fn peers(&self, genesis: &[u8; 32]) -> Result<Vec<DiscoveredPeer>, String> {
        let url = format!("{}/v1/peers?genesis={}", self.base, hex::encode(genesis));
        let request = hyper::Request::get(url).body(Full::default()).map_err(|e| e.to_string())?;
        let body = self.call(request).await?;
        let answer: PeersAnswer =
            serde_json::from_slice(&body).map_err(|e| format!("malformed answer: {e}"))?;
        Ok(answer.peers)
    }
}
