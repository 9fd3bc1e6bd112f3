//! `DetrP2pApi`: the DETR P2P network parameters a runtime governs, read by every node's
//! plugin at start and on each finalized block that changes them.
//!
//! [`NetworkConfig::validate`] is the one definition of a valid configuration: the pallet
//! refuses what it refuses, and the node applies only what it accepts.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use serde::{Deserialize, Serialize};

/// Identifier of a chain bridge messages are addressed to.
pub type ChainId = u32;

/// Number of DETR P2P priority levels (consensus first, bulk last).
pub const PRIORITY_LEVELS: usize = 5;

/// Bounds every field of a [`NetworkConfig`] must respect.
pub mod bounds {
    /// `max_peers`.
    pub const MAX_PEERS: core::ops::RangeInclusive<u32> = 1..=10_000;
    /// `rate_limit` and `peer_rate_limit`, messages per second.
    pub const RATE_LIMIT: core::ops::RangeInclusive<u32> = 1..=1_000_000;
    /// `max_queue_size`.
    pub const QUEUE_SIZE: core::ops::RangeInclusive<u32> = 1..=10_000_000;
    /// `reputation_threshold`: peers below minus this are banned.
    pub const REPUTATION_THRESHOLD: core::ops::RangeInclusive<i32> = 1..=1_000_000;
    /// Each of `priority_weights`.
    pub const PRIORITY_WEIGHT: core::ops::RangeInclusive<u32> = 1..=1_000;
    /// `rekey_after_messages`: at most 2^32 frames per key generation.
    pub const REKEY_MESSAGES: core::ops::RangeInclusive<u64> = 1..=(1 << 32);
    /// `rekey_after_secs`: from 10 s to one day.
    pub const REKEY_SECS: core::ops::RangeInclusive<u32> = 10..=86_400;
    /// Entries in the accepted bridge chain list.
    pub const MAX_BRIDGE_CHAINS: u32 = 64;
}

/// The network parameters the chain sets for every node.
///
/// A node applies each value up to its own operator's bound (its `--detr-*` flags or TOML file):
/// the smaller of the two wins, and the node logs which one did.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    Encode,
    Decode,
    DecodeWithMemTracking,
    MaxEncodedLen,
    TypeInfo,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NetworkConfig {
    /// Most peers with detr streams open.
    pub max_peers: u32,
    /// Outbound messages per second over all peers, per protocol.
    pub rate_limit: u32,
    /// Outbound messages per second to one peer.
    pub peer_rate_limit: u32,
    /// Most messages queued per peer.
    pub max_queue_size: u32,
    /// A peer whose reputation falls below minus this is disconnected and banned.
    pub reputation_threshold: i32,
    /// Scheduling weight of each priority level, highest priority first.
    pub priority_weights: [u32; PRIORITY_LEVELS],
    /// AEComms sessions take new keys after this many frames...
    pub rekey_after_messages: u64,
    /// ...or after this many seconds, whichever comes first.
    pub rekey_after_secs: u32,
}

impl Default for NetworkConfig {
    /// The seed's defaults: 50 peers, 1000 msg/s, queues of 10,000, threshold 50, weights
    /// 16:8:4:2:1, rekey after a million frames or ten minutes.
    fn default() -> Self {
        Self {
            max_peers: 50,
            rate_limit: 1000,
            peer_rate_limit: 1000,
            max_queue_size: 10_000,
            reputation_threshold: 50,
            priority_weights: [16, 8, 4, 2, 1],
            rekey_after_messages: 1_000_000,
            rekey_after_secs: 600,
        }
    }
}

/// The field of a [`NetworkConfig`] that is out of bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum InvalidField {
    /// `max_peers` is outside [`bounds::MAX_PEERS`].
    MaxPeers,
    /// `rate_limit` is outside [`bounds::RATE_LIMIT`].
    RateLimit,
    /// `peer_rate_limit` is outside [`bounds::RATE_LIMIT`] or above `rate_limit`.
    PeerRateLimit,
    /// `max_queue_size` is outside [`bounds::QUEUE_SIZE`].
    MaxQueueSize,
    /// `reputation_threshold` is outside [`bounds::REPUTATION_THRESHOLD`].
    ReputationThreshold,
    /// A priority weight is outside [`bounds::PRIORITY_WEIGHT`].
    PriorityWeights,
    /// `rekey_after_messages` is outside [`bounds::REKEY_MESSAGES`].
    RekeyAfterMessages,
    /// `rekey_after_secs` is outside [`bounds::REKEY_SECS`].
    RekeyAfterSecs,
}

impl InvalidField {
    /// The field's name, as in the SCALE type and the node's logs.
    pub fn name(self) -> &'static str {
        match self {
            Self::MaxPeers => "max_peers",
            Self::RateLimit => "rate_limit",
            Self::PeerRateLimit => "peer_rate_limit",
            Self::MaxQueueSize => "max_queue_size",
            Self::ReputationThreshold => "reputation_threshold",
            Self::PriorityWeights => "priority_weights",
            Self::RekeyAfterMessages => "rekey_after_messages",
            Self::RekeyAfterSecs => "rekey_after_secs",
        }
    }
}

impl NetworkConfig {
    /// Checks every field against [`bounds`], naming the first one out of them.
    pub fn validate(&self) -> Result<(), InvalidField> {
        use bounds::*;
        let checks = [
            (MAX_PEERS.contains(&self.max_peers), InvalidField::MaxPeers),
            (RATE_LIMIT.contains(&self.rate_limit), InvalidField::RateLimit),
            (
                RATE_LIMIT.contains(&self.peer_rate_limit)
                    && self.peer_rate_limit <= self.rate_limit,
                InvalidField::PeerRateLimit,
            ),
            (QUEUE_SIZE.contains(&self.max_queue_size), InvalidField::MaxQueueSize),
            (
                REPUTATION_THRESHOLD.contains(&self.reputation_threshold),
                InvalidField::ReputationThreshold,
            ),
            (
                self.priority_weights.iter().all(|w| PRIORITY_WEIGHT.contains(w)),
                InvalidField::PriorityWeights,
            ),
            (REKEY_MESSAGES.contains(&self.rekey_after_messages), InvalidField::RekeyAfterMessages),
            (REKEY_SECS.contains(&self.rekey_after_secs), InvalidField::RekeyAfterSecs),
        ];
        match checks.into_iter().find(|(ok, _)| !ok) {
            Some((_, field)) => Err(field),
            None => Ok(()),
        }
    }
}

sp_api::decl_runtime_apis! {
    /// DETR P2P parameters governed on chain. Version 1: `network_config`, `bridge_chains`.
    #[api_version(1)]
    pub trait DetrP2pApi {
        /// The network parameters every node applies.
        fn network_config() -> NetworkConfig;
        /// Chains bridge messages may be addressed to; others are refused.
        fn bridge_chains() -> Vec<ChainId>;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(NetworkConfig::default().validate(), Ok(()));
    }

    #[test]
    fn each_bad_field_is_named() {
        let base = NetworkConfig::default();
        let cases: [(NetworkConfig, InvalidField); 9] = [
            (NetworkConfig { max_peers: 0, ..base.clone() }, InvalidField::MaxPeers),
            (NetworkConfig { rate_limit: 0, ..base.clone() }, InvalidField::RateLimit),
            (NetworkConfig { peer_rate_limit: 0, ..base.clone() }, InvalidField::PeerRateLimit),
            (NetworkConfig { peer_rate_limit: 1001, ..base.clone() }, InvalidField::PeerRateLimit),
            (NetworkConfig { max_queue_size: 0, ..base.clone() }, InvalidField::MaxQueueSize),
            (
                NetworkConfig { reputation_threshold: -1, ..base.clone() },
                InvalidField::ReputationThreshold,
            ),
            (
                NetworkConfig { priority_weights: [16, 8, 0, 2, 1], ..base.clone() },
                InvalidField::PriorityWeights,
            ),
            (
                NetworkConfig { rekey_after_messages: 0, ..base.clone() },
                InvalidField::RekeyAfterMessages,
            ),
            (NetworkConfig { rekey_after_secs: 5, ..base.clone() }, InvalidField::RekeyAfterSecs),
        ];
        for (config, field) in cases {
            assert_eq!(config.validate(), Err(field), "{}", field.name());
        }
    }

    #[test]
    fn the_json_form_is_camel_case_and_strict() {
        let json = serde_json::to_value(NetworkConfig::default()).unwrap();
        assert_eq!(json["rateLimit"], 1000);
        let mut bad = json.clone();
        bad["rateLimt"] = 5.into();
        assert!(serde_json::from_value::<NetworkConfig>(bad).is_err());
    }
}
