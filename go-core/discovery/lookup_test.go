package discovery

import (
	"net/netip"
	"testing"
	"time"
)

// Each FINDNODE takes one NODES reply: two lookups sent to one contact in one round (our own
// neighbourhood and a random id) take both replies, a third reply is unsolicited. (Matched by
// contact only, the second reply of every such round was dropped: a daemon whose thin table
// held its two bootstraps learned from half the replies it asked for.)
func TestEveryFindNodeTakesItsReply(t *testing.T) {
	d := startDaemon(t, mustID(t), "127.0.0.1:0", nil)
	replies := make(chan struct{}, 4)
	a := newAttacker(t, func(a *attacker, from netip.AddrPort, peerID, msg []byte) {
		if msg[0] == msgFindNode {
			if err := a.send(from, peerID, encodeNodes(nil)); err == nil {
				replies <- struct{}{}
			}
		}
	})
	var one, two NodeID
	two[0] = 1
	d.findNode(a.contact(), one)
	d.findNode(a.contact(), two)
	for range 2 {
		select {
		case <-replies:
		case <-time.After(3 * time.Second):
			t.Fatal("the attacker was not asked twice")
		}
	}
	if err := a.send(d.Self().Addr, d.id.PeerID, encodeNodes(nil)); err != nil {
		t.Fatal(err)
	}
	waitUnsolicited(d, 1, 3*time.Second)
	if s, _ := d.Stats(); s.Unsolicited != 1 || s.Contacts != 1 {
		t.Fatalf("want both replies taken and the third refused: %+v", s)
	}
}

// A contact a NODES reply names for a full bucket goes on the replacement list without a ping
// (no handshake until a place frees); one for a bucket with room is pinged. (Pinging the
// replacements too made 1,000 daemons do 110–140 handshakes each for 90 contacts.)
func TestContactsForAFullBucketCostNoHandshake(t *testing.T) {
	d := startDaemon(t, mustID(t), "127.0.0.1:0", nil)
	inBucket := func(want int) Contact {
		for {
			c := Contact{PeerID: mustID(t).PeerID}
			if distanceBucket(d.table.self, IDOf(c.PeerID)) == want {
				return c
			}
		}
	}
	d.mu.Lock()
	for i := range BucketSize {
		c := inBucket(255)
		c.Addr = netip.AddrPortFrom(netip.AddrFrom4([4]byte{12, 0, byte(i), 1}), 30400)
		d.table.add(c, time.Now())
	}
	d.mu.Unlock()
	vaddr, vbytes := victim(t)
	full := inBucket(255)
	full.Addr = vaddr
	d.learn([]Contact{full})
	time.Sleep(300 * time.Millisecond)
	d.mu.Lock()
	kept := len(d.table.buckets[255].replacements)
	d.mu.Unlock()
	if vbytes.Load() != 0 || kept != 1 {
		t.Fatalf("a contact for the full bucket: %d bytes sent to it, %d replacements", vbytes.Load(), kept)
	}
	room := inBucket(254)
	room.Addr = vaddr
	d.learn([]Contact{room})
	deadline := time.Now().Add(3 * time.Second)
	for vbytes.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if vbytes.Load() == 0 {
		t.Fatal("a contact for a bucket with room was not pinged")
	}
}

// A pong that comes after the ping timeout is still taken: the ping counts as missed, but the
// pong puts the contact in the table (and would reset its misses). (Dropped as unsolicited, a
// host behind on its own queue, which reads every pong late, evicted honest contacts: a loaded
// 1,000-daemon network dropped ~47,000 late pongs.)
func TestALatePongIsTaken(t *testing.T) {
	d := startDaemon(t, mustID(t), "127.0.0.1:0", nil)
	const late = pingTimeout + 500*time.Millisecond
	a := newAttacker(t, func(a *attacker, from netip.AddrPort, peerID, msg []byte) {
		if msg[0] == msgPing {
			pong := append([]byte{msgPong}, msg[1:]...)
			time.AfterFunc(late, func() { _ = a.send(from, peerID, pong) })
		}
	})
	d.ping(a.contact())
	waitStats(d, late+3*time.Second, func(s Stats) bool { return s.Contacts == 1 || s.Unsolicited > 0 })
	if s, _ := d.Stats(); s.Contacts != 1 || s.Unsolicited != 0 {
		t.Fatalf("a pong %v late: %+v", late, s)
	}
}

// A table of two buckets' worth of contacts looks up every settledLookupRounds rounds, not
// every lookupRounds: each contact a lookup finds costs a handshake, and lookups were most
// of a settled network's traffic.
func TestASettledTableLooksUpLess(t *testing.T) {
	d := startDaemonEvery(t, mustID(t), "127.0.0.1:0", nil, 20*time.Millisecond)
	d.mu.Lock()
	for b := 255; d.table.len() < settledContacts+4; b-- {
		for range BucketSize {
			c := Contact{PeerID: mustID(t).PeerID}
			for distanceBucket(d.table.self, IDOf(c.PeerID)) != b {
				c.PeerID = mustID(t).PeerID
			}
			c.Addr, _ = victim(t)
			d.table.add(c, time.Now())
		}
	}
	d.mu.Unlock()
	time.Sleep(2 * d.cfg.Refresh) // (the rounds before the table filled)
	s0, _ := d.Stats()
	start := time.Now()
	time.Sleep(40 * d.cfg.Refresh)
	s1, _ := d.Stats()
	// At most one lookup round (3 neighbours and a random id) per settledLookupRounds rounds
	// that could have passed, and one more for where the window began.
	rounds := int(time.Since(start) / d.cfg.Refresh)
	most := 4 * (rounds/settledLookupRounds + 1)
	if got := int(s1.Lookups - s0.Lookups); s1.Contacts < settledContacts || got > most {
		t.Fatalf("%d contacts, %d FINDNODEs in %d rounds: want at most %d", s1.Contacts, got, rounds, most)
	}
	// Less often, not never.
	if !waitStats(d, 5*time.Second, func(s Stats) bool { return s.Lookups > s0.Lookups }) {
		t.Fatal("a settled table no longer looks up")
	}
}
