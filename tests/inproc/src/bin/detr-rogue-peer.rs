//! A misbehaving DETR P2P peer, for tests against a real node.
//!
//! It connects to the node the way any peer does (block announces, then the node opens the detr
//! bridge stream), completes the AEComms handshake with its own node key like an honest peer,
//! then attacks the stream: `garbage` (a frame no key opens), `replay` (a valid frame sent
//! twice) or `flood` (valid frames far above the inbound rate limit). It prints one JSON line per
//! step and exits 0 once the node has closed the stream and refuses it for `--hold` seconds.

use std::{process::ExitCode, time::Duration};

use clap::Parser;
use codec::{Decode, Encode};
use detr_inproc::{Backend, Peer, PeerBuilder, RawProtocol};
use detrp2p::{
    protocols::{FrameTag, StreamHandshake, MAX_NOTIFICATION_SIZE, WIRE_VERSION},
    DetrProtocol,
};
use etrid_aecomms::{
    Binding, Channel, HandshakeMessage, LocalIdentity, RekeyPolicy, RemoteIdentity,
};
use etrid_protocol::{Envelope, Message, Protocol};
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

/// What the peer does once its session is up.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Attack {
    /// One sealed frame of random bytes.
    Garbage,
    /// A valid frame, then the same frame again.
    Replay,
    /// Valid frames as fast as the stream takes them.
    Flood,
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

/// The bridge stream to the node and our AEComms side of it.
struct Attacker {
    peer: Peer,
    bridge: Box<dyn NotificationService>,
    node: PeerId,
    channel: Channel,
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
        max_size: MAX_NOTIFICATION_SIZE,
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
        channel: Channel::new(local, binding, RekeyPolicy::default()),
        nonce: 0,
    };

    let limit = Duration::from_secs(args.timeout);
    timeout(limit, attacker.session())
        .await
        .map_err(|_| format!("no AEComms session with the node within {limit:?}"))??;
    emit("session", json!({ "protocol": "bridge" }));

    let started = Instant::now();
    let sent = attacker.attack(args.attack).await;
    emit(
        "attacked",
        json!({ "attack": format!("{:?}", args.attack).to_lowercase(), "frames": sent }),
    );

    timeout(limit, attacker.closed())
        .await
        .map_err(|_| format!("the node kept the stream open {limit:?} after the attack"))?;
    emit("closed", json!({ "afterMs": started.elapsed().as_millis() as u64 }));

    let hold = Duration::from_secs(args.hold);
    if let Ok(reopened) = timeout(hold, attacker.reopened()).await {
        return Err(format!("the node opened the stream again: {reopened}"));
    }
    emit("refused", json!({ "forSecs": args.hold, "connected": attacker.connected() }));
    Ok(())
}

impl Attacker {
    /// Accepts the node's stream and answers its AEComms handshake.
    async fn session(&mut self) -> Result<(), String> {
        loop {
            match self.bridge.next_event().await.ok_or("the network stopped")? {
                NotificationEvent::ValidateInboundSubstream { result_tx, .. } => {
                    let _ = result_tx.send(ValidationResult::Accept);
                }
                NotificationEvent::NotificationReceived { peer, notification }
                    if peer == self.node
                        && notification.first() == Some(&(FrameTag::Handshake as u8)) =>
                {
                    let hello = HandshakeMessage::decode(&mut &notification[1..])
                        .map_err(|e| format!("the node's handshake does not decode: {e}"))?;
                    let reply = self
                        .channel
                        .on_handshake(&hello, std::time::Instant::now())
                        .map_err(|e| format!("the node's handshake is refused: {e}"))?
                        .ok_or("the node's handshake needs no reply")?;
                    self.send(FrameTag::Handshake.frame(&reply.encode())).await;
                    return Ok(());
                }
                _ => {}
            }
        }
    }

    async fn send(&mut self, frame: Vec<u8>) -> bool {
        self.bridge.send_async_notification(&self.node, frame).await.is_ok()
    }

    /// A sealed frame of a new valid message.
    fn sealed(&mut self) -> Vec<u8> {
        self.nonce += 1;
        let message = Message::Custom(self.nonce.to_le_bytes().to_vec());
        let plaintext = Envelope::new(self.nonce, message).serialize().expect("a small envelope");
        FrameTag::Sealed.frame(&self.channel.seal(&plaintext).expect("an established session"))
    }

    /// Carries out `attack`; returns the frames sent.
    async fn attack(&mut self, attack: Attack) -> u64 {
        match attack {
            Attack::Garbage => {
                let noise: Vec<u8> = (0..80).map(|_| rand::random()).collect();
                u64::from(self.send(FrameTag::Sealed.frame(&noise)).await)
            }
            Attack::Replay => {
                let frame = self.sealed();
                let first = self.send(frame.clone()).await;
                u64::from(first) + u64::from(self.send(frame).await)
            }
            Attack::Flood => {
                let mut sent = 0;
                while sent < FLOOD_FRAMES {
                    let frame = self.sealed();
                    if !self.send(frame).await {
                        break;
                    }
                    sent += 1;
                }
                sent
            }
        }
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
