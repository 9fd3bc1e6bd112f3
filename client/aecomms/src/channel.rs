//! The per-stream state machine: handshake, session, rekey.

use std::time::{Duration, Instant};

use etrid_protocol::HandshakeMessage;

use crate::{
    handshake::{verify, Handshake},
    identity::{Binding, LocalIdentity},
    session::Session,
    AeError,
};

/// When a session asks for new keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RekeyPolicy {
    /// Rekey after this many frames sealed under one generation.
    pub max_messages: u64,
    /// Rekey after this long under one generation.
    pub max_age: Duration,
}

impl Default for RekeyPolicy {
    /// One million frames or ten minutes, whichever comes first.
    fn default() -> Self {
        Self { max_messages: 1_000_000, max_age: Duration::from_secs(600) }
    }
}

/// One stream's AEComms state: at most one handshake in flight and one session.
pub struct Channel {
    local: LocalIdentity,
    binding: Binding,
    policy: RekeyPolicy,
    pending: Option<Handshake>,
    session: Option<Session>,
    /// Highest generation the peer completed with us.
    remote_generation: Option<u64>,
    /// Generation of the next handshake we start.
    next_generation: u64,
}

impl Channel {
    /// A channel with no handshake yet.
    pub fn new(local: LocalIdentity, binding: Binding, policy: RekeyPolicy) -> Self {
        Self {
            local,
            binding,
            policy,
            pending: None,
            session: None,
            remote_generation: None,
            next_generation: 0,
        }
    }

    /// Starts the next handshake generation and returns the message to send. While a handshake
    /// is in flight this returns that same message again.
    pub fn start_handshake(&mut self) -> HandshakeMessage {
        if let Some(pending) = &self.pending {
            return pending.message().clone();
        }
        let handshake = Handshake::new(&self.local, &self.binding, self.next_generation);
        self.next_generation += 1;
        let message = handshake.message().clone();
        self.pending = Some(handshake);
        message
    }

    /// Handles the peer's handshake. Returns our reply when the peer started this generation
    /// (send it back); `None` when it answered ours. On error nothing changes.
    pub fn on_handshake(
        &mut self,
        remote: &HandshakeMessage,
        now: Instant,
    ) -> Result<Option<HandshakeMessage>, AeError> {
        if let Some(last) = self.remote_generation {
            if remote.generation <= last {
                return Err(AeError::StaleHandshake { got: remote.generation, last });
            }
        }
        let expected = self.pending.as_ref().map_or(self.next_generation, Handshake::generation);
        if remote.generation != expected {
            return Err(AeError::UnexpectedGeneration { got: remote.generation, expected });
        }
        // Refuse forgeries before spending a fresh key on them.
        verify(&self.local, &self.binding, remote)?;
        let reply = if self.pending.is_none() { Some(self.start_handshake()) } else { None };
        let pending = self.pending.as_ref().expect("a handshake is pending here");
        let session = match pending.derive_session(&self.local, &self.binding, remote, now) {
            Ok(session) => session,
            Err(e) => {
                if reply.is_some() {
                    // Undo the handshake we just started for this peer.
                    self.pending = None;
                    self.next_generation -= 1;
                }
                return Err(e);
            }
        };
        // The ephemeral secret is zeroized when the handshake drops here.
        self.pending = None;
        self.session = Some(match self.session.take() {
            Some(old) => session.succeed(old),
            None => session,
        });
        self.remote_generation = Some(remote.generation);
        Ok(reply)
    }

    /// Whether a session is established.
    pub fn is_established(&self) -> bool {
        self.session.is_some()
    }

    /// Whether a handshake of ours awaits the peer's answer.
    pub fn is_handshaking(&self) -> bool {
        self.pending.is_some()
    }

    /// The current session's generation, if established.
    pub fn generation(&self) -> Option<u64> {
        self.session.as_ref().map(Session::generation)
    }

    /// Whether the session is due for new keys under the rekey policy.
    pub fn needs_rekey(&self, now: Instant) -> bool {
        match (&self.session, &self.pending) {
            (Some(session), None) => {
                session.sent() >= self.policy.max_messages
                    || now.saturating_duration_since(session.established_at())
                        >= self.policy.max_age
            }
            _ => false,
        }
    }

    /// Seals `plaintext` for the peer.
    pub fn seal(&mut self, plaintext: &[u8]) -> Result<Vec<u8>, AeError> {
        self.session.as_mut().ok_or(AeError::NotEstablished)?.seal(plaintext)
    }

    /// Opens a frame from the peer.
    pub fn open(&mut self, frame: &[u8]) -> Result<Vec<u8>, AeError> {
        self.session.as_mut().ok_or(AeError::NotEstablished)?.open(frame)
    }

    /// The binding of this channel.
    pub fn binding(&self) -> &Binding {
        &self.binding
    }

    /// The rekey policy in force.
    pub fn policy(&self) -> RekeyPolicy {
        self.policy
    }

    /// Replaces the rekey policy (applies from the next check).
    pub fn set_policy(&mut self, policy: RekeyPolicy) {
        self.policy = policy;
    }
}
