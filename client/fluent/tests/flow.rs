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
    ByteRate, FlowConfig, FlowController, FlowError, InboundLimiter, InboundVerdict, Priority,
    RateLimit, Servable,
};

fn rate(n: u32) -> RateLimit {
    RateLimit::per_second(NonZeroU32::new(n).unwrap())
}

/// Bytes each test message counts for, unless a test says otherwise.
const SIZE: usize = 100;

fn config(global: u32, peer: u32, queue: usize) -> FlowConfig {
    FlowConfig {
        rate_limit: rate(global),
        peer_rate_limit: rate(peer),
        max_queue_size: queue,
        ..FlowConfig::default()
    }
}

type Flow = FlowController<u8, u32>;

fn send(flow: &Flow, peer: u8, message: u32, priority: Priority) -> Result<(), FlowError> {
    flow.try_send(&peer, message, priority, SIZE)
}

async fn next(flow: &Flow, peer: u8) -> Option<(Priority, u32)> {
    flow.recv(&peer, Servable::ALL).await.map(|d| (d.priority, d.message))
}

/// Spawns a consumer of `peer` counting what it receives.
fn drain(flow: &Flow, peer: u8) -> Arc<AtomicU64> {
    let count = Arc::new(AtomicU64::new(0));
    let (flow, counter) = (flow.clone(), count.clone());
    tokio::spawn(async move {
        while next(&flow, peer).await.is_some() {
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
        send(&flow, 1, i, Priority::Normal).unwrap();
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
            send(&flow, peer, i, Priority::Low).unwrap();
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
        send(&flow, 1, i, Priority::Normal).unwrap();
    }
    let received = drain(&flow, 1);
    tokio::time::sleep(Duration::from_secs(2)).await;
    flow.set_rate_limits(&FlowConfig { rate_limit: rate(100), ..flow.config() });
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
            send(&flow, 1, i, p).unwrap();
        }
    }
    let mut served = [0u32; 5];
    for _ in 0..3100 {
        served[next(&flow, 1).await.unwrap().0.index()] += 1;
    }
    // Weights 16:8:4:2:1 of 31.
    assert_eq!(served, [1600, 800, 400, 200, 100]);
}

#[tokio::test(start_paused = true)]
async fn critical_messages_overtake_a_bulk_backlog() {
    let flow = FlowController::new(config(1000, 1000, 100_000));
    flow.add_peer(1u8);
    for i in 0..5000 {
        send(&flow, 1, i, Priority::Bulk).unwrap();
    }
    for _ in 0..100 {
        next(&flow, 1).await.unwrap();
        send(&flow, 1, 999_999, Priority::Critical).unwrap();
        assert_eq!(next(&flow, 1).await.unwrap(), (Priority::Critical, 999_999));
    }
}

#[tokio::test(start_paused = true)]
async fn the_oldest_queued_message_of_each_priority_shows_its_wait() {
    // One level: a FIFO where a bulk message can sit behind low ones and the reverse.
    let flow = FlowController::new(FlowConfig { levels: 1, ..config(1000, 1000, 100) });
    flow.add_peer(1u8);
    flow.add_peer(2u8);
    assert_eq!(flow.oldest_queued(Priority::Low), None);
    send(&flow, 1, 0, Priority::Bulk).unwrap();
    tokio::time::advance(Duration::from_secs(1)).await;
    send(&flow, 2, 1, Priority::Low).unwrap();
    tokio::time::advance(Duration::from_secs(2)).await;
    send(&flow, 1, 2, Priority::Low).unwrap();
    assert_eq!(flow.oldest_queued(Priority::Bulk), Some(Duration::from_secs(3)));
    assert_eq!(flow.oldest_queued(Priority::Low), Some(Duration::from_secs(2)));
    assert_eq!(flow.oldest_queued(Priority::Critical), None);
    // Peer 2's low message sent: peer 1's, behind the bulk one, is the oldest left.
    assert_eq!(next(&flow, 2).await, Some((Priority::Low, 1)));
    assert_eq!(flow.oldest_queued(Priority::Low), Some(Duration::ZERO));
    assert_eq!(next(&flow, 1).await, Some((Priority::Bulk, 0)));
    assert_eq!(next(&flow, 1).await, Some((Priority::Low, 2)));
    assert_eq!(flow.oldest_queued(Priority::Low), None);
}

#[tokio::test(start_paused = true)]
async fn a_full_queue_sheds_lowest_oldest_and_counts_it() {
    let flow = FlowController::new(config(1000, 1000, 3));
    flow.add_peer(1u8);
    send(&flow, 1, 1, Priority::Bulk).unwrap();
    send(&flow, 1, 2, Priority::Low).unwrap();
    send(&flow, 1, 3, Priority::Bulk).unwrap();
    send(&flow, 1, 4, Priority::Critical).unwrap(); // sheds 1
    send(&flow, 1, 5, Priority::High).unwrap(); // sheds 3
    send(&flow, 1, 6, Priority::High).unwrap(); // sheds 2
    assert_eq!(
        send(&flow, 1, 7, Priority::Normal),
        Err(FlowError::QueueFull { capacity: 3, bytes: 64 << 20 })
    );
    let stats = flow.queue_stats();
    assert_eq!(stats.levels[Priority::Bulk.index()].dropped, 2);
    assert_eq!(stats.levels[Priority::Low.index()].dropped, 1);
    assert_eq!(stats.levels[Priority::Normal.index()].dropped, 1);
    assert_eq!(stats.total().depth, 3);
    let mut got = Vec::new();
    while flow.depth(&1) > 0 {
        got.push(next(&flow, 1).await.unwrap().1);
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
        let _ = send(&flow, 1, i, p);
        if i % 4 == 3 {
            next(&flow, 1).await.unwrap();
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
    flow.send_priority(&1, 1, Priority::Critical, SIZE).await.unwrap();
    flow.send_priority(&1, 2, Priority::Critical, SIZE).await.unwrap();
    let waiting = {
        let flow = flow.clone();
        tokio::spawn(async move { flow.send_priority(&1, 3, Priority::Critical, SIZE).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!waiting.is_finished(), "the third send waits while the queue is full");
    assert_eq!(next(&flow, 1).await.unwrap().1, 1);
    waiting.await.unwrap().unwrap();
    assert_eq!(flow.depth(&1), 2);
    assert_eq!(flow.queue_stats().total().dropped, 0);
}

#[tokio::test(start_paused = true)]
async fn removing_a_peer_wakes_its_waiters_and_counts_its_queue_as_dropped() {
    let flow = FlowController::new(config(1000, 1000, 1));
    flow.add_peer(1u8);
    send(&flow, 1, 1, Priority::Critical).unwrap();
    let waiting = {
        let flow = flow.clone();
        tokio::spawn(async move { flow.send_priority(&1, 2, Priority::Critical, SIZE).await })
    };
    tokio::time::sleep(Duration::from_millis(10)).await;
    flow.remove_peer(&1);
    assert_eq!(waiting.await.unwrap(), Err(FlowError::UnknownPeer));
    assert_eq!(next(&flow, 1).await, None);
    assert_eq!(send(&flow, 1, 3, Priority::Critical), Err(FlowError::UnknownPeer));
    let stats = flow.queue_stats();
    assert_eq!((stats.levels[0].dropped, stats.levels[0].depth), (1, 0));
}

#[tokio::test(start_paused = true)]
async fn inbound_limiter_drops_excess_and_reports_abusers() {
    let limiter = InboundLimiter::new(rate(100), mib(64), 10);
    // A full second of budget (100) passes at once, then the flood is dropped, and every 10th
    // drop reports.
    let verdicts: Vec<_> = (0..130).map(|_| limiter.check(&7u8, 10)).collect();
    assert!(verdicts[..100].iter().all(|v| *v == InboundVerdict::Allow));
    assert_eq!(verdicts.iter().filter(|v| **v == InboundVerdict::Abuse).count(), 3);
    assert_eq!(limiter.check(&8u8, 10), InboundVerdict::Allow, "other peers are unaffected");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(limiter.check(&7u8, 10), InboundVerdict::Allow, "the rate recovers");
}

/// Found by the rekey end-to-end test: with a burst of 1/20 s, an honest peer sending at half
/// the inbound rate was dropped and reported whenever the receiver stalled for 50 ms.
#[tokio::test(start_paused = true)]
async fn a_peer_within_the_rate_is_never_dropped_after_a_stall() {
    let limiter = InboundLimiter::new(rate(2000), mib(64), 10);
    for _ in 0..5 {
        // The receiver stalls for 500 ms, then reads what a 1,000 msg/s sender sent meanwhile.
        tokio::time::sleep(Duration::from_millis(500)).await;
        for _ in 0..500 {
            assert_eq!(limiter.check(&7u8, 1024), InboundVerdict::Allow);
        }
    }
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

fn mib(n: u32) -> ByteRate {
    format!("{n} MiB/s").parse().unwrap()
}

#[tokio::test(start_paused = true)]
async fn byte_rate_limits_hold_as_well_as_message_rates() {
    // 1 MiB/s to the peer, 64 KiB messages: 16 per second although 1000 msg/s are allowed.
    let flow = FlowController::new(FlowConfig {
        peer_byte_rate_limit: mib(1),
        ..config(1000, 1000, 10_000)
    });
    flow.add_peer(1u8);
    for i in 0..1000 {
        flow.try_send(&1, i, Priority::Normal, 64 << 10).unwrap();
    }
    let received = drain(&flow, 1);
    tokio::time::sleep(Duration::from_secs(10)).await;
    let got = received.load(Ordering::Relaxed);
    // The bucket holds the largest frame (8 MiB) at once, then 1 MiB/s.
    assert!(within(got, 128 + 160, 0.05), "1 MiB/s of 64 KiB for 10 s gave {got}");
}

#[tokio::test(start_paused = true)]
async fn the_global_limit_is_shared_by_every_peer() {
    let flow = FlowController::new(config(1000, 1_000_000, 100_000));
    for peer in 1..=4u8 {
        flow.add_peer(peer);
        for i in 0..10_000 {
            send(&flow, peer, i, Priority::Low).unwrap();
        }
    }
    let counts: Vec<_> = (1..=4).map(|p| drain(&flow, p)).collect();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let total: u64 = counts.iter().map(|c| c.load(Ordering::Relaxed)).sum();
    assert!(within(total, 5000, 0.05), "1000 msg/s over four peers for 5 s gave {total}");
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_recv_loses_nothing() {
    let flow = FlowController::new(config(10, 1_000_000, 1000));
    flow.add_peer(1u8);
    for i in 0..100 {
        send(&flow, 1, i, Priority::Normal).unwrap();
    }
    let mut got = Vec::new();
    // Each recv is cut off after 30 ms, often while it waits for a token.
    for _ in 0..2000 {
        let cut = tokio::time::timeout(Duration::from_millis(30), next(&flow, 1)).await;
        if let Ok(Some((_, m))) = cut {
            got.push(m);
        }
        if got.len() == 100 {
            break;
        }
    }
    assert_eq!(got, (0..100).collect::<Vec<_>>(), "every message, once, in order");
    let stats = flow.queue_stats().total();
    assert_eq!((stats.sent, stats.dropped, stats.depth), (100, 0, 0));
}

#[tokio::test(start_paused = true)]
async fn each_message_says_how_long_it_waited() {
    let flow = FlowController::new(config(10, 1_000_000, 1000));
    flow.add_peer(1u8);
    for i in 0..11 {
        send(&flow, 1, i, Priority::Low).unwrap();
    }
    let mut waits = Vec::new();
    for _ in 0..11 {
        waits.push(flow.recv(&1, Servable::ALL).await.unwrap().waited);
    }
    // Burst 1 at 10 msg/s: the n-th message waits n * 100 ms.
    assert_eq!(waits[0], Duration::ZERO);
    assert!(waits[10] >= Duration::from_millis(990), "{waits:?}");
}

#[tokio::test(start_paused = true)]
async fn one_priority_level_serves_in_arrival_order() {
    let flow = FlowController::new(FlowConfig { levels: 1, ..config(1000, 1000, 1000) });
    flow.add_peer(1u8);
    for i in 0..100 {
        send(&flow, 1, i, Priority::Bulk).unwrap();
    }
    send(&flow, 1, 100, Priority::Critical).unwrap();
    let mut position = 0;
    while let Some((p, _)) = next(&flow, 1).await {
        position += 1;
        if p == Priority::Critical {
            break;
        }
    }
    assert_eq!(position, 101, "consensus waits behind everything queued before it");
}

#[tokio::test(start_paused = true)]
async fn the_queue_is_bounded_in_bytes() {
    let flow =
        FlowController::new(FlowConfig { max_queue_bytes: 8 << 20, ..config(1000, 1000, 1000) });
    flow.add_peer(1u8);
    flow.try_send(&1, 1, Priority::Bulk, 5 << 20).unwrap();
    assert_eq!(
        flow.try_send(&1, 2, Priority::Bulk, 4 << 20),
        Err(FlowError::QueueFull { capacity: 1000, bytes: 8 << 20 })
    );
    flow.try_send(&1, 3, Priority::Critical, 4 << 20).unwrap();
    assert_eq!(flow.queue_stats().levels[Priority::Bulk.index()].dropped, 2);
    assert_eq!(next(&flow, 1).await, Some((Priority::Critical, 3)));
}

#[test]
fn byte_rates_parse_and_print() {
    assert_eq!("64 MiB/s".parse::<ByteRate>().unwrap().0.per_second_f64(), (64 << 20) as f64);
    assert_eq!("512 KiB/s".parse::<ByteRate>().unwrap().to_string(), "512 KiB/s");
    assert_eq!("1000 B/s".parse::<ByteRate>().unwrap().to_string(), "1000 B/s");
    for bad in ["", "0 MiB/s", "64 MB/s", "8 GiB/s", "fast"] {
        assert!(bad.parse::<ByteRate>().is_err(), "{bad:?} should not parse");
    }
}

#[tokio::test(start_paused = true)]
async fn consensus_waits_at_most_one_token_behind_a_throttled_backlog() {
    // 20 msg/s to the peer: a token every 50 ms; transactions queue far beyond that.
    let flow = FlowController::new(config(1_000_000, 20, 100_000));
    flow.add_peer(1u8);
    for i in 0..1000 {
        send(&flow, 1, i, Priority::Low).unwrap();
    }
    let mut worst = Duration::ZERO;
    for round in 0..20u32 {
        // The consumer is busy waiting for a transaction's token when consensus arrives.
        let consumer = {
            let flow = flow.clone();
            tokio::spawn(async move { flow.recv(&1, Servable::ALL).await.unwrap() })
        };
        tokio::time::sleep(Duration::from_millis(7)).await;
        send(&flow, 1, 10_000 + round, Priority::Critical).unwrap();
        let first = consumer.await.unwrap();
        let critical = if first.priority == Priority::Critical {
            first
        } else {
            flow.recv(&1, Servable::ALL).await.unwrap()
        };
        assert_eq!(critical.priority, Priority::Critical, "round {round}");
        worst = worst.max(critical.waited);
    }
    assert!(worst <= Duration::from_millis(50), "consensus waited {worst:?}");
    let stats = flow.queue_stats().total();
    assert_eq!(stats.dropped, 0, "the preempted transactions stay queued");
}

#[tokio::test(start_paused = true)]
async fn try_recv_within_fills_a_batch_without_waiting_and_loses_nothing() {
    let flow = FlowController::new(config(1_000_000, 1_000_000, 1000));
    flow.add_peer(1u8);
    for (message, bytes) in [(0, 100), (1, 100), (2, 5000), (3, 100)] {
        flow.try_send(&1, message, Priority::Normal, bytes).unwrap();
    }
    send(&flow, 1, 9, Priority::Low).unwrap();
    let normal = Servable::NONE.with(Priority::Normal);
    let take = |max| flow.try_recv_within(&1, normal, max).map(|d| d.message);
    assert_eq!(take(1000), Some(0));
    assert_eq!(take(1000), Some(1));
    // Larger than the room left: it stays first in line.
    assert_eq!(take(1000), None);
    assert_eq!(next(&flow, 1).await, Some((Priority::Normal, 2)));
    assert_eq!(take(1000), Some(3));
    // Not of a servable priority.
    assert_eq!(take(1000), None);
    assert_eq!(next(&flow, 1).await, Some((Priority::Low, 9)));

    // Out of tokens (10 msg/s, burst 1): the message waits, paid in part, for `recv`.
    let slow = FlowController::new(config(10, 1_000_000, 1000));
    slow.add_peer(1u8);
    for message in 0..3 {
        send(&slow, 1, message, Priority::Normal).unwrap();
    }
    let take = |max| slow.try_recv_within(&1, normal, max).map(|d| d.message);
    assert_eq!(take(1000), Some(0));
    assert_eq!(take(1000), None);
    assert_eq!(take(1000), None);
    let second = slow.recv(&1, Servable::ALL).await.unwrap();
    assert_eq!((second.message, second.throttled), (1, true));
    let stats = slow.queue_stats().total();
    assert_eq!((stats.sent, stats.dropped, stats.depth), (2, 0, 1));
}
