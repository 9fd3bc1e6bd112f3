//! What a link shows of itself while it runs: per protocol, the key epochs of its two halves.
//! Written by the link and its stream tasks, read for RPC.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
struct ProtocolStatus {
    send_epoch: AtomicU64,
    recv_epoch: AtomicU64,
}

/// A link's status.
#[derive(Default)]
pub(crate) struct LinkStatus {
    protocols: [ProtocolStatus; 4],
}

impl LinkStatus {
    pub fn set_send_epoch(&self, protocol: usize, epoch: u64) {
        self.protocols[protocol].send_epoch.store(epoch, Ordering::Relaxed);
    }

    pub fn set_recv_epoch(&self, protocol: usize, epoch: u64) {
        self.protocols[protocol].recv_epoch.store(epoch, Ordering::Relaxed);
    }

    /// Send and receive key epochs of `protocol`.
    pub fn epochs(&self, protocol: usize) -> (u64, u64) {
        let p = &self.protocols[protocol];
        (p.send_epoch.load(Ordering::Relaxed), p.recv_epoch.load(Ordering::Relaxed))
    }
}
