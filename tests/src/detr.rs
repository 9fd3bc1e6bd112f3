//! Reading a node's detr state over RPC.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use jsonrpsee::{core::client::ClientT, http_client::HttpClientBuilder, rpc_params};
use serde_json::Value;

use crate::TestNode;

/// The four detr protocols, as `detr_stats` and `detr_sessions` name them.
pub const PROTOCOLS: [&str; 4] = ["block", "consensus", "bridge", "tx"];

/// Waits until `node` has established sessions on all four protocols with `peers` peers.
pub async fn wait_sessions(node: &mut TestNode, peers: usize) {
    node.wait_for(
        "AEComms sessions on all four protocols",
        Duration::from_secs(90),
        |rpc| async move {
            let sessions = rpc.call("detr_sessions", rpc_params![]).await?;
            let established =
                sessions.as_array()?.iter().filter(|s| s["established"] == true).count();
            (established >= peers * PROTOCOLS.len()).then_some(())
        },
    )
    .await;
}

/// `node`'s `detr_stats` answer (panics if it gives none).
pub async fn detr_stats(node: &TestNode) -> Value {
    node.rpc().call("detr_stats", rpc_params![]).await.expect("detr_stats")
}

/// Counter `field` of `protocol` in a `detr_stats` answer (0 if absent).
pub fn stat(stats: &Value, protocol: &str, field: &str) -> u64 {
    protocol_stats(stats, protocol)[field].as_u64().unwrap_or(0)
}

/// Messages of `protocol` a `detr_stats` answer counts as lost at `cause` (0 if none).
pub fn dropped_by(stats: &Value, protocol: &str, cause: &str) -> u64 {
    protocol_stats(stats, protocol)["droppedBy"][cause].as_u64().unwrap_or(0)
}

/// The entry of `protocol` in a `detr_stats` answer (`Null` if it has none).
fn protocol_stats<'a>(stats: &'a Value, protocol: &str) -> &'a Value {
    stats["protocols"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["protocol"] == protocol))
        .unwrap_or(&Value::Null)
}

/// sc-network's counter of notification substreams opened, one series per protocol name.
const STREAMS_OPENED: &str = "substrate_sub_libp2p_notifications_streams_opened_total{";

/// Protocol names of the notification substreams sc-network opened on `node` (its Prometheus
/// counter; both backends keep it).
pub fn opened_protocols(node: &TestNode) -> Vec<String> {
    node.metrics()
        .lines()
        .filter_map(|line| line.strip_prefix(STREAMS_OPENED))
        .filter_map(|rest| rest.split("protocol=\"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_string)
        .collect()
}

/// Sends bridge messages to chain 7 with `payload` (hex) to the node whose RPC listens on
/// 127.0.0.1:`port`, from `senders` concurrent callers that each await their call, while
/// `more(nonce)` holds for the next nonce drawn from `nonces`; returns how many the node
/// accepted. Nodes of one chain share its nonces, kept in a window of 4,096 below the highest:
/// callers of several nodes share one `nonces` so that they stay close together.
pub async fn send_bridge_messages(
    port: u16,
    senders: u64,
    payload: &str,
    nonces: Arc<AtomicU64>,
    more: impl Fn(u64) -> bool + Clone + Send + 'static,
) -> u64 {
    let url = format!("http://127.0.0.1:{port}");
    let callers: Vec<_> = (0..senders)
        .map(|_| {
            let (url, payload, nonces, more) =
                (url.clone(), payload.to_string(), nonces.clone(), more.clone());
            tokio::spawn(async move {
                let client = HttpClientBuilder::default().build(url).expect("a valid URL");
                let mut accepted = 0;
                loop {
                    let nonce = nonces.fetch_add(1, Ordering::Relaxed);
                    if !more(nonce) {
                        break accepted;
                    }
                    let params = rpc_params![7u32, nonce, payload.as_str()];
                    let answer = client.request::<Value, _>("detr_sendBridgeMessage", params).await;
                    accepted += u64::from(answer.is_ok());
                }
            })
        })
        .collect();
    let mut accepted = 0;
    for caller in callers {
        accepted += caller.await.expect("a sender");
    }
    accepted
}
