//! The events GRANDPA's notification service hands out, in the order they happened for each
//! peer: a session that came up is `NotificationStreamOpened` (the handshake being the peer's
//! roles), each opened message `NotificationReceived`, the session's end
//! `NotificationStreamClosed`. A stream replaced by a newer one is closed first; anything from
//! a replaced stream is dropped. Messages are bounded in count and bytes (a GRANDPA that lags
//! loses messages, counted, as gossip does); opens and closes are never dropped and are bounded
//! by the peers themselves. Sessions that came up before GRANDPA took the service are announced
//! to it when it does, followed by what they sent meanwhile (a restarted voter must see the
//! neighbor packets its peers sent while it was loading, or it never learns their rounds).

use std::collections::{HashMap, VecDeque};

use parking_lot::Mutex;
use sc_network::{
    service::traits::{Direction, NotificationEvent},
    PeerId,
};
use tokio::sync::Notify;

use crate::{metrics::Loss, routes::StreamId};

/// Most messages waiting for GRANDPA.
const MAX_MESSAGES: usize = 10_000;
/// Most bytes of messages waiting for GRANDPA.
const MAX_BYTES: usize = 64 << 20;
/// Most messages kept before GRANDPA takes the service: a few neighbor packets and votes per
/// peer while the voter loads; a node that never runs GRANDPA must not hold more.
const MAX_EARLY_MESSAGES: usize = 1_024;
/// Most bytes kept before GRANDPA takes the service.
const MAX_EARLY_BYTES: usize = 1 << 20;

#[derive(Default)]
struct Queue {
    events: VecDeque<NotificationEvent>,
    messages: usize,
    bytes: usize,
    /// Open sessions: stream, roles, whether the stream is inbound.
    open: HashMap<PeerId, (StreamId, u8, bool)>,
    /// Set once GRANDPA took the service: before that only messages of open sessions are
    /// kept (within the early bounds) and opens are announced at start.
    consumer: bool,
}

impl Queue {
    /// Drops the messages `peer` sent before GRANDPA came (its stream closed or was replaced).
    fn forget_early(&mut self, peer: &PeerId) {
        let (mut messages, mut bytes) = (0, 0);
        self.events.retain(|e| match e {
            NotificationEvent::NotificationReceived { peer: p, notification } if p == peer => {
                messages += 1;
                bytes += notification.len();
                false
            }
            _ => true,
        });
        self.messages -= messages;
        self.bytes -= bytes;
    }
}

fn opened_event(peer: PeerId, roles: u8, inbound: bool) -> NotificationEvent {
    let direction = if inbound { Direction::Inbound } else { Direction::Outbound };
    NotificationEvent::NotificationStreamOpened {
        peer,
        direction,
        handshake: vec![roles],
        negotiated_fallback: None,
    }
}

/// GRANDPA's event queue.
#[derive(Default)]
pub(crate) struct ConsensusEvents {
    queue: Mutex<Queue>,
    ready: Notify,
}

impl ConsensusEvents {
    /// Starts queueing (GRANDPA took the service): the sessions already up are opened first.
    pub fn start(&self) {
        let mut q = self.queue.lock();
        q.consumer = true;
        let open: Vec<_> =
            q.open.iter().map(|(p, (_, roles, inbound))| (*p, *roles, *inbound)).collect();
        for (peer, roles, inbound) in open {
            q.events.push_front(opened_event(peer, roles, inbound));
        }
        drop(q);
        self.ready.notify_one();
    }

    /// The session `stream` with `peer` is up.
    pub fn opened(&self, peer: PeerId, stream: StreamId, roles: u8, inbound: bool) {
        let mut q = self.queue.lock();
        let replaced = q.open.insert(peer, (stream, roles, inbound)).is_some();
        if !q.consumer {
            if replaced {
                q.forget_early(&peer);
            }
            return;
        }
        if replaced {
            q.events.push_back(NotificationEvent::NotificationStreamClosed { peer });
        }
        q.events.push_back(opened_event(peer, roles, inbound));
        drop(q);
        self.ready.notify_one();
    }

    /// The session `stream` with `peer` is gone.
    pub fn closed(&self, peer: PeerId, stream: StreamId) {
        let mut q = self.queue.lock();
        if q.open.get(&peer).map(|(id, ..)| *id) != Some(stream) {
            return;
        }
        q.open.remove(&peer);
        if !q.consumer {
            q.forget_early(&peer);
            return;
        }
        q.events.push_back(NotificationEvent::NotificationStreamClosed { peer });
        drop(q);
        self.ready.notify_one();
    }

    /// A GRANDPA message from `peer` on `stream`; `Err` says why it was dropped (GRANDPA lags,
    /// or the stream was replaced).
    pub fn received(
        &self,
        peer: PeerId,
        stream: StreamId,
        notification: Vec<u8>,
    ) -> Result<(), Loss> {
        let mut q = self.queue.lock();
        if q.open.get(&peer).map(|(id, ..)| *id) != Some(stream) {
            return Err(Loss::StreamGone);
        }
        let (max_messages, max_bytes) = if q.consumer {
            (MAX_MESSAGES, MAX_BYTES)
        } else {
            (MAX_EARLY_MESSAGES, MAX_EARLY_BYTES)
        };
        if q.messages >= max_messages || q.bytes + notification.len() > max_bytes {
            return Err(Loss::ConsumerFull);
        }
        q.messages += 1;
        q.bytes += notification.len();
        q.events.push_back(NotificationEvent::NotificationReceived { peer, notification });
        let consumer = q.consumer;
        drop(q);
        if consumer {
            self.ready.notify_one();
        }
        Ok(())
    }

    /// The next event, waiting for one.
    pub async fn next(&self) -> NotificationEvent {
        loop {
            let notified = self.ready.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(event) = self.pop() {
                return event;
            }
            notified.await;
        }
    }

    fn pop(&self) -> Option<NotificationEvent> {
        let mut q = self.queue.lock();
        let event = q.events.pop_front()?;
        if let NotificationEvent::NotificationReceived { notification, .. } = &event {
            q.messages -= 1;
            q.bytes -= notification.len();
        }
        Some(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(e: &NotificationEvent) -> &'static str {
        match e {
            NotificationEvent::NotificationStreamOpened { .. } => "opened",
            NotificationEvent::NotificationStreamClosed { .. } => "closed",
            NotificationEvent::NotificationReceived { .. } => "received",
            NotificationEvent::ValidateInboundSubstream { .. } => "validate",
        }
    }

    #[tokio::test]
    async fn a_replaced_stream_is_closed_first_and_its_late_events_are_dropped() {
        let events = ConsensusEvents::default();
        events.start();
        let peer = PeerId::random();
        events.opened(peer, 1, 4, true);
        assert!(events.received(peer, 1, vec![1]).is_ok());
        events.opened(peer, 2, 4, false);
        assert_eq!(
            events.received(peer, 1, vec![2]),
            Err(Loss::StreamGone),
            "the old stream's message"
        );
        events.closed(peer, 1);
        assert!(events.received(peer, 2, vec![3]).is_ok());
        let mut seen = Vec::new();
        while let Some(e) = events.pop() {
            seen.push(kind(&e));
        }
        assert_eq!(seen, ["opened", "received", "closed", "opened", "received"]);
    }

    #[tokio::test]
    async fn sessions_up_before_grandpa_starts_are_opened_when_it_does() {
        let events = ConsensusEvents::default();
        let (a, b) = (PeerId::random(), PeerId::random());
        events.opened(a, 1, 4, true);
        events.opened(b, 2, 4, false);
        assert!(events.received(a, 1, vec![7]).is_ok(), "kept for GRANDPA");
        assert!(events.received(b, 2, vec![8]).is_ok());
        events.closed(b, 2);
        events.start();
        match events.next().await {
            NotificationEvent::NotificationStreamOpened { peer, .. } => assert_eq!(peer, a),
            _ => panic!("A's session is opened first"),
        }
        match events.next().await {
            NotificationEvent::NotificationReceived { peer, notification } => {
                assert_eq!((peer, notification), (a, vec![7]), "then what A sent meanwhile")
            }
            _ => panic!("A's early message follows its open"),
        }
        assert!(events.pop().is_none(), "B's session went before GRANDPA came");
        assert!(events.received(a, 1, vec![0]).is_ok());
    }

    #[test]
    fn messages_before_start_are_bounded_tighter() {
        let events = ConsensusEvents::default();
        let peer = PeerId::random();
        events.opened(peer, 1, 4, true);
        let taken = (0..MAX_EARLY_MESSAGES + 10)
            .filter(|_| events.received(peer, 1, vec![0]).is_ok())
            .count();
        assert_eq!(taken, MAX_EARLY_MESSAGES);
        events.closed(peer, 1);
        let q = events.queue.lock();
        assert_eq!((q.messages, q.bytes, q.events.len()), (0, 0, 0), "forgotten with the stream");
    }

    #[test]
    fn messages_are_bounded() {
        let events = ConsensusEvents::default();
        let peer = PeerId::random();
        events.start();
        events.opened(peer, 1, 4, true);
        let taken =
            (0..MAX_MESSAGES + 10).filter(|_| events.received(peer, 1, vec![0]).is_ok()).count();
        assert_eq!(taken, MAX_MESSAGES);
        assert_eq!(events.received(peer, 1, vec![0; MAX_BYTES]), Err(Loss::ConsumerFull));
    }
}
