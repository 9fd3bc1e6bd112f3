//! A misbehaving DETR P2P peer, for tests against a real node.
//!
//! It connects to the node the way any peer does (block announces, then the node opens the detr
//! bridge stream), completes the Noise handshake with its own node key like an honest peer,
//! then attacks the stream:
//! - `garbage`: a frame no key opens;
//! - `replay`: a valid frame sent twice;
//! - `flood`: valid small frames far above the inbound rate limit;
//! - `big-frames`: valid frames of the largest size the bridge protocol carries, at full rate;
//! - `handshake-replay`: its own last handshake message (captured from the wire), sent again on
//!   the established stream up to [`HANDSHAKE_REPLAYS`] times, 100 ms apart (a lone message 1
//!   looks like the peer restarting its side; anything more proves it is not);
//! - `handshake-flood`: fresh handshake first messages, 1000 a second.
//!
//! It prints one JSON line per step and exits 0 once the node has closed the stream and
//! refuses it for `--hold` seconds. One mode is not misbehaviour the node can prove, and the
//! node must keep the stream (checked for `--hold` seconds after it):
//! - `bridge-replay`: a bridge message from chain 7, then [`REPLAY_AFTER`] others of chain 7,
//!   then the first again (sealed anew: the envelope replayed, not the frame), then one to a
//!   chain no runtime accepts.

use std::{process::ExitCode, time::Duration};

use clap::Parser;
use codec::Encode;
use detr_inproc::{Backend, Peer, PeerBuilder, RawProtocol};
use detrp2p::{
    protocols::{FrameTag, StreamHandshake, SEAL_AT, WIRE_VERSION},
    DetrProtocol,
};
use etrid_aecomms::{
    Binding, Handshake, LocalIdentity, Next, RekeyPolicy, RemoteIdentity, Session, HEADER_LEN,
};
use etrid_protocol::{
    limits::{DEFAULT_TTL, MAX_PAYLOAD_SIZE},
    BridgeMessage, Message,
};
use sc_network::{
    config::MultiaddrWithPeerId,
    service::traits::{NotificationEvent, ValidationResult},
    NotificationService, PeerId, Roles,
};
use serde_json::{json, Value};
use sp_core::H256;
use tokio::time::{timeout, Instant};

/// Most frames a flood sends.
const FLOOD_FRAMES: u64 = 20_000;
/// Most large frames sent (1 MiB each).
const BIG_FRAMES: u64 = 2_000;
/// Most handshakes a handshake flood sends (1000 a second).
const HANDSHAKE_FLOOD: u64 = 20_000;
/// Most times a handshake replay sends its captured message.
const HANDSHAKE_REPLAYS: u64 = 10;
/// Bridge messages sent between a bridge message and its replay.
const REPLAY_AFTER: u64 = 100_000;
/// The source chain of the bridge replay's messages (one the local chain's runtime accepts).
const BRIDGE_SOURCE: u32 = 7;
/// A chain no runtime of the tests accepts.
const FOREIGN_CHAIN: u32 = 99;
/// Bridge messages sent per 10 ms (at most 5,000 a second: within the inbound budget the test
/// gives the node, so that only the replay and the foreign chain are refused).
const BRIDGE_BURST: u64 = 50;

/// What the peer does once its session is up.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Attack {
    /// One sealed frame of random bytes.
    Garbage,
    /// A valid frame, then the same frame again.
    Replay,
    /// Valid frames as fast as the stream takes them.
    Flood,
    /// Valid frames of the largest size, as fast as the stream takes them.
    BigFrames,
    /// Our last handshake message again (and again), on the established stream.
    HandshakeReplay,
    /// Fresh handshakes, 1000 a second.
    HandshakeFlood,
    /// A bridge message replayed after many others, and one to a chain nobody accepts.
    BridgeReplay,
}

impl Attack {
    /// Whether the node can tell this from an honest peer's traffic (and must ban for it).
    fn provable(self) -> bool {
        !matches!(self, Attack::BridgeReplay)
    }
}

#[derive(Parser)]
#[command(about = "A misbehaving DETR P2P peer for tests")]
struct Args {
    /// The node: `/ip4/127.0.0.1/tcp/<port>/p2p/<PeerId>`.
    #[arg(long)]
    node: MultiaddrWithPeerId,
    /// Genesis hash of the node's chain (hex, with or without 0x).
    #[arg(long)]
    genesis: String,
    /// The misbehaviour.
    #[arg(long, value_enum)]
    attack: Attack,
    /// Network backend of this peer: litep2p or libp2p.
    #[arg(long, default_value = "litep2p")]
    backend: Backend,
    /// Seconds allowed for the session to come up and for the node to close it.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    /// Seconds the node must keep the stream closed afterwards.
    #[arg(long, default_value_t = 10)]
    hold: u64,
}

fn emit(event: &str, fields: Value) {
    let mut line = json!({ "event": event });
    if let (Some(line), Value::Object(fields)) = (line.as_object_mut(), fields) {
        line.extend(fields);
    }
    println!("{line}");
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            emit("failed", json!({ "error": error }));
            ExitCode::FAILURE
        }
    }
}

fn parse_genesis(hex_str: &str) -> Result<[u8; 32], String> {
    let bytes = hex::decode(hex_str.trim_start_matches("0x"))
        .map_err(|e| format!("--genesis is not hex: {e}"))?;
    bytes.try_into().map_err(|_| "--genesis must be 32 bytes".to_string())
}

/// The bridge stream to the node and our side of its session.
struct Attacker {
    peer: Peer,
    bridge: Box<dyn NotificationService>,
    node: PeerId,
    local: LocalIdentity,
    binding: Binding,
    session: Option<Session>,
    /// Our last handshake message.
    last_handshake: Vec<u8>,
    nonce: u64,
}

async fn run(args: Args) -> Result<(), String> {
    let genesis = parse_genesis(&args.genesis)?;
    let protocol = DetrProtocol::Bridge.name(&genesis);
    let handshake =
        StreamHandshake { version: WIRE_VERSION, roles: Roles::FULL.bits(), genesis }.encode();
    // Reserved-only: it talks to the node under test and to no peer it might discover.
    let builder = PeerBuilder::new(H256(genesis)).reserved_only().with_raw(RawProtocol {
        name: protocol.clone(),
        handshake,
        max_size: DetrProtocol::Bridge.max_notification(),
    });
    let key = builder.key().clone();
    let mut peer = builder.start(args.backend).await?;
    let local = LocalIdentity::from_seed(&key.secret().to_bytes(), peer.peer_id.to_bytes());
    let node = args.node.peer_id;
    let public = node
        .into_ed25519()
        .and_then(|k| ed25519_dalek::VerifyingKey::from_bytes(&k).ok())
        .ok_or("the node's PeerId is not an Ed25519 key")?;
    let binding = Binding {
        remote: RemoteIdentity { peer_id: node.to_bytes(), public },
        protocol: protocol.as_bytes().to_vec(),
        genesis,
    };
    emit(
        "started",
        json!({ "peerId": peer.peer_id.to_base58(), "backend": args.backend.as_str() }),
    );
    peer.network.add_reserved_peer(args.node.clone())?;
    peer.network.add_peers_to_reserved_set(protocol.clone(), [args.node.concat()].into())?;
    let bridge = peer.raw.remove(0);
    let mut attacker = Attacker {
        peer,
        bridge,
        node,
        local,
        binding,
        session: None,
        last_handshake: Vec::new(),
        nonce: 0,
    };

    let limit = Duration::from_secs(args.timeout);
    timeout(limit, attacker.session())
        .await
        .map_err(|_| format!("no session with the node within {limit:?}"))??;
    emit("session", json!({ "protocol": "bridge" }));

    let started = Instant::now();
    let sent = attacker.attack(args.attack).await;
    emit(
        "attacked",
        json!({ "attack": format!("{:?}", args.attack).to_lowercase(), "frames": sent }),
    );

    let hold = Duration::from_secs(args.hold);
    if !args.attack.provable() {
        if timeout(hold, attacker.closed()).await.is_ok() {
            return Err("the node closed the stream".into());
        }
        emit("kept", json!({ "forSecs": args.hold, "connected": attacker.connected() }));
        return Ok(());
    }
    timeout(limit, attacker.closed())
        .await
        .map_err(|_| format!("the node kept the stream open {limit:?} after the attack"))?;
    emit("closed", json!({ "afterMs": started.elapsed().as_millis() as u64 }));

    if let Ok(reopened) = timeout(hold, attacker.reopened()).await {
        return Err(format!("the node opened the stream again: {reopened}"));
    }
    emit("refused", json!({ "forSecs": args.hold, "connected": attacker.connected() }));
    Ok(())
}

fn handshake_frame(message: &[u8]) -> Vec<u8> {
    [&[FrameTag::Handshake as u8][..], message].concat()
}

impl Attacker {
    /// Accepts the node's stream and runs the Noise handshake in our role.
    async fn session(&mut self) -> Result<(), String> {
        let mut handshake = None;
        loop {
            match self.bridge.next_event().await.ok_or("the network stopped")? {
                NotificationEvent::ValidateInboundSubstream { result_tx, .. } => {
                    let _ = result_tx.send(ValidationResult::Accept);
                }
                NotificationEvent::NotificationStreamOpened { peer, .. } if peer == self.node => {
                    let (hs, first) =
                        Handshake::start(&self.local, self.binding.clone(), RekeyPolicy::default());
                    if let Some(first) = first {
                        self.last_handshake = first.clone();
                        self.send(handshake_frame(&first)).await;
                    }
                    handshake = Some(hs);
                }
                NotificationEvent::NotificationReceived { peer, notification }
                    if peer == self.node
                        && notification.first() == Some(&(FrameTag::Handshake as u8)) =>
                {
                    let hs = handshake.take().ok_or("a handshake message before the stream")?;
                    match hs.read(&notification[1..], &self.local) {
                        Ok(Next::Wait { handshake: hs, reply }) => {
                            self.last_handshake = reply.clone();
                            self.send(handshake_frame(&reply)).await;
                            handshake = Some(hs);
                        }
                        Ok(Next::Done { session, reply }) => {
                            if let Some(reply) = reply {
                                self.last_handshake = reply.clone();
                                self.send(handshake_frame(&reply)).await;
                            }
                            self.session = Some(session);
                            return Ok(());
                        }
                        Err(e) => return Err(format!("the node's handshake is refused: {e}")),
                    }
                }
                _ => {}
            }
        }
    }

    async fn send(&mut self, frame: Vec<u8>) -> bool {
        self.bridge.send_async_notification(&self.node, frame).await.is_ok()
    }

    /// A sealed frame of a new valid custom message with `payload_len` bytes.
    fn sealed(&mut self, payload_len: usize) -> Vec<u8> {
        self.nonce += 1;
        let mut payload = vec![0u8; payload_len.max(8)];
        payload[..8].copy_from_slice(&self.nonce.to_le_bytes());
        self.sealed_message(&Message::Custom(payload.into()))
    }

    /// A sealed frame of bridge message `nonce` from [`BRIDGE_SOURCE`] to `destination`.
    fn bridge(&mut self, nonce: u64, destination: u32) -> Vec<u8> {
        self.sealed_message(&Message::Bridge(BridgeMessage {
            source_chain: BRIDGE_SOURCE,
            destination_chain: destination,
            nonce,
            ttl: DEFAULT_TTL,
            payload: nonce.to_le_bytes().to_vec().into(),
        }))
    }

    /// `message`, sealed in a new frame.
    fn sealed_message(&mut self, message: &Message) -> Vec<u8> {
        let mut frame = vec![FrameTag::Sealed as u8];
        frame.resize(SEAL_AT + HEADER_LEN, 0);
        message.encode_to(&mut frame).expect("within the limits");
        let session = self.session.as_mut().expect("an established session");
        session.send.seal(&mut frame, SEAL_AT, std::time::Instant::now()).expect("a fresh session");
        frame
    }

    /// Carries out `attack`; returns the frames sent.
    async fn attack(&mut self, attack: Attack) -> u64 {
        match attack {
            Attack::Garbage => {
                let noise: Vec<u8> = (0..80).map(|_| rand::random()).collect();
                let frame = [&[FrameTag::Sealed as u8][..], &noise].concat();
                u64::from(self.send(frame).await)
            }
            Attack::Replay => {
                let frame = self.sealed(8);
                let first = self.send(frame.clone()).await;
                u64::from(first) + u64::from(self.send(frame).await)
            }
            Attack::Flood => self.repeat(FLOOD_FRAMES, None, |a| a.sealed(8)).await,
            Attack::BigFrames => {
                self.repeat(BIG_FRAMES, None, |a| a.sealed(MAX_PAYLOAD_SIZE)).await
            }
            Attack::HandshakeReplay => {
                let frame = handshake_frame(&self.last_handshake.clone());
                let every = Some(Duration::from_millis(100));
                self.repeat(HANDSHAKE_REPLAYS, every, |_| frame.clone()).await
            }
            Attack::HandshakeFlood => {
                let every = Some(Duration::from_millis(1));
                self.repeat(HANDSHAKE_FLOOD, every, |a| {
                    let (_, first) =
                        Handshake::start(&a.local, a.binding.clone(), RekeyPolicy::default());
                    // Whatever our role, a message-1-sized handshake: what costs the node most.
                    let message = first.unwrap_or_else(|| {
                        (0..32).map(|_| rand::random::<u8>()).collect::<Vec<u8>>()
                    });
                    handshake_frame(&message)
                })
                .await
            }
            Attack::BridgeReplay => {
                let mut sent = 0;
                for nonce in 1..=REPLAY_AFTER + 1 {
                    let frame = self.bridge(nonce, 0);
                    if !self.send(frame).await {
                        return sent;
                    }
                    sent += 1;
                    if nonce % BRIDGE_BURST == 0 {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
                let replay = self.bridge(1, 0);
                sent += u64::from(self.send(replay).await);
                let foreign = self.bridge(REPLAY_AFTER + 2, FOREIGN_CHAIN);
                sent + u64::from(self.send(foreign).await)
            }
        }
    }

    /// Sends up to `n` frames made by `make`, `every` apart (else as fast as the stream takes
    /// them), until the stream refuses one; returns how many went.
    async fn repeat(
        &mut self,
        n: u64,
        every: Option<Duration>,
        make: impl Fn(&mut Self) -> Vec<u8>,
    ) -> u64 {
        let mut sent = 0;
        while sent < n {
            let frame = make(self);
            if !self.send(frame).await {
                break;
            }
            sent += 1;
            if let Some(every) = every {
                tokio::time::sleep(every).await;
            }
        }
        sent
    }

    /// Waits for the node to close the stream.
    async fn closed(&mut self) {
        while let Some(event) = self.bridge.next_event().await {
            if matches!(event, NotificationEvent::NotificationStreamClosed { peer } if peer == self.node)
            {
                return;
            }
        }
    }

    /// Waits for the node to open the stream again; says how.
    async fn reopened(&mut self) -> String {
        while let Some(event) = self.bridge.next_event().await {
            match event {
                NotificationEvent::ValidateInboundSubstream { result_tx, .. } => {
                    let _ = result_tx.send(ValidationResult::Accept);
                }
                NotificationEvent::NotificationStreamOpened { peer, direction, .. }
                    if peer == self.node =>
                {
                    return format!("{direction:?} stream opened");
                }
                _ => {}
            }
        }
        futures::future::pending().await
    }

    /// Whether the node's block-announce stream is open (sc-network still connected).
    fn connected(&self) -> bool {
        self.peer.sync.connected().contains(&self.node)
    }
}
