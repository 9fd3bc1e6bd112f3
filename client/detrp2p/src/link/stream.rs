//! One task per stream: it runs the stream's Noise handshake, then owns the session's receive
//! half. Frames come from the protocol's worker (already within the peer's inbound budget);
//! the task opens each in place, decodes it without copying, and hands it to its consumer.
//! Every failure is a named reputation change; those that prove malice are fatal.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use bytes::Bytes;
use etrid_aecomms::{
    AeError, Binding, Handshake, LocalIdentity, Next, RecvHalf, RekeyPolicy, Role,
};
use etrid_p2p_dpeers::ReputationChange;
use etrid_p2p_fluent::InboundLimiter;
use etrid_protocol::Message;
use sc_network::PeerId;
use tokio::sync::mpsc;

use crate::{
    consensus::events::ConsensusEvents,
    delivery::{Delivery, Inbound},
    link::{LinkCmd, LinkStatus},
    metrics::{Event, Loss, Stats},
    peers::PeersTx,
    protocols::{DetrProtocol, FrameTag, SEAL_AT},
    routes::{Frame, StreamId},
    worker::over_budget,
    LOG_TARGET,
};

/// New handshakes a peer may start on an established stream per minute before each costs it
/// reputation (an honest peer restarts its side rarely).
const REHANDSHAKES_PER_MINUTE: usize = 3;

/// Everything a stream task needs.
pub(crate) struct StreamTask {
    pub peer: PeerId,
    pub protocol: DetrProtocol,
    pub id: StreamId,
    pub roles: u8,
    pub inbound: bool,
    pub local: Arc<LocalIdentity>,
    pub binding: Binding,
    pub policy: RekeyPolicy,
    pub handshake_timeout: Duration,
    pub link: mpsc::UnboundedSender<LinkCmd>,
    pub peers: PeersTx,
    pub delivery: Arc<Delivery>,
    pub stats: Arc<Stats>,
    pub status: Arc<LinkStatus>,
    pub consensus: Arc<ConsensusEvents>,
    /// The peers' inbound budgets, for the messages of a batch after its first.
    pub budget: Arc<InboundLimiter<PeerId>>,
}

enum State {
    Handshaking(Handshake),
    Established(RecvHalf),
    /// Established, with a new handshake under way (the peer restarted its side).
    Renewing(RecvHalf, Handshake),
}

impl StreamTask {
    fn report(&self, change: ReputationChange) {
        self.peers.report(self.peer, change);
    }

    fn send_handshake(&self, message: Vec<u8>) {
        self.send_frame(FrameTag::Handshake, &message);
    }

    fn send_frame(&self, tag: FrameTag, body: &[u8]) {
        let frame = [&[tag as u8][..], body].concat();
        let _ = self.link.send(LinkCmd::Handshake { protocol: self.protocol, id: self.id, frame });
    }

    /// Starts a handshake in our role: the initiator sends message 1; the responder says it
    /// has no session (a peer that still holds one, because it did not see this side restart,
    /// then starts over instead of sealing frames nobody can open).
    fn start_handshake(&self) -> Handshake {
        let (handshake, first) = Handshake::start(&self.local, self.binding.clone(), self.policy);
        match first {
            Some(message) => self.send_handshake(message),
            None => self.send_frame(FrameTag::Restart, &[]),
        }
        handshake
    }

    fn role(&self) -> Role {
        self.binding.role(&self.local)
    }

    /// Runs until the stream closes (the worker drops its end of `frames`) or fails.
    pub async fn run(self, mut frames: mpsc::Receiver<Frame>) {
        let mut state = Some(State::Handshaking(self.start_handshake()));
        let deadline = tokio::time::sleep(self.handshake_timeout);
        tokio::pin!(deadline);
        let mut rehandshakes: Vec<Instant> = Vec::new();
        let mut up = false;
        loop {
            let handshaking = matches!(state, Some(State::Handshaking(_)));
            let frame = tokio::select! {
                frame = frames.recv() => frame,
                () = &mut deadline, if handshaking => {
                    // Still open (the worker holds `frames`): the peer did not answer in time.
                    log::debug!(target: LOG_TARGET, "{} did not complete the {} handshake in time", self.peer, self.protocol.as_str());
                    self.stats.count(self.protocol, Event::HandshakeFailure);
                    self.report(ReputationChange::BAD_HANDSHAKE);
                    break;
                }
            };
            let Some(frame) = frame else { break };
            let bytes = frame.into_vec();
            let Some(&tag) = bytes.first() else {
                self.decode_error();
                continue;
            };
            let handshake = tag == FrameTag::Handshake as u8;
            let batch = tag == FrameTag::Batch as u8;
            let sealed = tag == FrameTag::Sealed as u8 || batch;
            let restart = tag == FrameTag::Restart as u8 && bytes.len() == 1;
            state = Some(match state.take().expect("state is restored every round") {
                State::Handshaking(hs) if handshake => match self.handshake(hs, &bytes[1..]) {
                    Ok(Ok(recv)) => {
                        up = true;
                        State::Established(recv)
                    }
                    Ok(Err(hs)) => State::Handshaking(hs),
                    Err(()) => break,
                },
                // Frames of a session the peer thinks we still hold (it did not see this side
                // restart; it starts over on our restart frame), or its restart frame crossing
                // our message 1: nobody's fault.
                State::Handshaking(hs) if sealed || restart => State::Handshaking(hs),
                State::Established(recv) if handshake || restart => {
                    match self.renew(&mut rehandshakes, recv, handshake.then(|| &bytes[1..])) {
                        Some(state) => state,
                        None => break,
                    }
                }
                State::Renewing(old, hs) if handshake => match self.handshake(hs, &bytes[1..]) {
                    Ok(Ok(recv)) => State::Established(recv),
                    Ok(Err(hs)) => State::Renewing(old, hs),
                    Err(()) => break,
                },
                State::Renewing(old, hs) if restart => State::Renewing(old, hs),
                State::Established(mut recv) if sealed => {
                    if self.open(&mut recv, bytes, batch).is_err() {
                        break;
                    }
                    State::Established(recv)
                }
                State::Renewing(mut recv, hs) if sealed => {
                    if self.open(&mut recv, bytes, batch).is_err() {
                        break;
                    }
                    State::Renewing(recv, hs)
                }
                other => {
                    // An unknown tag, or a restart frame with a body.
                    self.decode_error();
                    other
                }
            });
        }
        if up {
            self.consensus.closed(self.peer, self.id);
            self.peers.session_down(self.peer, self.protocol, self.id);
        }
    }

    fn decode_error(&self) {
        self.stats.count(self.protocol, Event::DecodeError);
        self.report(ReputationChange::DECODE_ERROR);
    }

    /// Feeds a handshake message. `Ok(Ok(recv))`: the session is up; `Ok(Err(hs))`: more to
    /// come; `Err(())`: it failed (reported).
    fn handshake(&self, hs: Handshake, message: &[u8]) -> Result<Result<RecvHalf, Handshake>, ()> {
        match hs.read(message, &self.local) {
            Ok(Next::Wait { handshake, reply }) => {
                self.send_handshake(reply);
                Ok(Err(handshake))
            }
            Ok(Next::Done { session, reply }) => {
                if let Some(reply) = reply {
                    self.send_handshake(reply);
                }
                let (send, recv) = (session.send, session.recv);
                let id = self.id;
                let _ = self.link.send(LinkCmd::SessionUp { protocol: self.protocol, id, send });
                self.stats.count(self.protocol, Event::Handshake);
                self.status.set_recv_epoch(self.protocol as usize, 0);
                self.peers.session_up(self.peer, self.protocol, self.id);
                if self.protocol == DetrProtocol::Consensus {
                    self.consensus.opened(self.peer, self.id, self.roles, self.inbound);
                }
                log::debug!(target: LOG_TARGET, "{} session up with {}", self.protocol.as_str(), self.peer);
                Ok(Ok(recv))
            }
            Err(e) => {
                log::debug!(target: LOG_TARGET, "bad {} handshake from {}: {e}", self.protocol.as_str(), self.peer);
                self.stats.count(self.protocol, Event::HandshakeFailure);
                self.report(ReputationChange::BAD_HANDSHAKE);
                Err(())
            }
        }
    }

    /// The peer restarted its side of an established stream: as responder it sent a restart
    /// frame, as initiator a new message 1. We start over in our role and keep the old session
    /// until the new one is up. Beyond a few a minute each costs reputation; any other
    /// handshake message is a protocol violation. `None` when the stream must go.
    fn renew(
        &self,
        recent: &mut Vec<Instant>,
        recv: RecvHalf,
        message: Option<&[u8]>,
    ) -> Option<State> {
        let now = Instant::now();
        recent.retain(|t| now.duration_since(*t) < Duration::from_secs(60));
        recent.push(now);
        if recent.len() > REHANDSHAKES_PER_MINUTE {
            self.report(ReputationChange::REHANDSHAKE);
        }
        match (self.role(), message) {
            (Role::Initiator, None) => Some(State::Renewing(recv, self.start_handshake())),
            (Role::Responder, Some(message)) => {
                let (hs, _) = Handshake::start(&self.local, self.binding.clone(), self.policy);
                match self.handshake(hs, message) {
                    Ok(Err(hs)) => Some(State::Renewing(recv, hs)),
                    _ => None,
                }
            }
            _ => {
                self.stats.count(self.protocol, Event::HandshakeFailure);
                self.report(ReputationChange::BAD_HANDSHAKE);
                None
            }
        }
    }

    /// Opens a sealed frame in place, decodes its message (or each message of a `batch`) and
    /// hands it on. `Err` when the frame proves malice (the peer is banned and the stream goes).
    fn open(&self, recv: &mut RecvHalf, mut notification: Vec<u8>, batch: bool) -> Result<(), ()> {
        let range = match recv.open(&mut notification[SEAL_AT..]) {
            Ok(range) => range,
            Err(e) => {
                log::debug!(target: LOG_TARGET, "frame from {} refused: {e}", self.peer);
                let change = match e {
                    AeError::FrameTooShort(_) => {
                        self.decode_error();
                        return Ok(());
                    }
                    AeError::Replay { .. } => ReputationChange::REPLAY,
                    _ => ReputationChange::BAD_TAG,
                };
                self.stats.count(self.protocol, Event::DecryptFailure);
                self.report(change);
                return Err(());
            }
        };
        self.status.set_recv_epoch(self.protocol as usize, recv.epoch());
        let frame = Bytes::from(notification);
        let plaintext = frame.slice(SEAL_AT + range.start..SEAL_AT + range.end);
        if !batch {
            self.deliver(plaintext);
            return Ok(());
        }
        let messages = match crate::batch::split(plaintext) {
            Ok(messages) => messages,
            Err(e) => {
                log::debug!(target: LOG_TARGET, "bad batch from {}: {e}", self.peer);
                self.decode_error();
                return Ok(());
            }
        };
        // The worker charged the frame as one message: the budget pays for the others here.
        for (i, message) in messages.into_iter().enumerate() {
            if i > 0 {
                if let Some(change) = over_budget(self.budget.check(&self.peer, 0)) {
                    self.stats.dropped(self.protocol, Loss::InboundBudget);
                    self.report(change);
                    continue;
                }
            }
            self.deliver(message);
        }
        Ok(())
    }

    /// Decodes one message and hands it on.
    fn deliver(&self, plaintext: Bytes) {
        let message = match Message::decode(plaintext) {
            Ok(m) if self.protocol.carries(m.kind()) => m,
            Ok(_) => {
                self.stats.count(self.protocol, Event::DecodeError);
                self.report(ReputationChange::UNEXPECTED_MESSAGE);
                return;
            }
            Err(e) => {
                log::debug!(target: LOG_TARGET, "undecodable message from {}: {e}", self.peer);
                self.decode_error();
                return;
            }
        };
        self.stats.count(self.protocol, Event::Received);
        self.dispatch(message);
    }

    fn dispatch(&self, message: Message) {
        match message {
            Message::Consensus(c) => {
                if let Err(loss) = self.consensus.received(self.peer, self.id, c.payload.to_vec()) {
                    self.stats.dropped(self.protocol, loss);
                }
            }
            Message::Addresses(a) => self.peers.addresses(self.peer, a.addresses),
            message => {
                let lost = self.delivery.deliver(Inbound { peer: self.peer, message });
                self.stats.dropped_n(self.protocol, Loss::ConsumerFull, lost);
            }
        }
    }
}
