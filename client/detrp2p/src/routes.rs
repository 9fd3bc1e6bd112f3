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

/// The route of one open stream.
pub(crate) struct Route {
    id: StreamId,
    tx: mpsc::Sender<Frame>,
    queued: Arc<AtomicUsize>,
}

/// What became of a frame handed to [`Routes::deliver`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// Queued for the stream's task.
    Queued,
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

    /// The route of `peer`'s open stream, if it has one.
    pub fn get(&self, peer: &PeerId) -> Option<&Route> {
        self.0.get(peer)
    }
}

impl Route {
    /// Hands `data` to the stream's task.
    pub fn deliver(&self, data: Vec<u8>) -> Delivery {
        let len = data.len();
        if self.queued.load(Ordering::Relaxed) + len > ROUTE_BYTES {
            return Delivery::Full;
        }
        self.queued.fetch_add(len, Ordering::Relaxed);
        let frame = Frame { data, counted: len, queued: self.queued.clone() };
        match self.tx.try_send(frame) {
            Ok(()) => Delivery::Queued,
            Err(mpsc::error::TrySendError::Full(_)) => Delivery::Full,
            Err(mpsc::error::TrySendError::Closed(_)) => Delivery::Ended,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What became of `len` bytes for `peer`; `None`: it has no open stream.
    fn deliver(routes: &Routes, peer: &PeerId, len: usize) -> Option<Delivery> {
        routes.get(peer).map(|route| route.deliver(vec![0; len]))
    }

    #[test]
    fn a_stream_whose_task_ended_still_reports_its_close() {
        let (mut routes, peer) = (Routes::default(), PeerId::random());
        let rx = routes.open(peer, 7);
        drop(rx);
        assert_eq!(deliver(&routes, &peer, 10), Some(Delivery::Ended));
        assert_eq!(deliver(&routes, &peer, 10), Some(Delivery::Ended));
        assert_eq!(routes.close(&peer), Some(7), "the peers task must hear of the close");
        assert_eq!(deliver(&routes, &peer, 10), None);
    }

    #[test]
    fn routes_are_bounded_in_frames_and_bytes_and_taken_bytes_are_freed() {
        let (mut routes, peer) = (Routes::default(), PeerId::random());
        let mut rx = routes.open(peer, 1);
        for _ in 0..ROUTE_FRAMES {
            assert_eq!(deliver(&routes, &peer, 1), Some(Delivery::Queued));
        }
        assert_eq!(deliver(&routes, &peer, 1), Some(Delivery::Full));
        while rx.try_recv().is_ok() {}
        assert_eq!(deliver(&routes, &peer, ROUTE_BYTES), Some(Delivery::Queued));
        assert_eq!(deliver(&routes, &peer, 1), Some(Delivery::Full), "the byte bound");
        assert_eq!(rx.try_recv().map(Frame::into_vec).map(|v| v.len()), Ok(ROUTE_BYTES));
        assert_eq!(deliver(&routes, &peer, 1), Some(Delivery::Queued));
        let _reopened = routes.open(peer, 2);
        assert_eq!(routes.close(&peer), Some(2), "a stream opened again has a route of its own");
    }
}
