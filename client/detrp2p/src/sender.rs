//! The sending task of one (peer, protocol) stream: waits for the AEComms session, then takes
//! messages from the flow controller, seals them and sends them through the peer's
//! `MessageSink` (whose await is the backpressure). Rekeys when the policy says so.

use std::{sync::Arc, time::Instant};

use codec::Encode;
use etrid_p2p_dpeers::ReputationChange;
use sc_network::{service::traits::MessageSink, PeerId};

use crate::{
    protocols::{DetrProtocol, FrameTag},
    shared::{Shared, Stream},
    stats::Event,
    LOG_TARGET,
};

/// Waits (bounded by the handshake timeout) for the session. `false` if it never came.
async fn established(shared: &Shared, stream: &Stream) -> bool {
    let timeout = shared.config.read().handshake_timeout;
    let wait = async {
        loop {
            let notified = stream.on_established.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if stream.is_established() {
                return;
            }
            notified.await;
        }
    };
    tokio::time::timeout(timeout, wait).await.is_ok()
}

/// Runs until the stream closes.
pub(crate) async fn run(
    shared: Arc<Shared>,
    protocol: DetrProtocol,
    peer: PeerId,
    stream: Arc<Stream>,
    sink: Box<dyn MessageSink>,
) {
    if !established(&shared, &stream).await {
        // A stream that closed meanwhile (the peer left) is no fault of the peer's.
        let still_open = shared
            .streams
            .lock()
            .get(&(peer, protocol))
            .is_some_and(|open| Arc::ptr_eq(open, &stream));
        if still_open {
            log::debug!(target: LOG_TARGET, "{peer} did not complete the {} handshake in time", protocol.as_str());
            shared.report(peer, ReputationChange::BAD_HANDSHAKE);
        }
        return;
    }
    let flow = shared.flow(protocol).clone();
    while let Some((_, bytes)) = flow.recv(&peer).await {
        let (sealed, rekey) = {
            let mut channel = stream.channel.lock();
            let sealed = channel.seal(&bytes);
            let rekey = channel.needs_rekey(Instant::now()).then(|| channel.start_handshake());
            (sealed, rekey)
        };
        match sealed {
            Ok(frame) => {
                if let Err(e) = sink.send_async_notification(FrameTag::Sealed.frame(&frame)).await {
                    log::debug!(target: LOG_TARGET, "{} stream to {peer} closed: {e}", protocol.as_str());
                    shared.stats.count(protocol, Event::Dropped);
                    break;
                }
                shared.stats.count(protocol, Event::Sent);
            }
            Err(e) => {
                log::warn!(target: LOG_TARGET, "cannot seal for {peer}: {e}");
                shared.stats.count(protocol, Event::Dropped);
            }
        }
        if let Some(hello) = rekey {
            log::debug!(target: LOG_TARGET, "rekeying {} session with {peer}", protocol.as_str());
            sink.send_sync_notification(FrameTag::Handshake.frame(&hello.encode()));
        }
    }
}
