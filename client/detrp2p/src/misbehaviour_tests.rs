//! The worker against a misbehaving peer that holds a valid identity and completed a real AEComms
//! handshake: garbage, replays, undecodable plaintext and floods each cost the named reputation
//! and end in a ban; good traffic does not. The network service is a recording mock.

use std::sync::{Arc, Mutex};

use codec::{Decode, Encode};
use etrid_aecomms::{
    Binding, Channel, HandshakeMessage, LocalIdentity, RekeyPolicy, RemoteIdentity,
};
use etrid_protocol::{BridgeMessage, Envelope, Message, Protocol};
use sc_network::{
    config::ed25519::Keypair,
    service::traits::{Direction, MessageSink, NotificationEvent, NotificationService},
    types::ProtocolName,
    PeerId,
};
use sp_core::traits::SpawnNamed;

use crate::{
    config::DetrConfig,
    protocols::{DetrProtocol, FrameTag, StreamHandshake, WIRE_VERSION},
    shared::Shared,
    stats::Stats,
    worker::Worker,
};

const GENESIS: [u8; 32] = [7; 32];
const PROTOCOL: DetrProtocol = DetrProtocol::Bridge;

type Sent = Arc<Mutex<Vec<Vec<u8>>>>;

#[derive(Debug)]
struct MockService {
    name: ProtocolName,
    sent: Sent,
}

#[async_trait::async_trait]
impl NotificationService for MockService {
    async fn open_substream(&mut self, _: PeerId) -> Result<(), ()> {
        Err(())
    }
    async fn close_substream(&mut self, _: PeerId) -> Result<(), ()> {
        Err(())
    }
    fn send_sync_notification(&mut self, _: &PeerId, notification: Vec<u8>) {
        self.sent.lock().unwrap().push(notification);
    }
    async fn send_async_notification(
        &mut self,
        _: &PeerId,
        notification: Vec<u8>,
    ) -> Result<(), sc_network::error::Error> {
        self.sent.lock().unwrap().push(notification);
        Ok(())
    }
    async fn set_handshake(&mut self, _: Vec<u8>) -> Result<(), ()> {
        Ok(())
    }
    fn try_set_handshake(&mut self, _: Vec<u8>) -> Result<(), ()> {
        Ok(())
    }
    async fn next_event(&mut self) -> Option<NotificationEvent> {
        futures::future::pending().await
    }
    fn clone(&mut self) -> Result<Box<dyn NotificationService>, ()> {
        Err(())
    }
    fn protocol(&self) -> &ProtocolName {
        &self.name
    }
    fn message_sink(&self, _: &PeerId) -> Option<Box<dyn MessageSink>> {
        None
    }
}

/// Runs nothing: the sender tasks are not needed to test inbound handling.
#[derive(Clone)]
struct NoSpawn;

impl SpawnNamed for NoSpawn {
    fn spawn_blocking(
        &self,
        _: &'static str,
        _: Option<&'static str>,
        _: futures::future::BoxFuture<'static, ()>,
    ) {
    }
    fn spawn(
        &self,
        _: &'static str,
        _: Option<&'static str>,
        _: futures::future::BoxFuture<'static, ()>,
    ) {
    }
}

struct Fixture {
    worker: Worker,
    shared: Arc<Shared>,
    attacker: Channel,
    peer: PeerId,
}

fn identity(kp: &Keypair) -> (LocalIdentity, PeerId) {
    let peer = kp.public().to_peer_id();
    (LocalIdentity::from_seed(&kp.secret().to_bytes(), peer.to_bytes()), peer)
}

/// A worker with one inbound stream from `attacker`, AEComms session established.
fn connected(config: DetrConfig) -> Fixture {
    let (local, local_peer) = identity(&Keypair::generate());
    let attacker_kp = Keypair::generate();
    let (attacker_id, peer) = identity(&attacker_kp);
    let shared = Arc::new(Shared::new(
        local.clone(),
        local_peer,
        GENESIS,
        config,
        Stats::new(None).unwrap(),
        None,
    ));
    let sent: Sent = Default::default();
    let name = PROTOCOL.name(&GENESIS);
    let mut worker = Worker {
        protocol: PROTOCOL,
        service: Box::new(MockService { name: name.clone(), sent: sent.clone() }),
        shared: shared.clone(),
        sync_events: Box::pin(futures::stream::pending()),
        spawner: Box::new(NoSpawn),
        handshake: Vec::new(),
    };
    let binding = Binding {
        remote: RemoteIdentity {
            peer_id: local_peer.to_bytes(),
            public: ed25519_dalek::VerifyingKey::from_bytes(&local.public()).unwrap(),
        },
        protocol: name.as_bytes().to_vec(),
        genesis: GENESIS,
    };
    let mut attacker = Channel::new(attacker_id, binding, RekeyPolicy::default());

    let handshake = StreamHandshake { version: WIRE_VERSION, roles: 4, genesis: GENESIS }.encode();
    worker.on_event(NotificationEvent::NotificationStreamOpened {
        peer,
        direction: Direction::Inbound,
        handshake,
        negotiated_fallback: None,
    });
    let hello = sent.lock().unwrap().pop().expect("the worker sends its handshake");
    assert_eq!(hello[0], FrameTag::Handshake as u8);
    let hello = HandshakeMessage::decode(&mut &hello[1..]).unwrap();
    let reply = attacker.on_handshake(&hello, std::time::Instant::now()).unwrap().expect("a reply");
    receive(&mut worker, peer, FrameTag::Handshake.frame(&reply.encode()));
    assert!(shared.streams.lock()[&(peer, PROTOCOL)].is_established());
    Fixture { worker, shared, attacker, peer }
}

fn receive(worker: &mut Worker, peer: PeerId, notification: Vec<u8>) {
    worker.on_event(NotificationEvent::NotificationReceived { peer, notification });
}

fn bridge(nonce: u64) -> Vec<u8> {
    let message =
        BridgeMessage { source_chain: 1, destination_chain: 2, nonce, payload: vec![9; 16] };
    Envelope::new(nonce, Message::Bridge(message)).serialize().unwrap()
}

impl Fixture {
    fn send_sealed(&mut self, plaintext: &[u8]) -> Vec<u8> {
        let frame = FrameTag::Sealed.frame(&self.attacker.seal(plaintext).unwrap());
        receive(&mut self.worker, self.peer, frame.clone());
        frame
    }

    fn banned(&self) -> bool {
        self.shared.registry.lock().is_banned(&self.peer, std::time::Instant::now())
    }

    fn stats(&self) -> crate::stats::ProtocolStats {
        self.shared.stats.protocol(PROTOCOL, 0, 0)
    }
}

#[test]
fn good_traffic_is_delivered_and_rewarded() {
    let mut f = connected(DetrConfig::default());
    for nonce in 0..20 {
        f.send_sealed(&bridge(nonce));
    }
    assert_eq!(f.stats().received, 20);
    assert!(!f.banned());
    let score =
        f.shared.registry.lock().get_peer(&f.peer, std::time::Instant::now()).unwrap().reputation;
    assert!(score > 0, "handshake rewarded: {score}");
}

#[test]
fn garbage_frames_get_the_peer_banned() {
    let mut f = connected(DetrConfig::default());
    let (worker, peer) = (&mut f.worker, f.peer);
    receive(worker, peer, FrameTag::Sealed.frame(&[0xab; 80]));
    assert_eq!(f.stats().decrypt_failures, 1);
    assert!(f.banned());
    assert_eq!(f.shared.stats.bans(), 1);
}

#[test]
fn a_replayed_frame_gets_the_peer_banned() {
    let mut f = connected(DetrConfig::default());
    let frame = f.send_sealed(&bridge(1));
    assert_eq!(f.stats().received, 1);
    receive(&mut f.worker, f.peer, frame);
    assert_eq!(f.stats().received, 1, "the replay is not delivered");
    assert_eq!(f.stats().decrypt_failures, 1);
    assert!(f.banned());
}

#[test]
fn undecodable_plaintext_and_unknown_tags_get_the_peer_banned() {
    let mut f = connected(DetrConfig::default());
    f.send_sealed(b"not an envelope");
    assert_eq!(f.stats().decode_errors, 1);
    assert!(f.banned());

    let mut g = connected(DetrConfig::default());
    receive(&mut g.worker, g.peer, vec![9, 1, 2, 3]);
    assert_eq!(g.stats().decode_errors, 1);
    assert!(g.banned());
}

#[test]
fn a_message_on_the_wrong_protocol_is_refused() {
    let mut f = connected(DetrConfig::default());
    let block = etrid_protocol::BlockAnnounce { hash: [1; 32], number: 1, parent_hash: [0; 32] };
    f.send_sealed(&Envelope::new(1, Message::Block(block)).serialize().unwrap());
    assert_eq!((f.stats().received, f.stats().decode_errors), (0, 1));
}

#[test]
fn a_flood_gets_the_peer_banned() {
    let mut config = DetrConfig::default();
    config.flow.inbound_rate_limit = "100 msg/s".parse().unwrap();
    let mut f = connected(config);
    for nonce in 0..50 {
        f.send_sealed(&bridge(nonce));
    }
    let stats = f.stats();
    assert!(stats.dropped > 0, "over-limit messages dropped: {stats:?}");
    assert!(stats.received < 50);
    assert!(f.banned());
}

#[test]
fn a_forged_handshake_costs_reputation() {
    let mut f = connected(DetrConfig::default());
    let mut forged = f.attacker.start_handshake();
    forged.signature[0] ^= 1;
    receive(&mut f.worker, f.peer, FrameTag::Handshake.frame(&forged.encode()));
    assert_eq!(f.stats().handshake_failures, 1);
    assert!(f.banned());
}

#[test]
fn detr_max_peers_bounds_the_registry() {
    let f = connected(DetrConfig { max_peers: 1, ..DetrConfig::default() });
    let other = Keypair::generate().public().to_peer_id();
    let now = std::time::Instant::now();
    assert_eq!(
        f.shared.registry.lock().connected_peer(&other, now),
        Err(etrid_p2p_dpeers::PeerError::TooManyPeers(1))
    );
}

/// Drops what it is given.
struct NullSink;

#[async_trait::async_trait]
impl MessageSink for NullSink {
    fn send_sync_notification(&self, _: Vec<u8>) {}
    async fn send_async_notification(&self, _: Vec<u8>) -> Result<(), sc_network::error::Error> {
        Ok(())
    }
}

/// A stream with the fixture's peer whose AEComms handshake never completes.
fn unanswered_stream(f: &Fixture) -> Arc<crate::shared::Stream> {
    let public = f.peer.into_ed25519().expect("an Ed25519 PeerId");
    let binding = Binding {
        remote: RemoteIdentity {
            peer_id: f.peer.to_bytes(),
            public: ed25519_dalek::VerifyingKey::from_bytes(&public).unwrap(),
        },
        protocol: PROTOCOL.name(&GENESIS).as_bytes().to_vec(),
        genesis: GENESIS,
    };
    Arc::new(crate::shared::Stream {
        channel: parking_lot::Mutex::new(Channel::new(
            f.shared.local.clone(),
            binding,
            RekeyPolicy::default(),
        )),
        established: Default::default(),
        on_established: Default::default(),
        roles: 4,
        opened_at: std::time::Instant::now(),
    })
}

#[tokio::test]
async fn an_unanswered_handshake_costs_reputation_unless_the_stream_closed() {
    let config = DetrConfig {
        handshake_timeout: std::time::Duration::from_millis(20),
        ..DetrConfig::default()
    };
    let f = connected(config);
    let before = f.shared.reputation(&f.peer);

    // The peer left before answering: the stream is no longer in the table.
    let closed = unanswered_stream(&f);
    crate::sender::run(f.shared.clone(), PROTOCOL, f.peer, closed, Box::new(NullSink)).await;
    assert_eq!(f.shared.reputation(&f.peer), before, "no blame for a closed stream");

    // The stream is still open and the peer never answered: that costs.
    let open = unanswered_stream(&f);
    f.shared.streams.lock().insert((f.peer, PROTOCOL), open.clone());
    crate::sender::run(f.shared.clone(), PROTOCOL, f.peer, open, Box::new(NullSink)).await;
    assert!(f.shared.reputation(&f.peer) < before, "an unanswered handshake costs reputation");
}
