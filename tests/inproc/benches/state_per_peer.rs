//! The plugin's own state per peer at `PEERS` peers, the pure layers alone, counted by a global
//! allocator that tracks live heap bytes: per peer, one AEComms session per detr protocol (after
//! its handshake and one frame each way), a fluent queue (after one message through it) and a
//! registry entry. sc-network's own state is not in it. Goal: ≤ `GOAL_PER_SESSION` per session.
//! Run with `make bench` (or `cargo bench -p detr-inproc --bench state_per_peer`).

use std::time::{Duration, Instant};

use detr_bench_report::{live_bytes, CountingAllocator};
use ed25519_dalek::SigningKey;
use etrid_aecomms::{
    Binding, Handshake, LocalIdentity, Next, RekeyPolicy, RemoteIdentity, Role, Session,
};
use etrid_p2p_dpeers::{PeerMetadata, PeerRegistry, RegistryConfig};
use etrid_p2p_fluent::{FlowConfig, FlowController, Priority, Servable};

/// Peers the plugin holds state for (the seed promises 1,000+).
const PEERS: usize = 1000;
/// The detr protocols: a session each per peer.
const PROTOCOLS: [&[u8]; 4] =
    [b"/00/detr/block/1", b"/00/detr/tx/1", b"/00/detr/consensus/1", b"/00/detr/bridge/1"];
/// Issue 16's bound on the plugin's own state per (peer, protocol) session.
const GOAL_PER_SESSION: isize = 16 * 1024;
const POLICY: RekeyPolicy = RekeyPolicy { max_messages: u64::MAX, max_age: Duration::MAX };

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// A libp2p-style Ed25519 PeerId of the key with `seed`, and the key.
fn identity(seed: [u8; 32]) -> (Vec<u8>, SigningKey) {
    let key = SigningKey::from_bytes(&seed);
    let peer_id = [&[0x00, 0x24, 0x08, 0x01, 0x12, 0x20][..], &key.verifying_key().to_bytes()];
    (peer_id.concat(), key)
}

fn seed(n: usize) -> [u8; 32] {
    let mut seed = [7; 32];
    seed[..8].copy_from_slice(&(n as u64).to_le_bytes());
    seed
}

fn binding(remote: &(Vec<u8>, SigningKey), protocol: &[u8]) -> Binding {
    Binding {
        remote: RemoteIdentity { peer_id: remote.0.clone(), public: remote.1.verifying_key() },
        protocol: protocol.to_vec(),
        genesis: [0; 32],
    }
}

/// Our session with `them` on `protocol`, after a full handshake and one frame each way.
fn session(us: &LocalIdentity, ours: Binding, them: &LocalIdentity, theirs: Binding) -> Session {
    let we_start = ours.role(us) == Role::Initiator;
    let ((i, bi), (r, br)) =
        if we_start { ((us, ours), (them, theirs)) } else { ((them, theirs), (us, ours)) };
    let (hi, m1) = Handshake::start(i, bi, POLICY);
    let (hr, _) = Handshake::start(r, br, POLICY);
    let Ok(Next::Wait { handshake: hr, reply: m2 }) = hr.read(&m1.expect("a first message"), r)
    else {
        panic!("the responder answers")
    };
    let Ok(Next::Done { session: si, reply: Some(m3) }) = hi.read(&m2, i) else {
        panic!("the initiator finishes")
    };
    let Ok(Next::Done { session: sr, .. }) = hr.read(&m3, r) else {
        panic!("the responder finishes")
    };
    let (mut mine, mut theirs) = if we_start { (si, sr) } else { (sr, si) };
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
    // `cargo bench` passes `--bench`; a filter that does not name this bench skips it.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    if filter.is_some_and(|f| !"state_per_peer".contains(&f)) {
        return;
    }
    let (our_id, our_key) = identity(seed(0));
    let us = LocalIdentity::from_seed(&our_key.to_bytes(), our_id.clone());
    let ours = (our_id, our_key);
    let peers: Vec<_> = (1..=PEERS).map(|n| identity(seed(n))).collect();
    let theirs: Vec<_> = peers
        .iter()
        .map(|(id, key)| LocalIdentity::from_seed(&key.to_bytes(), id.clone()))
        .collect();

    let start = live_bytes();
    let mut sessions = Vec::with_capacity(PEERS * PROTOCOLS.len());
    for (peer, them) in peers.iter().zip(&theirs) {
        for protocol in PROTOCOLS {
            sessions.push(session(&us, binding(peer, protocol), them, binding(&ours, protocol)));
        }
    }
    let after_sessions = live_bytes();

    let flow: FlowController<Vec<u8>, Vec<u8>> = FlowController::new(FlowConfig::default());
    for (id, _) in &peers {
        flow.add_peer(id.clone());
        flow.try_send(id, vec![0; 64], Priority::Critical, 64).expect("room in a new queue");
        flow.recv(id, Servable::ALL).await.expect("the message comes out");
    }
    let after_flow = live_bytes();

    let mut registry = PeerRegistry::new(RegistryConfig { max_peers: PEERS, ..Default::default() });
    let now = Instant::now();
    for (id, _) in &peers {
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
    let per_session = per_peer(after_registry - start) / PROTOCOLS.len() as isize;
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
    assert_eq!(sessions.len(), PEERS * PROTOCOLS.len());
}
