//! Consensus first, under load, on both backends: three `--chain local` validators while Alice
//! is flooded with bridge messages (priority 2) far past the outbound rate limit for
//! `FLOOD` (ten block times). With five priority levels, finality lags at most 3 blocks
//! throughout and GRANDPA's messages (priority 0) wait < 50 ms in the peer queues (p99) while the
//! bridge messages' wait grows. The same flood with `--detr-priority-levels 1` is run in the same
//! test and both sets of figures are printed side by side.
//!
//! Bridge messages stand in for transactions here: each costs one RPC call and no signature, so
//! the test's own client can outrun the 1,000 msg/s rate limit on two cores; polkadot-js signing
//! cannot.

use std::{
    sync::{atomic::AtomicU64, Arc},
    time::{Duration, Instant},
};

use flarechain_tests::{
    detr::{send_bridge_messages, wait_sessions},
    LocalNetwork, TestNode,
};

/// How long the flood lasts: ten 6 s slots.
const FLOOD: Duration = Duration::from_secs(60);
/// Concurrent RPC senders (each awaits its call, so this is the pipeline depth).
const SENDERS: u64 = 8;
/// Bytes of each bridge message's payload.
const PAYLOAD: usize = 1024;
/// Most blocks finality may lag behind the best block during the flood.
const MAX_LAG: u64 = 3;
/// Most a GRANDPA message may wait in a peer queue (p99) with five levels.
const MAX_CONSENSUS_P99: f64 = 0.05;

/// Cumulative counts of `substrate_detr_queue_delay_seconds{priority}` by upper bound.
fn buckets(node: &TestNode, priority: u8) -> Vec<(f64, f64)> {
    let label = format!("priority=\"{priority}\"");
    node.metrics()
        .lines()
        .filter_map(|l| l.strip_prefix("substrate_detr_queue_delay_seconds_bucket{"))
        .filter(|rest| rest.split(',').any(|l| l == label))
        .filter_map(|rest| {
            let (labels, count) = rest.split_once("} ")?;
            let le = labels.split(',').find_map(|l| l.strip_prefix("le=\""))?.trim_end_matches('"');
            let le = if le == "+Inf" { f64::INFINITY } else { le.parse().ok()? };
            Some((le, count.trim().parse().ok()?))
        })
        .collect()
}

/// The upper bound of the bucket holding the 99th percentile of what was observed between
/// `before` and `after` (0 if nothing was), and the number of observations.
fn p99(before: &[(f64, f64)], after: &[(f64, f64)]) -> (f64, u64) {
    let count = |b: &[(f64, f64)], le: f64| b.iter().find(|(l, _)| *l == le).map_or(0.0, |x| x.1);
    let diff: Vec<_> = after.iter().map(|(le, n)| (*le, n - count(before, *le))).collect();
    let total = diff.last().map_or(0.0, |x| x.1);
    let p = diff.iter().find(|(_, n)| *n >= 0.99 * total).map_or(0.0, |x| x.0);
    (if total == 0.0 { 0.0 } else { p }, total as u64)
}

/// What one flood showed.
#[derive(Debug)]
struct Figures {
    sent: u64,
    max_lag: u64,
    finalized: u64,
    consensus_p99: (f64, u64),
    bridge_p99: (f64, u64),
}

/// Floods Alice with bridge messages for `FLOOD`, sampling finality lag twice a second.
async fn flood(net: &LocalNetwork, run: u64) -> Figures {
    let alice = &net.nodes[0];
    let (consensus_before, bridge_before) = (buckets(alice, 0), buckets(alice, 2));
    let finalized_before = alice.rpc().finalized_number().await.unwrap_or(0);
    let payload = format!("0x{}", "ab".repeat(PAYLOAD));
    let end = Instant::now() + FLOOD;
    let nonces = Arc::new(AtomicU64::new(run << 40));
    let sending = send_bridge_messages(alice.rpc_port, SENDERS, &payload, nonces, move |_| {
        Instant::now() < end
    });
    let sampling = async {
        let mut max_lag = 0;
        while Instant::now() < end {
            let rpc = alice.rpc();
            if let (Some(best), Some(finalized)) =
                (rpc.best_number().await, rpc.finalized_number().await)
            {
                max_lag = max_lag.max(best.saturating_sub(finalized));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        max_lag
    };
    let (sent, max_lag) = tokio::join!(sending, sampling);
    let finalized = alice.rpc().finalized_number().await.unwrap_or(0) - finalized_before;
    Figures {
        sent,
        max_lag,
        finalized,
        consensus_p99: p99(&consensus_before, &buckets(alice, 0)),
        bridge_p99: p99(&bridge_before, &buckets(alice, 2)),
    }
}

async fn consensus_first(backend: &str) {
    let mut net = LocalNetwork::start(&["--network-backend", backend]).await;
    net.wait_peers(2, Duration::from_secs(90)).await;
    for node in &mut net.nodes {
        wait_sessions(node, 2).await;
    }
    net.wait_finalized(2, Duration::from_secs(120)).await;
    let five = flood(&net, 1).await;

    for node in &mut net.nodes {
        node.config.extra_args.extend(["--detr-priority-levels".into(), "1".into()]);
        node.restart();
    }
    net.wait_peers(2, Duration::from_secs(90)).await;
    for node in &mut net.nodes {
        wait_sessions(node, 2).await;
    }
    let one = flood(&net, 2).await;

    println!("{backend}: flood of bridge messages on Alice for {FLOOD:?}");
    println!("  {:<34} {:>14} {:>14}", "", "5 levels", "1 level");
    println!("  {:<34} {:>14} {:>14}", "bridge messages sent", five.sent, one.sent);
    println!("  {:<34} {:>14} {:>14}", "blocks finalized", five.finalized, one.finalized);
    println!("  {:<34} {:>14} {:>14}", "max finality lag (blocks)", five.max_lag, one.max_lag);
    let ms = |(p, n): (f64, u64)| match p.is_finite() {
        true => format!("≤ {:.1} ms ({n})", p * 1e3),
        false => format!("> 10 s ({n})"),
    };
    println!(
        "  {:<34} {:>14} {:>14}",
        "consensus queue delay p99 (msgs)",
        ms(five.consensus_p99),
        ms(one.consensus_p99)
    );
    println!(
        "  {:<34} {:>14} {:>14}",
        "bridge queue delay p99 (msgs)",
        ms(five.bridge_p99),
        ms(one.bridge_p99)
    );

    assert!(five.max_lag <= MAX_LAG, "finality lagged {} blocks: {five:?}", five.max_lag);
    assert!(five.finalized >= 5, "finality went on during the flood: {five:?}");
    assert!(five.consensus_p99.1 > 0, "GRANDPA messages were queued: {five:?}");
    assert!(five.consensus_p99.0 <= MAX_CONSENSUS_P99, "consensus waited: {five:?}");
    assert!(
        five.bridge_p99.0 > five.consensus_p99.0,
        "the flood made bridge messages wait longer than GRANDPA's: {five:?}"
    );
}

#[tokio::test]
async fn consensus_overtakes_a_flood_litep2p() {
    consensus_first("litep2p").await;
}

#[tokio::test]
async fn consensus_overtakes_a_flood_libp2p() {
    consensus_first("libp2p").await;
}
