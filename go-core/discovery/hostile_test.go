package discovery

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flarechain/detr-p2p/go-core/crypto"
	"github.com/flarechain/detr-p2p/go-core/transport"
)

// attacker is a daemon identity with its own transport, driven by the test.
type attacker struct {
	tr   *transport.Transport
	id   *crypto.Identity
	mu   sync.Mutex
	seen [][]byte
}

func newAttacker(t *testing.T, reply func(a *attacker, from netip.AddrPort, peerID, msg []byte)) *attacker {
	t.Helper()
	a := &attacker{id: mustID(t)}
	tr, err := transport.Listen("127.0.0.1:0", a.id, transport.Config{}, func(from netip.AddrPort, peerID, msg []byte) {
		a.mu.Lock()
		a.seen = append(a.seen, append([]byte(nil), msg...))
		a.mu.Unlock()
		if reply != nil {
			reply(a, from, peerID, msg)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	a.tr = tr
	a.mu.Unlock()
	t.Cleanup(func() { tr.Close() })
	return a
}

// send is a.tr.Send (the handler may run before Listen returned).
func (a *attacker) send(to netip.AddrPort, peerID, msg []byte) error {
	a.mu.Lock()
	tr := a.tr
	a.mu.Unlock()
	if tr == nil {
		return errors.New("attacker not started")
	}
	return tr.Send(to, peerID, msg)
}

func (a *attacker) contact() Contact { return Contact{PeerID: a.id.PeerID, Addr: a.tr.LocalAddr()} }

// victim is a plain socket counting the bytes it receives.
func victim(t *testing.T) (netip.AddrPort, *atomic.Uint64) {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	var got atomic.Uint64
	go func() {
		buf := make([]byte, 2048)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			got.Add(uint64(n))
		}
	}()
	return c.LocalAddr().(*net.UDPAddr).AddrPort(), &got
}

// waitStats waits up to `within` for d's stats to satisfy done; false if they never did.
func waitStats(d *Node, within time.Duration, done func(Stats) bool) bool {
	deadline := time.Now().Add(within)
	for {
		if s, _ := d.Stats(); done(s) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitUnsolicited waits up to `within` for d to have counted n replies nobody asked for.
func waitUnsolicited(d *Node, n uint64, within time.Duration) {
	waitStats(d, within, func(s Stats) bool { return s.Unsolicited >= n })
}

// madeUp lists n fresh PeerIds at addr.
func madeUp(t *testing.T, n int, addr netip.AddrPort) []Contact {
	out := make([]Contact, n)
	for i := range out {
		out[i] = Contact{PeerID: mustID(t).PeerID, Addr: addr}
	}
	return out
}

// Finding: a NODES message was accepted without a FINDNODE and every unknown contact in it got
// an init. Now a NODES nobody asked for is dropped and sends nothing.
func TestANodesReplyNobodyAskedForSendsNothing(t *testing.T) {
	d := startDaemon(t, mustID(t), "127.0.0.1:0", nil)
	vaddr, vbytes := victim(t)
	a := newAttacker(t, nil)
	list := madeUp(t, BucketSize+1, vaddr)
	for range 3 {
		if err := a.tr.Send(d.Self().Addr, d.id.PeerID, encodeNodes(list)); err != nil {
			t.Fatal(err)
		}
	}
	waitUnsolicited(d, 3, 5*time.Second)
	time.Sleep(300 * time.Millisecond)
	if s, _ := d.Stats(); s.Unsolicited < 3 || vbytes.Load() != 0 {
		t.Fatalf("unsolicited %d, victim got %d bytes", s.Unsolicited, vbytes.Load())
	}
}

// Finding: one ~1.2 KB NODES listing 65 made-up PeerIds at a victim's address sent the victim
// ~50 KB. Now the attacker answers every FINDNODE with contacts at the victim's address (65 in
// all, and more), and the victim receives no more bytes than the attacker sent.
func TestTheVictimOfANodesListGetsNoMoreThanTheAttackerSent(t *testing.T) {
	vaddr, vbytes := victim(t)
	list := madeUp(t, 65, vaddr)
	var replies atomic.Int64
	a := newAttacker(t, func(a *attacker, from netip.AddrPort, peerID, msg []byte) {
		if msg[0] == msgFindNode {
			i := int(replies.Add(1))
			part := list[(i*(BucketSize+1))%65:]
			_ = a.send(from, peerID, encodeNodes(part[:min(len(part), BucketSize+1)]))
		}
	})
	d := startDaemon(t, mustID(t), "127.0.0.1:0", []Contact{a.contact()})
	deadline := time.Now().Add(10 * time.Second)
	for replies.Load() < 5 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	sent := a.tr.Stats().BytesOut
	if replies.Load() < 5 || vbytes.Load() > sent {
		t.Fatalf("%d replies: the attacker sent %d bytes, the victim got %d", replies.Load(), sent, vbytes.Load())
	}
	t.Logf("%d NODES replies: the attacker sent %d bytes, the victim got %d", replies.Load(), sent, vbytes.Load())
	_ = d
}

// Finding: records keyed by attacker-chosen genesis and free PeerIds had no quota, and each
// record got a goroutine dialling its addresses. Now 100,000 records pushed by 200 daemon
// identities over 100 chains and many subnets leave the daemon within its quotas: records,
// goroutines and dials per second.
func TestThrowawayRecordsStayWithinQuotas(t *testing.T) {
	n, dials := dialCountingDaemon(t, 50*time.Millisecond)
	goroutines := runtime.NumGoroutine()
	start := time.Now()
	now := uint64(time.Now().UnixMilli())
	const total = 100_000
	var key [32]byte
	for i := range total {
		// The first maxRecords are signed by throwaway keys and fill the total quota over 64
		// chains; the rest (PeerIds of random keys, unsigned) must be refused by a quota before
		// any verification.
		r := &Record{Genesis: [32]byte{byte(i % maxChains)}, Seq: now, Addrs: []string{fmt.Sprintf("/ip4/11.%d.%d.1/tcp/30333", i>>8&255, i&255)}}
		if i < maxRecords {
			if err := r.Sign(mustID(t)); err != nil {
				t.Fatal(err)
			}
		} else {
			_, _ = rand.Read(key[:])
			r.PeerID = crypto.PeerID(key[:])
		}
		raw, _ := r.Encode()
		n.onMessage(netip.MustParseAddrPort("127.0.0.1:9"), []byte{byte(i % 200)}, putRecords([][]byte{raw})[0])
	}
	time.Sleep(300 * time.Millisecond)
	s, _ := n.Stats()
	n.mu.Lock()
	chains, perChain, perOrigin := len(n.records), 0, 0
	for _, recs := range n.records {
		perChain = max(perChain, len(recs))
	}
	for _, c := range n.byOrigin {
		perOrigin = max(perOrigin, c)
	}
	n.mu.Unlock()
	if s.Records > maxRecords || chains > maxChains || perChain > maxRecordsPerChain || perOrigin > maxRecordsPerOrigin {
		t.Fatalf("over quota: %d records, %d chains, %d in one chain, %d from one origin", s.Records, chains, perChain, perOrigin)
	}
	if s.Records != maxRecords || s.QuotaRefused != total-maxRecords || s.Rejected != 0 {
		t.Fatalf("quota refusals %d: %+v", s.QuotaRefused, s)
	}
	if g := runtime.NumGoroutine(); g > goroutines+10 {
		t.Fatalf("goroutines %d, were %d", g, goroutines)
	}
	elapsed := time.Since(start).Seconds()
	if budget := float64(dialsPerSecond)*elapsed + dialBurst; float64(dials.Load()) > budget {
		t.Fatalf("%d dials in %.1f s, budget %.0f", dials.Load(), elapsed, budget)
	}
}

// Finding: records carried no time, so replaying an expired record's bytes brought it back.
func TestAnExpiredRecordReplayedIsRefused(t *testing.T) {
	d := startDaemon(t, mustID(t), "127.0.0.1:0", nil)
	node := mustID(t)
	old := uint64(time.Now().Add(-6 * time.Minute).UnixMilli()) // the default lifetime is 5 min
	raw := signed(t, node, 1, old, nodeListener(t))
	if _, err := d.Register(raw); !errors.Is(err, ErrExpired) {
		t.Fatalf("register: %v", err)
	}
	d.onMessage(netip.MustParseAddrPort("127.0.0.1:9"), mustID(t).PeerID, putRecords([][]byte{raw})[0])
	future := signed(t, node, 1, uint64(time.Now().Add(time.Hour).UnixMilli()), nodeListener(t))
	if _, err := d.Register(future); !errors.Is(err, ErrFuture) {
		t.Fatalf("future: %v", err)
	}
	if s, _ := d.Stats(); s.Records != 0 || s.Expired != 2 {
		t.Fatalf("%+v", s)
	}
}

// Finding: GET /v1/peers added any genesis to an interest list never pruned, and every interest
// was pulled every round. Now interests are bounded and the pulls with them.
func TestInterestsAreBounded(t *testing.T) {
	d := startDaemon(t, mustID(t), "127.0.0.1:0", nil)
	for i := range 2000 {
		d.Peers([32]byte{byte(i), byte(i >> 8), 7})
	}
	s, _ := d.Stats()
	d.mu.Lock()
	chains := len(d.chainsLocked(time.Now()))
	d.mu.Unlock()
	if s.Interests != maxInterests || chains > maxInterests {
		t.Fatalf("%d interests, %d chains pulled", s.Interests, chains)
	}
}

// Finding: the table had no subnet limits and inserted every handshaken sender. Now 2 per /24
// per bucket, 10 per table, replacements take evicted contacts' places once they answer, and
// local addresses are refused unless served.
func TestTheTableKeepsSubnetLimitsAndReplacements(t *testing.T) {
	tab := newTable(IDOf(mustID(t).PeerID), false)
	now := time.Now()
	added := 0
	for i := range 40 {
		c := Contact{PeerID: mustID(t).PeerID, Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{11, 1, 1, byte(i)}), 30400)}
		if tab.add(c, now) {
			added++
		}
	}
	if added > tableSubnetLimit || tab.len() > tableSubnetLimit {
		t.Fatalf("%d contacts of one /24", tab.len())
	}
	for i := range tab.buckets {
		seen := map[netip.Prefix]int{}
		for _, e := range tab.buckets[i].entries {
			if seen[subnetOf(e.Addr.Addr())]++; seen[subnetOf(e.Addr.Addr())] > bucketSubnetLimit {
				t.Fatalf("bucket %d holds more than %d of one /24", i, bucketSubnetLimit)
			}
		}
	}
	if tab.add(Contact{PeerID: mustID(t).PeerID, Addr: netip.MustParseAddrPort("127.0.0.1:1")}, now) {
		t.Fatal("a loopback contact entered a table that does not serve local addresses")
	}
	// Fill the nearest-half bucket from many subnets, then evict: a replacement moves in.
	full := -1
	for i := range 400 {
		c := Contact{PeerID: mustID(t).PeerID, Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{12, byte(i >> 8), byte(i), 1}), 30400)}
		tab.add(c, now)
		if b := distanceBucket(tab.self, IDOf(c.PeerID)); len(tab.buckets[b].replacements) > 0 {
			full = b
			break
		}
	}
	if full < 0 {
		t.Fatal("no bucket filled")
	}
	victim := tab.buckets[full].entries[0]
	var next Contact
	var ok bool
	for range maxPingFailures {
		next, ok = tab.failed(victim.PeerID)
	}
	if tab.has(victim.PeerID) || !ok || len(tab.buckets[full].entries) != BucketSize-1 {
		t.Fatalf("eviction: has %v, replacement %v, %d entries", tab.has(victim.PeerID), ok, len(tab.buckets[full].entries))
	}
	// The replacement is pinged; once it answers, it takes the place.
	if !tab.add(next, now) || len(tab.buckets[full].entries) != BucketSize {
		t.Fatalf("the replacement did not move in: %d entries", len(tab.buckets[full].entries))
	}
}

// Contacts enter the table only after answering a request of ours: a daemon that only sends
// us requests is pinged, and enters once it answers.
func TestOnlyAnsweringDaemonsEnterTheTable(t *testing.T) {
	d := startDaemon(t, mustID(t), "127.0.0.1:0", nil)
	silent := newAttacker(t, nil) // never answers the ping
	var target NodeID
	if err := silent.tr.Send(d.Self().Addr, d.id.PeerID, append([]byte{msgFindNode}, target[:]...)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		silent.mu.Lock()
		n := len(silent.seen)
		silent.mu.Unlock()
		if n >= 2 { // NODES, then our ping
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if s, _ := d.Stats(); s.Contacts != 0 {
		t.Fatalf("a daemon that never answered is in the table: %+v", s)
	}
}

// dialCountingDaemon is a daemon at the given refresh (0: the default) whose every liveness
// check succeeds, and the count of its checks.
func dialCountingDaemon(t *testing.T, refresh time.Duration) (*Node, *atomic.Int64) {
	dials := new(atomic.Int64)
	n, err := New(mustID(t), Config{Refresh: refresh, Logger: quiet, Liveness: func(*Record) bool {
		dials.Add(1)
		return true
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	return n, dials
}
