//! Flow control on tokio's paused clock: no sleeps, exact virtual time.

use std::{
    num::NonZeroU32,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use etrid_p2p_fluent::{
    FlowConfig, FlowController, FlowError, InboundLimiter, InboundVerdict, Priority, RateLimit,
};

fn rate(n: u32) -> RateLimit {
    RateLimit::per_second(NonZeroU32::new(n).unwrap())
}

fn config(global: u32, peer: u32, queue: usize) -> FlowConfig {
    FlowConfig {
        rate_limit: rate(global),
        peer_rate_limit: rate(peer),
        max_queue_size: queue,
        ..FlowConfig::default()
    }
}

/// Spawns a consumer of `peer` counting what it receives.
fn drain(flow: &FlowController<u8, u32>, peer: u8) -> Arc<AtomicU64> {
    let count = Arc::new(AtomicU64::new(0));
    let (flow, counter) = (flow.clone(), count.clone());
    tokio::spawn(async move {
        while flow.recv(&peer).await.is_some() {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });
    count
}

fn within(actual: u64, expected: u64, tolerance: f64) -> bool {
    (actual as f64 - expected as f64).abs() <= expected as f64 * tolerance
}

#[tokio::test(start_paused = true)]
async fn global_rate_limit_holds_within_5_percent() {
    let flow = FlowController::new(config(1000, 1_000_000, 100_000));
    flow.add_peer(1u8);
    for i in 0..50_000 {
        flow.try_send(&1, i, Priority::Normal).unwrap();
    }
    let received = drain(&flow, 1);
    tokio::time::sleep(Duration::from_secs(10)).await;
    let got = received.load(Ordering::Relaxed);
    assert!(within(got, 10_000, 0.05), "1000 msg/s for 10 s gave {got}");
    assert!(flow.queue_stats().levels[Priority::Normal.index()].throttled > 9_000);
}

#[tokio::test(start_paused = true)]
async fn per_peer_limits_hold_under_the_global_one() {
    let flow = FlowController::new(config(10_000, 200, 100_000));
    for peer in [1u8, 2] {
        flow.add_peer(peer);
        for i in 0..10_000 {
            flow.try_send(&peer, i, Priority::Low).unwrap();
        }
    }
    let (a, b) = (drain(&flow, 1), drain(&flow, 2));
    tokio::time::sleep(Duration::from_secs(5)).await;
    for (peer, got) in [(1, a.load(Ordering::Relaxed)), (2, b.load(Ordering::Relaxed))] {
        assert!(within(got, 1000, 0.05), "peer {peer}: 200 msg/s for 5 s gave {got}");
    }
}

#[tokio::test(start_paused = true)]
async fn rate_limit_changes_at_runtime() {
    let flow = FlowController::new(config(1000, 1_000_000, 100_000));
    flow.add_peer(1u8);
    for i in 0..50_000 {
        flow.try_send(&1, i, Priority::Normal).unwrap();
    }
    let received = drain(&flow, 1);
    tokio::time::sleep(Duration::from_secs(2)).await;
    flow.set_rate_limit(rate(100));
    let before = received.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(10)).await;
    let after = received.load(Ordering::Relaxed) - before;
    assert!(within(before, 2000, 0.05), "first 2 s at 1000/s gave {before}");
    assert!(within(after, 1000, 0.05), "10 s at 100/s gave {after}");
    assert_eq!(flow.config().rate_limit, rate(100));
}

#[tokio::test(start_paused = true)]
async fn shares_under_a_flood_of_every_level_follow_the_weights() {
    let flow = FlowController::new(config(1000, 1000, 100_000));
    flow.add_peer(1u8);
    for i in 0..10_000 {
        for p in Priority::ALL {
            flow.try_send(&1, i, p).unwrap();
        }
    }
    let mut served = [0u32; 5];
    for _ in 0..3100 {
        served[flow.recv(&1).await.unwrap().0.index()] += 1;
    }
    // Weights 16:8:4:2:1 of 31.
    assert_eq!(served, [1600, 800, 400, 200, 100]);
}

#[tokio::test(start_paused = true)]
async fn critical_messages_overtake_a_bulk_backlog() {
    let flow = FlowController::new(config(1000, 1000, 100_000));
    flow.add_peer(1u8);
    for i in 0..5000 {
        flow.try_send(&1, i, Priority::Bulk).unwrap();
    }
    for _ in 0..100 {
        flow.recv(&1).await.unwrap();
        flow.try_send(&1, 999_999, Priority::Critical).unwrap();
        assert_eq!(flow.recv(&1).await.unwrap(), (Priority::Critical, 999_999));
    }
}

#[tokio::test(start_paused = true)]
async fn a_full_queue_sheds_lowest_oldest_and_counts_it() {
    let flow = FlowController::new(config(1000, 1000, 3));
    flow.add_peer(1u8);
    flow.try_send(&1, 1, Priority::Bulk).unwrap();
    flow.try_send(&1, 2, Priority::Low).unwrap();
    flow.try_send(&1, 3, Priority::Bulk).unwrap();
    flow.try_send(&1, 4, Priority::Critical).unwrap(); // sheds 1
    flow.try_send(&1, 5, Priority::High).unwrap(); // sheds 3
    flow.try_send(&1, 6, Priority::High).unwrap(); // sheds 2
    assert_eq!(flow.try_send(&1, 7, Priority::Normal), Err(FlowError::QueueFull { capacity: 3 }));
    let stats = flow.queue_stats();
    assert_eq!(stats.levels[Priority::Bulk.index()].dropped, 2);
    assert_eq!(stats.levels[Priority::Low.index()].dropped, 1);
    assert_eq!(stats.levels[Priority::Normal.index()].dropped, 1);
    assert_eq!(stats.total().depth, 3);
    let mut got = Vec::new();
    while flow.depth(&1) > 0 {
        got.push(flow.recv(&1).await.unwrap().1);
    }
    assert_eq!(got, vec![4, 5, 6]);
}

#[tokio::test(start_paused = true)]
async fn no_priority_0_or_1_message_is_lost_while_there_is_room_for_them() {
    let flow = FlowController::new(config(1000, 1000, 1000));
    flow.add_peer(1u8);
    let mut important = 0;
    for i in 0..20_000u32 {
        let p = match i % 10 {
            0 => Priority::Critical,
            1 => Priority::High,
            _ => Priority::Bulk,
        };
        if p <= Priority::High {
            important += 1;
        }
        let _ = flow.try_send(&1, i, p);
        if i % 4 == 3 {
            flow.recv(&1).await.unwrap();
        }
    }
    let stats = flow.queue_stats();
    assert_eq!(stats.levels[0].dropped + stats.levels[1].dropped, 0);
    assert_eq!(stats.levels[0].enqueued + stats.levels[1].enqueued, important);
    assert!(stats.levels[4].dropped > 0, "bulk was shed instead");
}

#[tokio::test(start_paused = true)]
async fn send_priority_waits_for_room() {
    let flow = FlowController::new(config(1000, 1000, 2));
    flow.add_peer(1u8);
    flow.send_priority(&1, 1, Priority::Critical).await.unwrap();
    flow.send_priority(&1, 2, Priority::Critical).await.unwrap();
    let waiting = {
        let flow = flow.clone();
        tokio::spawn(async move { flow.send_priority(&1, 3, Priority::Critical).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!waiting.is_finished(), "the third send waits while the queue is full");
    assert_eq!(flow.recv(&1).await.unwrap().1, 1);
    waiting.await.unwrap().unwrap();
    assert_eq!(flow.depth(&1), 2);
    assert_eq!(flow.queue_stats().total().dropped, 0);
}

#[tokio::test(start_paused = true)]
async fn removing_a_peer_wakes_its_waiters_and_counts_its_queue_as_dropped() {
    let flow = FlowController::new(config(1000, 1000, 1));
    flow.add_peer(1u8);
    flow.try_send(&1, 1, Priority::Critical).unwrap();
    let waiting = {
        let flow = flow.clone();
        tokio::spawn(async move { flow.send_priority(&1, 2, Priority::Critical).await })
    };
    tokio::time::sleep(Duration::from_millis(10)).await;
    flow.remove_peer(&1);
    assert_eq!(waiting.await.unwrap(), Err(FlowError::UnknownPeer));
    assert_eq!(flow.recv(&1).await, None);
    assert_eq!(flow.try_send(&1, 3, Priority::Critical), Err(FlowError::UnknownPeer));
    let stats = flow.queue_stats();
    assert_eq!((stats.levels[0].dropped, stats.levels[0].depth), (1, 0));
}

#[tokio::test(start_paused = true)]
async fn inbound_limiter_drops_excess_and_reports_abusers() {
    let limiter = InboundLimiter::new(rate(100), 10);
    // The burst (100/20 = 5) passes at once, then the flood is dropped, and every 10th drop reports.
    let verdicts: Vec<_> = (0..35).map(|_| limiter.check(&7u8)).collect();
    assert!(verdicts[..5].iter().all(|v| *v == InboundVerdict::Allow));
    assert_eq!(verdicts.iter().filter(|v| **v == InboundVerdict::Abuse).count(), 3);
    assert_eq!(limiter.check(&8u8), InboundVerdict::Allow, "other peers are unaffected");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(limiter.check(&7u8), InboundVerdict::Allow, "the rate recovers");
}

#[test]
fn rate_limits_parse_from_the_config_syntax() {
    assert_eq!("1000 msg/s".parse::<RateLimit>().unwrap(), rate(1000));
    assert_eq!("250/s".parse::<RateLimit>().unwrap(), rate(250));
    assert_eq!("600 msg/min".parse::<RateLimit>().unwrap().per_second_f64(), 10.0);
    for bad in ["", "0 msg/s", "fast", "10 msg/h", "-5/s", "1000 msg"] {
        assert!(bad.parse::<RateLimit>().is_err(), "{bad:?} should not parse");
    }
    assert_eq!(rate(1000).to_string(), "1000 msg/s");
}

#[test]
fn config_validation_names_the_key() {
    let bad = FlowConfig { max_queue_size: 0, ..FlowConfig::default() };
    assert!(bad.validate().unwrap_err().to_string().starts_with("max_queue_size"));
    let bad = FlowConfig { weights: [1, 0, 1, 1, 1], ..FlowConfig::default() };
    assert!(bad.validate().unwrap_err().to_string().starts_with("weights"));
    FlowConfig::default().validate().unwrap();
}
