//! Smoke tests of the bare node: `--dev` alone, and a three-validator `--chain local` network
//! with `--detr-disable`, which finalizes on sc-network's standard protocols (`/grandpa/1`).

use std::time::Duration;

use flarechain_tests::{detr::opened_protocols, LocalNetwork, NodeConfig, TestNode};

#[tokio::test]
async fn dev_node_finalizes_block_3() {
    let mut node = TestNode::start(NodeConfig {
        extra_args: vec!["--alice".into(), "--validator".into(), "--force-authoring".into()],
        ..NodeConfig::new("dev", "dev")
    });
    let finalized = node.wait_finalized(3, Duration::from_secs(120)).await;
    assert!(finalized >= 3);
}

async fn local_network_finalizes(backend: &str) {
    let mut net = LocalNetwork::start(&["--network-backend", backend, "--detr-disable"]).await;
    net.wait_peers(2, Duration::from_secs(90)).await;
    let start = net.nodes[0].rpc().finalized_number().await.unwrap_or(0);
    net.wait_finalized(start + 2, Duration::from_secs(120)).await;
    for node in &net.nodes {
        let name = &node.config.name;
        assert_eq!(node.rpc().peer_count().await, Some(2), "{name} sees both others");
        let opened = opened_protocols(node);
        assert!(opened.iter().any(|p| p.ends_with("/grandpa/1")), "{name}: {opened:?}");
        assert!(!opened.iter().any(|p| p.contains("/detr/")), "{name}: {opened:?}");
    }
}

#[tokio::test]
async fn local_validators_without_detr_finalize_litep2p() {
    local_network_finalizes("litep2p").await;
}

#[tokio::test]
async fn local_validators_without_detr_finalize_libp2p() {
    local_network_finalizes("libp2p").await;
}
