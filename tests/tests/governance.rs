//! On-chain network parameters, end to end: three `--chain local` validators; root lowers the
//! rate limits with `sudo(detrP2p.setConfig)`; within 2 finalized blocks of its inclusion every
//! node applies them (`detr_stats` and the `substrate_detr_config` gauge); polkadot-js reads
//! them through `api.call.detrP2pApi`; bridge messages to chains the chain does not accept are
//! refused, and `setBridgeChains` changes that live.

use std::time::Duration;

use flarechain_tests::{rpc::parse_hex_u64, run_script, LocalNetwork};
use jsonrpsee::rpc_params;
use serde_json::json;

#[tokio::test]
async fn governed_parameters_apply_on_every_node() {
    let mut net = LocalNetwork::start(&[]).await;
    net.wait_peers(2, Duration::from_secs(90)).await;
    net.wait_finalized(1, Duration::from_secs(120)).await;
    let alice_ws = format!("ws://127.0.0.1:{}", net.nodes[0].rpc_port);

    // polkadot-js reads the genesis parameters through the runtime API.
    let read = run_script("detr-config.js", &[&alice_ws]).await.expect("detr-config.js read");
    assert_eq!(read["networkConfig"]["rateLimit"], 1000, "{read}");
    assert_eq!(read["bridgeChains"], json!([1, 7]), "{read}");
    for node in &net.nodes {
        let stats = node.rpc().call("detr_stats", rpc_params![]).await.expect("detr_stats");
        assert_eq!(stats["config"]["rateLimit"], 1000, "{}: {stats}", node.config.name);
    }

    // A bad value is refused by the pallet, naming the field.
    let bad = run_script("detr-config.js", &[&alice_ws, "set", r#"{"maxPeers": 0}"#]).await;
    assert!(bad.as_ref().is_err_and(|e| e.contains("InvalidMaxPeers")), "{bad:?}");

    // Root lowers the rate limits.
    let set = run_script(
        "detr-config.js",
        &[&alice_ws, "set", r#"{"rateLimit": 200, "peerRateLimit": 100}"#],
    )
    .await
    .unwrap_or_else(|e| net.nodes[0].fail(&format!("setConfig: {e}")));
    let block = net.nodes[0]
        .rpc()
        .call("chain_getHeader", rpc_params![set["inBlock"].as_str().unwrap()])
        .await
        .and_then(|h| parse_hex_u64(h["number"].as_str()?))
        .expect("the including block's header");
    for node in &mut net.nodes {
        let name = node.config.name.clone();
        let stats = node
            .wait_for("the lowered rate limit", Duration::from_secs(90), |rpc| async move {
                let stats = rpc.call("detr_stats", rpc_params![]).await?;
                let finalized = rpc.finalized_number().await?;
                if stats["config"]["rateLimit"] == 200 {
                    return Some(Ok(stats));
                }
                (finalized >= block + 2).then_some(Err((finalized, stats)))
            })
            .await
            .unwrap_or_else(|(finalized, stats)| {
                panic!("{name}: not applied at finalized #{finalized} (set in #{block}): {stats}")
            });
        assert_eq!(stats["config"]["peerRateLimit"], 100, "{name}: {stats}");
        assert!(stats["config"]["fromBlock"].as_u64() >= Some(block), "{name}: {stats}");
        let gauge = |param: &str| node.metric(&format!("substrate_detr_config{{param=\"{param}\""));
        assert_eq!(gauge("rate_limit"), Some(200.0), "{name}");
        assert_eq!(gauge("peer_rate_limit"), Some(100.0), "{name}");
        node.wait_log("rate_limit = 200 (chain)", 1, Duration::from_secs(5)).await;
    }

    // Bridge messages: chain 99 is refused until root accepts it.
    let alice = net.nodes[0].rpc();
    let error = alice
        .call_error("detr_sendBridgeMessage", rpc_params![99u32, 1u64, "0x01"])
        .await
        .expect("chain 99 is refused");
    assert!(error.contains("destination chain 99 is not accepted"), "{error}");
    let sent = alice.call("detr_sendBridgeMessage", rpc_params![7u32, 1u64, "0x01"]).await;
    assert!(sent.is_some(), "chain 7 is accepted at genesis");
    run_script("detr-config.js", &[&alice_ws, "bridge-chains", "7,99"])
        .await
        .unwrap_or_else(|e| net.nodes[0].fail(&format!("setBridgeChains: {e}")));
    net.nodes[0]
        .wait_for("chain 99 accepted once finalized", Duration::from_secs(60), |rpc| async move {
            rpc.call("detr_sendBridgeMessage", rpc_params![99u32, 2u64, "0x02"]).await
        })
        .await;
}
