//! The peers task: the one owner of the peer registry (`dpeers`), the peer cache (`stored`)
//! and the links. It opens a link for a peer's first stream and a stream task for each stream,
//! applies reputation changes (reporting them to sc-network, banning below the threshold),
//! keeps the views other tasks read, dials cached peers at start and answers inspection
//! queries. Everything reaches it as a message on [`PeersTx`].

pub(crate) mod cache;

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use bytes::Bytes;
use etrid_aecomms::{Binding, LocalIdentity, RemoteIdentity};
use etrid_p2p_dpeers::{PeerEvent, PeerRegistry, RegistryConfig, ReputationChange};
use etrid_p2p_fluent::InboundLimiter;
use etrid_p2p_stored::{ConnectionKind, PeerCache, PeerData, PeerSource};
use etrid_protocol::{AddressesMessage, Message};
use sc_network::{
    config::{parse_addr, MultiaddrWithPeerId},
    multiaddr::Multiaddr,
    service::traits::{MessageSink, NetworkService},
    PeerId,
};
use serde::{Deserialize, Serialize};
use sp_core::traits::SpawnNamed;
use tokio::sync::{mpsc, oneshot};

use crate::{
    config::DetrConfig,
    consensus::events::ConsensusEvents,
    delivery::Delivery,
    link::{stream::StreamTask, Link, LinkCmd, LinkStatus},
    metrics::Stats,
    outbound::{Outbound, Outbox},
    protocols::DetrProtocol,
    routes::{Frame, StreamId},
    settings::Settings,
    views::Views,
    LOG_TARGET,
};

/// How often bans are lifted, gone peers pruned and the cache written.
const TICK: Duration = cache::FLUSH_EVERY;

/// A stream the worker accepted.
pub(crate) struct StreamOpened {
    pub peer: PeerId,
    pub protocol: DetrProtocol,
    pub id: StreamId,
    pub roles: u8,
    pub inbound: bool,
    pub sink: Box<dyn MessageSink>,
    pub frames: mpsc::Receiver<Frame>,
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
    /// Best block the peer pushed or announced (number, hash hex).
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
    /// Key epochs (send, receive): 0 until the first rekey.
    pub epochs: (u64, u64),
    /// Seconds since the stream opened.
    pub age_secs: u64,
}

enum Cmd {
    StreamOpened(StreamOpened),
    StreamClosed { peer: PeerId, protocol: DetrProtocol, id: StreamId },
    DropStream { peer: PeerId, protocol: DetrProtocol },
    Session { peer: PeerId, protocol: DetrProtocol, id: StreamId, up: bool },
    Report { peer: PeerId, change: ReputationChange, forward: bool },
    Addresses { peer: PeerId, addresses: Vec<Bytes> },
    BestBlock { peer: PeerId, number: u64, hash: [u8; 32] },
    Connect { addr: Multiaddr, reply: oneshot::Sender<Result<(), String>> },
    Disconnect { peer: PeerId },
    Config(Box<DetrConfig>),
    Peers(oneshot::Sender<Vec<PeerSummary>>),
    Sessions(oneshot::Sender<Vec<SessionSummary>>),
}

/// Where the peers task's messages go. Cheap to clone.
#[derive(Clone)]
pub(crate) struct PeersTx(mpsc::UnboundedSender<Cmd>);

impl PeersTx {
    fn send(&self, cmd: Cmd) {
        // Fails only when the node shuts down.
        let _ = self.0.send(cmd);
    }

    pub fn stream_opened(&self, opened: StreamOpened) {
        self.send(Cmd::StreamOpened(opened));
    }

    pub fn stream_closed(&self, peer: PeerId, protocol: DetrProtocol, id: StreamId) {
        self.send(Cmd::StreamClosed { peer, protocol, id });
    }

    /// Closes the `protocol` stream of `peer` (a refused stream).
    pub fn drop_stream(&self, peer: PeerId, protocol: DetrProtocol) {
        self.send(Cmd::DropStream { peer, protocol });
    }

    pub fn session_up(&self, peer: PeerId, protocol: DetrProtocol, id: StreamId) {
        self.send(Cmd::Session { peer, protocol, id, up: true });
    }

    pub fn session_down(&self, peer: PeerId, protocol: DetrProtocol, id: StreamId) {
        self.send(Cmd::Session { peer, protocol, id, up: false });
    }

    /// Applies a reputation change and reports it to sc-network.
    pub fn report(&self, peer: PeerId, change: ReputationChange) {
        self.send(Cmd::Report { peer, change, forward: true });
    }

    /// Applies a reputation change sc-network was already told of (in its own terms).
    pub fn report_local(&self, peer: PeerId, change: ReputationChange) {
        self.send(Cmd::Report { peer, change, forward: false });
    }

    /// The addresses `peer` says it can be dialled at.
    pub fn addresses(&self, peer: PeerId, addresses: Vec<Bytes>) {
        self.send(Cmd::Addresses { peer, addresses });
    }

    /// The best block `peer` pushed or announced.
    pub fn best_block(&self, peer: PeerId, number: u64, hash: [u8; 32]) {
        self.send(Cmd::BestBlock { peer, number, hash });
    }

    pub async fn connect(&self, addr: Multiaddr) -> Result<(), String> {
        let (reply, rx) = oneshot::channel();
        self.send(Cmd::Connect { addr, reply });
        rx.await.map_err(|_| "the plugin has stopped".to_string())?
    }

    pub fn disconnect(&self, peer: PeerId) {
        self.send(Cmd::Disconnect { peer });
    }

    /// New settings (registry limits, rekey policy).
    pub fn config(&self, config: DetrConfig) {
        self.send(Cmd::Config(Box::new(config)));
    }

    pub async fn peers(&self) -> Vec<PeerSummary> {
        let (reply, rx) = oneshot::channel();
        self.send(Cmd::Peers(reply));
        rx.await.unwrap_or_default()
    }

    pub async fn sessions(&self) -> Vec<SessionSummary> {
        let (reply, rx) = oneshot::channel();
        self.send(Cmd::Sessions(reply));
        rx.await.unwrap_or_default()
    }
}

/// The peers task's channel: its sender, and the receiver its task takes.
pub(crate) fn channel() -> (PeersTx, PeersRx) {
    let (tx, rx) = mpsc::unbounded_channel();
    (PeersTx(tx), PeersRx(rx))
}

/// The receiving end of [`channel`].
pub(crate) struct PeersRx(mpsc::UnboundedReceiver<Cmd>);

/// The registry's settings: `max_peers` is the smaller of `detrp2p.max_peers` (peers with detr
/// streams) and `dpeers.max_peers` (peers tracked as connected).
pub(crate) fn registry_config(config: &DetrConfig) -> RegistryConfig {
    let max_peers = config.peers.max_peers.min(config.max_peers as usize);
    RegistryConfig { max_peers, ..config.peers }
}

struct StreamEntry {
    id: StreamId,
    roles: u8,
    opened_at: Instant,
    up: bool,
}

struct LinkEntry {
    cmds: mpsc::UnboundedSender<LinkCmd>,
    status: Arc<LinkStatus>,
    streams: [Option<StreamEntry>; 4],
    best_block: Option<(u64, [u8; 32])>,
}

/// What the peers task shares with the tasks it starts.
pub(crate) struct Context {
    pub local: Arc<LocalIdentity>,
    pub local_peer: PeerId,
    pub genesis: [u8; 32],
    pub network: Arc<dyn NetworkService>,
    pub settings: Arc<Settings>,
    pub views: Arc<Views>,
    pub stats: Arc<Stats>,
    pub outbox: Outbox,
    pub delivery: Arc<Delivery>,
    pub consensus: Arc<ConsensusEvents>,
    pub inbound: Arc<InboundLimiter<PeerId>>,
    pub cache: Option<Arc<PeerCache>>,
    /// Our dialable addresses, told to every peer.
    pub addresses: Vec<String>,
    pub spawner: Box<dyn SpawnNamed>,
    pub tx: PeersTx,
}

/// The peers task.
pub(crate) struct Peers {
    cx: Context,
    registry: PeerRegistry<PeerId>,
    links: HashMap<PeerId, LinkEntry>,
}

impl Peers {
    pub fn new(cx: Context) -> Self {
        let registry = PeerRegistry::new(registry_config(&cx.settings.current()));
        Self { cx, registry, links: HashMap::new() }
    }

    /// Runs for the node's lifetime.
    pub async fn run(mut self, PeersRx(mut rx): PeersRx) {
        self.restore_from_cache();
        let mut tick = tokio::time::interval(TICK);
        tick.tick().await;
        loop {
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(cmd) => self.on_command(cmd),
                    None => break,
                },
                _ = tick.tick() => self.on_tick(),
            }
        }
        self.flush();
    }

    /// Restores bans from the cache and dials its best peers (best reputation first, within
    /// `max_peers`), so that a node restarted without bootnodes, mDNS or a discovery daemon
    /// finds its peers again.
    fn restore_from_cache(&mut self) {
        let Some(cache) = self.cx.cache.clone() else { return };
        let records = cache.peers();
        let now_unix = cache::unix_now();
        let now = Instant::now();
        for r in &records {
            let (Some(until), Ok(peer)) = (r.banned_until, r.peer_id.parse::<PeerId>()) else {
                continue;
            };
            if until > now_unix {
                let left = Duration::from_secs(until - now_unix);
                self.registry.restore_ban(peer, now + left, now);
                self.cx.views.set_banned(peer, true);
            }
        }
        let max = registry_config(&self.cx.settings.current()).max_peers;
        let mut dialled = 0;
        for r in cache::to_dial(&records, now_unix, max) {
            let Ok(peer) = r.peer_id.parse::<PeerId>() else { continue };
            if peer == self.cx.local_peer {
                continue;
            }
            for addr in r.addresses.iter().filter_map(|a| a.parse::<Multiaddr>().ok()) {
                self.cx.network.add_known_address(peer, addr);
            }
            dialled += 1;
        }
        if dialled > 0 {
            log::info!(target: LOG_TARGET, "dialling {dialled} peers from the peer cache");
        }
    }

    fn on_tick(&mut self) {
        let now = Instant::now();
        for event in self.registry.tick(now) {
            if let PeerEvent::Unbanned { peer } = event {
                log::info!(target: LOG_TARGET, "ban of {peer} ended");
                self.cx.views.set_banned(peer, false);
            }
        }
        self.registry.prune(now);
        self.flush();
    }

    fn flush(&self) {
        if let Some(cache) = self.cx.cache.clone() {
            let save = move || {
                if let Err(e) = cache.save() {
                    log::warn!(target: LOG_TARGET, "saving the peer cache failed: {e}");
                }
            };
            self.cx.spawner.spawn_blocking(
                "detr-peer-cache",
                Some("detr-p2p"),
                Box::pin(async move { save() }),
            );
        }
    }

    fn on_command(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::StreamOpened(opened) => self.on_stream_opened(opened),
            Cmd::StreamClosed { peer, protocol, id } => self.on_stream_closed(peer, protocol, id),
            Cmd::DropStream { peer, protocol } => self.drop_stream(peer, protocol),
            Cmd::Session { peer, protocol, id, up } => self.on_session(peer, protocol, id, up),
            Cmd::Report { peer, change, forward } => self.apply_report(peer, change, forward),
            Cmd::Addresses { peer, addresses } => self.on_addresses(peer, addresses),
            Cmd::BestBlock { peer, number, hash } => {
                if let Some(link) = self.links.get_mut(&peer) {
                    if link.best_block.is_none_or(|(n, _)| number >= n) {
                        link.best_block = Some((number, hash));
                    }
                }
            }
            Cmd::Connect { addr, reply } => {
                let _ = reply.send(self.connect(addr));
            }
            Cmd::Disconnect { peer } => {
                self.drop_streams(peer);
                self.cx.network.remove_reserved_peer(peer);
            }
            Cmd::Config(config) => {
                self.registry.set_config(registry_config(&config));
                for link in self.links.values() {
                    let _ = link.cmds.send(LinkCmd::Policy(config.rekey));
                }
            }
            Cmd::Peers(reply) => {
                let _ = reply.send(self.peer_summaries());
            }
            Cmd::Sessions(reply) => {
                let _ = reply.send(self.session_summaries());
            }
        }
    }

    fn on_stream_opened(&mut self, o: StreamOpened) {
        let now = Instant::now();
        let identity =
            o.peer.into_ed25519().and_then(|k| ed25519_dalek::VerifyingKey::from_bytes(&k).ok());
        let Some(public) = identity else {
            log::debug!(target: LOG_TARGET, "{} has no Ed25519 identity: refused", o.peer);
            return self.drop_stream(o.peer, o.protocol);
        };
        if let Err(e) = self.registry.connected_peer(&o.peer, now) {
            log::debug!(target: LOG_TARGET, "{} refused on {}: {e}", o.peer, o.protocol.as_str());
            return self.drop_stream(o.peer, o.protocol);
        }
        let config = self.cx.settings.current();
        if !self.links.contains_key(&o.peer) {
            self.open_link(o.peer, o.inbound, &config);
        }
        let link = self.links.get_mut(&o.peer).expect("opened above");
        link.streams[o.protocol as usize] =
            Some(StreamEntry { id: o.id, roles: o.roles, opened_at: now, up: false });
        let _ = link.cmds.send(LinkCmd::Stream { protocol: o.protocol, id: o.id, sink: o.sink });
        let binding = Binding {
            remote: RemoteIdentity { peer_id: o.peer.to_bytes(), public },
            protocol: o.protocol.name(&self.cx.genesis).as_bytes().to_vec(),
            genesis: self.cx.genesis,
        };
        let task = StreamTask {
            peer: o.peer,
            protocol: o.protocol,
            id: o.id,
            roles: o.roles,
            inbound: o.inbound,
            local: self.cx.local.clone(),
            binding,
            policy: config.rekey,
            handshake_timeout: config.handshake_timeout,
            link: link.cmds.clone(),
            peers: self.cx.tx.clone(),
            delivery: self.cx.delivery.clone(),
            stats: self.cx.stats.clone(),
            status: link.status.clone(),
            consensus: self.cx.consensus.clone(),
            budget: self.cx.inbound.clone(),
        };
        self.cx.spawner.spawn("detr-stream", Some("detr-p2p"), Box::pin(task.run(o.frames)));
        log::debug!(target: LOG_TARGET, "{} stream open with {}", o.protocol.as_str(), o.peer);
    }

    fn open_link(&mut self, peer: PeerId, inbound: bool, config: &DetrConfig) {
        let (cmds, rx) = mpsc::unbounded_channel();
        let status = Arc::new(LinkStatus::default());
        self.cx.outbox.add_peer(peer);
        let link = Link {
            peer,
            outbox: self.cx.outbox.clone(),
            stats: self.cx.stats.clone(),
            status: status.clone(),
            policy: config.rekey,
        };
        self.cx.spawner.spawn("detr-link", Some("detr-p2p"), Box::pin(link.run(rx)));
        self.links.insert(
            peer,
            LinkEntry { cmds, status, streams: Default::default(), best_block: None },
        );
        self.remember(peer, ConnectionKind::Connected, inbound);
    }

    fn on_stream_closed(&mut self, peer: PeerId, protocol: DetrProtocol, id: StreamId) {
        let Some(link) = self.links.get_mut(&peer) else { return };
        if link.streams[protocol as usize].as_ref().is_none_or(|s| s.id != id) {
            return;
        }
        link.streams[protocol as usize] = None;
        let _ = link.cmds.send(LinkCmd::Closed { protocol, id });
        self.set_session(peer, protocol, false);
        if link_is_empty(&self.links[&peer]) {
            // Dropping the link's channel ends its task, which closes the peer's queue.
            self.links.remove(&peer);
            self.cx.inbound.forget(&peer);
            self.registry.disconnected(&peer, Instant::now());
            self.remember(peer, ConnectionKind::Disconnected, false);
        }
    }

    fn on_session(&mut self, peer: PeerId, protocol: DetrProtocol, id: StreamId, up: bool) {
        let Some(stream) = self
            .links
            .get_mut(&peer)
            .and_then(|l| l.streams[protocol as usize].as_mut())
            .filter(|s| s.id == id)
        else {
            return;
        };
        stream.up = up;
        self.set_session(peer, protocol, up);
        if up && protocol == DetrProtocol::Bridge && !self.cx.addresses.is_empty() {
            self.tell_addresses(peer);
        }
    }

    fn set_session(&self, peer: PeerId, protocol: DetrProtocol, up: bool) {
        let open = self.cx.views.set_session(peer, protocol, up);
        self.cx.stats.set_sessions(protocol, open as u64);
    }

    /// Tells `peer` where we can be dialled (it keeps that in its peer cache).
    fn tell_addresses(&self, peer: PeerId) {
        let addresses = self.cx.addresses.iter().map(|a| Bytes::from(a.clone())).collect();
        let message = Message::Addresses(AddressesMessage { addresses });
        if let Ok(out) = Outbound::unicast(&message) {
            let len = out.len();
            let _ = self.cx.outbox.try_send(&peer, out, message.kind().default_priority(), len);
        }
    }

    fn on_addresses(&mut self, peer: PeerId, addresses: Vec<Bytes>) {
        let Some(cache) = &self.cx.cache else { return };
        // Only addresses that parse, name no other peer, and are not ours to dial ourselves.
        let addresses: Vec<String> = addresses
            .iter()
            .filter_map(|a| std::str::from_utf8(a).ok())
            .filter(|a| {
                a.parse::<Multiaddr>().is_ok_and(|m| {
                    !m.iter().any(|p| matches!(p, sc_network::multiaddr::Protocol::P2p(_)))
                })
            })
            .map(str::to_string)
            .collect();
        let reputation = self.reputation(&peer);
        let data = PeerData { addresses, source: PeerSource::Inbound, reputation };
        cache.store_peer(&peer.to_base58(), data);
    }

    fn reputation(&self, peer: &PeerId) -> i32 {
        self.registry.get_peer(peer, Instant::now()).map_or(0, |i| i.reputation)
    }

    /// Notes a connection change of `peer` in the peer cache.
    fn remember(&self, peer: PeerId, kind: ConnectionKind, inbound: bool) {
        let Some(cache) = &self.cx.cache else { return };
        let id = peer.to_base58();
        let reputation = self.reputation(&peer);
        let source = if inbound { PeerSource::Inbound } else { PeerSource::Bootnode };
        cache.store_peer(&id, PeerData { addresses: Vec::new(), source, reputation });
        cache.record_connection(&id, kind);
    }

    /// Closes the `protocol` stream with `peer`. sc-network ignores `disconnect_peer` for
    /// reserved peers, and detr streams are reserved ones: the peer leaves the set first.
    fn drop_stream(&self, peer: PeerId, protocol: DetrProtocol) {
        let name = protocol.name(&self.cx.genesis);
        if let Err(e) = self.cx.network.remove_peers_from_reserved_set(name.clone(), vec![peer]) {
            log::debug!(target: LOG_TARGET, "cannot unreserve {peer}: {e}");
        }
        self.cx.network.disconnect_peer(peer, name);
    }

    fn drop_streams(&self, peer: PeerId) {
        for protocol in DetrProtocol::ALL {
            self.drop_stream(peer, protocol);
        }
    }

    /// Applies a reputation change and carries out what follows: report to sc-network,
    /// disconnect and ban below the threshold.
    fn apply_report(&mut self, peer: PeerId, change: ReputationChange, forward: bool) {
        let now = Instant::now();
        let Ok(events) = self.registry.update_reputation(&peer, change, now) else { return };
        if change.value < 0 {
            log::debug!(target: LOG_TARGET, "cost {} to {peer}: {}", change.value, change.reason);
            self.cx.stats.penalized(change.reason);
        }
        for event in events {
            match event {
                PeerEvent::Report { peer, change } => {
                    if forward {
                        let change = sc_network::ReputationChange::new(change.value, change.reason);
                        self.cx.network.report_peer(peer, change);
                    }
                }
                PeerEvent::Disconnect { peer, reason } => {
                    log::info!(target: LOG_TARGET, "disconnecting {peer}: {reason}");
                    self.drop_streams(peer);
                }
                PeerEvent::Banned { peer, until } => {
                    let secs = until.saturating_duration_since(now).as_secs();
                    log::warn!(target: LOG_TARGET, "banned {peer} for {secs}s: {}", change.reason);
                    self.cx.stats.banned(change.reason);
                    self.cx.views.set_banned(peer, true);
                    if let Some(cache) = &self.cx.cache {
                        cache.record_ban(&peer.to_base58(), cache::unix_now() + secs);
                    }
                    // sc-network drops the whole connection and refuses the peer for a while;
                    // the registry keeps refusing its detr streams for the rest of the ban.
                    self.cx
                        .network
                        .report_peer(peer, sc_network::ReputationChange::new_fatal(change.reason));
                }
                PeerEvent::Unbanned { .. } => {}
            }
        }
    }

    /// Connects to `addr` (`/…/p2p/<peer>`) and opens every detr protocol with it: the peer
    /// becomes a reserved peer of sync (as `system_addReservedPeer` does), which is what makes
    /// the peer open its side of the detr streams, and of the four detr protocols.
    fn connect(&self, addr: Multiaddr) -> Result<(), String> {
        // Checked here: litep2p ignores an address it cannot use instead of refusing it.
        let (peer_id, multiaddr) =
            parse_addr(addr.clone()).map_err(|e| format!("{addr} is not /…/p2p/<PeerId>: {e}"))?;
        if self.cx.views.is_banned(&peer_id) {
            return Err(format!("{peer_id} is banned"));
        }
        let network = &self.cx.network;
        network.add_reserved_peer(MultiaddrWithPeerId { multiaddr, peer_id })?;
        for protocol in DetrProtocol::ALL {
            network.add_peers_to_reserved_set(
                protocol.name(&self.cx.genesis),
                [addr.clone()].into(),
            )?;
        }
        Ok(())
    }

    fn peer_summaries(&self) -> Vec<PeerSummary> {
        let now = Instant::now();
        let mut out: Vec<_> = self
            .links
            .iter()
            .map(|(peer, link)| {
                let mut sessions: Vec<String> = DetrProtocol::ALL
                    .into_iter()
                    .filter(|p| link.streams[*p as usize].as_ref().is_some_and(|s| s.up))
                    .map(|p| p.as_str().to_string())
                    .collect();
                sessions.sort();
                PeerSummary {
                    peer_id: peer.to_base58(),
                    roles: link.streams.iter().flatten().next().map_or(0, |s| s.roles),
                    reputation: self.registry.get_peer(peer, now).map_or(0, |i| i.reputation),
                    sessions,
                    best_block: link.best_block.map(|(n, h)| (n, hex::encode(h))),
                    queued: self.cx.outbox.depth(peer),
                }
            })
            .collect();
        out.sort_by(|a, b| a.peer_id.cmp(&b.peer_id));
        out
    }

    fn session_summaries(&self) -> Vec<SessionSummary> {
        let mut out = Vec::new();
        for (peer, link) in &self.links {
            for protocol in DetrProtocol::ALL {
                let Some(stream) = &link.streams[protocol as usize] else { continue };
                out.push(SessionSummary {
                    peer_id: peer.to_base58(),
                    protocol: protocol.as_str().into(),
                    established: stream.up,
                    epochs: link.status.epochs(protocol as usize),
                    age_secs: stream.opened_at.elapsed().as_secs(),
                });
            }
        }
        out.sort_by(|a, b| (&a.peer_id, &a.protocol).cmp(&(&b.peer_id, &b.protocol)));
        out
    }
}

fn link_is_empty(link: &LinkEntry) -> bool {
    link.streams.iter().all(Option::is_none)
}
