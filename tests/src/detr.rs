//! Reading a node's detr state over RPC.

use std::time::Duration;

use jsonrpsee::rpc_params;
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

/// Counter `field` of `protocol` in a `detr_stats` answer (0 if absent).
pub fn stat(stats: &Value, protocol: &str, field: &str) -> u64 {
    stats["protocols"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["protocol"] == protocol))
        .and_then(|p| p[field].as_u64())
        .unwrap_or(0)
}
