//! [`DetrP2pHandle`]: what the node, the RPC and other components use to talk over detr.

use std::sync::Arc;

use detrp2p_runtime_api::{ChainId, NetworkConfig};
use etrid_p2p_fluent::FlowError;
use etrid_protocol::{Envelope, Message, MessageId, MessageKind, Protocol};
use futures::{Stream, StreamExt};
use sc_network::{
    config::{parse_addr, MultiaddrWithPeerId},
    multiaddr::Multiaddr,
    PeerId,
};
use serde::{Deserialize, Serialize};
use tokio_stream::wrappers::BroadcastStream;

use crate::{
    protocols::DetrProtocol,
    shared::Shared,
    stats::ProtocolStats,
    worker::{session_peers, streams_by_peer},
};

/// Why a message could not be sent.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SendError {
    /// Handshakes are sent by the plugin itself.
    #[error("handshake messages cannot be sent by hand")]
    NotSendable,
    /// The message does not encode within the frame limit.
    #[error("message too large: {0}")]
    TooLarge(String),
    /// No session with that peer on the message's protocol.
    #[error("no detr session with {0}")]
    NoSession(PeerId),
    /// The peer's queue is full.
    #[error("queue to {0} is full")]
    QueueFull(PeerId),
    /// The chain does not accept bridge messages for this destination (`DetrP2pApi`).
    #[error(
        "destination chain {chain} is not accepted by this chain; accepted: {accepted:?} \
         (set by detrP2p.setBridgeChains)"
    )]
    BridgeChainNotAccepted {
        /// The destination asked for.
        chain: ChainId,
        /// The chains accepted now.
        accepted: Vec<ChainId>,
    },
}

/// The parameters in force, as `detr_stats` shows them.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigInForce {
    /// Values in force: the chain's within the operator's bounds.
    #[serde(flatten)]
    pub values: NetworkConfig,
    /// Finalized block the on-chain values were read at; `None` if the runtime has none.
    pub from_block: Option<u64>,
    /// Chains bridge messages may go to; `None` when the chain does not restrict them.
    pub bridge_chains: Option<Vec<ChainId>>,
}

/// One peer as `detr_peers` shows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerSummary {
    /// PeerId (base58).
    pub peer_id: String,
    /// Substrate roles bits announced in the stream handshake.
    pub roles: u8,
    /// Reputation score now.
    pub reputation: i32,
    /// Protocols with an established AEComms session.
    pub sessions: Vec<String>,
    /// Best block the peer announced (number, hash hex).
    pub best_block: Option<(u64, String)>,
    /// Messages queued to the peer, all protocols.
    pub queued: usize,
}

/// One stream as `detr_sessions` shows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSummary {
    /// PeerId (base58).
    pub peer_id: String,
    /// Protocol.
    pub protocol: String,
    /// Whether the AEComms session is up.
    pub established: bool,
    /// Key generation (0 until the first rekey).
    pub generation: Option<u64>,
    /// Seconds since the stream opened.
    pub age_secs: u64,
}

/// A cloneable handle to the running plugin.
#[derive(Clone)]
pub struct DetrP2pHandle {
    pub(crate) shared: Arc<Shared>,
}

fn encode(
    shared: &Shared,
    message: Message,
) -> Result<(DetrProtocol, Envelope, Vec<u8>), SendError> {
    let protocol = DetrProtocol::for_kind(message.kind()).ok_or(SendError::NotSendable)?;
    if let Message::Bridge(bridge) = &message {
        if let Some(accepted) = shared.bridge_chains.read().as_ref() {
            if !accepted.contains(&bridge.destination_chain) {
                return Err(SendError::BridgeChainNotAccepted {
                    chain: bridge.destination_chain,
                    accepted: accepted.clone(),
                });
            }
        }
    }
    let envelope = Envelope::new(shared.next_nonce(), message);
    let bytes = envelope.serialize().map_err(|e| SendError::TooLarge(e.to_string()))?;
    Ok((protocol, envelope, bytes))
}

/// Which copy of an envelope [`relay`] sends.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hop {
    /// The envelope as it is (we are its origin).
    First,
    /// The copy one hop further, if its hop limit allows one.
    Next,
}

/// Queues `envelope` (as `hop` says) to every peer with a session on its protocol but `except`.
/// Returns how many. Nothing is copied or encoded when there is no such peer.
pub(crate) fn relay(
    shared: &Shared,
    envelope: &Envelope,
    hop: Hop,
    except: Option<PeerId>,
) -> usize {
    let Some(protocol) = DetrProtocol::for_kind(envelope.kind()) else { return 0 };
    let peers: Vec<_> =
        session_peers(shared, protocol).into_iter().filter(|p| Some(*p) != except).collect();
    if peers.is_empty() {
        return 0;
    }
    let bytes = match hop {
        Hop::First => envelope.serialize(),
        Hop::Next => match envelope.relayed() {
            Some(next) => next.serialize(),
            None => return 0,
        },
    };
    let Ok(bytes) = bytes else { return 0 };
    let priority = envelope.kind().default_priority();
    let flow = shared.flow(protocol);
    peers
        .into_iter()
        .filter(|p| match flow.try_send(p, bytes.clone(), priority) {
            Ok(()) => true,
            Err(_) => {
                shared.stats.count(protocol, crate::stats::Event::Dropped);
                false
            }
        })
        .count()
}

impl DetrP2pHandle {
    /// This node's PeerId.
    pub fn local_peer_id(&self) -> PeerId {
        self.shared.local_peer
    }

    /// Sends `message` to `peer` on the protocol of its kind; returns its id.
    pub fn send_message(&self, peer: &PeerId, message: Message) -> Result<MessageId, SendError> {
        let priority = message.kind().default_priority();
        let (protocol, envelope, bytes) = encode(&self.shared, message)?;
        self.shared.first_sight(&envelope.id);
        match self.shared.flow(protocol).try_send(peer, bytes, priority) {
            Ok(()) => Ok(envelope.id),
            Err(FlowError::UnknownPeer) => Err(SendError::NoSession(*peer)),
            Err(FlowError::QueueFull { .. }) => Err(SendError::QueueFull(*peer)),
        }
    }

    /// Peers with an established session on `protocol`.
    pub fn session_peers(&self, protocol: DetrProtocol) -> Vec<PeerId> {
        session_peers(&self.shared, protocol)
    }

    /// Sends `message` to every peer with a session on its protocol; returns its id and how
    /// many peers it was queued for.
    pub fn broadcast(&self, message: Message) -> Result<(MessageId, usize), SendError> {
        let (_, envelope, _) = encode(&self.shared, message)?;
        self.shared.first_sight(&envelope.id);
        let id = envelope.id;
        Ok((id, relay(&self.shared, &envelope, Hop::First, None)))
    }

    /// Connects to `addr` (`/…/p2p/<peer>`) and opens every detr protocol with it: the peer
    /// becomes a reserved peer of sync (as `system_addReservedPeer` does), which is what makes
    /// the peer open its side of the detr streams, and of the four detr protocols.
    pub fn connect_peer(&self, addr: Multiaddr) -> Result<(), String> {
        // Checked here: litep2p ignores an address it cannot use instead of refusing it.
        let (peer_id, multiaddr) =
            parse_addr(addr.clone()).map_err(|e| format!("{addr} is not /…/p2p/<PeerId>: {e}"))?;
        let network = self.shared.network.get().ok_or("network not started")?;
        network.add_reserved_peer(MultiaddrWithPeerId { multiaddr, peer_id })?;
        for protocol in DetrProtocol::ALL {
            network.add_peers_to_reserved_set(
                self.shared.protocol_name(protocol),
                [addr.clone()].into(),
            )?;
        }
        Ok(())
    }

    /// Closes every detr stream with `peer` and undoes [`Self::connect_peer`]'s reservations.
    pub fn disconnect_peer(&self, peer: &PeerId) {
        if let Some(network) = self.shared.network.get() {
            self.shared.drop_streams(network.as_ref(), *peer);
            network.remove_reserved_peer(*peer);
        }
    }

    /// New inbound messages of `kind` (de-duplicated), with the peer they came from. A
    /// subscriber that falls more than 4096 messages behind misses the oldest.
    pub fn subscribe(
        &self,
        kind: MessageKind,
    ) -> impl Stream<Item = (PeerId, Envelope)> + Send + Unpin {
        BroadcastStream::new(self.shared.inbound_tx.subscribe()).filter_map(move |item| {
            futures::future::ready(item.ok().filter(|(_, e)| e.kind() == kind))
        })
    }

    /// Counters per protocol.
    pub fn stats(&self) -> Vec<ProtocolStats> {
        DetrProtocol::ALL
            .into_iter()
            .map(|p| {
                let q = self.shared.flow(p).queue_stats().total();
                self.shared.stats.protocol(p, q.throttled, q.depth)
            })
            .collect()
    }

    /// The parameters in force and where they come from.
    pub fn config(&self) -> ConfigInForce {
        ConfigInForce {
            values: crate::governance::as_network_config(&self.shared.config.read()),
            from_block: *self.shared.config_block.read(),
            bridge_chains: self.shared.bridge_chains.read().clone(),
        }
    }

    /// Peers banned so far.
    pub fn bans(&self) -> u64 {
        self.shared.stats.bans()
    }

    /// Bridge messages delivered to subscribers so far.
    pub fn bridge_deliveries(&self) -> u64 {
        self.shared.stats.bridge_deliveries()
    }

    /// Every open stream.
    pub fn sessions(&self) -> Vec<SessionSummary> {
        let mut out: Vec<_> = self
            .shared
            .streams
            .lock()
            .iter()
            .map(|((peer, protocol), s)| SessionSummary {
                peer_id: peer.to_base58(),
                protocol: protocol.as_str().into(),
                established: s.is_established(),
                generation: s.channel.lock().generation(),
                age_secs: s.opened_at.elapsed().as_secs(),
            })
            .collect();
        out.sort_by(|a, b| (&a.peer_id, &a.protocol).cmp(&(&b.peer_id, &b.protocol)));
        out
    }

    /// Every peer with an open detr stream.
    pub fn peers(&self) -> Vec<PeerSummary> {
        let mut out: Vec<_> = streams_by_peer(&self.shared)
            .into_iter()
            .map(|(peer, streams)| {
                let mut sessions: Vec<String> = streams
                    .iter()
                    .filter(|(_, s)| s.is_established())
                    .map(|(p, _)| p.as_str().to_string())
                    .collect();
                sessions.sort();
                PeerSummary {
                    peer_id: peer.to_base58(),
                    roles: streams.first().map_or(0, |(_, s)| s.roles),
                    reputation: self.shared.reputation(&peer),
                    sessions,
                    best_block: self
                        .shared
                        .best_blocks
                        .lock()
                        .get(&peer)
                        .map(|(n, h)| (*n, hex::encode(h))),
                    queued: DetrProtocol::ALL
                        .iter()
                        .map(|p| self.shared.flow(*p).depth(&peer))
                        .sum(),
                }
            })
            .collect();
        out.sort_by(|a, b| a.peer_id.cmp(&b.peer_id));
        out
    }
}
