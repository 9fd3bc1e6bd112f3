//! DETR P2P end to end: three `--chain local` validators on 127.0.0.1, on both backends.
//! Sessions on all four protocols, a bridge message delivered exactly once, blocks, finality and
//! a transaction over detr, Prometheus matching `detr_stats`, and a restart with no bootnodes
//! that reconnects from the peer cache and re-establishes sessions.

use std::time::Duration;

use flarechain_tests::{
    detr::{stat, wait_sessions, PROTOCOLS},
    ports::free_port,
    run_script, LocalNetwork,
};
use jsonrpsee::{
    core::client::{Subscription, SubscriptionClientT},
    rpc_params,
    ws_client::WsClientBuilder,
};
use serde_json::Value;

async fn detr_network(backend: &str) {
    let mut net = LocalNetwork::start(&["--network-backend", backend]).await;
    net.wait_peers(2, Duration::from_secs(90)).await;
    for node in &mut net.nodes {
        wait_sessions(node, 2).await;
    }

    // Every node sees both others with sessions on all four protocols.
    for node in &net.nodes {
        let peers = node.rpc().call("detr_peers", rpc_params![]).await.expect("detr_peers");
        let peers = peers.as_array().expect("a list");
        assert_eq!(peers.len(), 2, "{}: {peers:?}", node.config.name);
        for peer in peers {
            let sessions: Vec<_> =
                peer["sessions"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
            assert_eq!(sessions, ["block", "bridge", "consensus", "tx"], "{}", node.config.name);
        }
    }

    // A bridge message sent on Alice reaches Bob and Charlie exactly once.
    let mut subscriptions = Vec::new();
    for node in &net.nodes[1..] {
        let ws = WsClientBuilder::default()
            .build(format!("ws://127.0.0.1:{}", node.rpc_port))
            .await
            .expect("ws connection");
        let sub: Subscription<Value> = ws
            .subscribe(
                "detr_subscribeBridgeMessages",
                rpc_params![],
                "detr_unsubscribeBridgeMessages",
            )
            .await
            .expect("subscription");
        subscriptions.push((ws, sub, node.config.name.clone()));
    }
    let sent = net.nodes[0]
        .rpc()
        .call("detr_sendBridgeMessage", rpc_params![7u32, 42u64, "0xdeadbeef"])
        .await
        .expect("detr_sendBridgeMessage");
    assert_eq!(sent["peers"], 2, "queued for Bob and Charlie: {sent}");
    for (_ws, sub, name) in &mut subscriptions {
        let first = tokio::time::timeout(Duration::from_secs(30), sub.next())
            .await
            .unwrap_or_else(|_| panic!("{name} got no bridge message"))
            .expect("stream open")
            .expect("valid event");
        assert_eq!(first["payload"], "0xdeadbeef");
        assert_eq!(
            (first["destinationChain"].as_u64(), first["nonce"].as_u64()),
            (Some(7), Some(42))
        );
        assert_eq!(first["sourceChain"], sent["sourceChain"]);
        let again = tokio::time::timeout(Duration::from_secs(5), sub.next()).await;
        assert!(again.is_err(), "{name} received the bridge message twice: {again:?}");
    }

    // Blocks and finality flow over detr; Prometheus agrees with detr_stats.
    net.wait_finalized(3, Duration::from_secs(120)).await;
    for node in &net.nodes {
        let stats = node.rpc().call("detr_stats", rpc_params![]).await.expect("detr_stats");
        let name = &node.config.name;
        assert!(stat(&stats, "block", "received") > 0, "{name}: no block announces: {stats}");
        assert!(stat(&stats, "consensus", "received") > 0, "{name}: no finality messages: {stats}");
        assert_eq!(stat(&stats, "block", "decryptFailures"), 0, "{name}: {stats}");
        assert_eq!(stats["bans"], 0, "{name}: {stats}");
        for protocol in PROTOCOLS {
            assert_eq!(stat(&stats, protocol, "sessions"), 2, "{name} {protocol}: {stats}");
            let gauge = node.metric(&format!("substrate_detr_sessions{{protocol=\"{protocol}\""));
            assert_eq!(gauge, Some(2.0), "{name}: Prometheus sessions gauge of {protocol}");
        }
        // The bridge protocol also carries each peer's addresses; the message itself is
        // delivered once, its relayed copy counted as a duplicate.
        let delivered = node.metric("substrate_detr_bridge_deliveries_total{source_chain=\"0\"");
        if name != "alice" {
            assert_eq!(stats["bridgeDeliveries"], 1, "{name}: {stats}");
            assert_eq!(delivered, Some(1.0), "{name}: Prometheus bridge deliveries");
        }
        let peers = node.rpc().call("detr_peers", rpc_params![]).await.unwrap();
        assert!(
            peers.as_array().unwrap().iter().all(|p| p["bestBlock"].is_array()),
            "{name}: best blocks of peers are tracked: {peers}"
        );
    }

    // A balance transfer submitted on Alice goes into a block, and reached Bob's and Charlie's
    // pools over detr (their tx protocol received it).
    let alice_ws = format!("ws://127.0.0.1:{}", net.nodes[0].rpc_port);
    if let Err(e) = run_script("transfer.js", &[&alice_ws]).await {
        net.nodes[0].fail(&format!("transfer failed: {e}"));
    }
    for node in &net.nodes[1..] {
        let stats = node.rpc().call("detr_stats", rpc_params![]).await.unwrap();
        assert!(
            stat(&stats, "tx", "received") >= 1,
            "{}: transaction not received over detr: {stats}",
            node.config.name
        );
        assert_eq!(stat(&stats, "tx", "decodeErrors"), 0, "{stats}");
    }
    let alice = net.nodes[0].rpc().call("detr_stats", rpc_params![]).await.unwrap();
    assert!(stat(&alice, "tx", "sent") >= 2, "Alice sent the transaction to both: {alice}");

    // Restart Bob (after the peer cache was flushed, every 10 s) with no bootnodes, no mDNS, no
    // discovery daemon and a new port, so that the others cannot dial him back: he reconnects
    // from his peer cache, sessions re-establish with fresh keys (new Noise handshakes, key
    // epochs start again), finality goes on.
    tokio::time::sleep(Duration::from_secs(11)).await;
    let bob = &mut net.nodes[1];
    bob.config.bootnodes.clear();
    bob.p2p_port = free_port();
    bob.restart();
    wait_sessions(bob, 2).await;
    for line in ["peer cache reloaded: 2 peers", "dialling 2 peers from the peer cache"] {
        bob.wait_log(line, 1, Duration::from_secs(5)).await;
    }
    let sessions = bob.rpc().call("detr_sessions", rpc_params![]).await.unwrap();
    let fresh = |s: &Value| s["epochs"][0].as_u64() < Some(2) && s["epochs"][1].as_u64() < Some(2);
    assert!(sessions.as_array().unwrap().iter().all(fresh), "{sessions}");
    let finalized = net.nodes[0].rpc().finalized_number().await.unwrap_or(0);
    net.wait_finalized(finalized + 2, Duration::from_secs(120)).await;
}

#[tokio::test]
async fn detr_end_to_end_litep2p() {
    detr_network("litep2p").await;
}

#[tokio::test]
async fn detr_end_to_end_libp2p() {
    detr_network("libp2p").await;
}
