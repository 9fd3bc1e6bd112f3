package discovery

import (
	"crypto/sha256"
	"math/bits"
	"slices"
	"time"
)

// BucketSize is k: contacts kept per distance bucket.
const BucketSize = 16

// NodeID is a daemon's position in the keyspace: SHA-256 of its PeerId.
type NodeID [32]byte

// IDOf places a PeerId in the keyspace.
func IDOf(peerID []byte) NodeID { return sha256.Sum256(peerID) }

// distanceBucket is the index of the highest differing bit (0..255), -1 for the same id.
func distanceBucket(a, b NodeID) int {
	for i := range a {
		if x := a[i] ^ b[i]; x != 0 {
			return 255 - (i*8 + bits.LeadingZeros8(x))
		}
	}
	return -1
}

type entry struct {
	Contact
	id       NodeID
	lastSeen time.Time
	failures int
}

// table is a Kademlia routing table: 256 buckets of at most BucketSize contacts, least recently
// seen first. A full bucket keeps its old contacts (they are the ones likely to stay up) and
// refuses the new one; contacts that fail liveness checks are evicted.
type table struct {
	self    NodeID
	buckets [256][]*entry
}

// add inserts or refreshes a contact; false if its bucket is full.
func (t *table) add(c Contact, now time.Time) bool {
	id := IDOf(c.PeerID)
	i := distanceBucket(t.self, id)
	if i < 0 {
		return false
	}
	b := t.buckets[i]
	for j, e := range b {
		if e.id == id {
			e.Addr, e.lastSeen, e.failures = c.Addr, now, 0
			t.buckets[i] = append(append(b[:j:j], b[j+1:]...), e)
			return true
		}
	}
	if len(b) >= BucketSize {
		return false
	}
	t.buckets[i] = append(b, &entry{Contact: c, id: id, lastSeen: now})
	return true
}

// failed counts a missed liveness check; after 3 the contact is removed.
func (t *table) failed(peerID []byte) {
	id := IDOf(peerID)
	i := distanceBucket(t.self, id)
	if i < 0 {
		return
	}
	t.buckets[i] = slices.DeleteFunc(t.buckets[i], func(e *entry) bool {
		if e.id != id {
			return false
		}
		e.failures++
		return e.failures >= 3
	})
}

// closest returns up to n contacts closest to target by XOR distance.
func (t *table) closest(target NodeID, n int) []Contact {
	var all []*entry
	for _, b := range t.buckets {
		all = append(all, b...)
	}
	slices.SortFunc(all, func(x, y *entry) int { return compareDistance(x.id, y.id, target) })
	out := make([]Contact, 0, min(n, len(all)))
	for _, e := range all[:min(n, len(all))] {
		out = append(out, e.Contact)
	}
	return out
}

// all is a copy of every contact, least recently seen first within each bucket.
func (t *table) all() []*entry {
	var out []*entry
	for _, b := range t.buckets {
		for _, e := range b {
			cp := *e
			out = append(out, &cp)
		}
	}
	return out
}

func (t *table) len() int {
	n := 0
	for _, b := range t.buckets {
		n += len(b)
	}
	return n
}

// compareDistance orders a and b by XOR distance to target.
func compareDistance(a, b, target NodeID) int {
	for i := range target {
		da, db := a[i]^target[i], b[i]^target[i]
		if da != db {
			return int(da) - int(db)
		}
	}
	return 0
}

// has reports whether peerID is in the table.
func (t *table) has(peerID []byte) bool {
	id := IDOf(peerID)
	i := distanceBucket(t.self, id)
	if i < 0 {
		return false
	}
	for _, e := range t.buckets[i] {
		if e.id == id {
			return true
		}
	}
	return false
}
