//! Block propagation: detr's push (the author sends the whole block; receivers import it at
//! once) against sc-network's announce + block request, measured in the same run.
//!
//! Each way, three `--chain local` validators run until `BLOCKS` blocks past the warm-up are
//! imported everywhere; a block's delay is the time from its import on the author to its import
//! on the last of the other validators, read from the nodes' own log timestamps (one clock, 1 ms
//! resolution). Subject: the plugin on (the default); baseline: `--detr-disable`. Prints p50,
//! p99 and max per way and the baseline/subject ratio. Run with `make bench` after `make build`.

use std::time::Duration;

use detr_bench_report::{percentile, skipped_by_filter};
use flarechain_tests::{imports::delays, LocalNetwork};
use jsonrpsee::rpc_params;

/// Blocks measured per way, at least.
const BLOCKS: u64 = 50;
/// Blocks run beyond `BLOCKS`, so that a fork block some node never imported does not leave
/// the run short.
const SPARE: u64 = 5;
/// Blocks skipped first, while peers connect and sessions open.
const WARM_UP: u64 = 3;
/// One block every 6 s, plus a margin for a missed slot now and then.
const RUN_TIMEOUT: Duration = Duration::from_secs(6 * (BLOCKS + SPARE + WARM_UP + 20));

/// The flag that puts milliseconds in the nodes' log timestamps.
const DETAILED: &str = "--detailed-log-output";

/// Runs one network with `args`; returns the sorted delays and how many blocks the nodes
/// imported from detr pushes.
async fn measure(args: &[&str]) -> (Vec<i64>, u64) {
    let mut net = LocalNetwork::start(args).await;
    net.wait_peers(2, Duration::from_secs(90)).await;
    let start = net.nodes[0]
        .wait_for("a best block", Duration::from_secs(120), |rpc| async move {
            rpc.best_number().await.filter(|n| *n >= 1)
        })
        .await
        + WARM_UP;
    for node in &mut net.nodes {
        let last = start + BLOCKS + SPARE;
        node.wait_for(&format!("block #{last}"), RUN_TIMEOUT, |rpc| async move {
            rpc.best_number().await.filter(|n| *n >= last)
        })
        .await;
    }
    // The informant logs asynchronously and the log is flushed every 50 ms.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let logs: Vec<String> = net.nodes.iter().map(|n| n.log()).collect();
    let mut pushed = 0;
    for node in &net.nodes {
        let stats = node.rpc().call("detr_stats", rpc_params![]).await;
        pushed += stats.and_then(|s| s["blocksImported"].as_u64()).unwrap_or(0);
    }
    (delays(&logs, start..start + BLOCKS + SPARE), pushed)
}

fn row(way: &str, d: &[i64], pushed: u64) {
    println!(
        "{way:<34} {:>7} {:>8} {:>8} {:>8} {:>14}",
        d.len(),
        percentile(d, 0.5),
        percentile(d, 0.99),
        d.last().copied().unwrap_or(0),
        pushed
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if skipped_by_filter("block_propagation") {
        return;
    }
    // Detailed log lines carry milliseconds (the default ones, seconds only).
    let (detr, pushed) = measure(&[DETAILED]).await;
    let (sync, _) = measure(&[DETAILED, "--detr-disable"]).await;
    assert!(
        detr.len() as u64 >= BLOCKS && sync.len() as u64 >= BLOCKS,
        "too few blocks measured: {} with detr, {} without",
        detr.len(),
        sync.len()
    );
    println!("\n== block propagation: author's import → last validator's import (ms) ==");
    println!(
        "{:<34} {:>7} {:>8} {:>8} {:>8} {:>14}",
        "way", "blocks", "p50", "p99", "max", "detr imports"
    );
    row("detr push (subject)", &detr, pushed);
    row("announce + request (baseline)", &sync, 0);
    let ratio = |p| percentile(&sync, p) as f64 / percentile(&detr, p).max(1) as f64;
    println!("baseline/subject: p50 {:.2}x, p99 {:.2}x", ratio(0.5), ratio(0.99));
}
