//! `detr-rogue-peer` (crate `detr-inproc`): a peer that completes an AEComms session with a node
//! and then misbehaves. Runs to its end; its JSON lines are the report.

use std::{path::PathBuf, time::Duration};

use serde_json::Value;

/// Longest run: session, attack, the node's reaction and the hold period.
const ROGUE_TIMEOUT: Duration = Duration::from_secs(150);

/// Path of the rogue peer: `$DETR_ROGUE_PEER`, else next to the node in the target dir.
pub fn rogue_binary() -> PathBuf {
    crate::node::beside_node("DETR_ROGUE_PEER", "detr-rogue-peer")
}

/// The outcome of one run.
pub struct RogueRun {
    /// Whether it exited 0: the node closed the stream and kept it closed.
    pub success: bool,
    /// Its events, one JSON object per line.
    pub events: Vec<Value>,
}

impl RogueRun {
    /// The first event named `name`.
    pub fn event(&self, name: &str) -> Option<&Value> {
        self.events.iter().find(|e| e["event"] == name)
    }
}

/// Runs `detr-rogue-peer --attack <attack>` against `node` (`/ip4/…/p2p/<id>`) of the chain
/// with `genesis` (hex), on `backend`.
pub async fn run_rogue(node: &str, genesis: &str, attack: &str, backend: &str) -> RogueRun {
    let binary = rogue_binary();
    assert!(
        binary.exists(),
        "detr-rogue-peer not found at {} (run `make build`)",
        binary.display()
    );
    let output = tokio::time::timeout(
        ROGUE_TIMEOUT,
        tokio::process::Command::new(&binary)
            .args(["--node", node, "--genesis", genesis, "--attack", attack])
            .args(["--backend", backend])
            .kill_on_drop(true)
            .output(),
    )
    .await
    .unwrap_or_else(|_| panic!("detr-rogue-peer ran over {ROGUE_TIMEOUT:?}"))
    .expect("detr-rogue-peer starts");
    let events = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    RogueRun { success: output.status.success(), events }
}
