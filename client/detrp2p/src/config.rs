//! Plugin settings: the seed's TOML sections (`[detrp2p] [aecomms] [fluent] [dpeers]`), each key
//! also a CLI flag. Every error names the key it is about.

use std::{path::Path, time::Duration};

use etrid_aecomms::RekeyPolicy;
use etrid_p2p_dpeers::RegistryConfig;
use etrid_p2p_fluent::{ByteRate, FlowConfig, RateLimit};
use serde::Deserialize;

/// A setting that cannot be used, and why.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("detr config: {key}: {reason}")]
pub struct ConfigError {
    /// The key, as `section.name` (or the file for read errors).
    pub key: String,
    /// What is wrong.
    pub reason: String,
}

fn err(key: &str, reason: impl ToString) -> ConfigError {
    ConfigError { key: key.into(), reason: reason.to_string() }
}

/// `[detrp2p]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetrSection {
    /// Ignored: the node listens where `--listen-addr` says (kept for the seed's files).
    pub listen_addr: Option<String>,
    /// Most peers with detr streams open.
    pub max_peers: Option<u32>,
    /// Time a peer has to complete the AEComms handshake, e.g. "30s".
    pub connection_timeout: Option<String>,
    /// Use the discovery daemon (`discovery`); `false` turns the client off.
    pub enable_discovery: Option<bool>,
    /// HTTP API of the local `detr-discovery` daemon, e.g. "http://127.0.0.1:30401".
    pub discovery: Option<String>,
    /// Protocols whose streams this node refuses (`block`, `tx`, `consensus`, `bridge`): for
    /// tests that prove what depends on them, and for an operator who must stop one.
    pub refuse_protocols: Option<Vec<String>>,
}

/// `[aecomms]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AecommsSection {
    /// Must be "ChaCha20Poly1305".
    pub cipher: Option<String>,
    /// Must be "X25519".
    pub key_exchange: Option<String>,
    /// Rekey after this many frames.
    pub rekey_after_messages: Option<u64>,
    /// Rekey after this long, e.g. "10m".
    pub rekey_after: Option<String>,
}

/// `[fluent]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FluentSection {
    /// Most messages queued per peer and protocol.
    pub max_queue_size: Option<usize>,
    /// Outbound rate over all peers, e.g. "1000 msg/s".
    pub rate_limit: Option<String>,
    /// Outbound rate to one peer.
    pub peer_rate_limit: Option<String>,
    /// Inbound rate accepted from one peer.
    pub inbound_rate_limit: Option<String>,
    /// Most bytes queued per peer, e.g. "64 MiB".
    pub max_queue_bytes: Option<String>,
    /// Outbound bytes over all peers, e.g. "256 MiB/s".
    pub byte_rate_limit: Option<String>,
    /// Outbound bytes to one peer, e.g. "64 MiB/s".
    pub peer_byte_rate_limit: Option<String>,
    /// Inbound bytes accepted from one peer, e.g. "64 MiB/s".
    pub inbound_byte_rate_limit: Option<String>,
    /// Priority levels, 1 to 5 (1: one FIFO, no priority).
    pub priority_levels: Option<u32>,
}

/// `[dpeers]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DpeersSection {
    /// Most peers tracked as connected.
    pub max_peers: Option<u32>,
    /// Peers below minus this score are disconnected and banned.
    pub reputation_threshold: Option<i32>,
    /// How long a ban lasts, e.g. "5m".
    pub ban_duration: Option<String>,
}

/// The TOML file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// `[detrp2p]`.
    #[serde(default)]
    pub detrp2p: DetrSection,
    /// `[aecomms]`.
    #[serde(default)]
    pub aecomms: AecommsSection,
    /// `[fluent]`.
    #[serde(default)]
    pub fluent: FluentSection,
    /// `[dpeers]`.
    #[serde(default)]
    pub dpeers: DpeersSection,
}

impl ConfigFile {
    /// Reads and parses a TOML file.
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| err(&path.display().to_string(), e))?;
        Self::parse(&text)
            .map_err(|e| ConfigError { key: format!("{}: {}", path.display(), e.key), ..e })
    }

    /// Parses TOML text.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| {
            let message = e.message().to_string();
            // serde names the offending key in its message ("unknown field `x`", "invalid type").
            err("toml", message)
        })
    }
}

/// The settings the plugin runs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DetrConfig {
    /// Most peers with detr streams open.
    pub max_peers: u32,
    /// Time a peer has to complete the AEComms handshake.
    pub handshake_timeout: Duration,
    /// Whether the discovery client may run.
    pub enable_discovery: bool,
    /// HTTP API of the discovery daemon; the client runs when set and enabled.
    pub discovery_url: Option<String>,
    /// When sessions rekey.
    pub rekey: RekeyPolicy,
    /// Flow control.
    pub flow: FlowConfig,
    /// Peer registry.
    pub peers: RegistryConfig,
    /// Protocols whose streams are refused.
    pub refused: Vec<crate::DetrProtocol>,
}

impl Default for DetrConfig {
    fn default() -> Self {
        Self {
            max_peers: 50,
            handshake_timeout: Duration::from_secs(30),
            enable_discovery: true,
            discovery_url: None,
            rekey: RekeyPolicy::default(),
            flow: FlowConfig::default(),
            peers: RegistryConfig::default(),
            refused: Vec::new(),
        }
    }
}

/// Parses "500ms", "30s", "5m" or "1h".
pub fn parse_duration(key: &str, s: &str) -> Result<Duration, ConfigError> {
    let s = s.trim();
    let bad =
        || err(key, format!("{s:?} is not a duration like \"30s\", \"5m\", \"500ms\" or \"1h\""));
    let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().map_err(|_| bad())?;
    let d = match unit.trim() {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" | "min" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => return Err(bad()),
    };
    if d.is_zero() {
        return Err(err(key, "must be above zero"));
    }
    Ok(d)
}

fn rate(key: &str, s: &str) -> Result<RateLimit, ConfigError> {
    s.parse().map_err(|e| err(key, e))
}

fn byte_rate(key: &str, s: &str) -> Result<ByteRate, ConfigError> {
    s.parse().map_err(|e| err(key, e))
}

/// Parses "64 MiB", "512 KiB" or "1048576 B" as bytes.
fn parse_bytes(key: &str, s: &str) -> Result<usize, ConfigError> {
    byte_rate(key, &format!("{}/s", s.trim()))
        .map(|r| r.0.messages.get() as usize)
        .map_err(|_| err(key, format!("{s:?} is not a size like \"64 MiB\" or \"512 KiB\"")))
}

fn positive<T: PartialOrd + Default + ToString>(key: &str, v: T) -> Result<T, ConfigError> {
    if v <= T::default() {
        return Err(err(key, format!("{} must be above zero", v.to_string())));
    }
    Ok(v)
}

impl DetrConfig {
    /// Applies the file's settings over `self`, checking each.
    pub fn apply_file(mut self, file: &ConfigFile) -> Result<Self, ConfigError> {
        let f = file;
        if let Some(v) = f.detrp2p.max_peers {
            self.max_peers = positive("detrp2p.max_peers", v)?;
        }
        if let Some(v) = &f.detrp2p.connection_timeout {
            self.handshake_timeout = parse_duration("detrp2p.connection_timeout", v)?;
        }
        if let Some(v) = f.detrp2p.enable_discovery {
            self.enable_discovery = v;
        }
        if let Some(v) = &f.detrp2p.discovery {
            let rest = v.strip_prefix("http://").filter(|r| !r.is_empty());
            if rest.is_none() {
                return Err(err(
                    "detrp2p.discovery",
                    format!("{v:?} is not an http:// URL like \"http://127.0.0.1:30401\""),
                ));
            }
            self.discovery_url = Some(v.clone());
        }
        if let Some(v) = &f.aecomms.cipher {
            if v != "ChaCha20Poly1305" {
                return Err(err(
                    "aecomms.cipher",
                    format!("{v:?} is not supported; use \"ChaCha20Poly1305\""),
                ));
            }
        }
        if let Some(v) = &f.aecomms.key_exchange {
            if v != "X25519" {
                return Err(err(
                    "aecomms.key_exchange",
                    format!("{v:?} is not supported; use \"X25519\""),
                ));
            }
        }
        if let Some(v) = f.aecomms.rekey_after_messages {
            self.rekey.max_messages = positive("aecomms.rekey_after_messages", v)?;
        }
        if let Some(v) = &f.aecomms.rekey_after {
            self.rekey.max_age = parse_duration("aecomms.rekey_after", v)?;
        }
        if let Some(v) = f.fluent.max_queue_size {
            self.flow.max_queue_size = positive("fluent.max_queue_size", v)?;
        }
        if let Some(v) = &f.fluent.rate_limit {
            self.flow.rate_limit = rate("fluent.rate_limit", v)?;
        }
        if let Some(v) = &f.fluent.peer_rate_limit {
            self.flow.peer_rate_limit = rate("fluent.peer_rate_limit", v)?;
        }
        if let Some(v) = &f.fluent.inbound_rate_limit {
            self.flow.inbound_rate_limit = rate("fluent.inbound_rate_limit", v)?;
        }
        if let Some(v) = &f.fluent.max_queue_bytes {
            self.flow.max_queue_bytes = parse_bytes("fluent.max_queue_bytes", v)?;
        }
        if let Some(v) = &f.fluent.byte_rate_limit {
            self.flow.byte_rate_limit = byte_rate("fluent.byte_rate_limit", v)?;
        }
        if let Some(v) = &f.fluent.peer_byte_rate_limit {
            self.flow.peer_byte_rate_limit = byte_rate("fluent.peer_byte_rate_limit", v)?;
        }
        if let Some(v) = &f.fluent.inbound_byte_rate_limit {
            self.flow.inbound_byte_rate_limit = byte_rate("fluent.inbound_byte_rate_limit", v)?;
        }
        if let Some(v) = f.fluent.priority_levels {
            if !(1..=5).contains(&v) {
                return Err(err(
                    "fluent.priority_levels",
                    format!("{v}: must be 1 (one FIFO) to 5 (one level per priority)"),
                ));
            }
            self.flow.levels = v as usize;
        }
        if let Some(names) = &f.detrp2p.refuse_protocols {
            self.refused = names
                .iter()
                .map(|n| {
                    crate::DetrProtocol::from_name(n).ok_or_else(|| {
                        err(
                            "detrp2p.refuse_protocols",
                            format!("{n:?} is not one of block, tx, consensus, bridge"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?;
        }
        if let Some(v) = f.dpeers.max_peers {
            self.peers.max_peers = positive("dpeers.max_peers", v)? as usize;
        }
        if let Some(v) = f.dpeers.reputation_threshold {
            self.peers.reputation_threshold = v;
        }
        if let Some(v) = &f.dpeers.ban_duration {
            self.peers.ban_duration = parse_duration("dpeers.ban_duration", v)?;
        }
        self.flow.validate().map_err(|e| err("fluent", e))?;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_file_parses_to_the_defaults() {
        let seed = r#"
            [detrp2p]
            listen_addr = "0.0.0.0:30333"
            max_peers = 50
            connection_timeout = "30s"
            enable_discovery = true

            [aecomms]
            cipher = "ChaCha20Poly1305"
            key_exchange = "X25519"

            [fluent]
            max_queue_size = 10000
            rate_limit = "1000 msg/s"
            priority_levels = 5

            [dpeers]
            max_peers = 100
            reputation_threshold = 50
        "#;
        let config = DetrConfig::default().apply_file(&ConfigFile::parse(seed).unwrap()).unwrap();
        assert_eq!(config, DetrConfig::default());
    }

    #[test]
    fn byte_rates_levels_and_refusals_parse() {
        let text = r#"
            [detrp2p]
            refuse_protocols = ["consensus"]
            [fluent]
            priority_levels = 1
            byte_rate_limit = "128 MiB/s"
            max_queue_bytes = "32 MiB"
        "#;
        let c = DetrConfig::default().apply_file(&ConfigFile::parse(text).unwrap()).unwrap();
        assert_eq!(c.refused, vec![crate::DetrProtocol::Consensus]);
        assert_eq!(c.flow.levels, 1);
        assert_eq!(c.flow.byte_rate_limit.to_string(), "128 MiB/s");
        assert_eq!(c.flow.max_queue_bytes, 32 << 20);
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases = [
            ("[fluent]\nrate_limit = \"fast\"", "fluent.rate_limit"),
            ("[fluent]\nmax_queue_size = 0", "fluent.max_queue_size"),
            ("[fluent]\npriority_levels = 6", "fluent.priority_levels"),
            ("[fluent]\nbyte_rate_limit = \"64 MB/s\"", "fluent.byte_rate_limit"),
            ("[fluent]\nmax_queue_bytes = \"1 KiB\"", "fluent"),
            ("[detrp2p]\nrefuse_protocols = [\"grandpa\"]", "detrp2p.refuse_protocols"),
            ("[aecomms]\ncipher = \"AES\"", "aecomms.cipher"),
            ("[detrp2p]\nconnection_timeout = \"soon\"", "detrp2p.connection_timeout"),
            ("[dpeers]\nban_duration = \"0s\"", "dpeers.ban_duration"),
            ("[detrp2p]\ndiscovery = \"127.0.0.1:1\"", "detrp2p.discovery"),
        ];
        for (text, key) in cases {
            let e =
                DetrConfig::default().apply_file(&ConfigFile::parse(text).unwrap()).unwrap_err();
            assert_eq!(e.key, key, "{text}");
        }
        let unknown = ConfigFile::parse("[fluent]\nrate = 5").unwrap_err();
        assert!(unknown.reason.contains("unknown field `rate`"), "{unknown}");
    }
}
