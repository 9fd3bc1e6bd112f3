package transport

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"log/slog"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"github.com/flarechain/detr-p2p/go-core/crypto"
)

const (
	// maxQueued bounds the messages waiting for a handshake with one peer.
	maxQueued = 32
	// maxPeers bounds the (identity, address) pairs with a session or a handshake: the
	// discovery table and its lookups need a few hundred; the rest would be an attacker's.
	maxPeers = 4096
	// maxHalfOpen bounds the handshakes answered with message 2 and waiting for message 3
	// (each holds an ephemeral key); beyond it hellos are shed until some complete or expire.
	maxHalfOpen = 1024
	// maxCookieReplies is how many cookie replies one hello follows: one is the protocol, a
	// second covers a secret rotation; more would be a loop an attacker could keep going.
	maxCookieReplies = 2
	// retiredGrace keeps a replaced session for receiving frames still in flight under it.
	retiredGrace = 30 * time.Second
)

// Config tunes a Transport; zero fields take the defaults.
type Config struct {
	// Protocol is the protocol name in the handshake's prologue (default "/detr/discovery/3").
	// Its version follows the wire form of the messages sessions carry (3: a GETRECORDS lists
	// the records its asker holds), so daemons that would misread each other never handshake.
	Protocol string
	// HandshakeTimeout drops handshakes (and the messages waiting on them) not completed in
	// time (default 5 s).
	HandshakeTimeout time.Duration
	// SessionLifetime starts a new handshake (fresh Diffie-Hellman) for a session this old,
	// and drops a session silent for this long (default 10 min).
	SessionLifetime time.Duration
	// RekeyFrames: the sender moves to the next key epoch after this many frames (default 2^16).
	RekeyFrames uint64
	// PerSourceRate and PerSourceBurst limit datagrams per source (IPv4 address, IPv6 /64,
	// loopback address and port) (default 200/s, 400).
	PerSourceRate  float64
	PerSourceBurst int
	// HandshakeWorkers and HandshakeQueue size the handshake pool (default GOMAXPROCS, 256).
	HandshakeWorkers, HandshakeQueue int
	// Logger (default slog.Default()).
	Logger *slog.Logger
}

func (c *Config) defaults() {
	if c.Protocol == "" {
		c.Protocol = "/detr/discovery/3"
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = 5 * time.Second
	}
	if c.SessionLifetime == 0 {
		c.SessionLifetime = 10 * time.Minute
	}
	if c.RekeyFrames == 0 {
		c.RekeyFrames = 1 << 16
	}
	if c.PerSourceRate == 0 {
		c.PerSourceRate = 200
	}
	if c.PerSourceBurst == 0 {
		c.PerSourceBurst = 400
	}
	if c.HandshakeWorkers == 0 {
		c.HandshakeWorkers = runtime.GOMAXPROCS(0)
	}
	if c.HandshakeQueue == 0 {
		c.HandshakeQueue = 256
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Handler receives every authenticated message with the sender's address and PeerId. It may
// be called from several goroutines at once.
type Handler func(from netip.AddrPort, peerID []byte, msg []byte)

// Stats counts what the transport did.
type Stats struct {
	PacketsIn, PacketsOut, BytesIn, BytesOut uint64
	Dropped, RateLimited, AuthFailures       uint64
	Handshakes, HandshakeFailures, Timeouts  uint64
	// CookiesSent: hellos answered with a cookie reply; HandshakesShed: handshakes dropped
	// because the pool's queue, the half-open table or the peer table was full.
	CookiesSent, HandshakesShed uint64
}

// ErrBusy is returned by Send when no more peers or queued messages fit.
var ErrBusy = errors.New("transport: too many peers or messages waiting for a handshake")

// Transport is one datagram endpoint and the sessions of every (identity, address).
type Transport struct {
	cfg     Config
	id      *crypto.Identity
	static  *crypto.StaticKey
	conn    PacketConn
	handler Handler
	cookies *cookies
	limiter *sourceLimiter
	pool    *pool

	mu            sync.Mutex
	peers         map[peerKey]*peer
	sessions      map[uint32]*session  // by local index, current and retired
	halfOpen      map[uint32]*halfOpen // by local index
	halfByHello   map[halfKey]uint32
	pendingByIdx  map[uint32]*peer
	pendingByAddr map[netip.AddrPort]*peer
	stats         Stats
	// sendBuf is the datagram being sealed (under mu): WriteTo is done with it when it
	// returns, so one buffer serves every frame (a fresh one per frame was 13% of what a
	// 1,000-daemon network allocated).
	sendBuf []byte
	done    chan struct{}
	wg      sync.WaitGroup
}

// Listen opens a UDP socket at addr (e.g. "127.0.0.1:0") and starts a transport on it.
func Listen(addr string, id *crypto.Identity, cfg Config, handler Handler) (*Transport, error) {
	conn, err := ListenUDP(addr)
	if err != nil {
		return nil, err
	}
	t, err := New(conn, id, cfg, handler)
	if err != nil {
		conn.Close()
		return nil, err
	}
	t.Start()
	return t, nil
}

// New makes a transport on conn with a fresh static key certified by id. It reads nothing
// until Start: its owner first keeps it, so that the handler of the first message finds it.
func New(conn PacketConn, id *crypto.Identity, cfg Config, handler Handler) (*Transport, error) {
	cfg.defaults()
	static, err := crypto.NewStaticKey(id, rand.Reader)
	if err != nil {
		return nil, err
	}
	t := &Transport{
		cfg: cfg, id: id, static: static, conn: conn, handler: handler,
		cookies: newCookies(), limiter: newSourceLimiter(cfg.PerSourceRate, cfg.PerSourceBurst),
		pool:  newPool(cfg.HandshakeWorkers, cfg.HandshakeQueue),
		peers: map[peerKey]*peer{}, sessions: map[uint32]*session{}, halfOpen: map[uint32]*halfOpen{},
		halfByHello: map[halfKey]uint32{}, pendingByIdx: map[uint32]*peer{}, pendingByAddr: map[netip.AddrPort]*peer{},
		sendBuf: make([]byte, 0, MaxPacketSize), done: make(chan struct{}),
	}
	return t, nil
}

// Start reads datagrams and expires handshakes and sessions, until Close. Call it once.
func (t *Transport) Start() {
	t.wg.Add(2)
	go t.readLoop()
	go t.sweepLoop()
}

// LocalAddr is the endpoint's address.
func (t *Transport) LocalAddr() netip.AddrPort { return t.conn.LocalAddr() }

// Close stops the transport and zeroizes every key.
func (t *Transport) Close() error {
	select {
	case <-t.done:
		return nil
	default:
	}
	close(t.done)
	err := t.conn.Close()
	t.wg.Wait()
	t.pool.stop()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range t.sessions {
		s.keys.Close()
	}
	for _, h := range t.halfOpen {
		if h.hs != nil {
			h.hs.Close()
		}
	}
	for _, p := range t.pendingByIdx {
		if p.pending.hs != nil {
			p.pending.hs.Close()
		}
	}
	clear(t.sessions)
	clear(t.halfOpen)
	clear(t.pendingByIdx)
	t.static.Close()
	return err
}

// Stats is a snapshot of the counters.
func (t *Transport) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats
}

// Sessions is the number of established sessions (current ones).
func (t *Transport) Sessions() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, p := range t.peers {
		if p.current != nil {
			n++
		}
	}
	return n
}

// prologue binds a UDP handshake: no initiator PeerId (the responder learns it from message 3),
// the responder's PeerId (a hello reaching another daemon fails at message 2), the protocol
// name, and a zero genesis (discovery serves every chain).
func (t *Transport) prologue(responder []byte) []byte {
	return crypto.Prologue(nil, responder, []byte(t.cfg.Protocol), [32]byte{})
}

// Send seals msg for the daemon with PeerId peerID at `to`, starting a handshake first if
// needed (msg then waits for it, up to HandshakeTimeout).
func (t *Transport) Send(to netip.AddrPort, peerID []byte, msg []byte) error {
	if len(msg) > MaxMessageSize {
		return ErrTooLarge
	}
	to = unmap(to)
	t.mu.Lock()
	defer t.mu.Unlock()
	k := peerKey{string(peerID), to}
	p := t.peers[k]
	if p == nil {
		if len(t.peers) >= maxPeers {
			t.stats.Dropped++
			return ErrBusy
		}
		p = &peer{key: k}
		t.peers[k] = p
	}
	now := time.Now()
	if s := p.current; s != nil {
		if now.Sub(s.established) > t.cfg.SessionLifetime && p.pending == nil {
			t.startLocked(p, now)
		}
		return t.sealLocked(s, msg)
	}
	if len(p.queue) >= maxQueued {
		t.stats.Dropped++
		return ErrBusy
	}
	p.queue = append(p.queue, bytes.Clone(msg))
	if p.pending == nil && p.yielded.IsZero() {
		t.startLocked(p, now)
	}
	return nil
}

// newIndexLocked picks an unused non-zero local index.
func (t *Transport) newIndexLocked() uint32 {
	var b [4]byte
	for {
		_, _ = rand.Read(b[:])
		i := binary.LittleEndian.Uint32(b[:])
		_, s := t.sessions[i]
		_, h := t.halfOpen[i]
		_, p := t.pendingByIdx[i]
		if i != 0 && !s && !h && !p {
			return i
		}
	}
}

// startLocked begins a handshake towards p; message 1 is made in the pool.
func (t *Transport) startLocked(p *peer, now time.Time) {
	pd := &pending{index: t.newIndexLocked(), started: now, busy: true}
	p.pending = pd
	t.pendingByIdx[pd.index] = p
	t.pendingByAddr[p.key.addr] = p
	remote := []byte(p.key.id)
	ok := t.pool.submit(func() {
		hs, err := crypto.NewHandshake(crypto.HandshakeConfig{Initiator: true, Static: t.static,
			Prologue: t.prologue(remote), RemotePeerID: remote, Ephemeral: rand.Reader})
		var msg1 []byte
		if err == nil {
			msg1, _, err = hs.WriteMessage(nil)
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		if p.pending != pd || err != nil {
			if hs != nil {
				hs.Close()
			}
			return
		}
		pd.hs, pd.msg1, pd.busy = hs, msg1, false
		var cookie *[CookieSize]byte
		if !p.cookieAt.IsZero() && time.Since(p.cookieAt) < CookieRotation {
			cookie = &p.cookie
		}
		pd.hello = encodeHello(pd.index, cookie, msg1)
		t.helloLocked(p.key.addr, pd)
	})
	if !ok {
		t.stats.HandshakesShed++
		t.abandonLocked(p)
	}
}

// helloLocked sends pd's hello to addr: first, after a cookie reply, or again (sweep).
func (t *Transport) helloLocked(addr netip.AddrPort, pd *pending) {
	pd.helloAt = time.Now()
	t.writeLocked(addr, pd.hello)
}

// abandonLocked forgets p's own handshake.
func (t *Transport) abandonLocked(p *peer) {
	if pd := p.pending; pd != nil {
		if pd.hs != nil && !pd.busy {
			pd.hs.Close()
		}
		delete(t.pendingByIdx, pd.index)
		if t.pendingByAddr[p.key.addr] == p {
			delete(t.pendingByAddr, p.key.addr)
		}
		p.pending = nil
	}
}

func (t *Transport) sealLocked(s *session, msg []byte) error {
	if s.keys.Send.Counter() >= s.rekeyAt {
		s.keys.Send.Rekey()
		s.rekeyAt += t.cfg.RekeyFrames
	}
	pkt := t.sendBuf[:0]
	if s.finish != nil {
		pkt = append(pkt, s.finish...)
	} else {
		pkt = append(pkt, typeData, 0, 0, 0, 0)
		binary.LittleEndian.PutUint32(pkt[1:], s.remote)
	}
	pkt, err := s.keys.Send.Seal(pkt, msg)
	if err != nil {
		return err
	}
	t.writeLocked(s.key.addr, pkt)
	return nil
}

func (t *Transport) writeLocked(to netip.AddrPort, pkt []byte) {
	if err := t.conn.WriteTo(pkt, to); err != nil {
		t.stats.Dropped++
		return
	}
	t.stats.PacketsOut++
	t.stats.BytesOut += uint64(len(pkt))
}

// installLocked makes s p's current session (the old one retires) and sends p's queue.
func (t *Transport) installLocked(p *peer, s *session) {
	now := time.Now()
	s.established, s.lastRecv, s.rekeyAt = now, now, t.cfg.RekeyFrames
	if old := p.current; old != nil {
		old.retired = now
	}
	p.current = s
	p.yielded = time.Time{}
	t.sessions[s.local] = s
	t.stats.Handshakes++
	queue := p.queue
	p.queue = nil
	if s.finish != nil && len(queue) == 0 {
		queue = [][]byte{nil} // message 3 goes at once (a rekey may have nothing to send)
	}
	for _, msg := range queue {
		_ = t.sealLocked(s, msg)
	}
}

// confirm sends an empty frame under the responder's new session s if nothing was sent under
// it yet: the initiator repeats message 3 until it receives a frame, and drops a session
// still unconfirmed after HandshakeTimeout.
func (t *Transport) confirm(s *session) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sessions[s.local] == s && s.keys.Send.Counter() == 0 {
		_ = t.sealLocked(s, nil)
	}
}
