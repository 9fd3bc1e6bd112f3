//! Misbehaving peers over real sockets, on both backends: while Alice, Bob and Charlie
//! validate, a `detr-rogue-peer` completes an AEComms session with one of them and then sends a
//! frame no key opens (Alice), replays a valid frame (Bob), or floods valid frames (Charlie);
//! in a second network it floods handshakes at 1,000/s (Alice), sends 1 MiB frames at full rate
//! (Bob), or replays its own handshake message captured from the wire (Charlie). Each time the validator counts it, bans the peer, closes
//! its streams and refuses to reopen them, sc-network drops the peer's connection, the node's
//! memory stays within `MAX_RSS_GROWTH_KIB` of its figure before the attack, and the three keep
//! their sessions and keep finalizing.

use std::time::Duration;

use flarechain_tests::{
    detr::{detr_stats, stat, wait_sessions, PROTOCOLS},
    run_rogue, LocalNetwork,
};
use jsonrpsee::rpc_params;
use serde_json::Value;

/// How much a node's resident memory may grow during one attack.
const MAX_RSS_GROWTH_KIB: u64 = 64 * 1024;

/// What `attack` must have left in the bridge counters (before → after).
fn check_counters(attack: &str, before: &Value, after: &Value) -> Result<(), String> {
    let delta = |field| stat(after, "bridge", field) - stat(before, "bridge", field);
    let ok = match attack {
        "garbage" => delta("decryptFailures") == 1,
        "replay" => delta("received") == 1 && delta("decryptFailures") == 1,
        "flood" => delta("dropped") > 0,
        "handshake-replay" => delta("handshakeFailures") >= 1,
        // Counted against the inbound limiter, not per frame: the ban is the proof.
        "handshake-flood" | "big-frames" => true,
        other => return Err(format!("unknown attack {other}")),
    };
    ok.then_some(()).ok_or_else(|| format!("{attack}: bridge counters {before} → {after}"))
}

async fn misbehaving_peers(backend: &str, attacks: [&str; 3]) {
    let mut net = LocalNetwork::start(&["--network-backend", backend]).await;
    net.wait_peers(2, Duration::from_secs(90)).await;
    for node in &mut net.nodes {
        wait_sessions(node, 2).await;
    }
    let alice = net.nodes[0].rpc();
    let genesis = alice.call("chain_getBlockHash", rpc_params![0]).await.expect("genesis hash");
    let genesis = genesis.as_str().expect("a hex hash").to_string();

    for (node, attack) in net.nodes.iter().zip(attacks) {
        let name = &node.config.name;
        let id = node.rpc().local_peer_id().await.expect("the node's PeerId");
        let before = detr_stats(node).await;
        let idle_rss = node.rss_kib().expect("the node's memory");
        // The node's memory is sampled every 100 ms while the attack runs.
        let address = node.multiaddr(&id);
        let rogue = run_rogue(&address, &genesis, attack, backend);
        tokio::pin!(rogue);
        let mut peak = idle_rss;
        let run = loop {
            tokio::select! {
                run = &mut rogue => break run,
                _ = tokio::time::sleep(Duration::from_millis(100)) => {
                    peak = peak.max(node.rss_kib().unwrap_or(0));
                }
            }
        };
        println!("{attack} against {name}: RSS {idle_rss} KiB before, peak {peak} KiB");
        if peak > idle_rss + MAX_RSS_GROWTH_KIB {
            node.fail(&format!("{attack}: RSS grew from {idle_rss} to {peak} KiB"));
        }
        if !run.success {
            node.fail(&format!("{attack} peer against {name}: {:?}", run.events));
        }
        println!("{attack} against {name}: {:?}", run.events);
        let rogue = run.event("started").and_then(|e| e["peerId"].as_str()).unwrap_or_default();
        let dropped = run.event("refused").map(|e| e["connected"] == false);
        assert_eq!(dropped, Some(true), "{name}: sc-network dropped {rogue} altogether");
        let after = detr_stats(node).await;
        if after["bans"].as_u64() != before["bans"].as_u64().map(|b| b + 1) {
            node.fail(&format!("{name} banned {rogue} once: {before} → {after}"));
        }
        if let Err(e) = check_counters(attack, &before, &after) {
            node.fail(&e);
        }
        node.wait_log(&format!("banned {rogue}"), 1, Duration::from_secs(5)).await;
        // Unreserved once, not twice (libp2p warns about the second time).
        assert!(!node.log_contains("unknown reserved node"), "{name}:\n{}", node.log_tail());
        let peers = node.rpc().call("detr_peers", rpc_params![]).await.expect("detr_peers");
        assert!(!peers.to_string().contains(rogue), "{name} still lists {rogue}: {peers}");
    }

    // The validators kept their sessions with each other and keep finalizing.
    for node in &net.nodes {
        let stats = detr_stats(node).await;
        for protocol in PROTOCOLS {
            assert_eq!(stat(&stats, protocol, "sessions"), 2, "{}: {stats}", node.config.name);
        }
    }
    let finalized = alice.finalized_number().await.unwrap_or(0);
    net.wait_finalized(finalized + 2, Duration::from_secs(120)).await;
}

#[tokio::test]
async fn misbehaving_peers_are_banned_litep2p() {
    misbehaving_peers("litep2p", ["garbage", "replay", "flood"]).await;
}

#[tokio::test]
async fn misbehaving_peers_are_banned_libp2p() {
    misbehaving_peers("libp2p", ["garbage", "replay", "flood"]).await;
}

#[tokio::test]
async fn handshake_floods_replays_and_big_frames_are_banned_within_memory_litep2p() {
    misbehaving_peers("litep2p", ["handshake-flood", "big-frames", "handshake-replay"]).await;
}

#[tokio::test]
async fn handshake_floods_replays_and_big_frames_are_banned_within_memory_libp2p() {
    misbehaving_peers("libp2p", ["handshake-flood", "big-frames", "handshake-replay"]).await;
}
