//! One link per peer: it owns the send halves of the peer's (up to four) sessions and is the
//! only consumer of the peer's scheduler. It sends, in order per stream, first the stream's
//! handshake messages, then the messages the scheduler hands out for the protocols whose
//! stream is free, each sealed in place just before it goes; small messages of one protocol
//! queued together go together, in one batch (`batch.rs`). Each stream has at most one send in
//! flight (`send_async_notification`'s await is the backpressure), so a slow transaction stream
//! never holds consensus back.
//!
//! The receive halves live in one [`stream`] task per stream.

pub(crate) mod status;
pub(crate) mod stream;

use std::{collections::VecDeque, sync::Arc, time::Instant};

use etrid_aecomms::{RekeyPolicy, SendHalf};
use etrid_p2p_fluent::Servable;
use futures::{future::BoxFuture, stream::FuturesUnordered, FutureExt, StreamExt};
use sc_network::{service::traits::MessageSink, PeerId};
use tokio::sync::mpsc;

use crate::{
    batch,
    metrics::{Event, Loss, Stats},
    outbound::{Outbound, Outbox},
    protocols::{DetrProtocol, SEAL_AT},
    routes::StreamId,
    LOG_TARGET,
};
pub(crate) use status::LinkStatus;

/// What a link is told.
pub(crate) enum LinkCmd {
    /// A stream opened: its sink.
    Stream { protocol: DetrProtocol, id: StreamId, sink: Box<dyn MessageSink> },
    /// A stream closed.
    Closed { protocol: DetrProtocol, id: StreamId },
    /// A handshake message to send on a stream, before anything else on it.
    Handshake { protocol: DetrProtocol, id: StreamId, frame: Vec<u8> },
    /// A stream's session is up (or renewed): its send half.
    SessionUp { protocol: DetrProtocol, id: StreamId, send: SendHalf },
    /// A new rekey policy for every session.
    Policy(RekeyPolicy),
}

/// The sending side of one stream.
struct Slot {
    id: StreamId,
    sink: Arc<dyn MessageSink>,
    control: VecDeque<Vec<u8>>,
    send: Option<SendHalf>,
    busy: bool,
}

type Sending = BoxFuture<'static, (DetrProtocol, StreamId, bool)>;

fn start_send(protocol: DetrProtocol, slot: &mut Slot, frame: Vec<u8>) -> Sending {
    slot.busy = true;
    let (id, sink) = (slot.id, slot.sink.clone());
    async move { (protocol, id, sink.send_async_notification(frame).await.is_ok()) }.boxed()
}

/// A link's task.
pub(crate) struct Link {
    pub peer: PeerId,
    pub outbox: Outbox,
    pub stats: Arc<Stats>,
    pub status: Arc<LinkStatus>,
    pub policy: RekeyPolicy,
}

impl Link {
    /// Runs until its command channel closes (the peer's last stream closed).
    pub async fn run(mut self, mut cmds: mpsc::UnboundedReceiver<LinkCmd>) {
        let mut slots: [Option<Slot>; 4] = Default::default();
        let mut sending = FuturesUnordered::<Sending>::new();
        loop {
            for protocol in DetrProtocol::ALL {
                if let Some(slot) = slots[protocol as usize].as_mut().filter(|s| !s.busy) {
                    if let Some(frame) = slot.control.pop_front() {
                        sending.push(start_send(protocol, slot, frame));
                    }
                }
            }
            let servable = DetrProtocol::ALL
                .into_iter()
                .filter(|p| {
                    slots[*p as usize].as_ref().is_some_and(|s| s.send.is_some() && !s.busy)
                })
                .fold(Servable::NONE, |s, p| s.union(p.priorities()));
            tokio::select! {
                biased;
                cmd = cmds.recv() => match cmd {
                    Some(cmd) => self.command(&mut slots, cmd),
                    None => break,
                },
                Some((protocol, id, ok)) = sending.next(), if !sending.is_empty() => {
                    if let Some(slot) = slots[protocol as usize].as_mut().filter(|s| s.id == id) {
                        slot.busy = false;
                    }
                    if !ok {
                        log::debug!(target: LOG_TARGET, "{} stream to {} closed while sending", protocol.as_str(), self.peer);
                        self.stats.dropped(protocol, Loss::StreamGone);
                    }
                },
                Some(out) = self.outbox.recv(&self.peer, servable), if servable != Servable::NONE => {
                    self.stats.queue_delay(out.priority, out.waited);
                    let protocol = out.message.protocol;
                    let Some(slot) = slots[protocol as usize].as_mut() else {
                        self.stats.dropped(protocol, Loss::StreamGone);
                        continue;
                    };
                    let Some(send) = slot.send.as_mut() else {
                        self.stats.dropped(protocol, Loss::StreamGone);
                        continue;
                    };
                    let (mut frame, n) = self.fill(out.message);
                    match send.seal(&mut frame, SEAL_AT, Instant::now()) {
                        Ok(()) => {
                            self.status.set_send_epoch(protocol as usize, send.epoch());
                            self.stats.count_n(protocol, Event::Sent, n);
                            if n > 1 {
                                self.stats.count(protocol, Event::Batch);
                            }
                            sending.push(start_send(protocol, slot, frame));
                        }
                        Err(e) => {
                            log::warn!(target: LOG_TARGET, "cannot seal for {}: {e}", self.peer);
                            self.stats.dropped_n(protocol, Loss::SealFailed, n);
                        }
                    }
                },
            }
        }
        self.outbox.remove_peer(&self.peer);
    }

    /// The notification for `first` and the number of messages in it: `first` alone, or a
    /// batch with the small messages of its protocol the scheduler hands out right now.
    fn fill(&self, first: Outbound) -> (Vec<u8>, u64) {
        if first.len() > batch::BATCH_FIRST {
            return (first.into_frame(), 1);
        }
        let servable = first.protocol.priorities();
        let mut size = batch::LEN_PREFIX + first.len();
        let mut messages = vec![first];
        while messages.len() < batch::BATCH_MESSAGES {
            let Some(room) = batch::BATCH_BYTES.checked_sub(size + batch::LEN_PREFIX) else {
                break;
            };
            let Some(next) = self.outbox.try_recv_within(&self.peer, servable, room) else {
                break;
            };
            self.stats.queue_delay(next.priority, next.waited);
            size += batch::LEN_PREFIX + next.message.len();
            messages.push(next.message);
        }
        match messages.len() {
            1 => (messages.pop().expect("one").into_frame(), 1),
            n => (batch::frame(&messages), n as u64),
        }
    }

    fn command(&mut self, slots: &mut [Option<Slot>; 4], cmd: LinkCmd) {
        match cmd {
            LinkCmd::Stream { protocol, id, sink } => {
                slots[protocol as usize] = Some(Slot {
                    id,
                    sink: Arc::from(sink),
                    control: VecDeque::new(),
                    send: None,
                    busy: false,
                });
            }
            LinkCmd::Closed { protocol, id } => {
                if slots[protocol as usize].as_ref().is_some_and(|s| s.id == id) {
                    slots[protocol as usize] = None;
                }
            }
            LinkCmd::Handshake { protocol, id, frame } => {
                if let Some(slot) = slots[protocol as usize].as_mut().filter(|s| s.id == id) {
                    slot.control.push_back(frame);
                }
            }
            LinkCmd::SessionUp { protocol, id, mut send } => {
                if let Some(slot) = slots[protocol as usize].as_mut().filter(|s| s.id == id) {
                    send.set_policy(self.policy);
                    slot.send = Some(send);
                }
            }
            LinkCmd::Policy(policy) => {
                self.policy = policy;
                for slot in slots.iter_mut().flatten() {
                    if let Some(send) = slot.send.as_mut() {
                        send.set_policy(policy);
                    }
                }
            }
        }
    }
}
