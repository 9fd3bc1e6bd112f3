//! A `--chain local` network of the three validators Alice, Bob and Charlie on 127.0.0.1.

use std::time::Duration;

use crate::node::{NodeConfig, TestNode};

/// How long a node may take to answer RPC after start.
const RPC_UP_TIMEOUT: Duration = Duration::from_secs(60);

/// Alice, Bob and Charlie, wired by `--bootnodes` to Alice.
pub struct LocalNetwork {
    /// The validators in the order Alice, Bob, Charlie.
    pub nodes: Vec<TestNode>,
}

impl LocalNetwork {
    /// Starts the three validators with `extra_args` each, Bob and Charlie booting from Alice.
    pub async fn start(extra_args: &[&str]) -> Self {
        let extra: Vec<String> = extra_args.iter().map(|s| s.to_string()).collect();
        let validator = |name: &str, flag: &str| NodeConfig {
            key_flag: Some(flag.into()),
            extra_args: extra.clone(),
            ..NodeConfig::new(name, "local")
        };
        let mut alice = TestNode::start(validator("alice", "--alice"));
        let alice_id = alice
            .wait_for("Alice's RPC", RPC_UP_TIMEOUT, |rpc| async move { rpc.local_peer_id().await })
            .await;
        let bootnode = alice.multiaddr(&alice_id);
        let mut nodes = vec![alice];
        for (name, flag) in [("bob", "--bob"), ("charlie", "--charlie")] {
            nodes.push(TestNode::start(NodeConfig {
                bootnodes: vec![bootnode.clone()],
                ..validator(name, flag)
            }));
        }
        Self { nodes }
    }

    /// Waits until every node sees at least `peers` peers.
    pub async fn wait_peers(&mut self, peers: u64, timeout: Duration) {
        for node in &mut self.nodes {
            node.wait_for(&format!("{peers} peers"), timeout, |rpc| async move {
                rpc.peer_count().await.filter(|n| *n >= peers)
            })
            .await;
        }
    }

    /// Waits until every node has finalized block `number`.
    pub async fn wait_finalized(&mut self, number: u64, timeout: Duration) {
        for node in &mut self.nodes {
            node.wait_finalized(number, timeout).await;
        }
    }
}
