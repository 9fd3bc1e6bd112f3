//! Network parameters governed on chain (`DetrP2pApi`, set by `pallet-detr-p2p`): read at start
//! and on every finalized block, bounded by the operator's settings, applied live.
//!
//! The operator's `--detr-*` flags and TOML file are the bounds: for each parameter the
//! stricter of the chain's and the operator's value wins (fewer peers, lower rates, smaller
//! queues, a lower ban threshold, earlier rekeys); priority weights have no local bound and come
//! from the chain. Every change is logged with the value that won and why.

use std::{num::NonZeroU32, sync::Arc, time::Duration};

use detrp2p_runtime_api::{ChainId, DetrP2pApi, NetworkConfig};
use etrid_p2p_fluent::RateLimit;
use futures::StreamExt;
use sc_client_api::{BlockchainEvents, HeaderBackend};
use sp_api::{ApiExt, ProvideRuntimeApi};
use sp_runtime::traits::{Block as BlockT, UniqueSaturatedInto};

use crate::{config::DetrConfig, DetrP2pHandle, LOG_TARGET};

/// One parameter whose value in force changed: the value, and whose it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// The parameter, as named in `NetworkConfig`.
    pub field: &'static str,
    /// The value now in force.
    pub value: String,
    /// Why: `"chain"`, or `"local bound; chain asks <v>"`.
    pub source: String,
}

#[derive(Default)]
struct Bounder {
    decisions: Vec<Decision>,
}

impl Bounder {
    /// The smaller of `chain` and `local`, recorded if it differs from `before`.
    fn min<T: PartialOrd + Copy + std::fmt::Display>(
        &mut self,
        field: &'static str,
        chain: T,
        local: T,
        before: T,
    ) -> T {
        let (value, source) = if chain <= local {
            (chain, "chain".to_string())
        } else {
            (local, format!("local bound; chain asks {chain}"))
        };
        if value != before {
            self.decisions.push(Decision { field, value: value.to_string(), source });
        }
        value
    }
}

/// The settings in force for the chain's `chain` under the operator's `local` bounds, and what
/// changed compared with `previous`.
pub fn bounded(
    local: &DetrConfig,
    chain: &NetworkConfig,
    previous: &DetrConfig,
) -> (DetrConfig, Vec<Decision>) {
    let mut b = Bounder::default();
    let mut out = local.clone();
    let local_peers = local.max_peers.min(local.peers.max_peers as u32);
    out.max_peers = b.min("max_peers", chain.max_peers, local_peers, previous.max_peers);

    let rate = |field, chain: u32, local: &RateLimit, before: &RateLimit, b: &mut Bounder| {
        let chain_limit = RateLimit::per_second(NonZeroU32::new(chain).unwrap_or(NonZeroU32::MIN));
        let chosen = b.min(field, chain as f64, local.per_second_f64(), before.per_second_f64());
        if chosen == local.per_second_f64() {
            *local
        } else {
            chain_limit
        }
    };
    out.flow.rate_limit = rate(
        "rate_limit",
        chain.rate_limit,
        &local.flow.rate_limit,
        &previous.flow.rate_limit,
        &mut b,
    );
    out.flow.peer_rate_limit = rate(
        "peer_rate_limit",
        chain.peer_rate_limit,
        &local.flow.peer_rate_limit,
        &previous.flow.peer_rate_limit,
        &mut b,
    );
    out.flow.max_queue_size = b.min(
        "max_queue_size",
        chain.max_queue_size as usize,
        local.flow.max_queue_size,
        previous.flow.max_queue_size,
    );
    out.peers.reputation_threshold = b.min(
        "reputation_threshold",
        chain.reputation_threshold,
        local.peers.reputation_threshold,
        previous.peers.reputation_threshold,
    );
    out.rekey.max_messages = b.min(
        "rekey_after_messages",
        chain.rekey_after_messages,
        local.rekey.max_messages,
        previous.rekey.max_messages,
    );
    let age = b.min(
        "rekey_after_secs",
        u64::from(chain.rekey_after_secs),
        local.rekey.max_age.as_secs(),
        previous.rekey.max_age.as_secs(),
    );
    out.rekey.max_age = if age == local.rekey.max_age.as_secs() {
        local.rekey.max_age
    } else {
        Duration::from_secs(age)
    };
    out.flow.weights = chain.priority_weights;
    if out.flow.weights != previous.flow.weights {
        b.decisions.push(Decision {
            field: "priority_weights",
            value: format!("{:?}", out.flow.weights),
            source: "chain".into(),
        });
    }
    (out, b.decisions)
}

/// Applies the chain's parameters (read at finalized block `number`) within the operator's
/// bounds, live: rate limits, queues, weights, peer limits, ban threshold, rekey policy.
fn apply(handle: &DetrP2pHandle, chain: &NetworkConfig, chains: Vec<ChainId>, number: u64) {
    let core = &handle.core;
    if let Err(field) = chain.validate() {
        log::warn!(
            target: LOG_TARGET,
            "on-chain detr config at #{number} ignored: {} is out of bounds",
            field.name()
        );
        return;
    }
    let (config, decisions) = bounded(&core.settings.bounds, chain, &core.settings.current());
    if decisions.is_empty() && core.settings.config_block().is_none() {
        log::info!(target: LOG_TARGET, "detr config from chain at #{number}: same as the local settings");
    }
    for d in &decisions {
        log::info!(
            target: LOG_TARGET,
            "detr config from chain at #{number}: {} = {} ({})",
            d.field,
            d.value,
            d.source
        );
    }
    core.outbox.set_rate_limits(&config.flow);
    core.outbox.set_queue(
        config.flow.max_queue_size,
        config.flow.max_queue_bytes,
        config.flow.weights,
    );
    core.peers.config(config.clone());
    core.stats.set_config(&as_network_config(&config));
    if core.settings.bridge_chains().as_ref() != Some(&chains) {
        log::info!(target: LOG_TARGET, "bridge chains accepted from #{number}: {chains:?}");
    }
    core.settings.set(config, chains, number);
}

/// `config` in the chain's terms, as `detr_stats` and the `substrate_detr_config` gauge show it.
pub fn as_network_config(config: &DetrConfig) -> NetworkConfig {
    let rate = |l: &RateLimit| l.per_second_f64().round().clamp(1.0, u32::MAX as f64) as u32;
    NetworkConfig {
        max_peers: config.max_peers.min(config.peers.max_peers as u32),
        rate_limit: rate(&config.flow.rate_limit),
        peer_rate_limit: rate(&config.flow.peer_rate_limit),
        max_queue_size: config.flow.max_queue_size.try_into().unwrap_or(u32::MAX),
        reputation_threshold: config.peers.reputation_threshold,
        priority_weights: config.flow.weights,
        rekey_after_messages: config.rekey.max_messages,
        rekey_after_secs: config.rekey.max_age.as_secs().try_into().unwrap_or(u32::MAX),
    }
}

/// What the runtime at `at` says: its parameters and accepted bridge chains, or `None` when it
/// has no `DetrP2pApi` (local settings apply, every bridge chain is accepted).
fn read<B: BlockT, C>(
    client: &C,
    at: B::Hash,
) -> Result<Option<(NetworkConfig, Vec<ChainId>)>, sp_api::ApiError>
where
    C: ProvideRuntimeApi<B>,
    C::Api: DetrP2pApi<B>,
{
    let api = client.runtime_api();
    if !api.has_api::<dyn DetrP2pApi<B>>(at)? {
        return Ok(None);
    }
    Ok(Some((api.network_config(at)?, api.bridge_chains(at)?)))
}

/// Follows finality: applies the chain's parameters whenever they change. Runs for the node's
/// lifetime.
pub async fn follow_chain<B, C>(handle: DetrP2pHandle, client: Arc<C>)
where
    B: BlockT,
    C: ProvideRuntimeApi<B> + BlockchainEvents<B> + HeaderBackend<B> + Send + Sync + 'static,
    C::Api: DetrP2pApi<B>,
{
    let mut finality = client.finality_notification_stream();
    let info = client.info();
    let mut last = None;
    let mut at = Some((info.finalized_hash, info.finalized_number.unique_saturated_into()));
    while let Some((hash, number)) = at {
        match read::<B, C>(&client, hash) {
            Err(e) => log::warn!(target: LOG_TARGET, "reading DetrP2pApi at #{number}: {e}"),
            Ok(reading) if last.as_ref() == Some(&reading) => {}
            Ok(reading) => {
                match &reading {
                    Some((config, chains)) => apply(&handle, config, chains.clone(), number),
                    None => log::info!(
                        target: LOG_TARGET,
                        "runtime at #{number} has no DetrP2pApi: local detr settings apply"
                    ),
                }
                last = Some(reading);
            }
        }
        at = finality.next().await.map(|n| {
            (n.hash, (*sp_runtime::traits::Header::number(&n.header)).unique_saturated_into())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(decisions: &[Decision]) -> Vec<(&str, &str, &str)> {
        decisions.iter().map(|d| (d.field, d.value.as_str(), d.source.as_str())).collect()
    }

    #[test]
    fn the_default_chain_config_changes_nothing_locally() {
        let local = DetrConfig::default();
        let (out, decisions) = bounded(&local, &NetworkConfig::default(), &local);
        assert_eq!(decisions, vec![]);
        assert_eq!(out, local);
        assert_eq!(as_network_config(&out), NetworkConfig::default());
    }

    #[test]
    fn the_stricter_value_wins_and_says_whose_it_is() {
        let local = DetrConfig::default();
        let chain = NetworkConfig {
            rate_limit: 200,
            peer_rate_limit: 100,
            max_peers: 500,
            reputation_threshold: 20,
            priority_weights: [32, 8, 4, 2, 1],
            ..Default::default()
        };
        let (out, decisions) = bounded(&local, &chain, &local);
        assert_eq!(
            fields(&decisions),
            vec![
                ("rate_limit", "200", "chain"),
                ("peer_rate_limit", "100", "chain"),
                ("reputation_threshold", "20", "chain"),
                ("priority_weights", "[32, 8, 4, 2, 1]", "chain"),
            ]
        );
        assert_eq!(out.flow.rate_limit.per_second_f64(), 200.0);
        assert_eq!(out.max_peers, 50, "the local bound of 50 peers holds");
        assert_eq!(out.peers.reputation_threshold, 20);

        // Raising the chain's max_peers above the bound is logged as the bound winning, once
        // the value in force changes.
        let smaller = DetrConfig { max_peers: 10, ..DetrConfig::default() };
        let (_, decisions) = bounded(&smaller, &chain, &local);
        assert!(fields(&decisions).contains(&("max_peers", "10", "local bound; chain asks 500")));
    }

    #[test]
    fn a_second_reading_of_the_same_config_reports_no_change() {
        let local = DetrConfig::default();
        let chain = NetworkConfig { rate_limit: 300, peer_rate_limit: 300, ..Default::default() };
        let (first, _) = bounded(&local, &chain, &local);
        let (second, decisions) = bounded(&local, &chain, &first);
        assert_eq!((second, decisions), (first, vec![]));
    }

    #[test]
    fn raising_the_chain_value_back_returns_to_the_local_bound() {
        let local = DetrConfig::default();
        let low = NetworkConfig { rate_limit: 300, peer_rate_limit: 300, ..Default::default() };
        let (lowered, _) = bounded(&local, &low, &local);
        let high = NetworkConfig { rate_limit: 5000, peer_rate_limit: 300, ..Default::default() };
        let (out, decisions) = bounded(&local, &high, &lowered);
        assert_eq!(out.flow.rate_limit, local.flow.rate_limit);
        assert_eq!(
            fields(&decisions),
            vec![("rate_limit", "1000", "local bound; chain asks 5000")]
        );
    }
}
