//! The discovery client: registers this node's signed record with a local `detr-discovery`
//! daemon (`--detr-discovery <url>`), fetches the records of its chain, keeps them in the peer
//! cache (source "discovery") and gives their addresses to sc-network, which dials them.
//!
//! The node works without the daemon: while it is unreachable the client retries with backoff
//! (1 s doubling to 30 s) and logs only when the state changes.

pub mod http;
pub mod record;

use std::{
    collections::HashSet,
    sync::Arc,
    time::{Duration, Instant, SystemTime},
};

use ed25519_dalek::SigningKey;
use etrid_p2p_stored::{PeerCache, PeerData, PeerSource};
use sc_network::{multiaddr::Multiaddr, PeerId};

use crate::{handle::Core, LOG_TARGET};

/// Time between two fetches of the peer list.
const POLL: Duration = Duration::from_secs(5);
/// Time between two registrations (each with a higher sequence number, renewing the record).
const RENEW: Duration = Duration::from_secs(30);
/// Longest wait between retries while the daemon is down.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What the client needs: the daemon and what to put in the record.
pub struct Settings {
    /// Base URL of the daemon's HTTP API.
    pub url: String,
    /// The node key (signs the record).
    pub key: SigningKey,
    /// Substrate roles bits.
    pub roles: u8,
    /// Addresses other nodes can dial (`--public-addr`, else `--listen-addr` with unspecified
    /// IPs read as loopback).
    pub addrs: Vec<String>,
}

/// Addresses to advertise: the public ones if any, else the listen ones, an unspecified IP
/// (0.0.0.0, ::) standing for loopback.
pub fn advertised(public: &[Multiaddr], listen: &[Multiaddr]) -> Vec<String> {
    let source = if public.is_empty() { listen } else { public };
    source
        .iter()
        .map(|a| {
            a.to_string().replacen("/ip4/0.0.0.0/", "/ip4/127.0.0.1/", 1).replacen(
                "/ip6/::/",
                "/ip6/::1/",
                1,
            )
        })
        .collect()
}

fn seq_now() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Runs for the node's lifetime.
pub(crate) async fn run(core: Arc<Core>, cache: Option<Arc<PeerCache>>, settings: Settings) {
    let daemon = http::Daemon::new(&settings.url);
    let local = core.local_peer.to_bytes();
    let mut known = HashSet::new();
    let mut reachable: Option<bool> = None;
    let mut registered: Option<Instant> = None;
    let mut backoff = Duration::from_secs(1);
    loop {
        let round = async {
            if registered.is_none_or(|at| at.elapsed() >= RENEW) {
                let record = record::encode(
                    &settings.key,
                    &local,
                    &core.genesis,
                    settings.roles,
                    seq_now(),
                    &settings.addrs,
                );
                daemon.register(&record).await.map_err(|e| format!("registering: {e}"))?;
                registered = Some(Instant::now());
            }
            daemon.peers(&core.genesis).await.map_err(|e| format!("fetching peers: {e}"))
        };
        let wait = match round.await {
            Ok(peers) => {
                if reachable != Some(true) {
                    log::info!(
                        target: LOG_TARGET,
                        "discovery daemon {} reachable; record registered with {:?}",
                        settings.url,
                        settings.addrs
                    );
                }
                reachable = Some(true);
                backoff = Duration::from_secs(1);
                add_peers(&core, cache.as_deref(), &local, peers, &mut known);
                POLL
            }
            Err(e) => {
                if reachable != Some(false) {
                    log::warn!(
                        target: LOG_TARGET,
                        "discovery daemon {} unreachable ({e}); retrying with backoff up to {:?}",
                        settings.url,
                        MAX_BACKOFF
                    );
                }
                reachable = Some(false);
                // A restarted daemon has forgotten the record.
                registered = None;
                let wait = backoff;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                wait
            }
        };
        tokio::time::sleep(wait).await;
    }
}

/// Stores each discovered peer and hands its addresses to sc-network.
fn add_peers(
    core: &Core,
    cache: Option<&PeerCache>,
    local: &[u8],
    peers: Vec<http::DiscoveredPeer>,
    known: &mut HashSet<PeerId>,
) {
    for p in peers {
        let Ok(bytes) = hex::decode(&p.peer_id) else { continue };
        if bytes == local {
            continue;
        }
        let Ok(peer) = PeerId::from_bytes(&bytes) else { continue };
        let addrs: Vec<Multiaddr> = p.addrs.iter().filter_map(|a| a.parse().ok()).collect();
        if addrs.is_empty() {
            continue;
        }
        if core.views.is_banned(&peer) {
            continue;
        }
        for addr in &addrs {
            core.network.add_known_address(peer, addr.clone());
        }
        if let Some(cache) = cache {
            let data = PeerData {
                addresses: p.addrs.clone(),
                source: PeerSource::Discovery,
                reputation: 0,
            };
            cache.store_peer(&peer.to_base58(), data);
        }
        if known.insert(peer) {
            log::info!(target: LOG_TARGET, "discovered {peer} at {:?}", p.addrs);
        }
    }
    core.stats.set_discovered(known.len() as u64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_listen_addresses_advertise_loopback_and_public_ones_win() {
        let listen: Vec<Multiaddr> =
            vec!["/ip4/0.0.0.0/tcp/30333".parse().unwrap(), "/ip6/::/tcp/30333".parse().unwrap()];
        assert_eq!(
            advertised(&[], &listen),
            vec!["/ip4/127.0.0.1/tcp/30333".to_string(), "/ip6/::1/tcp/30333".to_string()]
        );
        let public: Vec<Multiaddr> = vec!["/ip4/10.0.0.5/tcp/30333".parse().unwrap()];
        assert_eq!(advertised(&public, &listen), vec!["/ip4/10.0.0.5/tcp/30333".to_string()]);
    }
}
