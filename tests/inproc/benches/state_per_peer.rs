//! The plugin's own state per peer at `PEERS` peers, the pure layers alone, counted by a global
//! allocator that tracks live heap bytes: per peer, one AEComms session per detr protocol (after
//! its handshake and one frame each way), a fluent queue (after one message through it) and a
//! registry entry. sc-network's own state is not in it. Goal: ≤ `GOAL_PER_SESSION` per session.
//! Run with `make bench` (or `cargo bench -p detr-inproc --bench state_per_peer`).

use std::time::{Duration, Instant};

use detr_bench_report::{live_bytes, skipped_by_filter, CountingAllocator};
use detr_inproc::sessions::{identity, session_pair};
use detrp2p::DetrProtocol;
use etrid_aecomms::{LocalIdentity, RekeyPolicy, Session};
use etrid_p2p_dpeers::{PeerMetadata, PeerRegistry, RegistryConfig};
use etrid_p2p_fluent::{FlowConfig, FlowController, Priority, Servable};

/// Peers the plugin holds state for (the seed promises 1,000+).
const PEERS: usize = 1000;
/// Issue 16's bound on the plugin's own state per (peer, protocol) session.
const GOAL_PER_SESSION: isize = 16 * 1024;
const GENESIS: [u8; 32] = [0; 32];
const POLICY: RekeyPolicy = RekeyPolicy { max_messages: u64::MAX, max_age: Duration::MAX };

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Our session with `them` on `protocol`, after a full handshake and one frame each way.
fn session(us: &LocalIdentity, them: &LocalIdentity, protocol: DetrProtocol) -> Session {
    let (mut mine, mut theirs) = session_pair(us, them, protocol, GENESIS, POLICY);
    let now = Instant::now();
    let mut frame = mine.seal_to_vec(&[1; 64], now).expect("seal");
    theirs.recv.open(&mut frame).expect("open");
    let mut frame = theirs.seal_to_vec(&[2; 64], now).expect("seal");
    mine.recv.open(&mut frame).expect("open");
    mine
}

fn kib(bytes: isize) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if skipped_by_filter("state_per_peer") {
        return;
    }
    let us = identity(0);
    let peers: Vec<_> = (1..=PEERS).map(identity).collect();
    let ids: Vec<Vec<u8>> = peers.iter().map(|peer| peer.peer_id().to_vec()).collect();

    let start = live_bytes();
    let mut sessions = Vec::with_capacity(PEERS * DetrProtocol::ALL.len());
    for them in &peers {
        for protocol in DetrProtocol::ALL {
            sessions.push(session(&us, them, protocol));
        }
    }
    let after_sessions = live_bytes();

    let flow: FlowController<Vec<u8>, Vec<u8>> = FlowController::new(FlowConfig::default());
    for id in &ids {
        flow.add_peer(id.clone());
        flow.try_send(id, vec![0; 64], Priority::Critical, 64).expect("room in a new queue");
        flow.recv(id, Servable::ALL).await.expect("the message comes out");
    }
    let after_flow = live_bytes();

    let mut registry = PeerRegistry::new(RegistryConfig { max_peers: PEERS, ..Default::default() });
    let now = Instant::now();
    for id in &ids {
        let metadata = PeerMetadata {
            addresses: vec!["/ip4/127.0.0.1/tcp/30333".into()],
            role: Some("full".into()),
        };
        registry.add_peer(id.clone(), metadata, now).expect("a new peer");
        registry.connected_peer(id, now).expect("room for it");
    }
    let after_registry = live_bytes();

    let per_peer = |bytes: isize| bytes / PEERS as isize;
    let sessions_per_peer = per_peer(after_sessions - start);
    let flow_per_peer = per_peer(after_flow - after_sessions);
    let registry_per_peer = per_peer(after_registry - after_flow);
    let per_session = per_peer(after_registry - start) / DetrProtocol::ALL.len() as isize;
    let verdict = if per_session <= GOAL_PER_SESSION { "" } else { "  ABOVE GOAL" };
    println!("\n== the plugin's own state at {PEERS} peers (pure layers, live heap bytes) ==");
    println!("{:<48} {:>12}", "AEComms sessions, per peer (4 protocols)", kib(sessions_per_peer));
    println!("{:<48} {:>12}", "fluent queue and buckets, per peer", kib(flow_per_peer));
    println!("{:<48} {:>12}", "registry entry, per peer", kib(registry_per_peer));
    println!(
        "{:<48} {:>12} (goal ≤ {}){verdict}",
        "all, per (peer, protocol) session",
        kib(per_session),
        kib(GOAL_PER_SESSION)
    );
    assert_eq!(sessions.len(), PEERS * DetrProtocol::ALL.len());
}
