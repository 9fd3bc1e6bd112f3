//! The snapshot file of the peer cache.
//!
//! Layout (integers little endian):
//!
//! | bytes | field                                                          |
//! |-------|----------------------------------------------------------------|
//! | 8     | magic `b"DETRPC\0\x02"` (the last byte is the format version)  |
//! | 1     | flags: bit 0 set = payload encrypted                           |
//! | 12    | ChaCha20-Poly1305 nonce (random per save; zeros if plain)      |
//! | 4     | payload length                                                 |
//! | n     | payload: SCALE `Vec<PeerRecord>`, or its AEAD ciphertext + tag with the 25 header bytes as associated data |
//! | 32    | plain files only: SHA-256 of everything above (catches damage, not tampering) |
//!
//! With a key, the AEAD is the integrity check: a file that does not open under the key, and a
//! plain file, are refused (set aside) — whoever can write the file cannot inject peers.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
    time::{SystemTime, UNIX_EPOCH},
};

use chacha20poly1305::{aead::Aead, aead::Payload, ChaCha20Poly1305, KeyInit};
use codec::{Decode, DecodeLimit, Encode};
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::record::PeerRecord;

const MAGIC: &[u8; 8] = b"DETRPC\0\x02";
const HEADER_LEN: usize = 8 + 1 + 12 + 4;
const CHECKSUM_LEN: usize = 32;
const FLAG_ENCRYPTED: u8 = 1;
/// Largest snapshot read (a 100k-peer cache is about 20 MiB).
pub const MAX_FILE_SIZE: u64 = 256 * 1024 * 1024;

/// Why a snapshot could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// File concerned.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is damaged or not a snapshot.
    #[error("corrupt snapshot: {0}")]
    Corrupt(String),
    /// The file is encrypted and cannot be opened with the key given.
    #[error("cannot decrypt the snapshot (wrong key, tampered, or no key given)")]
    WrongKey,
    /// A key is set and the file is not encrypted: it could have been written by anyone.
    #[error("plain snapshot refused: a key is set, so the file must be encrypted under it")]
    Plaintext,
}

/// What loading found.
#[derive(Debug, PartialEq, Eq)]
pub enum LoadOutcome {
    /// Records were loaded.
    Loaded(usize),
    /// No snapshot yet.
    Missing,
    /// The file could not be used; it was renamed to `moved_to`.
    SetAside {
        /// Where the bad file is now.
        moved_to: PathBuf,
        /// Why it could not be used.
        reason: String,
    },
}

/// Checks the header's payload length against the bytes there are.
fn check_len(header: &[u8], payload: usize) -> Result<(), SnapshotError> {
    let len = u32::from_le_bytes(header[21..25].try_into().expect("4 bytes")) as usize;
    if len != payload {
        return Err(SnapshotError::Corrupt("length mismatch (truncated or damaged)".into()));
    }
    Ok(())
}

/// A snapshot file, optionally encrypted.
pub struct Snapshot {
    path: PathBuf,
    key: Option<Zeroizing<[u8; 32]>>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SnapshotError + '_ {
    move |source| SnapshotError::Io { path: path.to_path_buf(), source }
}

impl Snapshot {
    /// The snapshot at `path`, sealed with `key` if given (zeroized on drop).
    pub fn new(path: PathBuf, key: Option<[u8; 32]>) -> Self {
        Self { path, key: key.map(Zeroizing::new) }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `records` atomically: temp file, fsync, rename, fsync of the directory.
    pub fn save(&self, records: &[PeerRecord]) -> Result<(), SnapshotError> {
        let bytes = self.encode(records)?;
        let dir = self.path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(io(dir))?;
        let tmp = self.path.with_extension("tmp");
        {
            let mut file = fs::File::create(&tmp).map_err(io(&tmp))?;
            file.write_all(&bytes).map_err(io(&tmp))?;
            file.sync_all().map_err(io(&tmp))?;
        }
        fs::rename(&tmp, &self.path).map_err(io(&self.path))?;
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Reads the snapshot. A bad file is renamed aside (logged), never an error: the caller
    /// starts with what is returned.
    pub fn load(&self, max_records: usize) -> (Vec<PeerRecord>, LoadOutcome) {
        match self.read(max_records) {
            Ok(Some(records)) => {
                let n = records.len();
                (records, LoadOutcome::Loaded(n))
            }
            Ok(None) => (Vec::new(), LoadOutcome::Missing),
            Err(e) => {
                let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
                let moved_to = self.path.with_extension(format!("corrupt-{stamp}"));
                let reason = e.to_string();
                match fs::rename(&self.path, &moved_to) {
                    Ok(()) => tracing::warn!(
                        target: "detr-stored",
                        "peer cache {} unusable ({reason}); moved to {}, starting empty",
                        self.path.display(),
                        moved_to.display()
                    ),
                    Err(err) => tracing::warn!(
                        target: "detr-stored",
                        "peer cache {} unusable ({reason}) and cannot be moved aside: {err}",
                        self.path.display()
                    ),
                }
                (Vec::new(), LoadOutcome::SetAside { moved_to, reason })
            }
        }
    }

    fn read(&self, max_records: usize) -> Result<Option<Vec<PeerRecord>>, SnapshotError> {
        let meta = match fs::metadata(&self.path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&self.path)(e)),
        };
        if meta.len() > MAX_FILE_SIZE {
            return Err(SnapshotError::Corrupt(format!("{} bytes is over the limit", meta.len())));
        }
        let bytes = fs::read(&self.path).map_err(io(&self.path))?;
        self.decode(&bytes, max_records).map(Some)
    }

    fn cipher(&self) -> Option<ChaCha20Poly1305> {
        self.key.as_ref().map(|k| ChaCha20Poly1305::new(&(**k).into()))
    }

    fn encode(&self, records: &[PeerRecord]) -> Result<Vec<u8>, SnapshotError> {
        let plain = Zeroizing::new(records.encode());
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        let mut nonce = [0u8; 12];
        let payload = match self.cipher() {
            Some(cipher) => {
                rand::rngs::OsRng.fill_bytes(&mut nonce);
                let len = plain.len() + 16;
                header.push(FLAG_ENCRYPTED);
                header.extend_from_slice(&nonce);
                header.extend_from_slice(&(len as u32).to_le_bytes());
                cipher
                    .encrypt(&nonce.into(), Payload { msg: &plain, aad: &header })
                    .map_err(|_| SnapshotError::Corrupt("encryption failed".into()))?
            }
            None => {
                header.push(0);
                header.extend_from_slice(&nonce);
                header.extend_from_slice(&(plain.len() as u32).to_le_bytes());
                plain.to_vec()
            }
        };
        let mut out = header;
        out.extend_from_slice(&payload);
        if self.key.is_none() {
            let checksum = Sha256::digest(&out);
            out.extend_from_slice(&checksum);
        }
        Ok(out)
    }

    fn decode(&self, bytes: &[u8], max_records: usize) -> Result<Vec<PeerRecord>, SnapshotError> {
        let corrupt = |why: &str| SnapshotError::Corrupt(why.to_string());
        if bytes.len() < HEADER_LEN {
            return Err(corrupt("truncated"));
        }
        if &bytes[..8] != MAGIC {
            return Err(corrupt("not a peer cache snapshot of this version"));
        }
        let encrypted = bytes[8] & FLAG_ENCRYPTED != 0;
        let plain = match (encrypted, self.cipher()) {
            (false, Some(_)) => return Err(SnapshotError::Plaintext),
            (true, None) => return Err(SnapshotError::WrongKey),
            (true, Some(cipher)) => {
                let (header, payload) = bytes.split_at(HEADER_LEN);
                check_len(header, payload.len())?;
                let nonce: [u8; 12] = header[9..21].try_into().expect("12 bytes");
                Zeroizing::new(
                    cipher
                        .decrypt(&nonce.into(), Payload { msg: payload, aad: header })
                        .map_err(|_| SnapshotError::WrongKey)?,
                )
            }
            (false, None) => {
                if bytes.len() < HEADER_LEN + CHECKSUM_LEN {
                    return Err(corrupt("truncated"));
                }
                let (body, checksum) = bytes.split_at(bytes.len() - CHECKSUM_LEN);
                if Sha256::digest(body)[..] != *checksum {
                    return Err(corrupt("checksum mismatch (truncated or damaged)"));
                }
                let (header, payload) = body.split_at(HEADER_LEN);
                check_len(header, payload.len())?;
                Zeroizing::new(payload.to_vec())
            }
        };
        let mut input = &plain[..];
        let count = codec::Compact::<u32>::decode(&mut input)
            .map_err(|e| corrupt(&e.to_string()))?
            .0 as usize;
        let mut records = Vec::with_capacity(count.min(max_records));
        for _ in 0..count {
            let record = PeerRecord::decode_with_depth_limit(8, &mut input)
                .map_err(|e| corrupt(&e.to_string()))?;
            if records.len() < max_records {
                records.push(record);
            }
        }
        if !input.is_empty() {
            return Err(corrupt("trailing bytes"));
        }
        Ok(records)
    }
}
