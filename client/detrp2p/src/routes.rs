//! The routes of one protocol's open streams: for each peer, the channel of its stream's task.
//! A route lives exactly as long as its sc-network stream, so that the stream's close always
//! reaches the peers task, even when the stream's task ended first.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
};

use sc_network::PeerId;
use tokio::sync::mpsc;

/// Identifies one opening of one stream: a stream that closes and opens again gets a new id,
/// so that late news of the old one is recognised.
pub(crate) type StreamId = u64;

/// Frames waiting for one stream's task: at most this many...
const ROUTE_FRAMES: usize = 256;
/// ...and this many bytes (at least the largest frame). Beyond, frames are dropped and counted:
/// the node is slower than the peer's budget allows, which is not the peer's fault.
const ROUTE_BYTES: usize = 16 << 20;

/// A frame on its way to its stream's task; its bytes count against the route until taken.
pub(crate) struct Frame {
    data: Vec<u8>,
    counted: usize,
    queued: Arc<AtomicUsize>,
}

impl Frame {
    /// The frame's bytes (no copy).
    pub fn into_vec(mut self) -> Vec<u8> {
        std::mem::take(&mut self.data)
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        self.queued.fetch_sub(self.counted, Ordering::Relaxed);
    }
}

struct Route {
    id: StreamId,
    tx: mpsc::Sender<Frame>,
    queued: Arc<AtomicUsize>,
}

/// What became of a frame handed to [`Routes::deliver`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// Queued for the stream's task.
    Queued,
    /// The peer has no open stream of this protocol.
    NoStream,
    /// The route holds its bound of frames or bytes: dropped.
    Full,
    /// The stream's task ended (a failed handshake or a fatal frame) and sc-network has not
    /// closed the stream yet: dropped. The route stays until the stream closes.
    Ended,
}

/// Peer → the route of its open stream.
#[derive(Default)]
pub(crate) struct Routes(HashMap<PeerId, Route>);

impl Routes {
    /// The route of the stream `id` just opened with `peer` (replacing an older one): returns
    /// the channel its task reads.
    pub fn open(&mut self, peer: PeerId, id: StreamId) -> mpsc::Receiver<Frame> {
        let (tx, rx) = mpsc::channel(ROUTE_FRAMES);
        self.0.insert(peer, Route { id, tx, queued: Arc::new(AtomicUsize::new(0)) });
        rx
    }

    /// The stream with `peer` closed: its id, if it had a route.
    pub fn close(&mut self, peer: &PeerId) -> Option<StreamId> {
        self.0.remove(peer).map(|route| route.id)
    }

    /// Whether `peer` has an open stream.
    pub fn has(&self, peer: &PeerId) -> bool {
        self.0.contains_key(peer)
    }

    /// Hands `data` to the task of `peer`'s stream.
    pub fn deliver(&self, peer: &PeerId, data: Vec<u8>) -> Delivery {
        let Some(route) = self.0.get(peer) else { return Delivery::NoStream };
        let len = data.len();
        if route.queued.load(Ordering::Relaxed) + len > ROUTE_BYTES {
            return Delivery::Full;
        }
        route.queued.fetch_add(len, Ordering::Relaxed);
        let frame = Frame { data, counted: len, queued: route.queued.clone() };
        match route.tx.try_send(frame) {
            Ok(()) => Delivery::Queued,
            Err(mpsc::error::TrySendError::Full(_)) => Delivery::Full,
            Err(mpsc::error::TrySendError::Closed(_)) => Delivery::Ended,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_whose_task_ended_still_reports_its_close() {
        let (mut routes, peer) = (Routes::default(), PeerId::random());
        let rx = routes.open(peer, 7);
        drop(rx);
        assert_eq!(routes.deliver(&peer, vec![1; 10]), Delivery::Ended);
        assert_eq!(routes.deliver(&peer, vec![1; 10]), Delivery::Ended);
        assert_eq!(routes.close(&peer), Some(7), "the peers task must hear of the close");
        assert_eq!(routes.deliver(&peer, vec![1; 10]), Delivery::NoStream);
    }

    #[test]
    fn routes_are_bounded_in_frames_and_bytes_and_taken_bytes_are_freed() {
        let (mut routes, peer) = (Routes::default(), PeerId::random());
        let mut rx = routes.open(peer, 1);
        for _ in 0..ROUTE_FRAMES {
            assert_eq!(routes.deliver(&peer, vec![0; 1]), Delivery::Queued);
        }
        assert_eq!(routes.deliver(&peer, vec![0; 1]), Delivery::Full);
        while rx.try_recv().is_ok() {}
        assert_eq!(routes.deliver(&peer, vec![0; ROUTE_BYTES]), Delivery::Queued);
        assert_eq!(routes.deliver(&peer, vec![0; 1]), Delivery::Full, "the byte bound");
        assert_eq!(rx.try_recv().map(Frame::into_vec).map(|v| v.len()), Ok(ROUTE_BYTES));
        assert_eq!(routes.deliver(&peer, vec![0; 1]), Delivery::Queued);
        let _reopened = routes.open(peer, 2);
        assert_eq!(routes.close(&peer), Some(2), "a stream opened again has a route of its own");
    }
}
