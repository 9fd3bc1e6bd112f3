//! An established session: one ChaCha20-Poly1305 key per direction, 64-bit counters as nonces.

use std::time::Instant;

use chacha20poly1305::{aead::AeadInPlace, ChaCha20Poly1305, Key, KeyInit, Nonce, Tag};

use crate::AeError;

/// Header of a sealed frame: generation and counter, both u64 little endian.
const HEADER_LEN: usize = 16;
/// Poly1305 tag length.
const TAG_LEN: usize = 16;
/// Bytes a sealed frame adds to its plaintext.
pub const FRAME_OVERHEAD: usize = HEADER_LEN + TAG_LEN;

/// The sending half: key (zeroized on drop by the cipher) and next counter.
struct Sender {
    cipher: ChaCha20Poly1305,
    next: u64,
}

/// The receiving half: key and the highest counter accepted.
struct Receiver {
    cipher: ChaCha20Poly1305,
    generation: u64,
    highest: Option<u64>,
}

/// An established AEComms session of one generation.
pub struct Session {
    generation: u64,
    sender: Sender,
    receiver: Receiver,
    /// The previous generation's receiver, kept until the peer uses the new keys.
    previous: Option<Receiver>,
    established: Instant,
}

fn nonce(counter: u64) -> Nonce {
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&counter.to_le_bytes());
    n.into()
}

fn header(generation: u64, counter: u64) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(&generation.to_le_bytes());
    h[8..].copy_from_slice(&counter.to_le_bytes());
    h
}

impl Session {
    /// A session of `generation` with the given 32-byte send and receive keys.
    pub(crate) fn new(
        generation: u64,
        send_key: &[u8; 32],
        recv_key: &[u8; 32],
        now: Instant,
    ) -> Self {
        Self {
            generation,
            sender: Sender { cipher: ChaCha20Poly1305::new(&Key::from(*send_key)), next: 0 },
            receiver: Receiver {
                cipher: ChaCha20Poly1305::new(&Key::from(*recv_key)),
                generation,
                highest: None,
            },
            previous: None,
            established: now,
        }
    }

    /// Keeps `old`'s receiver so frames the peer sealed before the rekey still open.
    pub(crate) fn succeed(mut self, old: Session) -> Self {
        self.previous = Some(old.receiver);
        self
    }

    /// The key generation of this session.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Frames sealed so far.
    pub fn sent(&self) -> u64 {
        self.sender.next
    }

    /// When the session was established.
    pub fn established_at(&self) -> Instant {
        self.established
    }

    /// Seals `plaintext` under the next counter.
    pub fn seal(&mut self, plaintext: &[u8]) -> Result<Vec<u8>, AeError> {
        let counter = self.sender.next;
        let next = counter.checked_add(1).ok_or(AeError::CounterExhausted)?;
        let head = header(self.generation, counter);
        let mut out = Vec::with_capacity(FRAME_OVERHEAD + plaintext.len());
        out.extend_from_slice(&head);
        out.extend_from_slice(plaintext);
        let tag = self
            .sender
            .cipher
            .encrypt_in_place_detached(&nonce(counter), &head, &mut out[HEADER_LEN..])
            .map_err(|_| AeError::CounterExhausted)?;
        out.extend_from_slice(&tag);
        self.sender.next = next;
        Ok(out)
    }

    /// Opens a frame: refuses unknown generations, replays and altered frames.
    pub fn open(&mut self, frame: &[u8]) -> Result<Vec<u8>, AeError> {
        if frame.len() < FRAME_OVERHEAD {
            return Err(AeError::FrameTooShort(frame.len()));
        }
        let generation = u64::from_le_bytes(frame[..8].try_into().expect("8 bytes"));
        let counter = u64::from_le_bytes(frame[8..16].try_into().expect("8 bytes"));
        let current = generation == self.receiver.generation;
        let receiver = if current {
            &mut self.receiver
        } else {
            match self.previous.as_mut() {
                Some(prev) if prev.generation == generation => prev,
                _ => return Err(AeError::UnknownGeneration(generation)),
            }
        };
        if let Some(highest) = receiver.highest {
            if counter <= highest {
                return Err(AeError::Replay { counter, highest });
            }
        }
        let (body, tag) = frame[HEADER_LEN..].split_at(frame.len() - FRAME_OVERHEAD);
        let tag: [u8; TAG_LEN] = tag.try_into().expect("TAG_LEN bytes");
        let mut plaintext = body.to_vec();
        receiver
            .cipher
            .decrypt_in_place_detached(
                &nonce(counter),
                &frame[..HEADER_LEN],
                &mut plaintext,
                &Tag::from(tag),
            )
            .map_err(|_| AeError::BadTag)?;
        receiver.highest = Some(counter);
        if current {
            // The peer uses the new keys: the old ones are no longer needed (zeroized on drop).
            self.previous = None;
        }
        Ok(plaintext)
    }
}

impl std::fmt::Debug for Session {
    // Never prints keys.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("generation", &self.generation)
            .field("sent", &self.sender.next)
            .field("received_highest", &self.receiver.highest)
            .finish_non_exhaustive()
    }
}
