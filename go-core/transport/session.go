package transport

import (
	"net/netip"
	"time"

	"github.com/flarechain/detr-p2p/go-core/crypto"
)

// peerKey is what sessions are bound to: a remote identity at one address.
type peerKey struct {
	id   string // PeerId bytes
	addr netip.AddrPort
}

// peer is the state towards one (identity, address).
type peer struct {
	key peerKey
	// current is the only session sends are sealed under. A new handshake replaces it only
	// once complete and authenticated (the remote identity's certificate checked over the
	// Noise transcript); the replaced one is kept for receiving for retiredGrace.
	current *session
	pending *pending // our own handshake towards the peer
	queue   [][]byte // messages waiting for a session
	// yielded: our hello crossed theirs and theirs won (PeerId order); the queue waits for it.
	yielded time.Time
	// cookie: the peer's last cookie reply, echoed in our hellos while valid.
	cookie   [CookieSize]byte
	cookieAt time.Time
}

// pending is a handshake this side started.
type pending struct {
	hs      *crypto.Handshake // nil while the pool builds message 1
	index   uint32
	msg1    []byte
	hello   []byte
	started time.Time
	helloAt time.Time // when the hello was last sent
	resent  bool      // the hello went again for want of an answer (once)
	busy    bool      // a pool job holds hs
	cookies int       // cookie replies followed
}

// halfOpen is a handshake answered with message 2, waiting for message 3.
type halfOpen struct {
	hs          *crypto.Handshake
	addr        netip.AddrPort
	remoteIndex uint32
	msg1        [crypto.Msg1Size]byte
	response    []byte // sent again for a repeated hello: no new work
	frames      [][]byte
	created     time.Time
	busy        bool
}

// session is an established AEComms session.
type session struct {
	local, remote uint32
	key           peerKey
	keys          *crypto.Session
	established   time.Time
	lastRecv      time.Time
	// finish (initiator only) is message 3's datagram prefix, repeated in front of every frame
	// until a frame of the responder shows that message 3 arrived.
	finish  []byte
	rekeyAt uint64 // the send counter at which the next epoch starts
	retired time.Time
}

// halfKey finds a half-open handshake by its hello (address and the initiator's index).
type halfKey struct {
	addr  netip.AddrPort
	index uint32
}
