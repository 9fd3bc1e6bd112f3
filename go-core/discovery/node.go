// Package discovery finds FlareChain nodes: signed node records, a Kademlia-style table of
// daemons, lookups, gossip and anti-entropy of records, liveness checks and expiry, every kind
// of state bounded (limits.go) for daemons on the open Internet.
package discovery

import (
	"crypto/rand"
	"encoding/binary"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/flarechain/detr-p2p/go-core/crypto"
	"github.com/flarechain/detr-p2p/go-core/transport"
)

// Config tunes a Node; zero fields take the defaults.
type Config struct {
	// Listen is the UDP address (default "127.0.0.1:0"); ignored when Conn is set.
	Listen string
	// Conn, when set, is the datagram endpoint (an in-memory network in benchmarks).
	Conn transport.PacketConn
	// Bootstrap daemons to join through.
	Bootstrap []Contact
	// Refresh is the period of lookups, anti-entropy and liveness rounds (default 1 s).
	Refresh time.Duration
	// RecordTTL: a record expires this long after the time it was signed at (its sequence
	// number, Unix milliseconds) (default 5 min).
	RecordTTL time.Duration
	// AllowLocal serves loopback, private and link-local addresses: in records, in the table
	// and in liveness dials. Off, a daemon on the Internet neither stores nor dials them.
	AllowLocal bool
	// Liveness checks a record's node before it is handed out (default: a TCP connection to one
	// of its /ip4|ip6/…/tcp/… addresses within 1 s).
	Liveness func(*Record) bool
	// LivenessInterval is how often a live record's node is checked again (default 30 s); a
	// record whose check failed is retried after 5 refresh rounds.
	LivenessInterval time.Duration
	// Transport settings.
	Transport transport.Config
	// Logger (default slog.Default()).
	Logger *slog.Logger
}

// Stats counts records and contacts.
type Stats struct {
	Contacts, Records, AliveRecords, Interests int
	Accepted, Rejected, Stale, Expired         uint64
	// QuotaRefused: records refused by a quota; Unsolicited: replies nobody asked for.
	QuotaRefused, Unsolicited uint64
	// Dials: liveness dials made; DialsSkipped: checks put off by the dial budget.
	Dials, DialsSkipped uint64
	// Lookups: FINDNODEs sent.
	Lookups uint64
}

// Node is one discovery daemon: a transport, a routing table and the records it knows.
type Node struct {
	id  *crypto.Identity
	cfg Config
	tr  *transport.Transport
	log *slog.Logger

	mu       sync.Mutex
	table    *table
	records  map[[32]byte]map[string]*stored
	nrecords int
	byOrigin map[string]int
	// bySubnet counts each chain's records by subnet (maxRecordsPerSubnet), kept up to date so
	// that admitting a record costs no scan of the chain.
	bySubnet map[[32]byte]map[netip.Prefix]int
	local    map[string][]byte // records registered here (genesis ‖ PeerId → wire form)
	interest map[[32]byte]time.Time
	pulls    map[[32]byte]*pull
	sets     map[[32]byte]*heldSet
	pings    map[uint64]pendingPing
	lookups  map[string][]time.Time // FINDNODEs awaiting their reply (send times), by contact PeerId
	// pushed: the contacts the local records went to since they last changed (while the
	// table is thin).
	pushed map[string]bool
	checks *checker
	// unchecked: records stored since the last round, not checked yet (checkRecords).
	unchecked []*stored
	// pending: the last copy queued of each record waiting for the verifier (verify.go);
	// arrivals: the queue.
	pending  map[pendingKey]pendingCopy
	arrivals chan *arrival
	// outbox: records waiting to be gossiped (gossip.go), outboxBytes their encoded size.
	outbox      []gossiped
	outboxBytes int
	stats       Stats
	done        chan struct{}
	wg          sync.WaitGroup
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
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Transport.Logger = cfg.Logger
	n := &Node{
		id: id, cfg: cfg, log: cfg.Logger,
		table:    newTable(IDOf(id.PeerID), cfg.AllowLocal),
		records:  map[[32]byte]map[string]*stored{},
		byOrigin: map[string]int{},
		bySubnet: map[[32]byte]map[netip.Prefix]int{},
		local:    map[string][]byte{},
		interest: map[[32]byte]time.Time{},
		pulls:    map[[32]byte]*pull{},
		sets:     map[[32]byte]*heldSet{},
		pings:    map[uint64]pendingPing{},
		lookups:  map[string][]time.Time{},
		pushed:   map[string]bool{},
		pending:  map[pendingKey]pendingCopy{},
		arrivals: make(chan *arrival, verifyQueue),
		done:     make(chan struct{}),
	}
	conn := cfg.Conn
	if conn == nil {
		c, err := transport.ListenUDP(cfg.Listen)
		if err != nil {
			return nil, err
		}
		conn = c
	}
	tr, err := transport.New(conn, id, cfg.Transport, n.onMessage)
	if err != nil {
		conn.Close()
		return nil, err
	}
	n.tr = tr
	if n.cfg.Liveness == nil {
		n.cfg.Liveness = n.dialLiveness(time.Second)
	}
	n.checks = newChecker(n)
	n.wg.Add(2)
	go n.verifier()
	tr.Start() // (only now: the first message's handler uses n.tr and n.checks)
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
	n.checks.stop()
	n.tr.Close()
}

// Peers lists the unexpired records of genesis whose nodes passed the liveness check, and
// notes the interest: a chain asked for is pulled from other daemons even before any record
// of it is known here (maxInterests chains, each for interestTTL after the last ask).
func (n *Node) Peers(genesis [32]byte) []*Record {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.noteInterestLocked(genesis, time.Now())
	recs := n.records[genesis]
	out := make([]*Record, 0, len(recs))
	now := time.Now()
	for _, s := range recs {
		if s.alive && now.Before(s.expires) {
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
	s.Interests = len(n.interest)
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

func (n *Node) send(c Contact, msg []byte) {
	if err := n.tr.Send(c.Addr, c.PeerID, msg); err != nil {
		n.log.Debug("send failed", "to", c.Addr, "err", err)
	}
}

// lookupEvery is how many rounds apart lookups run with a table of size contacts: every round
// while it holds less than a bucket's worth, every lookupRounds rounds until it holds
// settledContacts, every settledLookupRounds rounds after.
func lookupEvery(size int) int {
	switch {
	case size < BucketSize:
		return 1
	case size < settledContacts:
		return lookupRounds
	default:
		return settledLookupRounds
	}
}

// pushTargets is the contact the local records go to this round, if any: while the table is
// thin, one that has not had them since they last changed; every pushRounds rounds, any one.
func (n *Node) pushTargets(all []*entry, round int) []*entry {
	if len(all) >= BucketSize {
		if round%pushRounds == 0 {
			return pick(all, 1, nil)
		}
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.pushed) >= maxPushed {
		clear(n.pushed)
	}
	fresh := slices.DeleteFunc(slices.Clone(all), func(e *entry) bool { return n.pushed[string(e.PeerID)] })
	to := pickInPlace(fresh, 1, nil)
	for _, e := range to {
		n.pushed[string(e.PeerID)] = true
	}
	return to
}

// pick is up to k random entries of all, except `except`.
func pick(all []*entry, k int, except []byte) []*entry {
	return pickInPlace(slices.Clone(all), k, except)
}

// pickInPlace is pick reordering all.
func pickInPlace(all []*entry, k int, except []byte) []*entry {
	var out []*entry
	for len(all) > 0 && len(out) < k {
		i := randIndex(len(all))
		e := all[i]
		all[i] = all[len(all)-1]
		all = all[:len(all)-1]
		if string(e.PeerID) != string(except) {
			out = append(out, e)
		}
	}
	return out
}

// randIndex is uniform in [0, n) from crypto/rand (the bias of the modulo is below 2^-50 for
// the n of a table).
func randIndex(n int) int {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return int(binary.LittleEndian.Uint64(b[:]) % uint64(n))
}

func (n *Node) ping(c Contact) {
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	n.mu.Lock()
	if len(n.pings) >= maxPendingPings {
		n.mu.Unlock()
		return
	}
	n.pings[leUint64(nonce[:])] = pendingPing{contact: c, sent: time.Now()}
	n.mu.Unlock()
	n.send(c, append([]byte{msgPing}, nonce[:]...))
}

func (n *Node) loop() {
	defer n.wg.Done()
	tick := time.NewTicker(n.cfg.Refresh)
	defer tick.Stop()
	var contacts snapshot
	for round := 0; ; round++ {
		n.refresh(round, &contacts)
		select {
		case <-n.done:
			return
		case <-tick.C:
		}
	}
}

// refresh is one round: lookups towards ourselves, the local records pushed to one contact,
// anti-entropy, liveness of contacts and records, expiry. contacts holds the table's copy.
func (n *Node) refresh(round int, contacts *snapshot) {
	now := time.Now()
	self := n.table.self
	n.mu.Lock()
	all := n.table.snapshot(contacts)
	genesis := n.chainsLocked(now)
	var local [][]byte
	for _, raw := range n.local {
		local = append(local, raw)
	}
	n.mu.Unlock()
	// Join through the bootstrap daemons until the table holds others. Look up our own
	// neighbourhood and a random id every round while the table is thin, less often as it
	// fills (lookupEvery).
	if len(all) == 0 || round%(4*lookupRounds) == 0 {
		for _, b := range n.cfg.Bootstrap {
			n.findNode(b, self)
		}
	}
	if round%lookupEvery(len(all)) == 0 {
		// (the closest contacts only when they are asked: sorting the table every round was
		// 2% of a 1,000-daemon network's CPU)
		n.mu.Lock()
		closest := n.table.closest(self, 3)
		n.mu.Unlock()
		for _, c := range closest {
			n.findNode(c, self)
		}
		var target NodeID
		_, _ = rand.Read(target[:])
		for _, e := range pick(all, 1, nil) {
			n.findNode(e.Contact, target)
		}
	}
	// The records registered here reach the network even if the table was empty when they
	// were registered: while the table is thin, each contact gets them once (and gossips what
	// is new to it); one contact every pushRounds rounds after.
	for _, e := range n.pushTargets(all, round) {
		for _, msg := range putRecords(local) {
			n.send(e.Contact, msg)
		}
	}
	n.pullRound(genesis, all, now)
	n.livenessRound(all, now)
	n.expireLookups(now)
	n.checkRecords(now, round)
}
