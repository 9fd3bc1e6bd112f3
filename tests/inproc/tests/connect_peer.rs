//! `DetrP2pHandle::connect_peer` and `disconnect_peer` on real sc-network instances, on both
//! backends: two in-process peers that know nothing of each other (no bootnodes, no mDNS) get
//! sessions on all four protocols once one calls `connect_peer`, carry bridge messages (one per
//! nonce, sent alone or many at once) and small messages in batches, and lose their streams, for
//! good, on `disconnect_peer`.

use std::time::Duration;

use detr_inproc::{Backend, PeerBuilder};
use detrp2p::{DetrConfig, DetrP2pHandle, DetrProtocol};
use etrid_protocol::{Message, MessageKind};
use sc_network::PeerId;
use sp_core::H256;

/// Small messages queued to a peer at once (the default burst of the rate limits lets 50 go
/// without waiting).
const SMALL_MESSAGES: usize = 200;

async fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "{what} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn no_sessions(handle: &DetrP2pHandle) -> bool {
    handle.sessions().await.is_empty()
}

fn all_sessions_with(handle: &DetrP2pHandle, peer: &PeerId) -> bool {
    DetrProtocol::ALL.into_iter().all(|p| handle.session_peers(p).contains(peer))
}

async fn connect_and_disconnect(backend: Backend) {
    let genesis = H256::repeat_byte(7);
    let a = PeerBuilder::new(genesis).with_detr(DetrConfig::default()).start(backend).await;
    let b = PeerBuilder::new(genesis).with_detr(DetrConfig::default()).start(backend).await;
    let (a, b) = (a.expect("A starts"), b.expect("B starts"));
    let (ha, hb) = (a.detr.clone().expect("plugin on A"), b.detr.clone().expect("plugin on B"));
    let addr = b.address().await.expect("B listens");

    let no_peer = "/ip4/127.0.0.1/tcp/1".parse().expect("a multiaddr");
    assert!(ha.connect_peer(no_peer).await.is_err(), "an address without /p2p/<id> is refused");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(no_sessions(&ha).await && no_sessions(&hb).await, "nothing connects them yet");

    ha.connect_peer(addr.concat()).await.expect("connect_peer accepts B's address");
    wait_until("sessions on all four protocols, both ways", Duration::from_secs(30), || {
        all_sessions_with(&ha, &b.peer_id) && all_sessions_with(&hb, &a.peer_id)
    })
    .await;

    let mut inbound = hb.subscribe_bridge(16, 1 << 20);
    let queued = ha.send_bridge(2, 1, vec![1, 2, 3].into()).await.expect("queued");
    assert_eq!(queued, 1);
    let received = tokio::time::timeout(Duration::from_secs(10), inbound.next())
        .await
        .expect("the message arrives in time")
        .expect("the subscription is open");
    assert_eq!(received.peer, a.peer_id);
    assert_eq!(
        ha.send_bridge(2, 1, vec![4].into()).await,
        Err(detrp2p::SendError::NonceUsed(1)),
        "one nonce, one message"
    );
    // Sent together (many wait in the bridge task's inbox at once): still one message per nonce.
    let sends = (10..42u64).flat_map(|n| [n, n]).map(|n| ha.send_bridge(2, n, vec![5].into()));
    let results = futures::future::join_all(sends).await;
    for (pair, n) in results.chunks(2).zip(10u64..) {
        let refused = pair.iter().filter(|r| **r == Err(detrp2p::SendError::NonceUsed(n))).count();
        assert_eq!((refused, pair.iter().filter(|r| r.is_ok()).count()), (1, 1), "{n}: {pair:?}");
    }

    // Small messages queued together travel in batches (one notification, one seal): every
    // one arrives, once, in order.
    let mut custom = hb.subscribe(MessageKind::Custom, SMALL_MESSAGES, 1 << 20);
    let message = |n: u32| Message::Custom(n.to_le_bytes().repeat(25).into());
    for n in 0..SMALL_MESSAGES as u32 {
        ha.send_message(&b.peer_id, message(n)).expect("room in the queue");
    }
    for n in 0..SMALL_MESSAGES as u32 {
        let got = tokio::time::timeout(Duration::from_secs(10), custom.next())
            .await
            .expect("every small message arrives in time")
            .expect("the subscription is open");
        assert_eq!(got.message, message(n), "in order");
    }
    let bridge = ha.stats().into_iter().find(|s| s.protocol == "bridge").expect("bridge stats");
    assert!(bridge.batches >= 1, "queued together, sent together: {bridge:?}");

    ha.disconnect_peer(&b.peer_id);
    let start = std::time::Instant::now();
    while !(no_sessions(&ha).await && no_sessions(&hb).await) {
        assert!(start.elapsed() < Duration::from_secs(15), "every stream closed on both sides");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(no_sessions(&ha).await, "B's retries are refused: {:?}", ha.sessions().await);
}

#[tokio::test(flavor = "multi_thread")]
async fn connect_peer_on_litep2p() {
    connect_and_disconnect(Backend::Litep2p).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn connect_peer_on_libp2p() {
    connect_and_disconnect(Backend::Libp2p).await;
}
