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
