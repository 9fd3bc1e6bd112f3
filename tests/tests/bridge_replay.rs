//! Bridge exactly-once that holds under load, on both backends: a `detr-rogue-peer` with a valid
//! session sends Alice a bridge message from chain 7, then 100,000 others from chain 7, then the
//! first one again (a captured envelope, sealed anew), then one for a chain the runtime does not
//! accept. Alice delivers each of the 100,001 messages once, never the replay and never the
//! foreign one; she relays neither of them (Bob and Charlie see no foreign message); the peer
//! keeps its session (a replayed envelope can be an honest late copy: refused, not punished).
//! The node's inbound budget is raised for the test (`--detr-inbound-rate-limit`), so that only
//! the envelopes themselves are refused.

use std::time::Duration;

use flarechain_tests::{
    detr::{detr_stats, dropped_by, wait_sessions},
    run_rogue, LocalNetwork,
};
use jsonrpsee::rpc_params;

/// Bridge messages the rogue peer sends before its replay, plus the first one.
const DISTINCT: u64 = 100_001;

async fn replayed_bridge_envelopes(backend: &str) {
    let args = ["--network-backend", backend, "--detr-inbound-rate-limit", "10000 msg/s"];
    let mut net = LocalNetwork::start(&args).await;
    net.wait_peers(2, Duration::from_secs(90)).await;
    for node in &mut net.nodes {
        wait_sessions(node, 2).await;
    }
    let alice = &net.nodes[0];
    let genesis = alice.rpc().call("chain_getBlockHash", rpc_params![0]).await.expect("genesis");
    let genesis = genesis.as_str().expect("a hex hash").to_string();
    let id = alice.rpc().local_peer_id().await.expect("Alice's PeerId");
    let before = detr_stats(alice).await;

    let run = run_rogue(&alice.multiaddr(&id), &genesis, "bridge-replay", backend).await;
    if !run.success {
        alice.fail(&format!("bridge-replay peer: {:?}", run.events));
    }
    println!("bridge-replay against alice: {:?}", run.events);
    let kept = run.event("kept").map(|e| e["connected"] == true);
    assert_eq!(kept, Some(true), "Alice kept the peer: {:?}", run.events);

    // The foreign message went last, on the same stream: once it is counted, Alice has taken
    // every message before it, the replay included.
    let mut after = detr_stats(alice).await;
    for _ in 0..120 {
        if dropped_by(&after, "bridge", "not_accepted")
            > dropped_by(&before, "bridge", "not_accepted")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        after = detr_stats(alice).await;
    }
    let delivered = after["bridgeDeliveries"].as_u64().unwrap_or(0)
        - before["bridgeDeliveries"].as_u64().unwrap_or(0);
    println!("alice: delivered {delivered} of {DISTINCT}; bridge {}", after["protocols"]);
    assert_eq!(
        dropped_by(&after, "bridge", "not_accepted")
            - dropped_by(&before, "bridge", "not_accepted"),
        1,
        "the foreign chain's message is refused: {after}"
    );
    // Once each, the replay not again (its nonce is below chain 7's window: refused as such;
    // Bob's and Charlie's relayed copies are refused the same way or as duplicates).
    assert_eq!(delivered, DISTINCT, "each distinct message once, the replay never: {after}");
    assert_eq!(after["bans"], 0, "nobody banned: {after}");
    assert_eq!(after["penalties"], serde_json::json!({}), "nobody penalized: {after}");
    // Nothing Alice received was lost on the way in (her relays to Bob and Charlie may be shed
    // at the governed outbound rate: counted as `outbound_full`).
    for cause in ["inbound_budget", "route_full", "consumer_full"] {
        assert_eq!(
            dropped_by(&after, "bridge", cause),
            0,
            "alice lost bridge messages at {cause}: {after}"
        );
    }

    // Alice relayed neither the replay nor the foreign message.
    for node in &net.nodes[1..] {
        let stats = detr_stats(node).await;
        let name = &node.config.name;
        assert_eq!(
            dropped_by(&stats, "bridge", "not_accepted"),
            0,
            "{name} got the foreign message: {stats}"
        );
        let received = stats["bridgeDeliveries"].as_u64().unwrap_or(0);
        assert!(received <= DISTINCT, "{name} delivered {received} > {DISTINCT}: {stats}");
    }
    let finalized = net.nodes[0].rpc().finalized_number().await.unwrap_or(0);
    net.wait_finalized(finalized + 2, Duration::from_secs(120)).await;
}

#[tokio::test]
async fn a_replayed_bridge_envelope_is_refused_after_100_000_messages_litep2p() {
    replayed_bridge_envelopes("litep2p").await;
}

#[tokio::test]
async fn a_replayed_bridge_envelope_is_refused_after_100_000_messages_libp2p() {
    replayed_bridge_envelopes("libp2p").await;
}
