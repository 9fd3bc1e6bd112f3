//! The Noise XX handshake of one session (`snow`), with certificates checked against the
//! remote PeerId.

use std::time::Instant;

use snow::{params::NoiseParams, HandshakeState};
use zeroize::Zeroizing;

use crate::{
    identity::{check_certificate, Binding, LocalIdentity, Role, CERTIFICATE_LEN},
    session::{RekeyPolicy, Session},
    AeError,
};

/// The Noise protocol name of AEComms v2.
pub const NOISE_PATTERN: &str = "Noise_XX_25519_ChaChaPoly_SHA256";
/// Message 1 (`e`), message 2 (`e, ee, s, es` + certificate) and message 3 (`s, se` +
/// certificate): their exact sizes, checked before any key work.
pub const MESSAGE_LENS: [usize; 3] =
    [32, 32 + 48 + CERTIFICATE_LEN + 16, 48 + CERTIFICATE_LEN + 16];
/// The largest handshake message.
pub const MAX_HANDSHAKE_MESSAGE: usize = MESSAGE_LENS[1];

/// A handshake in progress.
pub struct Handshake {
    state: HandshakeState,
    binding: Binding,
    policy: RekeyPolicy,
    /// Index into [`MESSAGE_LENS`] of the message expected next from the peer.
    expect: usize,
}

/// What to do after a handshake message was read.
// A `Next` lives for one handshake step and is moved once; boxing the larger variant would only
// add an allocation per step.
#[allow(clippy::large_enum_variant)]
pub enum Next {
    /// Send `reply`, then hand the peer's next message to `handshake`.
    Wait {
        /// The handshake, awaiting the peer's next message.
        handshake: Handshake,
        /// Our message to send.
        reply: Vec<u8>,
    },
    /// The session is up; send `reply` first if there is one (the initiator's message 3).
    Done {
        /// The established session.
        session: Session,
        /// Our last message, if any.
        reply: Option<Vec<u8>>,
    },
}

impl std::fmt::Debug for Handshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handshake").field("expect", &(self.expect + 1)).finish_non_exhaustive()
    }
}

/// Runs a whole handshake in memory between two identities held by one process, each with its
/// binding towards the other (for tests, benchmarks and tools): returns the sessions, `x`'s
/// first, or the first error either side found.
pub fn in_memory(
    x: (&LocalIdentity, Binding),
    y: (&LocalIdentity, Binding),
    policy: RekeyPolicy,
) -> Result<(Session, Session), AeError> {
    let x_starts = x.1.role(x.0) == Role::Initiator;
    let ((i, bi), (r, br)) = if x_starts { (x, y) } else { (y, x) };
    let (hi, m1) = Handshake::start(i, bi, policy);
    let (hr, _) = Handshake::start(r, br, policy);
    // Both sides waiting means the bindings disagree on who the peers are.
    let m1 = m1.ok_or(AeError::HandshakeFailed)?;
    let Next::Wait { handshake: hr, reply: m2 } = hr.read(&m1, r)? else {
        return Err(AeError::HandshakeFailed);
    };
    let Next::Done { session: si, reply: Some(m3) } = hi.read(&m2, i)? else {
        return Err(AeError::HandshakeFailed);
    };
    let Next::Done { session: sr, .. } = hr.read(&m3, r)? else {
        return Err(AeError::HandshakeFailed);
    };
    Ok(if x_starts { (si, sr) } else { (sr, si) })
}

fn params() -> NoiseParams {
    NOISE_PATTERN.parse().expect("a valid Noise protocol name")
}

impl Handshake {
    /// Starts the handshake of `binding`: returns it and, for the initiator, message 1.
    pub fn start(
        local: &LocalIdentity,
        binding: Binding,
        policy: RekeyPolicy,
    ) -> (Self, Option<Vec<u8>>) {
        Self::start_with(local, binding, policy, None)
    }

    /// [`Self::start`] with a fixed ephemeral secret: for test vectors only, never reuse one.
    pub fn start_with_ephemeral(
        local: &LocalIdentity,
        binding: Binding,
        policy: RekeyPolicy,
        ephemeral: &[u8; 32],
    ) -> (Self, Option<Vec<u8>>) {
        Self::start_with(local, binding, policy, Some(ephemeral))
    }

    fn start_with(
        local: &LocalIdentity,
        binding: Binding,
        policy: RekeyPolicy,
        ephemeral: Option<&[u8; 32]>,
    ) -> (Self, Option<Vec<u8>>) {
        let prologue = binding.prologue(local);
        let mut builder = snow::Builder::with_resolver(params(), crate::resolver::resolver(local))
            .local_private_key(local.static_secret())
            .prologue(&prologue);
        if let Some(ephemeral) = ephemeral {
            builder = builder.fixed_ephemeral_key_for_testing_only(ephemeral);
        }
        let role = binding.role(local);
        let state = match role {
            Role::Initiator => builder.build_initiator(),
            Role::Responder => builder.build_responder(),
        }
        .expect("a complete handshake configuration");
        let mut handshake = Self { state, binding, policy, expect: 0 };
        let first = match role {
            Role::Initiator => {
                handshake.expect = 1;
                Some(handshake.write(&[]).expect("message 1 needs no remote key"))
            }
            Role::Responder => None,
        };
        (handshake, first)
    }

    /// The binding of this handshake.
    pub fn binding(&self) -> &Binding {
        &self.binding
    }

    fn write(&mut self, payload: &[u8]) -> Result<Vec<u8>, AeError> {
        let mut out = vec![0u8; MAX_HANDSHAKE_MESSAGE];
        let len =
            self.state.write_message(payload, &mut out).map_err(|_| AeError::HandshakeFailed)?;
        out.truncate(len);
        Ok(out)
    }

    /// Reads the peer's next handshake message. Its size is checked before any key work; the
    /// certificate it carries must come from the remote PeerId's key.
    pub fn read(mut self, message: &[u8], local: &LocalIdentity) -> Result<Next, AeError> {
        let step = self.expect;
        if message.len() != MESSAGE_LENS[step] {
            return Err(AeError::UnexpectedHandshake { len: message.len(), step: step as u8 + 1 });
        }
        let mut payload = Zeroizing::new([0u8; MAX_HANDSHAKE_MESSAGE]);
        let len = self
            .state
            .read_message(message, payload.as_mut())
            .map_err(|_| AeError::HandshakeFailed)?;
        if step == 0 {
            // Message 1 carries no payload (its length is exactly the ephemeral key).
            let reply = self.write(local.certificate())?;
            self.expect = 2;
            return Ok(Next::Wait { handshake: self, reply });
        }
        let remote_static = self.state.get_remote_static().ok_or(AeError::HandshakeFailed)?;
        check_certificate(&payload[..len], &self.binding.remote.public, remote_static)?;
        let reply = if step == 1 { Some(self.write(local.certificate())?) } else { None };
        Ok(Next::Done { session: self.finish(), reply })
    }

    fn finish(mut self) -> Session {
        let hash: [u8; 32] =
            self.state.get_handshake_hash().try_into().expect("SHA-256 handshake hash");
        let (i2r, r2i) = self.state.dangerously_get_raw_split();
        let (i2r, r2i) = (Zeroizing::new(i2r), Zeroizing::new(r2i));
        let (send, recv) = if self.state.is_initiator() { (&i2r, &r2i) } else { (&r2i, &i2r) };
        Session::new(send, recv, hash, self.policy, Instant::now())
    }
}
