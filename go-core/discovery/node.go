package discovery

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/flarechain/detr-p2p/go-core/crypto"
	"github.com/flarechain/detr-p2p/go-core/transport"
)

// Config tunes a Node; zero fields take the defaults.
type Config struct {
	// Listen is the UDP address (default "127.0.0.1:0").
	Listen string
	// Bootstrap daemons to join through.
	Bootstrap []Contact
	// Refresh is the period of lookups, anti-entropy and liveness rounds (default 1 s).
	Refresh time.Duration
	// RecordTTL: a record not renewed (by a higher sequence) for this long expires (default 5 min).
	RecordTTL time.Duration
	// Liveness checks a record's node before it is handed out (default: a TCP connection to one
	// of its /ip4|ip6/…/tcp/… addresses within 1 s).
	Liveness func(*Record) bool
	// LivenessInterval is how often a live record's node is checked again (default 30 s); a
	// record whose check failed is retried every 5 refresh rounds.
	LivenessInterval time.Duration
	// Transport settings.
	Transport transport.Config
	// Logger (default slog.Default()).
	Logger *slog.Logger
}

const gossipFanout = 3

type stored struct {
	rec      *Record
	raw      []byte
	renewed  time.Time
	alive    bool
	checked  time.Time
	checking bool
}

// Stats counts records and contacts.
type Stats struct {
	Contacts, Records, AliveRecords int
	Accepted, Rejected, Stale       uint64
}

// Node is one discovery daemon: a transport, a routing table and the records it knows.
type Node struct {
	id  *crypto.Identity
	cfg Config
	tr  *transport.Transport
	log *slog.Logger

	mu      sync.Mutex
	table   table
	records map[[32]byte]map[string]*stored
	// genesis hashes asked for through Peers: pulled from other daemons even before any
	// record of them is known here.
	interest map[[32]byte]struct{}
	pulls    map[[32]byte]*pull
	pings    map[uint64]pendingPing
	stats    Stats
	done     chan struct{}
	wg       sync.WaitGroup
}

// New starts a daemon with identity id.
func New(id *crypto.Identity, cfg Config) (*Node, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Refresh == 0 {
		cfg.Refresh = time.Second
	}
	if cfg.RecordTTL == 0 {
		cfg.RecordTTL = 5 * time.Minute
	}
	if cfg.LivenessInterval == 0 {
		cfg.LivenessInterval = 30 * time.Second
	}
	if cfg.Liveness == nil {
		cfg.Liveness = DialLiveness(time.Second)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Transport.Logger = cfg.Logger
	n := &Node{
		id: id, cfg: cfg, log: cfg.Logger,
		table:    table{self: IDOf(id.PeerID)},
		records:  map[[32]byte]map[string]*stored{},
		interest: map[[32]byte]struct{}{},
		pulls:    map[[32]byte]*pull{},
		pings:    map[uint64]pendingPing{},
		done:     make(chan struct{}),
	}
	tr, err := transport.Listen(cfg.Listen, id, cfg.Transport, n.onMessage)
	if err != nil {
		return nil, err
	}
	n.tr = tr
	n.wg.Add(1)
	go n.loop()
	return n, nil
}

// Self is this daemon's contact.
func (n *Node) Self() Contact { return Contact{PeerID: n.id.PeerID, Addr: n.tr.LocalAddr()} }

// Close stops the daemon.
func (n *Node) Close() {
	select {
	case <-n.done:
		return
	default:
	}
	close(n.done)
	n.wg.Wait()
	n.tr.Close()
}

// Register stores a node's own record and spreads it. The record must verify and must not be
// older than the one held.
func (n *Node) Register(raw []byte) (*Record, error) {
	rec, err := parseRecord(raw)
	if err != nil {
		return nil, err
	}
	if err := n.store(rec, raw); err != nil {
		return nil, err
	}
	n.gossip(raw, nil)
	return rec, nil
}

// Peers lists the unexpired records of genesis whose nodes passed the liveness check.
func (n *Node) Peers(genesis [32]byte) []*Record {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.interest[genesis] = struct{}{}
	var out []*Record
	for _, s := range n.records[genesis] {
		if s.alive && time.Since(s.renewed) < n.cfg.RecordTTL {
			out = append(out, s.rec)
		}
	}
	return out
}

// Stats is a snapshot of the counters.
func (n *Node) Stats() (Stats, transport.Stats) {
	n.mu.Lock()
	defer n.mu.Unlock()
	s := n.stats
	s.Contacts = n.table.len()
	for _, recs := range n.records {
		for _, r := range recs {
			s.Records++
			if r.alive {
				s.AliveRecords++
			}
		}
	}
	return s, n.tr.Stats()
}

// ErrStale is a record whose sequence is not above the one held.
var ErrStale = fmt.Errorf("record: sequence not above the one held (stale)")

// store keeps a parsed record unless the one held is as new; the signature is verified only
// then, so a stale copy (the common case in anti-entropy) costs no verification.
func (n *Node) store(rec *Record, raw []byte) error {
	if n.isStale(rec) {
		return ErrStale
	}
	if err := rec.Verify(); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	recs := n.records[rec.Genesis]
	key := string(rec.PeerID)
	prev := recs[key]
	if prev != nil && prev.rec.Seq >= rec.Seq {
		n.stats.Stale++
		return ErrStale
	}
	if recs == nil {
		recs = map[string]*stored{}
		n.records[rec.Genesis] = recs
	}
	s := &stored{rec: rec, raw: raw, renewed: time.Now()}
	if prev != nil && sameAddrs(prev.rec.Addrs, rec.Addrs) {
		s.alive, s.checked = prev.alive, prev.checked
	}
	recs[key] = s
	n.stats.Accepted++
	return nil
}

// isStale reports (and counts) a record whose sequence is not above the one held.
func (n *Node) isStale(rec *Record) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if old := n.records[rec.Genesis][string(rec.PeerID)]; old != nil && old.rec.Seq >= rec.Seq {
		n.stats.Stale++
		return true
	}
	return false
}

func sameAddrs(a, b []string) bool {
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}

func (n *Node) send(c Contact, msg []byte) {
	if err := n.tr.Send(c.Addr, c.PeerID, msg); err != nil {
		n.log.Debug("send failed", "to", c.Addr, "err", err)
	}
}

// gossip pushes a record to a few random contacts, except `from`.
func (n *Node) gossip(raw []byte, from []byte) {
	n.mu.Lock()
	all := n.table.all()
	n.mu.Unlock()
	msg := append([]byte{msgPutRecord}, raw...)
	for _, e := range pick(all, gossipFanout, from) {
		n.send(e.Contact, msg)
	}
}

func pick(all []*entry, k int, except []byte) []*entry {
	var out []*entry
	for len(all) > 0 && len(out) < k {
		i, _ := rand.Int(rand.Reader, big.NewInt(int64(len(all))))
		e := all[i.Int64()]
		all = append(all[:i.Int64():i.Int64()], all[i.Int64()+1:]...)
		if string(e.PeerID) != string(except) {
			out = append(out, e)
		}
	}
	return out
}

// onMessage handles one authenticated message (called by the transport's read loop).
func (n *Node) onMessage(from netip.AddrPort, peerID []byte, msg []byte) {
	if len(msg) == 0 {
		return
	}
	sender := Contact{PeerID: peerID, Addr: from}
	n.mu.Lock()
	n.table.add(sender, time.Now())
	n.mu.Unlock()
	body := msg[1:]
	switch msg[0] {
	case msgPing:
		if len(body) == 8 {
			n.send(sender, append([]byte{msgPong}, body...))
		}
	case msgPong:
		n.ponged(peerID, body)
	case msgFindNode:
		if len(body) != 32 {
			return
		}
		var target NodeID
		copy(target[:], body)
		n.mu.Lock()
		closest := n.table.closest(target, BucketSize+1)
		n.mu.Unlock()
		var out []Contact
		for _, c := range closest {
			if string(c.PeerID) != string(peerID) {
				out = append(out, c)
			}
		}
		n.send(sender, encodeNodes(out))
	case msgNodes:
		contacts, err := decodeNodes(body)
		if err != nil {
			n.reject(sender, err)
			return
		}
		n.mu.Lock()
		var unknown []Contact
		for _, c := range contacts {
			if string(c.PeerID) != string(n.id.PeerID) && !n.table.has(c.PeerID) {
				unknown = append(unknown, c)
			}
		}
		n.mu.Unlock()
		// Contacts enter the table only once they answer a ping themselves.
		for _, c := range unknown {
			n.ping(c)
		}
	case msgPutRecord:
		rec, err := parseRecord(body)
		if err != nil {
			n.reject(sender, err)
			return
		}
		raw := append([]byte(nil), body...)
		switch err := n.store(rec, raw); {
		case err == nil:
			n.gossip(raw, peerID)
		case !errors.Is(err, ErrStale):
			n.reject(sender, err)
		}
	case msgGetRecords:
		genesis, theirs, cursor, err := decodeGetRecords(body)
		if err != nil {
			n.reject(sender, err)
			return
		}
		held, digest := n.held(genesis)
		if digest == theirs {
			held = nil // the asker holds the same records: an empty page ends its pull
		}
		n.send(sender, encodeRecords(genesis, held, cursor))
	case msgRecords:
		page, err := decodeRecords(body)
		if err != nil {
			n.reject(sender, err)
			return
		}
		for i, rec := range page.records {
			if rec.Genesis != page.genesis {
				continue
			}
			if err := n.store(rec, page.raw[i]); err != nil && !errors.Is(err, ErrStale) {
				n.reject(sender, err)
			}
		}
		n.pulled(sender, page)
	}
}

func (n *Node) reject(from Contact, err error) {
	n.mu.Lock()
	n.stats.Rejected++
	n.mu.Unlock()
	n.log.Debug("rejected message", "from", from.Addr, "err", err)
}

// held lists the unexpired records of genesis in PeerId order (stable pages) with a digest of
// their PeerIds and sequence numbers.
func (n *Node) held(genesis [32]byte) ([]heldRecord, [32]byte) {
	n.mu.Lock()
	var live []*stored
	for _, s := range n.records[genesis] {
		if time.Since(s.renewed) < n.cfg.RecordTTL {
			live = append(live, s)
		}
	}
	n.mu.Unlock()
	slices.SortFunc(live, func(a, b *stored) int { return bytes.Compare(a.rec.PeerID, b.rec.PeerID) })
	h := sha256.New()
	out := make([]heldRecord, len(live))
	for i, s := range live {
		h.Write(s.rec.PeerID)
		h.Write(binary.LittleEndian.AppendUint64(nil, s.rec.Seq))
		out[i] = heldRecord{peerID: s.rec.PeerID, raw: s.raw}
	}
	var digest [32]byte
	h.Sum(digest[:0])
	return out, digest
}

func (n *Node) loop() {
	defer n.wg.Done()
	tick := time.NewTicker(n.cfg.Refresh)
	defer tick.Stop()
	for round := 0; ; round++ {
		n.refresh(round)
		select {
		case <-n.done:
			return
		case <-tick.C:
		}
	}
}

// refresh is one round: lookups towards ourselves, anti-entropy with one random contact,
// liveness of contacts and records, expiry.
func (n *Node) refresh(round int) {
	self := n.table.self
	n.mu.Lock()
	closest := n.table.closest(self, 3)
	all := n.table.all()
	var genesis [][32]byte
	for g := range n.records {
		genesis = append(genesis, g)
	}
	for g := range n.interest {
		if _, known := n.records[g]; !known {
			genesis = append(genesis, g)
		}
	}
	n.mu.Unlock()
	// Join through the bootstrap daemons until the table holds others; then look up our own
	// neighbourhood and a random id every few rounds.
	find := append([]byte{msgFindNode}, self[:]...)
	if len(all) == 0 || round%10 == 0 {
		for _, b := range n.cfg.Bootstrap {
			n.send(b, find)
		}
	}
	for _, c := range closest {
		n.send(c, find)
	}
	if round%5 == 0 && len(all) > 0 {
		var target NodeID
		_, _ = rand.Read(target[:])
		for _, e := range pick(all, 1, nil) {
			n.send(e.Contact, append([]byte{msgFindNode}, target[:]...))
		}
	}
	now := time.Now()
	n.pullRound(genesis, all, now)
	n.livenessRound(all, now)
	n.checkRecords(now)
}

// checkRecords drops expired records and checks the liveness of those not checked lately.
func (n *Node) checkRecords(now time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for g, recs := range n.records {
		for key, s := range recs {
			if now.Sub(s.renewed) >= n.cfg.RecordTTL {
				delete(recs, key)
				continue
			}
			again := 5 * n.cfg.Refresh
			if s.alive {
				again = n.cfg.LivenessInterval
			}
			if !s.checking && now.Sub(s.checked) > again {
				s.checking = true
				go n.checkOne(s)
			}
		}
		if len(recs) == 0 {
			delete(n.records, g)
			delete(n.pulls, g)
		}
	}
}

func (n *Node) checkOne(s *stored) {
	alive := n.cfg.Liveness(s.rec)
	n.mu.Lock()
	defer n.mu.Unlock()
	s.alive, s.checked, s.checking = alive, time.Now(), false
}

// DialLiveness checks a record by opening a TCP connection to one of its addresses.
func DialLiveness(timeout time.Duration) func(*Record) bool {
	return func(r *Record) bool {
		for _, a := range r.Addrs {
			hostPort, ok := TCPAddr(a)
			if !ok {
				continue
			}
			conn, err := net.DialTimeout("tcp", hostPort, timeout)
			if err == nil {
				conn.Close()
				return true
			}
		}
		return false
	}
}

// TCPAddr turns /ip4/<a>/tcp/<p> or /ip6/<a>/tcp/<p> into host:port.
func TCPAddr(multiaddr string) (string, bool) {
	parts := strings.Split(multiaddr, "/")
	if len(parts) < 5 || parts[0] != "" || parts[3] != "tcp" {
		return "", false
	}
	ip, err := netip.ParseAddr(parts[2])
	if err != nil || (parts[1] != "ip4" && parts[1] != "ip6") {
		return "", false
	}
	return net.JoinHostPort(ip.String(), parts[4]), true
}

// ParseContact reads "<peer id hex>@<ip:port>", the form a daemon prints for itself.
func ParseContact(s string) (Contact, error) {
	id, addr, ok := strings.Cut(s, "@")
	if !ok {
		return Contact{}, fmt.Errorf("contact %q: want <peer-id-hex>@<ip:port>", s)
	}
	peerID, err := hex.DecodeString(id)
	if err != nil || len(peerID) == 0 {
		return Contact{}, fmt.Errorf("contact %q: peer id is not hex", s)
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return Contact{}, fmt.Errorf("contact %q: %v", s, err)
	}
	return Contact{PeerID: peerID, Addr: ap}, nil
}

// String is the "<peer id hex>@<ip:port>" form.
func (c Contact) String() string { return hex.EncodeToString(c.PeerID) + "@" + c.Addr.String() }
