//! Rekeying never punishes an honest peer, on both backends: three `--chain local` validators
//! with `--detr-rekey-after-messages 5` while Alice and Bob send 2 × `MESSAGES` bridge
//! messages (relayed to every node, so frames flow both ways on every link) beside GRANDPA's
//! traffic. Keys change every 5 frames (a batch of small messages is one frame), so tens to
//! hundreds of times per link; no frame fails to open, no peer loses any
//! reputation (no penalty of any reason is applied), nobody is banned, nothing is lost (each
//! node delivers every message of the others exactly once and no queue sheds one), and
//! finality goes on.

use std::{
    sync::{atomic::AtomicU64, Arc},
    time::Duration,
};

use flarechain_tests::{
    detr::{dropped_by, send_bridge_messages, stat, wait_sessions, PROTOCOLS},
    LocalNetwork, TestNode,
};
use jsonrpsee::rpc_params;

/// Frames a session seals before its keys change. The link batches small messages that queue
/// together, so a relaying node may send its share of the flood in a hundred frames or so.
const REKEY_AFTER: &str = "5";
/// Bridge messages sent by each of Alice and Bob.
const MESSAGES: u64 = 5_000;
/// Concurrent RPC senders per node.
const SENDERS: u64 = 4;
/// Payload of each bridge message.
const PAYLOAD: &str = "0x00112233445566778899aabbccddeeff";
/// Key epochs each bridge session must have gone through both ways (50 frames at 5 each).
const MIN_EPOCHS: u64 = 10;

/// The bridge messages `node` received so far, once its queues are empty.
async fn settled(node: &mut TestNode) -> u64 {
    node.wait_for("empty queues", Duration::from_secs(120), |rpc| async move {
        let stats = rpc.call("detr_stats", rpc_params![]).await?;
        let queued: u64 = PROTOCOLS.iter().map(|p| stat(&stats, p, "queued")).sum();
        (queued == 0).then(|| stat(&stats, "bridge", "received"))
    })
    .await
}

async fn rekey_under_load(backend: &str) {
    let args = ["--network-backend", backend, "--detr-rekey-after-messages", REKEY_AFTER];
    let mut net = LocalNetwork::start(&args).await;
    net.wait_peers(2, Duration::from_secs(90)).await;
    for node in &mut net.nodes {
        wait_sessions(node, 2).await;
    }
    let (alice, bob) = (net.nodes[0].rpc_port, net.nodes[1].rpc_port);
    // Alice and Bob are both FlareChain sources: they draw from one nonce sequence.
    let next = Arc::new(AtomicU64::new(1));
    let within = |nonce| nonce <= 2 * MESSAGES;
    let (a, b) = tokio::join!(
        send_bridge_messages(alice, SENDERS, PAYLOAD, next.clone(), within),
        send_bridge_messages(bob, SENDERS, PAYLOAD, next.clone(), within)
    );
    assert_eq!(a + b, 2 * MESSAGES, "every bridge message was accepted ({a} on Alice, {b} on Bob)");
    // Relays may lag the RPC calls: wait until every queue is empty and nothing more comes.
    for _ in 0..30 {
        let mut received = Vec::new();
        for node in &mut net.nodes {
            received.push(settled(node).await);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        let mut again = Vec::new();
        for node in &mut net.nodes {
            again.push(settled(node).await);
        }
        if again == received {
            break;
        }
    }

    // Alice delivers Bob's messages, Bob Alice's, Charlie both (their own are not deliveries).
    let expected = [b, a, a + b];
    for (node, expected) in net.nodes.iter().zip(expected) {
        let name = &node.config.name;
        let stats = node.rpc().call("detr_stats", rpc_params![]).await.expect("detr_stats");
        let bridge =
            ["sent", "received", "duplicates", "dropped"].map(|f| stat(&stats, "bridge", f));
        println!("{name}: bridge sent, received, duplicates, dropped: {bridge:?}");
        let lost: Vec<_> = stats["protocols"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| format!("{} {}", p["protocol"], p["droppedBy"]))
            .collect();
        println!("{name}: delivered {} of {expected}; lost: {lost:?}", stats["bridgeDeliveries"]);
        // A relayed copy may arrive after the window slid past its nonce ("below_window"): that
        // is a copy, not a loss, as long as every message was delivered once.
        for protocol in PROTOCOLS {
            let below = dropped_by(&stats, protocol, "below_window");
            let lost = stat(&stats, protocol, "dropped") - below;
            assert_eq!(lost, 0, "{name} lost {protocol} messages: {stats}");
        }
        assert_eq!(
            stats["bridgeDeliveries"], expected,
            "{name} delivered each message once: {stats}"
        );
        assert_eq!(stats["bans"], 0, "{name}: {stats}");
        assert_eq!(stats["penalties"], serde_json::json!({}), "{name} penalized a peer: {stats}");
        for protocol in PROTOCOLS {
            for field in ["decryptFailures", "handshakeFailures", "decodeErrors"] {
                assert_eq!(stat(&stats, protocol, field), 0, "{name} {protocol} {field}: {stats}");
            }
            assert_eq!(stat(&stats, protocol, "sessions"), 2, "{name} {protocol}: {stats}");
        }
        let sessions = node.rpc().call("detr_sessions", rpc_params![]).await.expect("sessions");
        let bridge_epochs: Vec<_> = sessions
            .as_array()
            .expect("a list")
            .iter()
            .filter(|s| s["protocol"] == "bridge")
            .map(|s| (s["epochs"][0].as_u64().unwrap_or(0), s["epochs"][1].as_u64().unwrap_or(0)))
            .collect();
        println!("{name}: bridge key epochs (send, receive) per peer: {bridge_epochs:?}");
        assert!(
            bridge_epochs.iter().all(|(send, recv)| *send >= MIN_EPOCHS && *recv >= MIN_EPOCHS),
            "{name}: keys changed on every bridge session both ways: {sessions}"
        );
        let peers = node.rpc().call("detr_peers", rpc_params![]).await.expect("detr_peers");
        for peer in peers.as_array().expect("a list") {
            let reputation = peer["reputation"].as_i64().unwrap_or(i64::MIN);
            println!("{name}: reputation of {}: {reputation}", peer["peerId"]);
            assert!(reputation >= 0, "{name} took reputation from {peer}: {stats}");
        }
    }
    let finalized = net.nodes[0].rpc().finalized_number().await.unwrap_or(0);
    net.wait_finalized(finalized + 2, Duration::from_secs(120)).await;
}

#[tokio::test]
async fn rekey_every_5_frames_costs_honest_peers_nothing_litep2p() {
    rekey_under_load("litep2p").await;
}

#[tokio::test]
async fn rekey_every_5_frames_costs_honest_peers_nothing_libp2p() {
    rekey_under_load("libp2p").await;
}
