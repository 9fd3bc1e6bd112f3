//! The events GRANDPA's notification service hands out, in the order they happened for each
//! peer: a session that came up is `NotificationStreamOpened` (the handshake being the peer's
//! roles), each opened message `NotificationReceived`, the session's end
//! `NotificationStreamClosed`. A stream replaced by a newer one is closed first; anything from
//! a replaced stream is dropped. Messages are bounded in count and bytes (a GRANDPA that lags
//! loses messages, counted, as gossip does); opens and closes are never dropped and are bounded
//! by the peers themselves. Sessions that came up before GRANDPA took the service are announced
//! to it when it does.

use std::collections::{HashMap, VecDeque};

use parking_lot::Mutex;
use sc_network::{
    service::traits::{Direction, NotificationEvent},
    PeerId,
};
use tokio::sync::Notify;

use crate::worker::StreamId;

/// Most messages waiting for GRANDPA.
const MAX_MESSAGES: usize = 10_000;
/// Most bytes of messages waiting for GRANDPA.
const MAX_BYTES: usize = 64 << 20;

#[derive(Default)]
struct Queue {
    events: VecDeque<NotificationEvent>,
    messages: usize,
    bytes: usize,
    /// Open sessions: stream, roles, whether the stream is inbound.
    open: HashMap<PeerId, (StreamId, u8, bool)>,
    /// Set once GRANDPA took the service: before that nothing is queued.
    consumer: bool,
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
        let open: Vec<_> = q.open.iter().map(|(p, (_, roles, inbound))| (*p, *roles, *inbound)).collect();
        for (peer, roles, inbound) in open {
            q.events.push_back(opened_event(peer, roles, inbound));
        }
        drop(q);
        self.ready.notify_one();
    }

    /// The session `stream` with `peer` is up.
    pub fn opened(&self, peer: PeerId, stream: StreamId, roles: u8, inbound: bool) {
        let mut q = self.queue.lock();
        let replaced = q.open.insert(peer, (stream, roles, inbound)).is_some();
        if !q.consumer {
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
            return;
        }
        q.events.push_back(NotificationEvent::NotificationStreamClosed { peer });
        drop(q);
        self.ready.notify_one();
    }

    /// A GRANDPA message from `peer` on `stream`. `false` if it was dropped (GRANDPA lags, or
    /// the stream was replaced).
    pub fn received(&self, peer: PeerId, stream: StreamId, notification: Vec<u8>) -> bool {
        let mut q = self.queue.lock();
        if !q.consumer || q.open.get(&peer).map(|(id, ..)| *id) != Some(stream) {
            return false;
        }
        if q.messages >= MAX_MESSAGES || q.bytes + notification.len() > MAX_BYTES {
            return false;
        }
        q.messages += 1;
        q.bytes += notification.len();
        q.events.push_back(NotificationEvent::NotificationReceived { peer, notification });
        drop(q);
        self.ready.notify_one();
        true
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
        assert!(events.received(peer, 1, vec![1]));
        events.opened(peer, 2, 4, false);
        assert!(!events.received(peer, 1, vec![2]), "the old stream's message");
        events.closed(peer, 1);
        assert!(events.received(peer, 2, vec![3]));
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
        events.closed(b, 2);
        assert!(!events.received(a, 1, vec![0]), "no consumer yet");
        events.start();
        match events.next().await {
            NotificationEvent::NotificationStreamOpened { peer, .. } => assert_eq!(peer, a),
            _ => panic!("A's session is opened first"),
        }
        assert!(events.pop().is_none(), "B's session went before GRANDPA came");
        assert!(events.received(a, 1, vec![0]));
    }

    #[test]
    fn messages_are_bounded() {
        let events = ConsensusEvents::default();
        let peer = PeerId::random();
        events.start();
        events.opened(peer, 1, 4, true);
        let taken = (0..MAX_MESSAGES + 10).filter(|_| events.received(peer, 1, vec![0])).count();
        assert_eq!(taken, MAX_MESSAGES);
        assert!(!events.received(peer, 1, vec![0; MAX_BYTES]));
    }
}
