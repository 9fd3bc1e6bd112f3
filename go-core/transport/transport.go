package transport

import (
	"bytes"
	"crypto/rand"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/flarechain/detr-p2p/go-core/crypto"
)

// Config tunes a Transport; zero fields take the defaults.
type Config struct {
	// Protocol binds the handshakes (default "/detr/discovery/1").
	Protocol string
	// HandshakeTimeout drops handshakes (and the messages waiting on them) not completed in
	// time (default 5 s).
	HandshakeTimeout time.Duration
	// SessionLifetime starts a new handshake for sends after this long (default 10 min).
	SessionLifetime time.Duration
	// PerIPRate and PerIPBurst limit packets accepted per source IP (default 200/s, 400).
	PerIPRate  rate.Limit
	PerIPBurst int
	// Logger (default slog.Default()).
	Logger *slog.Logger
}

func (c *Config) defaults() {
	if c.Protocol == "" {
		c.Protocol = "/detr/discovery/1"
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = 5 * time.Second
	}
	if c.SessionLifetime == 0 {
		c.SessionLifetime = 10 * time.Minute
	}
	if c.PerIPRate == 0 {
		c.PerIPRate = 200
	}
	if c.PerIPBurst == 0 {
		c.PerIPBurst = 400
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Handler receives every authenticated message with the sender's address and PeerId.
type Handler func(from netip.AddrPort, peerID []byte, msg []byte)

// Stats counts what the transport did.
type Stats struct {
	PacketsIn, PacketsOut, BytesIn, BytesOut uint64
	Dropped, RateLimited, AuthFailures       uint64
	Handshakes, HandshakeFailures, Timeouts  uint64
}

const maxQueued = 32

type peer struct {
	peerID []byte
	// current is the confirmed session, the only one sends are sealed under: the initiator
	// confirms it with the response, the responder with the first frame it opens. A session
	// answered to an init waits as the candidate until a frame opens under it, so an init that
	// crossed ours, came late or was replayed never takes the place of a working session.
	current     *crypto.Session
	created     time.Time // when current was confirmed
	candidate   *crypto.Session
	candidateAt time.Time
	pending     *crypto.Pending
	started     time.Time
	queue       [][]byte
}

func (p *peer) close() {
	if p.current != nil {
		p.current.Close()
	}
	if p.candidate != nil {
		p.candidate.Close()
	}
	p.current, p.candidate = nil, nil
}

// Transport is one UDP socket and the sessions of every peer address.
type Transport struct {
	cfg     Config
	id      *crypto.Identity
	conn    *net.UDPConn
	handler Handler

	mu       sync.Mutex
	peers    map[netip.AddrPort]*peer
	limiters map[netip.Addr]*rate.Limiter
	stats    Stats
	done     chan struct{}
}

// Listen opens a UDP socket at addr (e.g. "127.0.0.1:0").
func Listen(addr string, id *crypto.Identity, cfg Config, handler Handler) (*Transport, error) {
	cfg.defaults()
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	conn, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, err
	}
	t := &Transport{
		cfg: cfg, id: id, conn: conn, handler: handler,
		peers: map[netip.AddrPort]*peer{}, limiters: map[netip.Addr]*rate.Limiter{},
		done: make(chan struct{}),
	}
	go t.readLoop()
	go t.sweepLoop()
	return t, nil
}

// LocalAddr is the socket's address.
func (t *Transport) LocalAddr() netip.AddrPort {
	return t.conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// Close stops the transport and zeroizes every session.
func (t *Transport) Close() error {
	select {
	case <-t.done:
		return nil
	default:
	}
	close(t.done)
	err := t.conn.Close()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range t.peers {
		p.close()
	}
	t.peers = map[netip.AddrPort]*peer{}
	return err
}

// Stats is a snapshot of the counters.
func (t *Transport) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats
}

func (t *Transport) binding(remote []byte) crypto.Binding {
	return crypto.Binding{Remote: remote, Protocol: []byte(t.cfg.Protocol)}
}

// Send seals msg for the daemon with PeerId peerID at `to`, starting a handshake first if
// needed (msg then waits for it, up to HandshakeTimeout).
func (t *Transport) Send(to netip.AddrPort, peerID []byte, msg []byte) error {
	if len(msg) > MaxMessageSize {
		return ErrTooLarge
	}
	to = netip.AddrPortFrom(to.Addr().Unmap(), to.Port())
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.peers[to]
	if p != nil && !bytes.Equal(p.peerID, peerID) {
		// Another daemon answers at that address now: start afresh.
		t.dropLocked(to)
		p = nil
	}
	if p == nil {
		p = &peer{peerID: bytes.Clone(peerID)}
		t.peers[to] = p
	}
	if p.current != nil && time.Since(p.created) < t.cfg.SessionLifetime {
		return t.sealLocked(to, p, msg)
	}
	if len(p.queue) >= maxQueued {
		t.stats.Dropped++
		return errors.New("transport: too many messages waiting for a handshake")
	}
	p.queue = append(p.queue, bytes.Clone(msg))
	// A candidate session waits for the initiator's first frame, which confirms it.
	if p.pending == nil && p.candidate == nil {
		pending, err := crypto.StartHandshake(t.id, t.binding(peerID), 0, rand.Reader)
		if err != nil {
			return err
		}
		p.pending, p.started = pending, time.Now()
		t.writeLocked(to, encodeHandshake(typeInit, t.id.PeerID, &pending.Message, nil))
	}
	return nil
}

func (t *Transport) sealLocked(to netip.AddrPort, p *peer, msg []byte) error {
	frame, err := p.current.Seal(msg)
	if err != nil {
		return err
	}
	t.writeLocked(to, append([]byte{typeData}, frame...))
	return nil
}

// flushLocked sends the messages that waited for a usable session with p.
func (t *Transport) flushLocked(to netip.AddrPort, p *peer) {
	queue := p.queue
	p.queue = nil
	for _, msg := range queue {
		_ = t.sealLocked(to, p, msg)
	}
}

func (t *Transport) writeLocked(to netip.AddrPort, pkt []byte) {
	if _, err := t.conn.WriteToUDPAddrPort(pkt, to); err != nil {
		t.stats.Dropped++
		return
	}
	t.stats.PacketsOut++
	t.stats.BytesOut += uint64(len(pkt))
}

func (t *Transport) dropLocked(addr netip.AddrPort) {
	if p := t.peers[addr]; p != nil {
		p.close()
	}
	delete(t.peers, addr)
}

func (t *Transport) allow(ip netip.Addr) bool {
	l := t.limiters[ip]
	if l == nil {
		if len(t.limiters) > 65536 {
			clear(t.limiters)
		}
		l = rate.NewLimiter(t.cfg.PerIPRate, t.cfg.PerIPBurst)
		t.limiters[ip] = l
	}
	return l.Allow()
}

func (t *Transport) readLoop() {
	buf := make([]byte, MaxPacketSize+1)
	for {
		n, from, err := t.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			select {
			case <-t.done:
				return
			default:
				continue
			}
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		deliver := t.handle(from, buf[:n])
		if deliver != nil && t.handler != nil {
			t.handler(from, deliver.peerID, deliver.msg)
		}
	}
}

type delivery struct {
	peerID, msg []byte
}

// handle processes one packet; a returned delivery goes to the handler outside the lock.
func (t *Transport) handle(from netip.AddrPort, pkt []byte) *delivery {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stats.PacketsIn++
	t.stats.BytesIn += uint64(len(pkt))
	if !t.allow(from.Addr()) {
		t.stats.RateLimited++
		return nil
	}
	if len(pkt) == 0 || len(pkt) > MaxPacketSize {
		t.stats.Dropped++
		return nil
	}
	switch pkt[0] {
	case typeInit:
		t.onInit(from, pkt)
	case typeResp:
		t.onResp(from, pkt)
	case typeData:
		return t.onData(from, pkt[1:])
	default:
		t.stats.Dropped++
	}
	return nil
}

func (t *Transport) onInit(from netip.AddrPort, pkt []byte) {
	hp, err := parseHandshake(pkt)
	if err != nil {
		t.stats.HandshakeFailures++
		return
	}
	ours, err := crypto.StartHandshake(t.id, t.binding(hp.peerID), 0, rand.Reader)
	if err != nil {
		return
	}
	session, err := ours.Complete(hp.handshake)
	if err != nil {
		t.stats.HandshakeFailures++
		t.cfg.Logger.Debug("refused handshake", "from", from, "err", err)
		return
	}
	p := t.peers[from]
	if p == nil || !bytes.Equal(p.peerID, hp.peerID) {
		t.dropLocked(from)
		p = &peer{peerID: hp.peerID}
		t.peers[from] = p
	}
	if p.pending != nil {
		// Both sides started at once: the smaller PeerId stays the initiator, the other
		// answers (and its queued messages wait for the initiator's first frame).
		if bytes.Compare(t.id.PeerID, hp.peerID) < 0 {
			return
		}
		p.pending = nil
	}
	// Kept as the candidate until a frame under it arrives: a replayed init cannot displace
	// a working session.
	if p.candidate != nil {
		p.candidate.Close()
	}
	p.candidate, p.candidateAt = session, time.Now()
	resp := encodeHandshake(typeResp, t.id.PeerID, &ours.Message, &hp.handshake.Ephemeral)
	if len(resp) > len(pkt) {
		return // never amplify
	}
	t.stats.Handshakes++
	t.writeLocked(from, resp)
}

func (t *Transport) onResp(from netip.AddrPort, pkt []byte) {
	p := t.peers[from]
	if p == nil || p.pending == nil {
		t.stats.Dropped++
		return
	}
	hp, err := parseHandshake(pkt)
	if err != nil || !bytes.Equal(hp.peerID, p.peerID) || hp.echo != p.pending.Message.Ephemeral {
		t.stats.HandshakeFailures++
		return
	}
	session, err := p.pending.Complete(hp.handshake)
	if err != nil {
		t.stats.HandshakeFailures++
		return
	}
	t.stats.Handshakes++
	if p.current != nil {
		p.current.Close()
	}
	p.current, p.pending, p.created = session, nil, time.Now()
	t.flushLocked(from, p)
}

func (t *Transport) onData(from netip.AddrPort, frame []byte) *delivery {
	p := t.peers[from]
	if p == nil {
		t.stats.Dropped++
		return nil
	}
	if p.current != nil {
		if msg, err := p.current.Open(frame); err == nil {
			return &delivery{peerID: bytes.Clone(p.peerID), msg: msg}
		}
	}
	if p.candidate != nil {
		if msg, err := p.candidate.Open(frame); err == nil {
			// The initiator uses the candidate: it is confirmed and replaces the current one.
			if p.current != nil {
				p.current.Close()
			}
			p.current, p.candidate, p.created = p.candidate, nil, time.Now()
			t.flushLocked(from, p)
			return &delivery{peerID: bytes.Clone(p.peerID), msg: msg}
		}
	}
	t.stats.AuthFailures++
	return nil
}

func (t *Transport) sweepLoop() {
	tick := time.NewTicker(t.cfg.HandshakeTimeout / 2)
	defer tick.Stop()
	for {
		select {
		case <-t.done:
			return
		case <-tick.C:
		}
		t.mu.Lock()
		for addr, p := range t.peers {
			if p.pending != nil && time.Since(p.started) > t.cfg.HandshakeTimeout {
				t.stats.Timeouts++
				t.stats.Dropped += uint64(len(p.queue))
				p.pending, p.queue = nil, nil
			}
			// Candidates from inits that never proved their address.
			if p.candidate != nil && time.Since(p.candidateAt) > 2*t.cfg.HandshakeTimeout {
				p.candidate.Close()
				p.candidate = nil
				if p.current == nil {
					t.stats.Dropped += uint64(len(p.queue))
					p.queue = nil
				}
			}
			if p.current == nil && p.candidate == nil && p.pending == nil {
				delete(t.peers, addr)
			}
		}
		t.mu.Unlock()
	}
}
