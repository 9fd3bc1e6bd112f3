//! The replay windows of every source chain, kept on disk as a snapshot (`detr/bridge.bin`, every
//! window) and a journal (`detr/bridge.log`, the nonces marked since the snapshot). A commit
//! appends the nonces marked since the last one, 12 bytes each, and syncs: rewriting every window
//! per commit cost 4 KiB per source, up to 1 MiB synced per batch at [`MAX_SOURCES`]. The journal
//! is folded into a new snapshot once it is as large as the snapshot (and at least
//! [`COMPACT_AT`]), so a snapshot's bytes are paid for by as many bytes of appends. A journal
//! entry that does not check out ends the journal: a crash during an append tears only the last
//! entry, whose messages were not delivered (delivery follows the commit).

use std::{
    collections::HashMap,
    fs::{File, OpenOptions},
    io::{ErrorKind, Read, Write},
    path::{Path, PathBuf},
};

use codec::{Decode, Encode};
use etrid_protocol::ChainId;
use sha2::{Digest, Sha256};

use super::window::{Seen, Window};
use crate::LOG_TARGET;

/// Most source chains with a window (the runtime accepts at most 64 chains; when it does not
/// restrict them, this bounds what peers can make us remember).
const MAX_SOURCES: usize = 256;
/// The journal is folded into the snapshot once it holds this many bytes and as many as the
/// snapshot: with one source, some 2,600 commits of one nonce (25 bytes each) between rewrites
/// of its 4 KiB window.
const COMPACT_AT: u64 = 64 << 10;
/// Bytes of an entry's SHA-256 kept after it to check it.
const CHECK: usize = 8;
/// Largest journal entry read back: a commit marks at most a batch (256) of nonces, 12 bytes each.
const MAX_ENTRY: usize = 64 << 10;
/// Most bytes read of either file: a snapshot of [`MAX_SOURCES`] windows is 1 MiB, and the journal
/// is folded once it is as large. Anything beyond does not decode (snapshot) or is ignored as a
/// torn end (journal).
const MAX_FILE: u64 = 4 << 20;

/// The windows of every source and the files that keep them.
pub(super) struct Windows {
    windows: HashMap<ChainId, Window>,
    /// Nonces marked since the last commit.
    marked: Vec<(ChainId, u64)>,
    files: Option<Files>,
}

/// The snapshot and the journal.
struct Files {
    dir: PathBuf,
    /// The journal, open for appending (opened at the first append).
    journal: Option<File>,
    journal_bytes: u64,
    snapshot_bytes: u64,
}

impl Files {
    fn snapshot(&self) -> PathBuf {
        self.dir.join("bridge.bin")
    }

    fn journal(&self) -> PathBuf {
        self.dir.join("bridge.log")
    }

    /// Appends `marked` as one entry (length, SCALE encoding, check) and syncs it.
    fn append(&mut self, marked: &[(ChainId, u64)]) -> std::io::Result<()> {
        if self.journal.is_none() {
            std::fs::create_dir_all(&self.dir)?;
            let file = OpenOptions::new().create(true).append(true).open(self.journal())?;
            sync_dir(&self.dir)?;
            self.journal = Some(file);
        }
        let payload = marked.encode();
        let mut entry = Vec::with_capacity(4 + payload.len() + CHECK);
        entry.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        entry.extend_from_slice(&payload);
        entry.extend_from_slice(&Sha256::digest(&payload)[..CHECK]);
        let file = self.journal.as_mut().expect("opened above");
        file.write_all(&entry)?;
        file.sync_data()?;
        self.journal_bytes += entry.len() as u64;
        Ok(())
    }

    /// Writes `windows` as the new snapshot, then empties the journal.
    fn write_snapshot(&mut self, windows: &HashMap<ChainId, Window>) -> std::io::Result<()> {
        let list: Vec<(ChainId, &Window)> = windows.iter().map(|(c, w)| (*c, w)).collect();
        let bytes = list.encode();
        std::fs::create_dir_all(&self.dir)?;
        let tmp = self.dir.join("bridge.tmp");
        let mut file = File::create(&tmp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, self.snapshot())?;
        sync_dir(&self.dir)?;
        // A crash before the journal is emptied replays it over the new snapshot: marking a
        // nonce twice changes nothing.
        self.journal = None;
        match std::fs::remove_file(self.journal()) {
            Err(e) if e.kind() != ErrorKind::NotFound => return Err(e),
            _ => sync_dir(&self.dir)?,
        }
        self.journal_bytes = 0;
        self.snapshot_bytes = bytes.len() as u64;
        Ok(())
    }
}

/// Syncs a directory, so that a file created or renamed in it survives a crash.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The first [`MAX_FILE`] bytes of a file.
fn read(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    File::open(path)?.take(MAX_FILE).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The windows of a snapshot (none if there is none; none, with a warning, if it is unreadable)
/// and the bytes read of it.
fn read_snapshot(path: &Path) -> (HashMap<ChainId, Window>, u64) {
    let bytes = match read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == ErrorKind::NotFound => return (HashMap::new(), 0),
        Err(e) => {
            log::warn!(target: LOG_TARGET, "bridge windows unreadable ({e}): starting empty");
            return (HashMap::new(), 0);
        }
    };
    let windows = match Vec::<(ChainId, Window)>::decode(&mut &bytes[..]) {
        Ok(list) => list.into_iter().take(MAX_SOURCES).map(|(c, w)| (c, w.loaded())).collect(),
        Err(e) => {
            log::warn!(target: LOG_TARGET, "bridge windows unreadable ({e}): starting empty");
            HashMap::new()
        }
    };
    (windows, bytes.len() as u64)
}

/// The nonces of a journal's entries up to the first that does not check out, and whether
/// there was a journal.
fn read_journal(path: &Path) -> (Vec<(ChainId, u64)>, bool) {
    let Ok(bytes) = read(path) else { return (Vec::new(), false) };
    let mut marked = Vec::new();
    let mut rest = &bytes[..];
    while let Some((len, tail)) = rest.split_first_chunk::<4>() {
        let len = u32::from_le_bytes(*len) as usize;
        if len > MAX_ENTRY || tail.len() < len + CHECK {
            break;
        }
        let (payload, tail) = tail.split_at(len);
        let (check, tail) = tail.split_at(CHECK);
        if Sha256::digest(payload)[..CHECK] != *check {
            break;
        }
        let Ok(entry) = Vec::<(ChainId, u64)>::decode(&mut &payload[..]) else { break };
        marked.extend(entry);
        rest = tail;
    }
    if !rest.is_empty() {
        log::warn!(target: LOG_TARGET, "bridge journal: {} bytes at its end do not check out (a write cut short): ignored", rest.len());
    }
    (marked, true)
}

impl Windows {
    /// The windows kept under `dir` (in memory only without one). A journal left by the last
    /// run is replayed over the snapshot and folded into a new one.
    pub(super) fn load(dir: Option<&Path>) -> Self {
        let Some(dir) = dir.map(|d| d.join("detr")) else {
            return Self { windows: HashMap::new(), marked: Vec::new(), files: None };
        };
        let mut files = Files { dir, journal: None, journal_bytes: 0, snapshot_bytes: 0 };
        let windows;
        (windows, files.snapshot_bytes) = read_snapshot(&files.snapshot());
        let (marked, journal) = read_journal(&files.journal());
        let mut this = Self { windows, marked: Vec::new(), files: Some(files) };
        for (source, nonce) in marked {
            this.check(source, nonce);
        }
        this.marked.clear();
        if journal {
            this.compact();
        }
        this
    }

    /// Checks (and marks) `(source, nonce)`; `None` past [`MAX_SOURCES`] sources. A new one
    /// counts only after [`Self::commit`].
    pub(super) fn check(&mut self, source: ChainId, nonce: u64) -> Option<Seen> {
        if !self.windows.contains_key(&source) && self.windows.len() >= MAX_SOURCES {
            return None;
        }
        let seen = self.windows.entry(source).or_default().check(nonce);
        if seen == Seen::New {
            self.marked.push((source, nonce));
        }
        Some(seen)
    }

    /// Makes the nonces marked since the last commit durable: one journal entry, synced. If the
    /// append fails (the journal may then end in a torn entry), every window is written anew.
    pub(super) fn commit(&mut self) {
        if self.marked.is_empty() {
            return;
        }
        let marked = std::mem::take(&mut self.marked);
        let Some(files) = &mut self.files else { return };
        match files.append(&marked) {
            Ok(()) if files.journal_bytes < COMPACT_AT.max(files.snapshot_bytes) => {}
            Ok(()) => self.compact(),
            Err(e) => {
                log::warn!(target: LOG_TARGET, "appending to the bridge journal failed ({e}): writing every window");
                self.compact();
            }
        }
    }

    /// Writes every window as the new snapshot and empties the journal.
    fn compact(&mut self) {
        let Some(files) = &mut self.files else { return };
        if let Err(e) = files.write_snapshot(&self.windows) {
            log::warn!(target: LOG_TARGET, "saving the bridge windows failed: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use super::*;
    use crate::bridge::WINDOW;

    fn files(dir: &Path) -> (PathBuf, PathBuf) {
        (dir.join("detr/bridge.bin"), dir.join("detr/bridge.log"))
    }

    /// Bytes of a journal entry of one nonce: length, the list (count and one (source, nonce)),
    /// check.
    const ONE_NONCE: u64 = 4 + 1 + 12 + CHECK as u64;

    fn size(path: &Path) -> u64 {
        std::fs::metadata(path).map_or(0, |m| m.len())
    }

    #[test]
    fn a_commit_appends_its_nonces_and_leaves_every_window_unwritten() {
        let dir = tempfile::tempdir().unwrap();
        let (snapshot, journal) = files(dir.path());
        let mut windows = Windows::load(Some(dir.path()));
        for source in 0..MAX_SOURCES as u32 {
            windows.check(source, 1);
        }
        windows.commit();
        windows.compact();
        let before = std::fs::metadata(&snapshot).unwrap();
        assert!(before.len() > 1 << 20, "256 windows of 4 KiB");
        for nonce in 2..100 {
            let grown = size(&journal);
            assert_eq!(windows.check(7, nonce), Some(Seen::New));
            windows.commit();
            // 25 bytes, whatever the sources.
            assert_eq!(size(&journal) - grown, ONE_NONCE);
        }
        let after = std::fs::metadata(&snapshot).unwrap();
        assert_eq!((after.ino(), after.mtime_nsec()), (before.ino(), before.mtime_nsec()));
        let mut again = Windows::load(Some(dir.path()));
        assert_eq!(again.check(7, 99), Some(Seen::Duplicate));
        assert_eq!(again.check(7, 100), Some(Seen::New));
        assert_eq!(again.check(200, 1), Some(Seen::Duplicate));
    }

    #[test]
    fn windows_survive_a_restart_and_sources_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let mut windows = Windows::load(Some(dir.path()));
        assert_eq!(windows.check(7, 42), Some(Seen::New));
        windows.commit();
        let mut again = Windows::load(Some(dir.path()));
        assert_eq!(again.check(7, 42), Some(Seen::Duplicate));
        for source in 0..MAX_SOURCES as u32 + 10 {
            windows.check(1000 + source, 1);
        }
        assert_eq!(windows.windows.len(), MAX_SOURCES);
        assert_eq!(windows.check(99_999, 1), None);
    }

    #[test]
    fn a_torn_last_entry_is_ignored_and_the_entries_before_it_replayed() {
        // The append of nonce 3 cut short by a crash, or read back with a bit flipped.
        let cut: fn(&mut Vec<u8>) = |b| b.truncate(b.len() - 3);
        let flipped: fn(&mut Vec<u8>) = |b| *b.last_mut().unwrap() ^= 1;
        for tear in [cut, flipped] {
            let dir = tempfile::tempdir().unwrap();
            let (snapshot, journal) = files(dir.path());
            let mut windows = Windows::load(Some(dir.path()));
            for nonce in [1, 2, 3] {
                windows.check(7, nonce);
                windows.commit();
            }
            let mut bytes = std::fs::read(&journal).unwrap();
            tear(&mut bytes);
            std::fs::write(&journal, bytes).unwrap();
            let mut again = Windows::load(Some(dir.path()));
            assert_eq!(again.check(7, 2), Some(Seen::Duplicate));
            assert_eq!(again.check(7, 3), Some(Seen::New), "its message was never delivered");
            // Loading folded the journal into the snapshot, torn end and all: appends start
            // afresh.
            assert!(!journal.exists() && snapshot.exists());
            again.commit();
            assert_eq!(size(&journal), ONE_NONCE);
            assert_eq!(Windows::load(Some(dir.path())).check(7, 3), Some(Seen::Duplicate));
        }
    }

    #[test]
    fn the_journal_is_folded_into_the_snapshot_once_as_large() {
        let dir = tempfile::tempdir().unwrap();
        let (snapshot, journal) = files(dir.path());
        let mut windows = Windows::load(Some(dir.path()));
        let mut folds = 0;
        for nonce in 0..10_000 {
            windows.check(7, nonce);
            let before = size(&journal);
            windows.commit();
            folds += usize::from(size(&journal) < before);
            assert!(size(&journal) < COMPACT_AT, "{nonce}: {}", size(&journal));
        }
        // 25 bytes a commit: a fold every 2,622 commits.
        assert_eq!(folds, 3);
        assert!(size(&snapshot) > 4096);
        let mut again = Windows::load(Some(dir.path()));
        assert_eq!(again.check(7, 0), Some(Seen::Duplicate));
        assert_eq!(again.check(7, 9_999), Some(Seen::Duplicate));
        assert_eq!(again.check(7, 10_000), Some(Seen::New));
    }

    #[test]
    fn after_a_restart_the_fold_waits_for_as_many_bytes_as_the_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let (snapshot, journal) = files(dir.path());
        let mut windows = Windows::load(Some(dir.path()));
        for source in 0..64 {
            windows.check(source, 1);
        }
        windows.compact();
        let written = std::fs::metadata(&snapshot).unwrap();
        assert!(written.len() > 256 << 10, "64 windows of 4 KiB");
        let mut again = Windows::load(Some(dir.path()));
        for nonce in 2..4_000 {
            again.check(7, nonce);
            again.commit();
        }
        // 100 KiB of journal: past `COMPACT_AT`, short of the snapshot's 256 KiB.
        assert!(size(&journal) > COMPACT_AT);
        let kept = std::fs::metadata(&snapshot).unwrap();
        assert_eq!((kept.ino(), kept.mtime_nsec()), (written.ino(), written.mtime_nsec()));
    }

    #[test]
    fn a_journal_replayed_over_the_snapshot_it_was_folded_into_changes_nothing() {
        // A crash between writing the snapshot and emptying the journal.
        let dir = tempfile::tempdir().unwrap();
        let (_, journal) = files(dir.path());
        let mut windows = Windows::load(Some(dir.path()));
        for nonce in [5, 1, WINDOW + 10, 3] {
            windows.check(9, nonce);
            windows.commit();
        }
        let kept = std::fs::read(&journal).unwrap();
        windows.compact();
        std::fs::write(&journal, kept).unwrap();
        let mut again = Windows::load(Some(dir.path()));
        assert_eq!(again.windows, windows.windows);
        assert_eq!(again.check(9, 11), Some(Seen::New));
        assert_eq!(again.check(9, 3), Some(Seen::TooOld));
    }

    #[test]
    fn a_window_saved_with_another_size_delivers_nothing_twice() {
        // A window of 4,096 nonces (an older size) that saw 9,999 and 10,000 but not 9,998,
        // in a snapshot of an older version (no journal).
        let mut bits = vec![0u64; 4096 / 64];
        for nonce in [9_999u64, 10_000] {
            let i = (nonce % 4096) as usize;
            bits[i / 64] |= 1 << (i % 64);
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("detr")).unwrap();
        let old = vec![(7u32, (Some(10_000u64), bits))].encode();
        std::fs::write(dir.path().join("detr/bridge.bin"), old).unwrap();
        let mut windows = Windows::load(Some(dir.path()));
        assert_eq!(windows.check(7, 9_999), Some(Seen::Duplicate));
        assert_eq!(windows.check(7, 10_000), Some(Seen::Duplicate));
        assert_eq!(windows.check(7, 9_998), Some(Seen::New), "the old window knew it was not seen");
        let below = 10_000 - 4096;
        assert_ne!(windows.check(7, below), Some(Seen::New), "the old window could not tell");
        assert_eq!(windows.check(7, 10_001), Some(Seen::New));
    }
}
