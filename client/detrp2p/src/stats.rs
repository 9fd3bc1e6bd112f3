//! Counters of the plugin, kept as atomics (for `detr_stats`) and mirrored to Prometheus
//! (`substrate_detr_*`) when the node has a registry.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use substrate_prometheus_endpoint::{
    register, CounterVec, Gauge, GaugeVec, Opts, PrometheusError, Registry, U64,
};

use crate::protocols::DetrProtocol;
use detrp2p_runtime_api::NetworkConfig;

/// What is counted per protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A message sealed and sent.
    Sent,
    /// A message received, opened, decoded and new.
    Received,
    /// A message not delivered (queue full, shed, peer gone, over the inbound limit).
    Dropped,
    /// A message already seen.
    Duplicate,
    /// An AEComms handshake completed.
    Handshake,
    /// An AEComms handshake refused.
    HandshakeFailure,
    /// A frame that failed authentication or was replayed.
    DecryptFailure,
    /// A frame that did not decode.
    DecodeError,
}

/// Number of [`Event`] kinds; an event's discriminant is its counter index.
const EVENT_COUNT: usize = Event::DecodeError as usize + 1;

impl Event {
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
        }
    }
}

/// Counters of one protocol, as `detr_stats` reports them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProtocolStats {
    /// Protocol (`block`, `tx`, `consensus`, `bridge`).
    pub protocol: String,
    /// Messages sealed and sent.
    pub sent: u64,
    /// New messages received.
    pub received: u64,
    /// Messages not delivered.
    pub dropped: u64,
    /// Messages that waited for a rate limit token.
    pub throttled: u64,
    /// Duplicates ignored.
    pub duplicates: u64,
    /// AEComms handshakes completed.
    pub handshakes: u64,
    /// AEComms handshakes refused.
    pub handshake_failures: u64,
    /// Frames failing authentication or replayed.
    pub decrypt_failures: u64,
    /// Frames that did not decode.
    pub decode_errors: u64,
    /// Open sessions.
    pub sessions: u64,
    /// Messages queued now.
    pub queued: u64,
}

struct Metrics {
    config: GaugeVec<U64>,
    discovered: Gauge<U64>,
    events: CounterVec<U64>,
    sessions: GaugeVec<U64>,
    bans: CounterVec<U64>,
    bridge_deliveries: CounterVec<U64>,
}

impl Metrics {
    fn register(registry: &Registry) -> Result<Self, PrometheusError> {
        Ok(Self {
            config: register(
                GaugeVec::new(
                    Opts::new(
                        "substrate_detr_config",
                        "DETR P2P parameters in force (on-chain values within local bounds)",
                    ),
                    &["param"],
                )?,
                registry,
            )?,
            discovered: register(
                Gauge::new(
                    "substrate_detr_discovery_peers",
                    "Peers of this chain found through the discovery daemon",
                )?,
                registry,
            )?,
            events: register(
                CounterVec::new(
                    Opts::new("substrate_detr_events_total", "DETR P2P message and session events"),
                    &["protocol", "event"],
                )?,
                registry,
            )?,
            sessions: register(
                GaugeVec::new(
                    Opts::new("substrate_detr_sessions", "Open AEComms sessions"),
                    &["protocol"],
                )?,
                registry,
            )?,
            bans: register(
                CounterVec::new(
                    Opts::new("substrate_detr_bans_total", "Peers banned by DETR P2P"),
                    &["reason"],
                )?,
                registry,
            )?,
            bridge_deliveries: register(
                CounterVec::new(
                    Opts::new(
                        "substrate_detr_bridge_deliveries_total",
                        "Bridge messages delivered to subscribers",
                    ),
                    &["source_chain"],
                )?,
                registry,
            )?,
        })
    }
}

#[derive(Default)]
struct Counters {
    events: [AtomicU64; EVENT_COUNT],
    sessions: AtomicU64,
}

/// All counters of the plugin.
pub struct Stats {
    protocols: [Counters; 4],
    bans: AtomicU64,
    bridge_deliveries: AtomicU64,
    metrics: Option<Metrics>,
}

impl Stats {
    /// Counters, mirrored to `registry` if given.
    pub fn new(registry: Option<&Registry>) -> Result<Self, PrometheusError> {
        Ok(Self {
            protocols: Default::default(),
            bans: AtomicU64::new(0),
            bridge_deliveries: AtomicU64::new(0),
            metrics: registry.map(Metrics::register).transpose()?,
        })
    }

    /// Counts `event` on `protocol`.
    pub fn count(&self, protocol: DetrProtocol, event: Event) {
        let i = event as usize;
        self.protocols[protocol as usize].events[i].fetch_add(1, Ordering::Relaxed);
        if let Some(m) = &self.metrics {
            m.events.with_label_values(&[protocol.as_str(), event.label()]).inc();
        }
    }

    /// Sets the number of open sessions of `protocol`.
    pub fn set_sessions(&self, protocol: DetrProtocol, n: u64) {
        self.protocols[protocol as usize].sessions.store(n, Ordering::Relaxed);
        if let Some(m) = &self.metrics {
            m.sessions.with_label_values(&[protocol.as_str()]).set(n);
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
            m.bans.with_label_values(&[reason]).inc();
        }
    }

    /// Counts a bridge message handed to subscribers.
    pub fn bridge_delivered(&self, source_chain: u32) {
        self.bridge_deliveries.fetch_add(1, Ordering::Relaxed);
        if let Some(m) = &self.metrics {
            m.bridge_deliveries.with_label_values(&[&source_chain.to_string()]).inc();
        }
    }

    /// Bans so far.
    pub fn bans(&self) -> u64 {
        self.bans.load(Ordering::Relaxed)
    }

    /// Bridge deliveries so far.
    pub fn bridge_deliveries(&self) -> u64 {
        self.bridge_deliveries.load(Ordering::Relaxed)
    }

    /// The counters of `protocol`; `throttled` and `queued` come from its flow controller.
    pub fn protocol(&self, protocol: DetrProtocol, throttled: u64, queued: u64) -> ProtocolStats {
        let c = &self.protocols[protocol as usize];
        let get = |e: Event| c.events[e as usize].load(Ordering::Relaxed);
        ProtocolStats {
            protocol: protocol.as_str().into(),
            sent: get(Event::Sent),
            received: get(Event::Received),
            dropped: get(Event::Dropped),
            throttled,
            duplicates: get(Event::Duplicate),
            handshakes: get(Event::Handshake),
            handshake_failures: get(Event::HandshakeFailure),
            decrypt_failures: get(Event::DecryptFailure),
            decode_errors: get(Event::DecodeError),
            sessions: c.sessions.load(Ordering::Relaxed),
            queued,
        }
    }
}
