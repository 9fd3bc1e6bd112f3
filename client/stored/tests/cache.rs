//! The peer cache: eviction, persistence across restarts, damaged files, keys, concurrency.

use std::{num::NonZeroUsize, path::Path, sync::Arc, time::Duration};

use etrid_p2p_stored::{
    run_flusher, ConnectionKind, LoadOutcome, PeerCache, PeerData, PeerSource, Snapshot,
};

const KEY: [u8; 32] = [42; 32];

fn cap(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).unwrap()
}

fn data(addr: &str) -> PeerData {
    PeerData { addresses: vec![addr.into()], source: PeerSource::Discovery, reputation: 3 }
}

fn open(dir: &Path, key: Option<[u8; 32]>) -> (PeerCache, LoadOutcome) {
    PeerCache::open(cap(100), Snapshot::new(dir.join("peers.bin"), key))
}

fn filled(dir: &Path, key: Option<[u8; 32]>, n: usize) {
    let (cache, _) = open(dir, key);
    for i in 0..n {
        cache.store_peer(&format!("peer{i}"), data(&format!("/ip4/127.0.0.1/tcp/{i}")));
    }
    cache.record_connection("peer0", ConnectionKind::Connected);
    cache.save().unwrap();
}

#[test]
fn least_recently_used_is_evicted_first() {
    let cache = PeerCache::new(cap(3));
    for p in ["a", "b", "c"] {
        cache.store_peer(p, data(p));
    }
    cache.get_peer_data("a"); // a is now the most recent
    cache.store_peer("d", data("d"));
    assert!(cache.get_peer_data("b").is_none(), "b was least recently used");
    let order: Vec<_> = cache.peers().into_iter().map(|r| r.peer_id).collect();
    assert_eq!(order, vec!["d", "a", "c"]);
    cache.clear_cache();
    assert!(cache.is_empty());
}

#[test]
fn records_merge_addresses_and_bound_history() {
    let cache = PeerCache::new(cap(3));
    cache.store_peer("p", data("/a"));
    let first = cache.get_peer_data("p").unwrap().first_seen;
    cache.store_peer("p", PeerData { source: PeerSource::Inbound, ..data("/b") });
    for _ in 0..40 {
        cache.record_connection("p", ConnectionKind::Failed);
    }
    let record = cache.get_peer_data("p").unwrap();
    assert_eq!(record.addresses, vec!["/b", "/a"]);
    assert_eq!(record.source, PeerSource::Discovery, "first source is kept");
    assert_eq!(record.first_seen, first);
    assert_eq!(record.history.len(), 16);
    assert!(!cache.record_connection("unknown", ConnectionKind::Connected));
}

#[test]
fn reloads_after_restart_in_the_same_order() {
    let dir = tempfile::tempdir().unwrap();
    filled(dir.path(), Some(KEY), 50);
    let before: Vec<_> = open(dir.path(), Some(KEY)).0.peers();
    let (cache, outcome) = open(dir.path(), Some(KEY));
    assert_eq!(outcome, LoadOutcome::Loaded(50));
    assert_eq!(cache.peers(), before);
    assert_eq!(cache.get_peer_data("peer0").unwrap().history.len(), 1);
}

#[test]
fn a_missing_file_is_an_empty_cache() {
    let dir = tempfile::tempdir().unwrap();
    let (cache, outcome) = open(dir.path(), None);
    assert_eq!((cache.len(), outcome), (0, LoadOutcome::Missing));
}

fn assert_set_aside(dir: &Path, key: Option<[u8; 32]>, why: &str) {
    let (cache, outcome) = open(dir, key);
    assert!(cache.is_empty());
    match outcome {
        LoadOutcome::SetAside { moved_to, reason } => {
            assert!(moved_to.exists(), "the bad file is kept for inspection");
            assert!(!dir.join("peers.bin").exists());
            assert!(reason.contains(why), "{reason:?} should mention {why:?}");
        }
        other => panic!("expected the file to be set aside, got {other:?}"),
    }
    // The cache still works and saves a fresh file.
    cache.store_peer("new", data("/new"));
    cache.save().unwrap();
    assert_eq!(open(dir, key).1, LoadOutcome::Loaded(1));
}

#[test]
fn a_corrupt_file_is_set_aside() {
    let dir = tempfile::tempdir().unwrap();
    filled(dir.path(), None, 10);
    let path = dir.path().join("peers.bin");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[40] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();
    assert_set_aside(dir.path(), None, "checksum");
}

#[test]
fn a_truncated_file_is_set_aside() {
    let dir = tempfile::tempdir().unwrap();
    filled(dir.path(), Some(KEY), 10);
    let path = dir.path().join("peers.bin");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    assert_set_aside(dir.path(), Some(KEY), "truncated");
    std::fs::write(dir.path().join("peers.bin"), &bytes[..10]).unwrap();
    assert_set_aside(dir.path(), Some(KEY), "truncated");
}

#[test]
fn a_wrong_key_is_set_aside_and_the_file_is_unreadable_without_it() {
    let dir = tempfile::tempdir().unwrap();
    filled(dir.path(), Some(KEY), 10);
    let raw = std::fs::read(dir.path().join("peers.bin")).unwrap();
    assert!(!raw.windows(5).any(|w| w == b"peer0"), "records are not stored in the clear");
    assert_set_aside(dir.path(), Some([1; 32]), "decrypt");
    filled(dir.path(), Some(KEY), 10);
    assert_set_aside(dir.path(), None, "decrypt");
}

#[test]
fn with_a_key_a_plain_file_is_refused_so_nobody_can_inject_peers() {
    let dir = tempfile::tempdir().unwrap();
    // Whoever can write the file writes a valid plain snapshot with a checksum.
    filled(dir.path(), None, 3);
    assert_set_aside(dir.path(), Some(KEY), "plain snapshot refused");
}

#[test]
fn with_a_key_any_changed_byte_is_refused_by_the_aead() {
    let dir = tempfile::tempdir().unwrap();
    filled(dir.path(), Some(KEY), 3);
    let path = dir.path().join("peers.bin");
    let bytes = std::fs::read(&path).unwrap();
    for i in [9, 30, bytes.len() - 1] {
        let mut bad = bytes.clone();
        bad[i] ^= 1;
        std::fs::write(&path, &bad).unwrap();
        assert_set_aside(dir.path(), Some(KEY), "decrypt");
        filled(dir.path(), Some(KEY), 3);
    }
}

#[test]
fn bans_are_kept_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (cache, _) = open(dir.path(), Some(KEY));
    cache.record_ban("mallory", 4_000_000_000);
    cache.save().unwrap();
    let (cache, outcome) = open(dir.path(), Some(KEY));
    assert_eq!(outcome, LoadOutcome::Loaded(1));
    assert_eq!(cache.get_peer_data("mallory").unwrap().banned_until, Some(4_000_000_000));
}

#[test]
fn concurrent_readers_and_writers() {
    let cache = Arc::new(PeerCache::new(cap(1000)));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let cache = cache.clone();
            std::thread::spawn(move || {
                for i in 0..2000 {
                    let id = format!("peer{}", (i * 7 + t) % 1500);
                    if i % 3 == 0 {
                        cache.store_peer(&id, data("/x"));
                    } else if let Some(r) = cache.get_peer_data(&id) {
                        assert_eq!(r.peer_id, id);
                    }
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    assert!(cache.len() <= 1000);
}

#[tokio::test(start_paused = true)]
async fn the_flusher_saves_periodically_and_at_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let (cache, _) = open(dir.path(), Some(KEY));
    let cache = Arc::new(cache);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let flusher = tokio::spawn(run_flusher(cache.clone(), Duration::from_secs(30), async {
        let _ = stopped.await;
    }));
    cache.store_peer("a", data("/a"));
    tokio::time::sleep(Duration::from_secs(31)).await;
    tokio::task::yield_now().await;
    // Blocking saves run on another thread: wait (bounded) for the file.
    for _ in 0..100 {
        if open(dir.path(), Some(KEY)).1 == LoadOutcome::Loaded(1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(open(dir.path(), Some(KEY)).1, LoadOutcome::Loaded(1));
    cache.store_peer("b", data("/b"));
    stop.send(()).unwrap();
    flusher.await.unwrap();
    assert_eq!(open(dir.path(), Some(KEY)).1, LoadOutcome::Loaded(2));
}
