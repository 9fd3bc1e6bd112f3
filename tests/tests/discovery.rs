//! Discovery end to end: three `--chain local` validators with NO bootnodes and `--no-mdns`,
//! each pointed at its own `detr-discovery` daemon (the daemons join through the first), find
//! each other, open detr sessions and finalize; a daemon that goes down and comes back is
//! survived and re-registered with.

use std::time::Duration;

use flarechain_tests::{Daemon, NodeConfig, TestNode};
use jsonrpsee::rpc_params;

#[tokio::test]
async fn validators_without_bootnodes_find_each_other_through_the_daemons() {
    let first = Daemon::start(&[]);
    let mut daemons = vec![first];
    for _ in 0..2 {
        let contact = daemons[0].contact.clone();
        daemons.push(Daemon::start(&[&contact]));
    }
    let mut nodes: Vec<TestNode> =
        [("alice", "--alice"), ("bob", "--bob"), ("charlie", "--charlie")]
            .into_iter()
            .zip(&daemons)
            .map(|((name, flag), daemon)| {
                TestNode::start(NodeConfig {
                    key_flag: Some(flag.into()),
                    extra_args: vec!["--detr-discovery".into(), daemon.url.clone()],
                    ..NodeConfig::new(name, "local")
                })
            })
            .collect();

    for node in &mut nodes {
        node.wait_for(
            "2 peers found through discovery",
            Duration::from_secs(120),
            |rpc| async move { rpc.peer_count().await.filter(|n| *n >= 2) },
        )
        .await;
        node.wait_for(
            "detr sessions with both others",
            Duration::from_secs(90),
            |rpc| async move {
                let sessions = rpc.call("detr_sessions", rpc_params![]).await?;
                let up = sessions.as_array()?.iter().filter(|s| s["established"] == true).count();
                (up >= 8).then_some(())
            },
        )
        .await;
    }
    for node in &mut nodes {
        node.wait_finalized(3, Duration::from_secs(120)).await;
        let name = node.config.name.clone();
        node.wait_log("discovered ", 1, Duration::from_secs(5)).await;
        assert_eq!(node.metric("substrate_detr_discovery_peers"), Some(2.0), "{name}");
    }

    // Bob's daemon goes down and comes back: Bob says so once each way, registers again, and
    // the chain goes on.
    daemons[1].stop();
    nodes[1].wait_log("unreachable (", 1, Duration::from_secs(30)).await;
    daemons[1].start_again();
    nodes[1].wait_log("reachable; record registered", 2, Duration::from_secs(60)).await;
    assert_eq!(nodes[1].log_count("unreachable ("), 1, "one line per state change");
    let bob_peer = nodes[1].rpc().local_peer_id().await.expect("Bob's PeerId");
    let listed = daemons[0].get(&format!("/v1/peers?genesis={}", genesis(&nodes[0]).await));
    assert!(listed.is_some_and(|l| l.to_string().contains(&peer_hex(&bob_peer))), "Bob listed");
    let finalized = nodes[0].rpc().finalized_number().await.unwrap_or(0);
    for node in &mut nodes {
        node.wait_finalized(finalized + 2, Duration::from_secs(120)).await;
    }
}

async fn genesis(node: &TestNode) -> String {
    let hash = node.rpc().call("chain_getBlockHash", rpc_params![0]).await.expect("genesis hash");
    hash.as_str().unwrap().trim_start_matches("0x").to_string()
}

/// The hex of a base58 PeerId's bytes, as the daemon lists it.
fn peer_hex(base58: &str) -> String {
    let bytes = bs58::decode(base58).into_vec().expect("a base58 PeerId");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
