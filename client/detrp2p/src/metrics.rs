//! Counters of the plugin, kept as atomics (for `detr_stats`) and mirrored to Prometheus
//! (`substrate_detr_*`) when the node has a registry. Every Prometheus series is resolved once,
//! at start, from closed label sets: nothing a peer sends can create a series.

use std::{
    collections::BTreeMap,
    sync::atomic::{AtomicU64, Ordering},
};

use etrid_p2p_dpeers::ReputationChange;
use etrid_protocol::{ChainId, Priority};
use serde::{Deserialize, Serialize};
use substrate_prometheus_endpoint::{
    register, Counter, CounterVec, Gauge, GaugeVec, Histogram, HistogramOpts, HistogramVec, Opts,
    PrometheusError, Registry, U64,
};

use crate::protocols::DetrProtocol;
use detrp2p_runtime_api::NetworkConfig;

/// What is counted per protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A message sealed and sent.
    Sent,
    /// A message received, opened and decoded.
    Received,
    /// A message not delivered (queue full, shed, peer gone, over a budget, subscriber lag).
    Dropped,
    /// A message already seen (bridge).
    Duplicate,
    /// A Noise handshake completed.
    Handshake,
    /// A Noise handshake refused.
    HandshakeFailure,
    /// A frame that failed authentication or was replayed.
    DecryptFailure,
    /// A frame that did not decode.
    DecodeError,
    /// A notification sent with several messages in it (a batch).
    Batch,
}

/// Number of [`Event`] kinds; an event's discriminant is its counter index.
const EVENT_COUNT: usize = Event::Batch as usize + 1;

impl Event {
    const ALL: [Event; EVENT_COUNT] = [
        Event::Sent,
        Event::Received,
        Event::Dropped,
        Event::Duplicate,
        Event::Handshake,
        Event::HandshakeFailure,
        Event::DecryptFailure,
        Event::DecodeError,
        Event::Batch,
    ];

    fn label(self) -> &'static str {
        match self {
            Event::Sent => "sent",
            Event::Received => "received",
            Event::Dropped => "dropped",
            Event::Duplicate => "duplicate",
            Event::Handshake => "handshake",
            Event::HandshakeFailure => "handshake_failure",
            Event::DecryptFailure => "decrypt_failure",
            Event::DecodeError => "decode_error",
            Event::Batch => "batch",
        }
    }
}

/// Where a message was lost: the label of `substrate_detr_dropped_total` and the keys of
/// `droppedBy` in `detr_stats` (a closed set). Only [`Loss::InboundBudget`] is the peer's doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// Over the sending peer's inbound budget (the peer is reported).
    InboundBudget,
    /// The stream's task was behind by more frames or bytes than its route holds.
    RouteFull,
    /// The consumer of the message (GRANDPA, the bridge task, an importer) was full.
    ConsumerFull,
    /// A subscriber (an RPC subscription) lagged; it loses its own copy only.
    SubscriberLag,
    /// The peer's outbound queue was full.
    OutboundFull,
    /// The peer's stream or session went away before the message was sent.
    StreamGone,
    /// A message for or from a chain the runtime does not accept, or beyond the sources bound.
    NotAccepted,
    /// Sealing failed (keys exhausted).
    SealFailed,
    /// Over its protocol's frame limit (never sent).
    TooLarge,
    /// A bridge nonce below its source's replay window: it cannot be told from a replay.
    BelowWindow,
}

impl Loss {
    const ALL: [Loss; 10] = [
        Loss::InboundBudget,
        Loss::RouteFull,
        Loss::ConsumerFull,
        Loss::SubscriberLag,
        Loss::OutboundFull,
        Loss::StreamGone,
        Loss::NotAccepted,
        Loss::SealFailed,
        Loss::TooLarge,
        Loss::BelowWindow,
    ];

    fn label(self) -> &'static str {
        match self {
            Loss::InboundBudget => "inbound_budget",
            Loss::RouteFull => "route_full",
            Loss::ConsumerFull => "consumer_full",
            Loss::SubscriberLag => "subscriber_lag",
            Loss::OutboundFull => "outbound_full",
            Loss::StreamGone => "stream_gone",
            Loss::NotAccepted => "not_accepted",
            Loss::SealFailed => "seal_failed",
            Loss::TooLarge => "too_large",
            Loss::BelowWindow => "below_window",
        }
    }
}

/// The reasons bans and penalties are counted under: the plugin's own, each cost GRANDPA
/// charges peers for (sc-consensus-grandpa's `cost` module and `Misbehavior`, those honest
/// peers do not incur), any other GRANDPA reason as `consensus`, anything else as `other` (a
/// closed set: a peer cannot create a series).
const REASONS: [&str; 24] = [
    ReputationChange::RATE_LIMITED.reason,
    ReputationChange::REHANDSHAKE.reason,
    ReputationChange::FLOOD.reason,
    ReputationChange::BAD_TRANSACTION.reason,
    ReputationChange::DECODE_ERROR.reason,
    ReputationChange::UNEXPECTED_MESSAGE.reason,
    ReputationChange::BAD_BLOCK.reason,
    ReputationChange::BAD_HANDSHAKE.reason,
    ReputationChange::BAD_TAG.reason,
    ReputationChange::REPLAY.reason,
    "Grandpa: Bad signature",
    "Grandpa: Unknown voter",
    "Grandpa: Future message",
    "Grandpa: Out-of-scope message",
    "Grandpa: Invalid view change",
    "Grandpa: Bad packet",
    "Grandpa: Malformed cath-up",
    "Grandpa: Malformed commit",
    "Grandpa: Bad cath-up message",
    "Grandpa: Bad commit",
    "Grandpa: Invalid catch-up",
    "Grandpa: Invalid commit",
    "consensus",
    "other",
];

/// The index in [`REASONS`] of `reason`.
fn reason_index(reason: &str) -> usize {
    let named = REASONS.len() - 2;
    REASONS[..named].iter().position(|r| *r == reason).unwrap_or(if reason.starts_with("Grandpa") {
        named
    } else {
        named + 1
    })
}

/// What the outbound queues hold of one protocol's priorities, all peers together.
#[derive(Clone, Copy, Debug, Default)]
pub struct QueueFigures {
    /// Messages that waited for a rate limit token.
    pub throttled: u64,
    /// Messages queued now.
    pub queued: u64,
    /// How long the oldest of them has waited.
    pub oldest: Option<std::time::Duration>,
}

/// Counters of one protocol, as `detr_stats` reports them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProtocolStats {
    /// Protocol (`block`, `tx`, `consensus`, `bridge`).
    pub protocol: String,
    /// Messages sealed and sent.
    pub sent: u64,
    /// Notifications sent with several of those messages in them (batches).
    pub batches: u64,
    /// Messages received.
    pub received: u64,
    /// Messages not delivered.
    pub dropped: u64,
    /// Messages not delivered, by where they were lost (those counted at least once).
    pub dropped_by: BTreeMap<String, u64>,
    /// Messages that waited for a rate limit token.
    pub throttled: u64,
    /// Duplicates ignored.
    pub duplicates: u64,
    /// Noise handshakes completed.
    pub handshakes: u64,
    /// Noise handshakes refused.
    pub handshake_failures: u64,
    /// Frames failing authentication or replayed.
    pub decrypt_failures: u64,
    /// Frames that did not decode.
    pub decode_errors: u64,
    /// Open sessions.
    pub sessions: u64,
    /// Messages queued now.
    pub queued: u64,
    /// How long the oldest of them has waited, in milliseconds (0 if none is queued): a
    /// backlog the link does not drain shows here before its messages' delay is observed.
    pub oldest_queued_ms: u64,
}

/// Buckets of the queue delay histogram: 100 µs to 10 s.
const DELAY_BUCKETS: [f64; 15] =
    [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.04, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

struct Metrics {
    config: GaugeVec<U64>,
    discovered: Gauge<U64>,
    events: [[Counter<U64>; EVENT_COUNT]; 4],
    losses: [[Counter<U64>; Loss::ALL.len()]; 4],
    sessions: [Gauge<U64>; 4],
    delay: [Histogram; Priority::LEVELS],
    bans: [Counter<U64>; REASONS.len()],
    penalties: [Counter<U64>; REASONS.len()],
    bridge_deliveries: CounterVec<U64>,
    blocks_imported: Counter<U64>,
}

impl Metrics {
    fn register(r: &Registry) -> Result<Self, PrometheusError> {
        let events = register(
            CounterVec::new(
                Opts::new("substrate_detr_events_total", "DETR P2P message and session events"),
                &["protocol", "event"],
            )?,
            r,
        )?;
        let losses = register(
            CounterVec::new(
                Opts::new("substrate_detr_dropped_total", "DETR P2P messages lost, by where"),
                &["protocol", "cause"],
            )?,
            r,
        )?;
        let sessions = register(
            GaugeVec::new(
                Opts::new("substrate_detr_sessions", "Open AEComms sessions"),
                &["protocol"],
            )?,
            r,
        )?;
        let delay = register(
            HistogramVec::new(
                HistogramOpts::new(
                    "substrate_detr_queue_delay_seconds",
                    "Time a message waits in its peer's queue before it is sealed and sent",
                )
                .buckets(DELAY_BUCKETS.to_vec()),
                &["priority"],
            )?,
            r,
        )?;
        let by_reason = |name: &str, help: &str| -> Result<_, PrometheusError> {
            let vec = register(CounterVec::new(Opts::new(name, help), &["reason"])?, r)?;
            Ok(REASONS.map(|reason| vec.with_label_values(&[reason])))
        };
        Ok(Self {
            config: register(
                GaugeVec::new(
                    Opts::new(
                        "substrate_detr_config",
                        "DETR P2P parameters in force (on-chain values within local bounds)",
                    ),
                    &["param"],
                )?,
                r,
            )?,
            discovered: register(
                Gauge::new(
                    "substrate_detr_discovery_peers",
                    "Peers of this chain found through the discovery daemon",
                )?,
                r,
            )?,
            events: DetrProtocol::ALL
                .map(|p| Event::ALL.map(|e| events.with_label_values(&[p.as_str(), e.label()]))),
            losses: DetrProtocol::ALL
                .map(|p| Loss::ALL.map(|l| losses.with_label_values(&[p.as_str(), l.label()]))),
            sessions: DetrProtocol::ALL.map(|p| sessions.with_label_values(&[p.as_str()])),
            delay: Priority::ALL.map(|p| delay.with_label_values(&[&p.index().to_string()])),
            bans: by_reason("substrate_detr_bans_total", "Peers banned by DETR P2P")?,
            penalties: by_reason(
                "substrate_detr_penalties_total",
                "Reputation costs applied to peers in DETR P2P's registry",
            )?,
            bridge_deliveries: register(
                CounterVec::new(
                    Opts::new(
                        "substrate_detr_bridge_deliveries_total",
                        "Bridge messages delivered to subscribers, by accepted source chain",
                    ),
                    &["source_chain"],
                )?,
                r,
            )?,
            blocks_imported: register(
                Counter::new(
                    "substrate_detr_blocks_imported_total",
                    "Blocks pushed over detr and imported",
                )?,
                r,
            )?,
        })
    }
}

#[derive(Default)]
struct Counters {
    events: [AtomicU64; EVENT_COUNT],
    losses: [AtomicU64; Loss::ALL.len()],
    sessions: AtomicU64,
}

/// All counters of the plugin.
pub struct Stats {
    protocols: [Counters; 4],
    bans: AtomicU64,
    penalties: [AtomicU64; REASONS.len()],
    bridge_deliveries: AtomicU64,
    blocks_imported: AtomicU64,
    metrics: Option<Metrics>,
}

impl Stats {
    /// Counters, mirrored to `registry` if given.
    pub fn new(registry: Option<&Registry>) -> Result<Self, PrometheusError> {
        Ok(Self {
            protocols: Default::default(),
            bans: AtomicU64::new(0),
            penalties: Default::default(),
            bridge_deliveries: AtomicU64::new(0),
            blocks_imported: AtomicU64::new(0),
            metrics: registry.map(Metrics::register).transpose()?,
        })
    }

    /// Counts `n` events on `protocol`.
    pub fn count_n(&self, protocol: DetrProtocol, event: Event, n: u64) {
        self.protocols[protocol as usize].events[event as usize].fetch_add(n, Ordering::Relaxed);
        if let Some(m) = &self.metrics {
            m.events[protocol as usize][event as usize].inc_by(n);
        }
    }

    /// Counts `n` messages of `protocol` lost at `loss` (also counted as [`Event::Dropped`]).
    pub fn dropped_n(&self, protocol: DetrProtocol, loss: Loss, n: u64) {
        if n == 0 {
            return;
        }
        self.count_n(protocol, Event::Dropped, n);
        self.protocols[protocol as usize].losses[loss as usize].fetch_add(n, Ordering::Relaxed);
        if let Some(m) = &self.metrics {
            m.losses[protocol as usize][loss as usize].inc_by(n);
        }
    }

    /// Counts a message of `protocol` lost at `loss`.
    pub fn dropped(&self, protocol: DetrProtocol, loss: Loss) {
        self.dropped_n(protocol, loss, 1);
    }

    /// Counts `event` on `protocol`.
    pub fn count(&self, protocol: DetrProtocol, event: Event) {
        self.count_n(protocol, event, 1);
    }

    /// Records how long a message of `priority` waited in its queue.
    pub fn queue_delay(&self, priority: Priority, waited: std::time::Duration) {
        if let Some(m) = &self.metrics {
            m.delay[priority.index()].observe(waited.as_secs_f64());
        }
    }

    /// Sets the number of open sessions of `protocol`.
    pub fn set_sessions(&self, protocol: DetrProtocol, n: u64) {
        self.protocols[protocol as usize].sessions.store(n, Ordering::Relaxed);
        if let Some(m) = &self.metrics {
            m.sessions[protocol as usize].set(n);
        }
    }

    /// Publishes the parameters in force as `substrate_detr_config{param}` (the threshold as
    /// its magnitude; weights as `priority_weight_<level>`).
    pub fn set_config(&self, config: &NetworkConfig) {
        let Some(m) = &self.metrics else { return };
        let scalars = [
            ("max_peers", u64::from(config.max_peers)),
            ("rate_limit", u64::from(config.rate_limit)),
            ("peer_rate_limit", u64::from(config.peer_rate_limit)),
            ("max_queue_size", u64::from(config.max_queue_size)),
            ("reputation_threshold", u64::from(config.reputation_threshold.unsigned_abs())),
            ("rekey_after_messages", config.rekey_after_messages),
            ("rekey_after_secs", u64::from(config.rekey_after_secs)),
        ];
        for (param, value) in scalars {
            m.config.with_label_values(&[param]).set(value);
        }
        for (level, weight) in config.priority_weights.iter().enumerate() {
            m.config
                .with_label_values(&[&format!("priority_weight_{level}")])
                .set(u64::from(*weight));
        }
    }

    /// Sets the number of peers found through the discovery daemon.
    pub fn set_discovered(&self, n: u64) {
        if let Some(m) = &self.metrics {
            m.discovered.set(n);
        }
    }

    /// Counts a ban.
    pub fn banned(&self, reason: &str) {
        self.bans.fetch_add(1, Ordering::Relaxed);
        if let Some(m) = &self.metrics {
            m.bans[reason_index(reason)].inc();
        }
    }

    /// Counts a reputation cost applied in the registry.
    pub fn penalized(&self, reason: &str) {
        let i = reason_index(reason);
        self.penalties[i].fetch_add(1, Ordering::Relaxed);
        if let Some(m) = &self.metrics {
            m.penalties[i].inc();
        }
    }

    /// Counts a bridge message handed to subscribers; `accepted` says whether its source chain
    /// is one the runtime accepts (its label), else it counts as `other`.
    pub fn bridge_delivered(&self, source_chain: ChainId, accepted: bool) {
        self.bridge_deliveries.fetch_add(1, Ordering::Relaxed);
        if let Some(m) = &self.metrics {
            let label = if accepted { source_chain.to_string() } else { "other".into() };
            m.bridge_deliveries.with_label_values(&[&label]).inc();
        }
    }

    /// Counts a block pushed over detr and imported.
    pub fn block_imported(&self) {
        self.blocks_imported.fetch_add(1, Ordering::Relaxed);
        if let Some(m) = &self.metrics {
            m.blocks_imported.inc();
        }
    }

    /// Bans so far.
    pub fn bans(&self) -> u64 {
        self.bans.load(Ordering::Relaxed)
    }

    /// Reputation costs applied so far, by reason (those counted at least once).
    pub fn penalties(&self) -> BTreeMap<String, u64> {
        let counts = self.penalties.iter().map(|c| c.load(Ordering::Relaxed));
        REASONS
            .iter()
            .zip(counts)
            .filter(|(_, n)| *n > 0)
            .map(|(r, n)| (r.to_string(), n))
            .collect()
    }

    /// Bridge deliveries so far.
    pub fn bridge_deliveries(&self) -> u64 {
        self.bridge_deliveries.load(Ordering::Relaxed)
    }

    /// Blocks pushed over detr and imported so far.
    pub fn blocks_imported(&self) -> u64 {
        self.blocks_imported.load(Ordering::Relaxed)
    }

    /// The counters of `protocol`; `queue` comes from the flow controller.
    pub fn protocol(&self, protocol: DetrProtocol, queue: QueueFigures) -> ProtocolStats {
        let c = &self.protocols[protocol as usize];
        let get = |e: Event| c.events[e as usize].load(Ordering::Relaxed);
        ProtocolStats {
            protocol: protocol.as_str().into(),
            sent: get(Event::Sent),
            batches: get(Event::Batch),
            received: get(Event::Received),
            dropped: get(Event::Dropped),
            dropped_by: Loss::ALL
                .iter()
                .map(|l| (l.label().to_string(), c.losses[*l as usize].load(Ordering::Relaxed)))
                .filter(|(_, n)| *n > 0)
                .collect(),
            throttled: queue.throttled,
            duplicates: get(Event::Duplicate),
            handshakes: get(Event::Handshake),
            handshake_failures: get(Event::HandshakeFailure),
            decrypt_failures: get(Event::DecryptFailure),
            decode_errors: get(Event::DecodeError),
            sessions: c.sessions.load(Ordering::Relaxed),
            queued: queue.queued,
            oldest_queued_ms: queue.oldest.map_or(0, |d| d.as_millis() as u64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_labels_come_from_a_closed_set() {
        let label = |reason| REASONS[reason_index(reason)];
        assert_eq!(label("replayed frame"), "replayed frame");
        assert_eq!(label("Grandpa: Out-of-scope message"), "Grandpa: Out-of-scope message");
        assert_eq!(label("Grandpa: a cost of a later version"), "consensus");
        assert_eq!(label("anything a peer could make us say"), "other");
    }

    #[test]
    fn penalties_are_counted_by_reason() {
        let registry = Registry::new();
        let stats = Stats::new(Some(&registry)).unwrap();
        stats.penalized(ReputationChange::RATE_LIMITED.reason);
        stats.penalized(ReputationChange::RATE_LIMITED.reason);
        stats.penalized("Grandpa: Bad signature");
        stats.penalized("Grandpa: a cost of a later version");
        stats.penalized("something else");
        let expected = [
            ("Grandpa: Bad signature", 1),
            ("consensus", 1),
            ("other", 1),
            ("over inbound rate limit", 2),
        ];
        assert_eq!(stats.penalties(), expected.map(|(r, n)| (r.to_string(), n)).into());
    }

    #[test]
    fn losses_are_counted_by_cause_and_in_the_total() {
        let registry = Registry::new();
        let stats = Stats::new(Some(&registry)).unwrap();
        stats.dropped(DetrProtocol::Bridge, Loss::RouteFull);
        stats.dropped_n(DetrProtocol::Bridge, Loss::OutboundFull, 3);
        stats.dropped_n(DetrProtocol::Bridge, Loss::SealFailed, 0);
        let bridge = stats.protocol(DetrProtocol::Bridge, QueueFigures::default());
        assert_eq!(bridge.dropped, 4);
        let expected = [("outbound_full", 3), ("route_full", 1)];
        assert_eq!(bridge.dropped_by, expected.map(|(c, n)| (c.to_string(), n)).into());
        let families = registry.gather();
        let dropped =
            families.iter().find(|f| f.get_name() == "substrate_detr_dropped_total").unwrap();
        assert_eq!(dropped.get_metric().len(), 4 * Loss::ALL.len(), "resolved once, at start");
    }

    #[test]
    fn peer_chosen_source_chains_do_not_create_series() {
        let registry = Registry::new();
        let stats = Stats::new(Some(&registry)).unwrap();
        for chain in 0..1000 {
            stats.bridge_delivered(chain, false);
        }
        stats.bridge_delivered(7, true);
        let families = registry.gather();
        let bridge = families
            .iter()
            .find(|f| f.get_name() == "substrate_detr_bridge_deliveries_total")
            .unwrap();
        assert_eq!(bridge.get_metric().len(), 2, "`other` and the accepted chain 7");
    }
}
