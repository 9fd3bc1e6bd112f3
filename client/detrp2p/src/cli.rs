//! The plugin's command line flags (flattened into the node's CLI).

use std::path::PathBuf;

use crate::config::{parse_duration, ConfigError, ConfigFile, DetrConfig};

/// DETR P2P flags. Flags override `--detr-config`, which overrides the defaults.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DetrParams {
    /// Turn the DETR P2P plugin off (the node runs with Substrate's own protocols only).
    #[arg(long)]
    pub detr_disable: bool,

    /// TOML file with `[detrp2p] [aecomms] [fluent] [dpeers]` sections.
    #[arg(long, value_name = "FILE")]
    pub detr_config: Option<PathBuf>,

    /// Most peers with detr streams (`detrp2p.max_peers`, default 50).
    #[arg(long, value_name = "N")]
    pub detr_max_peers: Option<u32>,

    /// Time allowed for the AEComms handshake (`detrp2p.connection_timeout`, default "30s").
    #[arg(long, value_name = "DURATION")]
    pub detr_connection_timeout: Option<String>,

    /// Rekey sessions after this many frames (`aecomms.rekey_after_messages`, default 1000000).
    #[arg(long, value_name = "N")]
    pub detr_rekey_after_messages: Option<u64>,

    /// Rekey sessions after this long (`aecomms.rekey_after`, default "10m").
    #[arg(long, value_name = "DURATION")]
    pub detr_rekey_after: Option<String>,

    /// Messages queued per peer and protocol (`fluent.max_queue_size`, default 10000).
    #[arg(long, value_name = "N")]
    pub detr_queue_size: Option<usize>,

    /// Bytes queued per peer (`fluent.max_queue_bytes`, default "64 MiB").
    #[arg(long, value_name = "SIZE")]
    pub detr_max_queue_bytes: Option<String>,

    /// Outbound rate over all peers (`fluent.rate_limit`, default "1000 msg/s").
    #[arg(long, value_name = "RATE")]
    pub detr_rate_limit: Option<String>,

    /// Outbound rate to one peer (`fluent.peer_rate_limit`, default "1000 msg/s").
    #[arg(long, value_name = "RATE")]
    pub detr_peer_rate_limit: Option<String>,

    /// Inbound rate accepted from one peer (`fluent.inbound_rate_limit`, default "2000 msg/s").
    #[arg(long, value_name = "RATE")]
    pub detr_inbound_rate_limit: Option<String>,

    /// Outbound bytes over all peers (`fluent.byte_rate_limit`, default "256 MiB/s").
    #[arg(long, value_name = "RATE")]
    pub detr_byte_rate_limit: Option<String>,

    /// Outbound bytes to one peer (`fluent.peer_byte_rate_limit`, default "64 MiB/s").
    #[arg(long, value_name = "RATE")]
    pub detr_peer_byte_rate_limit: Option<String>,

    /// Inbound bytes accepted from one peer (`fluent.inbound_byte_rate_limit`, default
    /// "64 MiB/s").
    #[arg(long, value_name = "RATE")]
    pub detr_inbound_byte_rate_limit: Option<String>,

    /// Peers below minus this score are banned (`dpeers.reputation_threshold`, default 50).
    #[arg(long, value_name = "SCORE")]
    pub detr_reputation_threshold: Option<i32>,

    /// How long a banned peer stays banned (`dpeers.ban_duration`, default "5m").
    #[arg(long, value_name = "DURATION")]
    pub detr_ban_duration: Option<String>,

    /// Priority levels of the per-peer scheduler, 1 to 5 (`fluent.priority_levels`, default 5;
    /// 1 puts every message in one FIFO, consensus included).
    #[arg(long, value_name = "N")]
    pub detr_priority_levels: Option<u32>,

    /// Refuse every stream of this detr protocol (`block`, `tx`, `consensus` or `bridge`;
    /// repeatable; `detrp2p.refuse_protocols`). With `consensus` refused, GRANDPA has no peers.
    #[arg(long, value_name = "PROTOCOL")]
    pub detr_refuse_protocol: Vec<String>,

    /// HTTP API of a local `detr-discovery` daemon, e.g. http://127.0.0.1:30401
    /// (`detrp2p.discovery`): the node registers its signed record there and dials the peers
    /// of its chain the daemon finds.
    #[arg(long, value_name = "URL")]
    pub detr_discovery: Option<String>,
}

impl DetrParams {
    /// The settings to run with, or `None` when the plugin is disabled. Errors name the key.
    pub fn config(&self) -> Result<Option<DetrConfig>, ConfigError> {
        if self.detr_disable {
            return Ok(None);
        }
        let mut file = match &self.detr_config {
            Some(path) => ConfigFile::read(path)?,
            None => ConfigFile::default(),
        };
        let set = |slot: &mut Option<String>, flag: &Option<String>| {
            if flag.is_some() {
                slot.clone_from(flag);
            }
        };
        if self.detr_max_peers.is_some() {
            file.detrp2p.max_peers = self.detr_max_peers;
        }
        if let Some(v) = &self.detr_connection_timeout {
            parse_duration("--detr-connection-timeout", v)?;
            file.detrp2p.connection_timeout = Some(v.clone());
        }
        if self.detr_rekey_after_messages.is_some() {
            file.aecomms.rekey_after_messages = self.detr_rekey_after_messages;
        }
        set(&mut file.aecomms.rekey_after, &self.detr_rekey_after);
        set(&mut file.fluent.max_queue_bytes, &self.detr_max_queue_bytes);
        set(&mut file.dpeers.ban_duration, &self.detr_ban_duration);
        if self.detr_queue_size.is_some() {
            file.fluent.max_queue_size = self.detr_queue_size;
        }
        set(&mut file.fluent.rate_limit, &self.detr_rate_limit);
        set(&mut file.fluent.peer_rate_limit, &self.detr_peer_rate_limit);
        set(&mut file.fluent.inbound_rate_limit, &self.detr_inbound_rate_limit);
        set(&mut file.fluent.byte_rate_limit, &self.detr_byte_rate_limit);
        set(&mut file.fluent.peer_byte_rate_limit, &self.detr_peer_byte_rate_limit);
        set(&mut file.fluent.inbound_byte_rate_limit, &self.detr_inbound_byte_rate_limit);
        set(&mut file.detrp2p.discovery, &self.detr_discovery);
        if self.detr_priority_levels.is_some() {
            file.fluent.priority_levels = self.detr_priority_levels;
        }
        if !self.detr_refuse_protocol.is_empty() {
            file.detrp2p.refuse_protocols = Some(self.detr_refuse_protocol.clone());
        }
        if self.detr_reputation_threshold.is_some() {
            file.dpeers.reputation_threshold = self.detr_reputation_threshold;
        }
        DetrConfig::default().apply_file(&file).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    /// The node's command line, reduced to the plugin's flags.
    #[derive(Parser)]
    struct Node {
        #[command(flatten)]
        detr: DetrParams,
    }

    fn config(flags: &[&str]) -> Result<Option<DetrConfig>, ConfigError> {
        let args = std::iter::once("flarechain-node").chain(flags.iter().copied());
        Node::try_parse_from(args).expect("the flags parse").detr.config()
    }

    #[test]
    fn flags_set_their_keys_and_name_the_key_when_wrong() {
        let c = config(&[
            "--detr-rekey-after",
            "2m",
            "--detr-max-queue-bytes",
            "32 MiB",
            "--detr-ban-duration",
            "1h",
            "--detr-byte-rate-limit",
            "128 MiB/s",
            "--detr-peer-byte-rate-limit",
            "256 KiB/s",
            "--detr-inbound-byte-rate-limit",
            "1 MiB/s",
        ])
        .unwrap()
        .expect("the plugin is on");
        assert_eq!(c.flow.byte_rate_limit.to_string(), "128 MiB/s");
        assert_eq!(c.flow.peer_byte_rate_limit.to_string(), "256 KiB/s");
        assert_eq!(c.flow.inbound_byte_rate_limit.to_string(), "1 MiB/s");
        assert_eq!(c.rekey.max_age, std::time::Duration::from_secs(120));
        assert_eq!(c.flow.max_queue_bytes, 32 << 20);
        assert_eq!(c.peers.ban_duration, std::time::Duration::from_secs(3600));
        assert_eq!(config(&[]).unwrap(), Some(DetrConfig::default()));
        let wrong = [
            ("--detr-peer-byte-rate-limit", "fast", "fluent.peer_byte_rate_limit"),
            ("--detr-rekey-after", "soon", "aecomms.rekey_after"),
            ("--detr-ban-duration", "0s", "dpeers.ban_duration"),
        ];
        for (flag, value, key) in wrong {
            assert_eq!(config(&[flag, value]).unwrap_err().key, key, "{flag} {value}");
        }
        assert_eq!(config(&["--detr-disable", "--detr-byte-rate-limit", "1 MiB/s"]).unwrap(), None);
    }
}
