//! Inbound messages handed to their consumers: one set of subscribers per kind, each behind a
//! channel bounded in messages and bytes. Subscribers share each message (`Arc`); one that lags
//! loses its own messages (counted), never the node's memory.

use std::sync::{
    atomic::{AtomicU64, AtomicUsize, Ordering},
    Arc,
};

use etrid_protocol::{Message, MessageKind};
use parking_lot::Mutex;
use sc_network::PeerId;
use tokio::sync::mpsc;

/// A message as received: who sent it, and what.
#[derive(Debug)]
pub struct Inbound {
    /// The peer it came from.
    pub peer: PeerId,
    /// The message (payloads are slices of the received frame).
    pub message: Message,
}

impl Inbound {
    /// Bytes the message holds.
    pub fn len(&self) -> usize {
        self.message.encoded_len()
    }

    /// Whether it holds nothing (never: every message has a header).
    pub fn is_empty(&self) -> bool {
        false
    }
}

struct Subscriber {
    tx: mpsc::Sender<Arc<Inbound>>,
    bytes: Arc<AtomicUsize>,
    max_bytes: usize,
    dropped: Arc<AtomicU64>,
}

/// A subscription to one kind of inbound message.
pub struct Subscription {
    rx: mpsc::Receiver<Arc<Inbound>>,
    bytes: Arc<AtomicUsize>,
    dropped: Arc<AtomicU64>,
}

impl Subscription {
    /// The next message; `None` once the plugin stopped.
    pub async fn next(&mut self) -> Option<Arc<Inbound>> {
        let message = self.rx.recv().await?;
        self.bytes.fetch_sub(message.len(), Ordering::Relaxed);
        Some(message)
    }

    /// The next message if one is waiting.
    pub fn try_next(&mut self) -> Option<Arc<Inbound>> {
        let message = self.rx.try_recv().ok()?;
        self.bytes.fetch_sub(message.len(), Ordering::Relaxed);
        Some(message)
    }

    /// Messages this subscriber lost because it lagged.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Every kind's subscribers.
#[derive(Default)]
pub(crate) struct Delivery {
    kinds: [Mutex<Vec<Subscriber>>; MessageKind::ALL.len()],
}

fn index(kind: MessageKind) -> usize {
    MessageKind::ALL.iter().position(|k| *k == kind).expect("every kind is listed")
}

impl Delivery {
    /// Subscribes to messages of `kind`, at most `max_messages` and `max_bytes` waiting.
    pub fn subscribe(
        &self,
        kind: MessageKind,
        max_messages: usize,
        max_bytes: usize,
    ) -> Subscription {
        let (tx, rx) = mpsc::channel(max_messages.max(1));
        let bytes = Arc::new(AtomicUsize::new(0));
        let dropped = Arc::new(AtomicU64::new(0));
        self.kinds[index(kind)].lock().push(Subscriber {
            tx,
            bytes: bytes.clone(),
            max_bytes,
            dropped: dropped.clone(),
        });
        Subscription { rx, bytes, dropped }
    }

    /// Hands `inbound` to every subscriber of its kind; returns how many lost it because they
    /// lagged. Subscribers that went away are forgotten.
    pub fn deliver(&self, inbound: Inbound) -> u64 {
        let len = inbound.len();
        let mut subscribers = self.kinds[index(inbound.message.kind())].lock();
        subscribers.retain(|s| !s.tx.is_closed());
        let shared = Arc::new(inbound);
        let mut lost = 0;
        for s in subscribers.iter() {
            let over = s.bytes.load(Ordering::Relaxed) + len > s.max_bytes;
            if over || s.tx.try_send(shared.clone()).is_err() {
                s.dropped.fetch_add(1, Ordering::Relaxed);
                lost += 1;
            } else {
                s.bytes.fetch_add(len, Ordering::Relaxed);
            }
        }
        lost
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn custom(n: usize) -> Inbound {
        Inbound { peer: PeerId::random(), message: Message::Custom(Bytes::from(vec![0; n])) }
    }

    #[tokio::test]
    async fn a_lagging_subscriber_loses_its_own_messages_within_its_byte_bound() {
        let delivery = Delivery::default();
        let mut slow = delivery.subscribe(MessageKind::Custom, 1000, 10_000);
        let mut fast = delivery.subscribe(MessageKind::Custom, 1000, 10_000_000);
        for _ in 0..100 {
            delivery.deliver(custom(1000));
            assert!(fast.next().await.is_some());
        }
        // Each message holds 1003 bytes: nine fit in 10 000.
        assert_eq!(slow.dropped(), 91);
        assert_eq!(fast.dropped(), 0);
        for _ in 0..9 {
            slow.next().await.unwrap();
        }
        delivery.deliver(custom(1000));
        assert!(slow.next().await.is_some(), "room again once it caught up");
    }

    #[tokio::test]
    async fn subscribers_see_only_their_kind_and_share_each_message() {
        let delivery = Delivery::default();
        let mut a = delivery.subscribe(MessageKind::Custom, 10, 1 << 20);
        let mut b = delivery.subscribe(MessageKind::Custom, 10, 1 << 20);
        let mut tx = delivery.subscribe(MessageKind::Transactions, 10, 1 << 20);
        delivery.deliver(custom(10));
        let (x, y) = (a.next().await.unwrap(), b.next().await.unwrap());
        assert!(Arc::ptr_eq(&x, &y), "one copy for both");
        drop(delivery);
        assert!(tx.next().await.is_none());
    }
}
