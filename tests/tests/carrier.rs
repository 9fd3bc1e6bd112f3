//! DETR carries the node, on both backends: three `--chain local` validators and a full node
//! (Dave). GRANDPA's gossip travels on the detr consensus protocol only (sc-network never opens a
//! `/grandpa/1` substream), Dave imports the blocks the authors push over detr, and a transfer
//! submitted on Dave reaches the authors over detr while sc-network's own transactions protocol
//! propagates nothing. A negative control shows finality depends on detr: with the consensus
//! streams refused, blocks are authored but none is finalized; allowed again, finality resumes.

use std::time::Duration;

use flarechain_tests::{
    detr::{detr_stats, opened_protocols, stat, wait_sessions},
    run_script, LocalNetwork, NodeConfig, TestNode,
};

/// The three validators and Dave, a full node booting from Alice, all with `extra`.
async fn with_full_node(extra: &[&str]) -> (LocalNetwork, TestNode) {
    let net = LocalNetwork::start(extra).await;
    let alice_id = net.nodes[0].rpc().local_peer_id().await.expect("Alice's PeerId");
    let dave = TestNode::start(NodeConfig {
        bootnodes: vec![net.nodes[0].multiaddr(&alice_id)],
        extra_args: extra.iter().map(|s| s.to_string()).collect(),
        ..NodeConfig::new("dave", "local")
    });
    (net, dave)
}

async fn detr_carries_the_node(backend: &str) {
    let (mut net, mut dave) = with_full_node(&["--network-backend", backend]).await;
    net.wait_peers(3, Duration::from_secs(90)).await;
    for node in net.nodes.iter_mut().chain([&mut dave]) {
        wait_sessions(node, 3).await;
    }
    net.wait_finalized(4, Duration::from_secs(180)).await;
    dave.wait_finalized(4, Duration::from_secs(60)).await;

    // GRANDPA over detr: no `/grandpa/1` substream, the detr consensus protocol's are there.
    for node in net.nodes.iter().chain([&dave]) {
        let name = &node.config.name;
        let opened = opened_protocols(node);
        assert!(
            opened.iter().any(|p| p.ends_with("/detr/consensus/1")),
            "{name}: sc-network counts the detr consensus substreams: {opened:?}"
        );
        assert!(
            !opened.iter().any(|p| p.contains("grandpa")),
            "{name}: a GRANDPA substream was opened: {opened:?}"
        );
    }
    // Each validator received at least a prevote and a precommit from each other validator per
    // finalized block, all on the detr consensus protocol.
    for node in &net.nodes {
        let finalized = node.rpc().finalized_number().await.unwrap_or(0);
        let stats = detr_stats(node).await;
        let received = stat(&stats, "consensus", "received");
        println!(
            "{}: {received} GRANDPA messages over detr, {finalized} finalized",
            node.config.name
        );
        assert!(received >= 2 * 2 * finalized, "{}: {stats}", node.config.name);
        assert_eq!(stat(&stats, "consensus", "decryptFailures"), 0, "{stats}");
    }

    // Dave authors nothing: his blocks came pushed over detr and went through his import queue.
    let stats = detr_stats(&dave).await;
    assert!(stats["blocksImported"].as_u64() >= Some(1), "Dave imported pushed blocks: {stats}");
    let imported = dave.metric("substrate_detr_blocks_imported_total");
    assert_eq!(imported, stats["blocksImported"].as_f64(), "Prometheus agrees with detr_stats");

    // A transfer submitted on Dave is included by an author: it travelled over detr only.
    let dave_ws = format!("ws://127.0.0.1:{}", dave.rpc_port);
    if let Err(e) = run_script("transfer.js", &[&dave_ws]).await {
        dave.fail(&format!("transfer submitted on Dave: {e}"));
    }
    let stats = detr_stats(&dave).await;
    assert!(stat(&stats, "tx", "sent") >= 1, "Dave sent the transfer over detr: {stats}");
    assert_eq!(
        dave.metric("substrate_sync_propagated_transactions"),
        Some(0.0),
        "sc-network's transactions protocol propagated nothing"
    );
}

async fn finality_depends_on_detr(backend: &str) {
    let refuse = ["--network-backend", backend, "--detr-refuse-protocol", "consensus"];
    let mut net = LocalNetwork::start(&refuse).await;
    net.wait_peers(2, Duration::from_secs(90)).await;
    // Blocks are authored (three slots at least) while not one is finalized.
    let alice = &mut net.nodes[0];
    alice
        .wait_for("block 3", Duration::from_secs(90), |rpc| async move {
            rpc.best_number().await.filter(|n| *n >= 3)
        })
        .await;
    for node in &net.nodes {
        let finalized = node.rpc().finalized_number().await;
        assert_eq!(finalized, Some(0), "{} finalized without detr consensus", node.config.name);
    }
    // Allowed again, finality resumes.
    for node in &mut net.nodes {
        node.config.extra_args = vec!["--network-backend".into(), backend.into()];
        node.restart();
    }
    net.wait_finalized(2, Duration::from_secs(180)).await;
}

#[tokio::test]
async fn detr_carries_grandpa_blocks_and_transactions_litep2p() {
    detr_carries_the_node("litep2p").await;
}

#[tokio::test]
async fn detr_carries_grandpa_blocks_and_transactions_libp2p() {
    detr_carries_the_node("libp2p").await;
}

#[tokio::test]
async fn finality_stops_without_detr_consensus_and_resumes_litep2p() {
    finality_depends_on_detr("litep2p").await;
}

#[tokio::test]
async fn finality_stops_without_detr_consensus_and_resumes_libp2p() {
    finality_depends_on_detr("libp2p").await;
}
