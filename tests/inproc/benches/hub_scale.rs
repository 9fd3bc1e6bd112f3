//! The cost curve as peers grow: one hub with the plugin and `N` in-process sc-network peers
//! with the plugin (N = 8, 32, 64), on litep2p and on libp2p, all on 127.0.0.1 in one process.
//!
//! Per N: the time until the hub has sessions with every peer on all four protocols; the live
//! heap the connections added, per (peer, protocol) session with both ends and sc-network's
//! own connection state in it (a counting global allocator). Then broadcasts, each a 1 KiB
//! message from the hub to every peer, [`MESSAGES`] delivered messages at every N (after
//! [`WARM_UP`] untimed rounds): process CPU per delivered message (sender, both AEAD ends and
//! receivers alike; the process's idle rate, measured just before, taken out) and the p50/p99
//! time until the last peer has a round. The same broadcasts also go over a raw notification
//! protocol between the same peers (pipelined alike: a sender task per peer), the baseline of
//! the same run. Every peer runs with Prometheus on, as a node does, and connects to its hub
//! only (`PeerBuilder::without_discovery`).
//!
//! The three hubs run side by side in one process, and the six ways (each N, plugin and raw)
//! broadcast in turns of [`BLOCKS`] blocks each: the speed of a shared VM's cores drifts by
//! up to 2x over seconds, which a curve measured one N after the other reads as growth.
//! Goal: CPU per message per peer flat from 8 to 64 peers (within 1.2x of N = 8).
//! Run with `make bench` (or `cargo bench -p detr-inproc --bench hub_scale`).

use std::time::{Duration, Instant};

use detr_bench_report::{live_bytes, percentile, skipped_by_filter, CountingAllocator};
use detr_inproc::{
    raw::{pump, raw_protocol, spawn_sender, RAW},
    without_rate_limits, Backend, Peer, PeerBuilder,
};
use detrp2p::{DetrConfig, DetrProtocol};
use etrid_protocol::{Message, MessageKind};
use sp_core::H256;
use tokio::sync::mpsc;

/// Peers around the hub, per run.
const SIZES: [usize; 3] = [8, 32, 64];
/// Messages delivered in each timed measurement, `MESSAGES / N` broadcasts: the same work at
/// every N, so that CPU per message compares like with like (200 rounds at every N, as before,
/// lasted 90 ms at N = 8: too short a sample on shared cores).
const MESSAGES: usize = 12_800;
/// Untimed broadcasts before them, on each path alike: every stream has carried a message (and
/// every lazily made buffer exists) before the clock starts.
const WARM_UP: usize = 5;
/// Turns each way of broadcasting takes (see [`broadcasts`]): enough that every way sees the
/// cores' drift alike; at N = 64 a turn is 25 rounds (a few tens of milliseconds).
const BLOCKS: usize = 8;
/// Bytes per broadcast message.
const PAYLOAD: usize = 1024;
/// Longest wait for the sessions or one round: a lost message fails the benchmark.
const DEADLINE: Duration = Duration::from_secs(120);
/// How long the idle CPU rate is measured.
const IDLE: Duration = Duration::from_secs(3);
/// Share of the cores busy while idle above which the broadcasts' own CPU is not reported.
const SATURATED: f64 = 0.5;
/// Most CPU per message per peer at N = 64 over N = 8.
const FLAT: f64 = 1.2;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// CPU time the process used so far, all its threads (user + system; `CLOCK_PROCESS_CPUTIME_ID`,
/// nanoseconds, where /proc/self/stat counts 10 ms ticks).
fn cpu() -> Duration {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid timespec for the call to fill.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "the process CPU clock: {}", std::io::Error::last_os_error());
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// The plugin for a hub of `peers`, its rate limits at their largest.
fn config(peers: usize) -> DetrConfig {
    without_rate_limits(DetrConfig { max_peers: peers as u32 + 1, ..DetrConfig::default() })
}

/// What one run measured.
struct Figures {
    peers: usize,
    sessions_up: Duration,
    heap_per_session: isize,
    /// CPU the process burns with nothing sent, all three nets up (the backends' own work:
    /// discovery, keep-alive), in cores.
    idle: f64,
    cpu_per_message: Duration,
    p50: Duration,
    p99: Duration,
    /// The same broadcasts on the raw protocol: CPU per message per peer, round p50 and p99.
    raw_cpu_per_message: Duration,
    raw_p50: Duration,
    raw_p99: Duration,
}

/// One way to broadcast to one hub's peers: where they report each message's receipt, how a
/// round is sent, and what its timed rounds measured.
struct Path {
    what: String,
    n: usize,
    received: mpsc::UnboundedReceiver<Instant>,
    send: Box<dyn FnMut()>,
    /// Process CPU of its timed rounds beyond the idle rate, in seconds.
    used: f64,
    rounds: Vec<Duration>,
}

impl Path {
    fn new(
        what: String,
        n: usize,
        received: mpsc::UnboundedReceiver<Instant>,
        send: impl FnMut() + 'static,
    ) -> Self {
        Self { what, n, received, send: Box::new(send), used: 0.0, rounds: Vec::new() }
    }

    /// One broadcast (a message to each of the `n` peers): the time until the last peer has it.
    async fn round(&mut self) -> Duration {
        let sent = Instant::now();
        (self.send)();
        let mut last = sent;
        for _ in 0..self.n {
            let at = tokio::time::timeout(DEADLINE, self.received.recv()).await.ok().flatten();
            last = at.unwrap_or_else(|| panic!("{}: a broadcast message was lost", self.what));
        }
        last - sent
    }

    /// CPU per delivered message, and the round times sorted.
    fn figures(mut self) -> (Duration, Vec<Duration>) {
        self.rounds.sort();
        let messages = (self.rounds.len() * self.n) as f64;
        (Duration::from_secs_f64(self.used.max(0.0) / messages), self.rounds)
    }
}

/// `MESSAGES / n` broadcasts on every path after `WARM_UP` untimed ones, in [`BLOCKS`] turns:
/// each turn, every path in order does its share of rounds, and the process CPU of that share
/// beyond the `idle` rate goes to it. Every path sees the cores' drift alike.
async fn broadcasts(paths: &mut [Path], idle: f64) {
    for path in paths.iter_mut() {
        for _ in 0..WARM_UP {
            path.round().await;
        }
    }
    for _ in 0..BLOCKS {
        for path in paths.iter_mut() {
            let (cpu_before, started) = (cpu(), Instant::now());
            for _ in 0..(MESSAGES / path.n / BLOCKS).max(1) {
                let round = path.round().await;
                path.rounds.push(round);
            }
            path.used +=
                (cpu() - cpu_before).as_secs_f64() - idle * started.elapsed().as_secs_f64();
        }
    }
}

/// One hub and its peers, running, and what their start measured.
struct Net {
    n: usize,
    sessions_up: Duration,
    heap_per_session: isize,
    /// Dropping a peer stops it: the hub and its peers live as long as the net.
    _nodes: (Peer, Vec<Peer>),
}

/// Starts a hub with `n` peers on a genesis of its own (so that nets never mix), waits for
/// their sessions, opens the raw streams, and returns the net with its plugin and raw paths.
async fn start(backend: Backend, n: usize) -> (Net, [Path; 2]) {
    let genesis = H256::repeat_byte(n as u8);
    let builder = || {
        PeerBuilder::new(genesis)
            .with_detr(config(n))
            .with_raw(raw_protocol())
            .with_metrics()
            .without_discovery()
    };
    let mut hub = builder().slots(n as u32).start(backend).await.expect("the hub starts");
    // The peers connect to the hub only: with their addresses kept out of the DHT, they do not
    // find each other through it.
    let mut peers: Vec<Peer> = Vec::new();
    for _ in 0..n {
        peers.push(builder().reserved_only().start(backend).await.expect("a peer starts"));
    }
    let hub_addr = hub.address().await.expect("the hub listens");
    let detr = hub.detr.clone().expect("the plugin runs");
    tokio::time::sleep(Duration::from_millis(500)).await;

    let (heap_before, start) = (live_bytes(), Instant::now());
    for peer in &peers {
        peer.network.add_reserved_peer(hub_addr.clone()).expect("the hub's address is valid");
    }
    while DetrProtocol::ALL.iter().any(|p| detr.session_peers(*p).len() < n) {
        assert!(start.elapsed() < DEADLINE, "{backend:?} {n}: sessions within {DEADLINE:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sessions_up = start.elapsed();
    let heap_per_session = (live_bytes() - heap_before) / (n * DetrProtocol::ALL.len()) as isize;

    let (received_tx, received) = mpsc::unbounded_channel();
    for peer in &peers {
        let mut inbound =
            peer.detr.as_ref().expect("plugin").subscribe(MessageKind::Custom, 4096, 64 << 20);
        let received_tx = received_tx.clone();
        tokio::spawn(async move {
            while inbound.next().await.is_some() {
                if received_tx.send(Instant::now()).is_err() {
                    return;
                }
            }
        });
    }
    // The raw baseline's streams, opened after the heap above (the plugin's sessions').
    let (opened_tx, mut opened) = mpsc::unbounded_channel();
    let (unused, _) = mpsc::unbounded_channel();
    tokio::spawn(pump(hub.raw.remove(0), unused, opened_tx));
    let (raw_received_tx, raw_received) = mpsc::unbounded_channel();
    for peer in &mut peers {
        let (unused, _) = mpsc::unbounded_channel();
        tokio::spawn(pump(peer.raw.remove(0), raw_received_tx.clone(), unused));
        let hub_on_raw = [hub_addr.clone().concat()].into();
        peer.network.add_peers_to_reserved_set(RAW.into(), hub_on_raw).expect("RAW is known");
    }
    let mut queues = Vec::with_capacity(n);
    while queues.len() < n {
        let sink = tokio::time::timeout(DEADLINE, opened.recv()).await.ok().flatten();
        queues.push(spawn_sender(sink.expect("every raw stream opens with the hub")));
    }

    let targets: Vec<_> = peers.iter().map(|p| p.peer_id).collect();
    let payload = bytes::Bytes::from(vec![0x5a; PAYLOAD]);
    let raw_payload = payload.clone();
    let plugin = Path::new(format!("{backend:?} {n}, plugin"), n, received, move || {
        for peer in &targets {
            detr.send_message(peer, Message::Custom(payload.clone())).expect("queued");
        }
    });
    let raw = Path::new(format!("{backend:?} {n}, raw"), n, raw_received, move || {
        for queue in &queues {
            queue.send(raw_payload.to_vec()).expect("raw sender running");
        }
    });
    (Net { n, sessions_up, heap_per_session, _nodes: (hub, peers) }, [plugin, raw])
}

/// Every N on `backend`, side by side.
async fn run(backend: Backend) -> Vec<Figures> {
    let (mut nets, mut paths) = (Vec::new(), Vec::new());
    for n in SIZES {
        let (net, both) = start(backend, n).await;
        nets.push(net);
        paths.extend(both);
    }
    let (idle_start, idle_cpu) = (Instant::now(), cpu());
    tokio::time::sleep(IDLE).await;
    let idle = (cpu() - idle_cpu).as_secs_f64() / idle_start.elapsed().as_secs_f64();
    broadcasts(&mut paths, idle).await;
    let mut paths = paths.into_iter();
    nets.into_iter()
        .map(|net| {
            let (plugin, raw) = (paths.next().expect("a plugin path"), paths.next().expect("raw"));
            let ((cpu_per_message, rounds), (raw_cpu_per_message, raw_rounds)) =
                (plugin.figures(), raw.figures());
            Figures {
                peers: net.n,
                sessions_up: net.sessions_up,
                heap_per_session: net.heap_per_session,
                idle,
                cpu_per_message,
                p50: percentile(&rounds, 0.5),
                p99: percentile(&rounds, 0.99),
                raw_cpu_per_message,
                raw_p50: percentile(&raw_rounds, 0.5),
                raw_p99: percentile(&raw_rounds, 0.99),
            }
        })
        .collect()
}

fn main() {
    if skipped_by_filter("hub_scale") {
        return;
    }
    let mut table = Vec::new();
    for backend in Backend::ALL {
        let rt = tokio::runtime::Runtime::new().expect("a tokio runtime");
        table.extend(rt.block_on(run(backend)).into_iter().map(|f| (backend, f)));
        rt.shutdown_timeout(Duration::from_secs(1));
    }
    println!(
        "\n== one hub, N peers: sessions, heap and {PAYLOAD}-byte broadcasts, {MESSAGES} messages at every N =="
    );
    println!(
        "{:<8} {:>3} {:>11} {:>13} {:>9} {:>13} {:>9} {:>10} {:>7} {:>12} {:>9} {:>10} {:>10}",
        "backend",
        "N",
        "sessions up",
        "heap/session",
        "idle CPU",
        "CPU/msg/peer",
        "p50",
        "p99",
        "vs N=8",
        "raw CPU/msg",
        "raw p50",
        "raw p99",
        "CPU vs raw"
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    for (backend, f) in &table {
        let base = table
            .iter()
            .find(|(b, g)| b == backend && g.peers == SIZES[0])
            .map(|(_, g)| g.cpu_per_message)
            .expect("the smallest run");
        let ratio = f.cpu_per_message.as_secs_f64() / base.as_secs_f64().max(1e-9);
        // With the cores already busy while idle, what the broadcasts add cannot be told apart.
        let micros = |d: Duration| format!("{:.1}µs", d.as_secs_f64() * 1e6);
        let (cpu, vs, raw, vs_raw) = if f.idle > SATURATED * cores {
            let none = || "-".to_string();
            ("saturated".to_string(), none(), none(), none())
        } else {
            let mark = if ratio > FLAT { " ABOVE GOAL" } else { "" };
            let vs_raw =
                f.cpu_per_message.as_secs_f64() / f.raw_cpu_per_message.as_secs_f64().max(1e-9);
            (
                micros(f.cpu_per_message),
                format!("{ratio:.2}x{mark}"),
                micros(f.raw_cpu_per_message),
                format!("{vs_raw:.2}x"),
            )
        };
        println!(
            "{:<8} {:>3} {:>9.0}ms {:>10.1}KiB {:>8.0}% {:>13} {:>7.2}ms {:>8.2}ms {:>7} {:>12} {:>7.2}ms {:>8.2}ms {:>10}",
            backend.as_str(),
            f.peers,
            f.sessions_up.as_secs_f64() * 1e3,
            f.heap_per_session as f64 / 1024.0,
            f.idle * 100.0,
            cpu,
            f.p50.as_secs_f64() * 1e3,
            f.p99.as_secs_f64() * 1e3,
            vs,
            raw,
            f.raw_p50.as_secs_f64() * 1e3,
            f.raw_p99.as_secs_f64() * 1e3,
            vs_raw,
        );
    }
    println!("(goal: CPU per message per peer within {FLAT}x of N = {} as N grows)", SIZES[0]);
    println!(
        "(CPU vs raw: the plugin's CPU per message per peer over the raw protocol's, same run)"
    );
}
