//! [`DetrP2pHandle`]: what the node, the RPC, the flows and governance use to talk over detr.
//! It holds channels and read views; nothing it drives imports it back.

use std::sync::Arc;

use detrp2p_runtime_api::{ChainId, NetworkConfig};
use etrid_p2p_fluent::FlowError;
use etrid_protocol::{BridgeMessage, Message, MessageKind};
use sc_network::{multiaddr::Multiaddr, service::traits::NetworkService, PeerId};
use serde::{Deserialize, Serialize};

use crate::{
    bridge::BridgeTx,
    consensus::{events::ConsensusEvents, ConsensusNetwork, ConsensusService},
    delivery::{Delivery, Subscription},
    metrics::{Loss, ProtocolStats, QueueFigures, Stats},
    outbound::{priority, Outbound, Outbox},
    peers::{PeerSummary, PeersTx, SessionSummary},
    protocols::DetrProtocol,
    settings::Settings,
    views::Views,
};

/// Why a message could not be sent.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SendError {
    /// The message does not encode within its kind's limits.
    #[error("message too large: {0}")]
    TooLarge(String),
    /// No session with that peer on the message's protocol.
    #[error("no detr session with {0}")]
    NoSession(PeerId),
    /// The peer's queue is full.
    #[error("queue to {0} is full")]
    QueueFull(PeerId),
    /// Bridge messages are sent with [`DetrP2pHandle::send_bridge`] (exactly once per nonce).
    #[error("bridge messages are sent with detr_sendBridgeMessage")]
    UseSendBridge,
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
    /// This node already sent a bridge message with this nonce.
    #[error("nonce {0} was already used by this node")]
    NonceUsed(u64),
    /// The plugin has stopped.
    #[error("the plugin has stopped")]
    Stopped,
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
    /// Priority levels of the scheduler.
    pub priority_levels: usize,
}

/// The running plugin's parts, shared by every handle.
pub(crate) struct Core {
    pub local_peer: PeerId,
    pub genesis: [u8; 32],
    pub network: Arc<dyn NetworkService>,
    pub outbox: Outbox,
    pub views: Arc<Views>,
    pub peers: PeersTx,
    pub stats: Arc<Stats>,
    pub settings: Arc<Settings>,
    pub delivery: Arc<Delivery>,
    pub consensus: Arc<ConsensusEvents>,
    pub bridge: BridgeTx,
    /// Bridge messages delivered once (the bridge task's output).
    pub bridge_delivered: Arc<Delivery>,
}

/// A cloneable handle to the running plugin.
#[derive(Clone)]
pub struct DetrP2pHandle {
    pub(crate) core: Arc<Core>,
}

impl DetrP2pHandle {
    /// This node's PeerId.
    pub fn local_peer_id(&self) -> PeerId {
        self.core.local_peer
    }

    /// Peers with an established session on `protocol`.
    pub fn session_peers(&self, protocol: DetrProtocol) -> Vec<PeerId> {
        self.core.views.session_peers(protocol)
    }

    /// Sends `message` to `peer` on the protocol of its kind, without waiting.
    pub fn send_message(&self, peer: &PeerId, message: Message) -> Result<(), SendError> {
        if message.kind() == MessageKind::Bridge {
            return Err(SendError::UseSendBridge);
        }
        let out = Outbound::unicast(&message).map_err(|e| SendError::TooLarge(e.to_string()))?;
        if !self.core.views.has_session(peer, out.protocol) {
            return Err(SendError::NoSession(*peer));
        }
        let len = out.len();
        self.core.outbox.try_send(peer, out, priority(&message), len).map_err(|e| match e {
            FlowError::UnknownPeer => SendError::NoSession(*peer),
            FlowError::QueueFull { .. } => SendError::QueueFull(*peer),
        })
    }

    /// Sends `message` to every peer with a session on its protocol but `except`, encoded once.
    /// Returns how many peers it was queued for.
    pub fn broadcast(&self, message: Message) -> Result<usize, SendError> {
        if message.kind() == MessageKind::Bridge {
            return Err(SendError::UseSendBridge);
        }
        Ok(self.relay(&message, None))
    }

    /// Queues `message` (encoded once) to every peer with a session on its protocol but
    /// `except`; returns how many.
    pub(crate) fn relay(&self, message: &Message, except: Option<PeerId>) -> usize {
        let protocol = DetrProtocol::for_kind(message.kind());
        let peers: Vec<_> = self
            .core
            .views
            .session_peers(protocol)
            .into_iter()
            .filter(|p| Some(*p) != except)
            .collect();
        if peers.is_empty() {
            return 0;
        }
        let Ok((protocol, bytes)) = Outbound::shared(message) else { return 0 };
        let prio = priority(message);
        peers
            .into_iter()
            .filter(|p| {
                let out =
                    Outbound { protocol, payload: crate::outbound::Payload::Shared(bytes.clone()) };
                let loss = match self.core.outbox.try_send(p, out, prio, bytes.len()) {
                    Ok(()) => return true,
                    Err(FlowError::UnknownPeer) => Loss::StreamGone,
                    Err(FlowError::QueueFull { .. }) => Loss::OutboundFull,
                };
                self.core.stats.dropped(protocol, loss);
                false
            })
            .count()
    }

    /// Sends a bridge message from this chain to `destination`, exactly once per `nonce`:
    /// refused for a destination the runtime does not accept, or a nonce already used.
    /// Returns how many peers it was queued for.
    pub async fn send_bridge(
        &self,
        destination: ChainId,
        nonce: u64,
        payload: bytes::Bytes,
    ) -> Result<usize, SendError> {
        if !self.core.settings.accepts_chain(destination) {
            return Err(SendError::BridgeChainNotAccepted {
                chain: destination,
                accepted: self.core.settings.bridge_chains().unwrap_or_default(),
            });
        }
        let message = BridgeMessage {
            source_chain: crate::bridge::LOCAL_CHAIN,
            destination_chain: destination,
            nonce,
            ttl: etrid_protocol::limits::DEFAULT_TTL,
            payload,
        };
        Message::Bridge(message.clone())
            .encode()
            .map_err(|e| SendError::TooLarge(e.to_string()))?;
        self.core.bridge.send_local(message).await
    }

    /// Connects to `addr` (`/…/p2p/<peer>`) and opens every detr protocol with it.
    pub async fn connect_peer(&self, addr: Multiaddr) -> Result<(), String> {
        self.core.peers.connect(addr).await
    }

    /// Closes every detr stream with `peer` and undoes [`Self::connect_peer`]'s reservations.
    pub fn disconnect_peer(&self, peer: &PeerId) {
        self.core.peers.disconnect(*peer);
    }

    /// Applies a reputation change to `peer` (reported to sc-network; bans below threshold).
    pub fn report_peer(&self, peer: PeerId, change: etrid_p2p_dpeers::ReputationChange) {
        self.core.peers.report(peer, change);
    }

    /// New inbound messages of `kind`, at most `max_messages` and `max_bytes` waiting: a
    /// subscriber that falls behind loses messages (counted), the node's memory stays bounded.
    pub fn subscribe(
        &self,
        kind: MessageKind,
        max_messages: usize,
        max_bytes: usize,
    ) -> Subscription {
        self.core.delivery.subscribe(kind, max_messages, max_bytes)
    }

    /// Bridge messages delivered (new, accepted), at most `max_messages` and `max_bytes`
    /// waiting: a subscriber that falls behind loses messages (counted).
    pub fn subscribe_bridge(&self, max_messages: usize, max_bytes: usize) -> Subscription {
        crate::bridge::subscribe(&self.core.bridge_delivered, max_messages, max_bytes)
    }

    /// Counters per protocol.
    pub fn stats(&self) -> Vec<ProtocolStats> {
        let q = self.core.outbox.queue_stats();
        DetrProtocol::ALL
            .into_iter()
            .map(|p| {
                let figures = etrid_protocol::Priority::ALL
                    .into_iter()
                    .filter(|l| p.priorities().contains(*l))
                    .fold(QueueFigures::default(), |f, l| QueueFigures {
                        throttled: f.throttled + q.levels[l.index()].throttled,
                        queued: f.queued + q.levels[l.index()].depth,
                        oldest: f.oldest.max(self.core.outbox.oldest_queued(l)),
                    });
                self.core.stats.protocol(p, figures)
            })
            .collect()
    }

    /// The parameters in force and where they come from.
    pub fn config(&self) -> ConfigInForce {
        let current = self.core.settings.current();
        ConfigInForce {
            values: crate::governance::as_network_config(&current),
            from_block: self.core.settings.config_block(),
            bridge_chains: self.core.settings.bridge_chains(),
            priority_levels: current.flow.levels,
        }
    }

    /// Peers banned so far.
    pub fn bans(&self) -> u64 {
        self.core.stats.bans()
    }

    /// Reputation costs applied to peers so far, by reason.
    pub fn penalties(&self) -> std::collections::BTreeMap<String, u64> {
        self.core.stats.penalties()
    }

    /// Bridge messages delivered to subscribers so far.
    pub fn bridge_deliveries(&self) -> u64 {
        self.core.stats.bridge_deliveries()
    }

    /// Blocks pushed over detr and imported so far.
    pub fn blocks_imported(&self) -> u64 {
        self.core.stats.blocks_imported()
    }

    /// Every open stream.
    pub async fn sessions(&self) -> Vec<SessionSummary> {
        self.core.peers.sessions().await
    }

    /// Every peer with an open detr stream.
    pub async fn peers(&self) -> Vec<PeerSummary> {
        self.core.peers.peers().await
    }

    /// GRANDPA's notification service on the detr consensus protocol (for the voter).
    pub fn consensus_service(&self) -> Box<dyn sc_network::service::traits::NotificationService> {
        Box::new(ConsensusService::new(
            DetrProtocol::Consensus.name(&self.core.genesis),
            self.core.consensus.clone(),
            self.core.outbox.clone(),
            self.core.stats.clone(),
        ))
    }

    /// The network GRANDPA's gossip engine is given.
    pub fn consensus_network(&self) -> ConsensusNetwork {
        ConsensusNetwork::new(
            self.core.network.clone(),
            self.core.peers.clone(),
            DetrProtocol::Consensus.name(&self.core.genesis),
        )
    }

    /// The name of the detr consensus protocol (GRANDPA's protocol name with the plugin on).
    pub fn consensus_protocol(&self) -> sc_network::types::ProtocolName {
        DetrProtocol::Consensus.name(&self.core.genesis)
    }
}
