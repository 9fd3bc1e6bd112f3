//! An established session: a send half and a receive half, each with its own key, counter and
//! key epoch. Frames are sealed and opened in place.
//!
//! Frame: `u64le(epoch) ‖ u64le(counter) ‖ ciphertext ‖ tag`, the 16 header bytes being the
//! associated data. Counters only go up, across epochs too; a sender moves to the next epoch
//! (Noise `REKEY`) when its [`RekeyPolicy`] says, and its next frame tells the receiver, which
//! follows once. On an ordered stream the receiver thus never meets a frame it cannot open.

use std::{
    ops::Range,
    time::{Duration, Instant},
};

use crate::{
    cipher::{CipherKey, REKEY_NONCE, TAG_LEN},
    AeError,
};

/// Header of a sealed frame: epoch and counter, both u64 little endian.
pub const HEADER_LEN: usize = 16;
/// Bytes a sealed frame adds to its plaintext.
pub const FRAME_OVERHEAD: usize = HEADER_LEN + TAG_LEN;

/// When a send half moves to its next key epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RekeyPolicy {
    /// Rekey after this many frames sealed under one key.
    pub max_messages: u64,
    /// Rekey after this long under one key.
    pub max_age: Duration,
}

impl Default for RekeyPolicy {
    /// One million frames or ten minutes, whichever comes first.
    fn default() -> Self {
        Self { max_messages: 1_000_000, max_age: Duration::from_secs(600) }
    }
}

fn header(epoch: u64, counter: u64) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(&epoch.to_le_bytes());
    h[8..].copy_from_slice(&counter.to_le_bytes());
    h
}

/// The sending half: key, next counter, epoch and when it began.
pub struct SendHalf {
    key: CipherKey,
    epoch: u64,
    next: u64,
    epoch_frames: u64,
    epoch_start: Instant,
    policy: RekeyPolicy,
}

impl SendHalf {
    /// Seals one frame in place. `frame[at..at + HEADER_LEN]` is room for the header and
    /// `frame[at + HEADER_LEN..]` the plaintext; the tag is appended. Moves to the next key
    /// epoch first when the policy says so (`now` is the time of sealing).
    pub fn seal(&mut self, frame: &mut Vec<u8>, at: usize, now: Instant) -> Result<(), AeError> {
        let body = at + HEADER_LEN;
        debug_assert!(frame.len() >= body, "the caller reserves the header");
        let counter = self.next;
        let next = counter.checked_add(1).filter(|n| *n != REKEY_NONCE);
        let next = next.ok_or(AeError::CounterExhausted)?;
        if self.epoch_frames >= self.policy.max_messages
            || now.saturating_duration_since(self.epoch_start) >= self.policy.max_age
        {
            self.key = self.key.rekeyed();
            self.epoch += 1;
            self.epoch_frames = 0;
            self.epoch_start = now;
        }
        let head = header(self.epoch, counter);
        frame[at..body].copy_from_slice(&head);
        let len = frame.len() - body;
        let tag = self.key.seal(counter, &head, &mut frame[body..]);
        let tag = tag.ok_or(AeError::FrameTooLarge(len))?;
        frame.extend_from_slice(&tag);
        self.next = next;
        self.epoch_frames += 1;
        Ok(())
    }

    /// Frames sealed so far.
    pub fn sent(&self) -> u64 {
        self.next
    }

    /// The key epoch frames are sealed under now.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Replaces the rekey policy (applies from the next frame).
    pub fn set_policy(&mut self, policy: RekeyPolicy) {
        self.policy = policy;
    }
}

/// The receiving half: key, epoch and highest counter accepted.
pub struct RecvHalf {
    key: CipherKey,
    epoch: u64,
    highest: Option<u64>,
}

impl RecvHalf {
    /// Opens a frame in place and returns the plaintext's range in it. Refuses, without any
    /// change to the half: short frames, replays, an epoch other than this one or the next, and
    /// frames that fail authentication (their body is then zeroed: no unauthenticated plaintext
    /// is left).
    pub fn open(&mut self, frame: &mut [u8]) -> Result<Range<usize>, AeError> {
        if frame.len() < FRAME_OVERHEAD {
            return Err(AeError::FrameTooShort(frame.len()));
        }
        let epoch = u64::from_le_bytes(frame[..8].try_into().expect("8 bytes"));
        let counter = u64::from_le_bytes(frame[8..HEADER_LEN].try_into().expect("8 bytes"));
        if let Some(highest) = self.highest {
            if counter <= highest {
                return Err(AeError::Replay { counter, highest });
            }
        }
        let next = match epoch.checked_sub(self.epoch) {
            Some(0) => None,
            Some(1) => Some(self.key.rekeyed()),
            _ => return Err(AeError::UnknownEpoch { got: epoch, current: self.epoch }),
        };
        let end = frame.len() - TAG_LEN;
        let (head, rest) = frame.split_at_mut(HEADER_LEN);
        let (body, tag) = rest.split_at_mut(end - HEADER_LEN);
        let tag: &[u8; TAG_LEN] = (&*tag).try_into().expect("TAG_LEN bytes");
        if !next.as_ref().unwrap_or(&self.key).open(counter, head, body, tag) {
            return Err(AeError::BadTag);
        }
        if let Some(key) = next {
            // The old key is dropped (and zeroized) here.
            self.key = key;
            self.epoch = epoch;
        }
        self.highest = Some(counter);
        Ok(HEADER_LEN..end)
    }

    /// The key epoch of the frames received last.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }
}

/// An established session of one stream: its two halves and the handshake hash.
pub struct Session {
    /// The sending half.
    pub send: SendHalf,
    /// The receiving half.
    pub recv: RecvHalf,
    handshake_hash: [u8; 32],
}

impl Session {
    pub(crate) fn new(
        send_key: &[u8; 32],
        recv_key: &[u8; 32],
        handshake_hash: [u8; 32],
        policy: RekeyPolicy,
        now: Instant,
    ) -> Self {
        Self {
            send: SendHalf {
                key: CipherKey::new(send_key),
                epoch: 0,
                next: 0,
                epoch_frames: 0,
                epoch_start: now,
                policy,
            },
            recv: RecvHalf { key: CipherKey::new(recv_key), epoch: 0, highest: None },
            handshake_hash,
        }
    }

    /// A session from raw keys, for fuzz targets only: its keys come from no handshake.
    #[cfg(feature = "fuzzing")]
    pub fn for_fuzzing(send_key: &[u8; 32], recv_key: &[u8; 32], policy: RekeyPolicy) -> Self {
        Self::new(send_key, recv_key, [0; 32], policy, Instant::now())
    }

    /// The Noise handshake hash: the same on both sides, unique to this session.
    pub fn handshake_hash(&self) -> &[u8; 32] {
        &self.handshake_hash
    }

    /// Seals `plaintext` into a new frame (a copy; [`SendHalf::seal`] works in place).
    pub fn seal_to_vec(&mut self, plaintext: &[u8], now: Instant) -> Result<Vec<u8>, AeError> {
        let mut frame = Vec::with_capacity(FRAME_OVERHEAD + plaintext.len());
        frame.extend_from_slice(&[0; HEADER_LEN]);
        frame.extend_from_slice(plaintext);
        self.send.seal(&mut frame, 0, now)?;
        Ok(frame)
    }
}

impl std::fmt::Debug for Session {
    // Never prints keys.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("sent", &self.send.next)
            .field("send_epoch", &self.send.epoch)
            .field("recv_epoch", &self.recv.epoch)
            .field("received_highest", &self.recv.highest)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_counters_are_refused_not_reused() {
        let now = Instant::now();
        let mut session = Session::new(&[1; 32], &[2; 32], [0; 32], RekeyPolicy::default(), now);
        session.send.next = u64::MAX - 2;
        assert!(session.seal_to_vec(b"x", now).is_ok(), "counter 2^64 - 3");
        assert_eq!(session.seal_to_vec(b"x", now), Err(AeError::CounterExhausted));
        assert_eq!(session.send.sent(), u64::MAX - 1, "nothing was sealed under 2^64 - 2");
    }
}
