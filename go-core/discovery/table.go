package discovery

import (
	"crypto/sha256"
	"math/bits"
	"net/netip"
	"slices"
	"time"
)

const (
	// BucketSize is k: contacts kept per distance bucket.
	BucketSize = 16
	// maxReplacements: contacts kept per bucket to take the place of evicted ones
	// (go-ethereum's replacement list): those that answered while their bucket was full, and
	// those NODES replies named for a full bucket. A replacement is pinged when a place frees
	// and enters once it answers, so learning one costs no handshake.
	maxReplacements = 10
	// bucketSubnetLimit and tableSubnetLimit bound the contacts of one IPv4 /24 (IPv6 /56) per
	// bucket and per table, as go-ethereum does: node ids are cheap to grind, addresses are not.
	bucketSubnetLimit = 2
	tableSubnetLimit  = 10
	// maxPingFailures: missed pings in a row that evict a contact.
	maxPingFailures = 3
)

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

type bucket struct {
	entries      []*entry // least recently seen first
	replacements []*entry // most recent last
}

// table is a Kademlia routing table: 256 buckets of at most BucketSize contacts. A full bucket
// keeps its old contacts (they are the ones likely to stay up) and keeps the new one as a
// replacement; contacts that fail liveness checks are evicted and replaced. Subnet limits
// apply, except to local addresses where the daemon serves them.
type table struct {
	self       NodeID
	allowLocal bool
	buckets    [256]bucket
	subnets    map[netip.Prefix]int
}

func newTable(self NodeID, allowLocal bool) *table {
	return &table{self: self, allowLocal: allowLocal, subnets: map[netip.Prefix]int{}}
}

func (t *table) exempt(ip netip.Addr) bool { return t.allowLocal && isLocal(ip) }

// add inserts or refreshes a verified contact; false if it went to the replacements or was
// refused (an address not served, or a full subnet).
func (t *table) add(c Contact, now time.Time) bool {
	id := IDOf(c.PeerID)
	i := distanceBucket(t.self, id)
	ip := c.Addr.Addr().Unmap()
	if i < 0 || (!t.allowLocal && isLocal(ip)) {
		return false
	}
	b := &t.buckets[i]
	for j, e := range b.entries {
		if e.id == id {
			if e.Addr != c.Addr {
				// A new address is a new contact for the subnet limits.
				t.remove(b, j)
				return t.add(c, now)
			}
			e.lastSeen, e.failures = now, 0
			b.entries = append(append(b.entries[:j:j], b.entries[j+1:]...), e)
			return true
		}
	}
	e := &entry{Contact: c, id: id, lastSeen: now}
	subnet := subnetOf(ip)
	if !t.exempt(ip) {
		inBucket := 0
		for _, o := range b.entries {
			if subnetOf(o.Addr.Addr()) == subnet {
				inBucket++
			}
		}
		if inBucket >= bucketSubnetLimit || t.subnets[subnet] >= tableSubnetLimit {
			return false
		}
	}
	if len(b.entries) >= BucketSize {
		b.replacements = slices.DeleteFunc(b.replacements, func(r *entry) bool { return r.id == id })
		b.replacements = append(b.replacements, e)
		if len(b.replacements) > maxReplacements {
			b.replacements = b.replacements[1:]
		}
		return false
	}
	b.entries = append(b.entries, e)
	if !t.exempt(ip) {
		t.subnets[subnet]++
	}
	return true
}

func (t *table) remove(b *bucket, j int) {
	e := b.entries[j]
	b.entries = slices.Delete(b.entries, j, j+1)
	if ip := e.Addr.Addr().Unmap(); !t.exempt(ip) {
		subnet := subnetOf(ip)
		if t.subnets[subnet]--; t.subnets[subnet] <= 0 {
			delete(t.subnets, subnet)
		}
	}
}

// failed counts a missed ping; after maxPingFailures the contact is evicted, and the most
// recent replacement that fits the subnet limits is returned: to be pinged, it takes the
// place once it answers.
func (t *table) failed(peerID []byte) (Contact, bool) {
	id := IDOf(peerID)
	i := distanceBucket(t.self, id)
	if i < 0 {
		return Contact{}, false
	}
	b := &t.buckets[i]
	j := slices.IndexFunc(b.entries, func(e *entry) bool { return e.id == id })
	if j < 0 {
		return Contact{}, false
	}
	if b.entries[j].failures++; b.entries[j].failures < maxPingFailures {
		return Contact{}, false
	}
	t.remove(b, j)
	for len(b.replacements) > 0 {
		r := b.replacements[len(b.replacements)-1]
		b.replacements = b.replacements[:len(b.replacements)-1]
		if _, ok := t.admissible(r.Contact); ok {
			return r.Contact, true
		}
	}
	return Contact{}, false
}

// candidate keeps c, named by a NODES reply and not verified, on the replacement list of its
// full bucket; false if c is known, its bucket has room (c is worth a ping) or the list is full.
func (t *table) candidate(c Contact) bool {
	b, ok := t.admissible(c)
	if !ok || len(b.entries) < BucketSize || len(b.replacements) >= maxReplacements {
		return false
	}
	id := IDOf(c.PeerID)
	known := func(e *entry) bool { return e.id == id }
	if slices.ContainsFunc(b.entries, known) || slices.ContainsFunc(b.replacements, known) {
		return false
	}
	b.replacements = append(b.replacements, &entry{Contact: c, id: id})
	return true
}

// closest returns up to n contacts closest to target by XOR distance.
func (t *table) closest(target NodeID, n int) []Contact {
	var all []*entry
	for i := range t.buckets {
		all = append(all, t.buckets[i].entries...)
	}
	slices.SortFunc(all, func(x, y *entry) int { return compareDistance(x.id, y.id, target) })
	out := make([]Contact, 0, min(n, len(all)))
	for _, e := range all[:min(n, len(all))] {
		out = append(out, e.Contact)
	}
	return out
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

// sample is up to k random contacts.
func (t *table) sample(k int) []Contact {
	var all []*entry
	for i := range t.buckets {
		all = append(all, t.buckets[i].entries...)
	}
	var out []Contact
	for _, e := range pickInPlace(all, k, nil) {
		out = append(out, e.Contact)
	}
	return out
}

// snapshot is a copy of every contact, as one refresh round sees them; the loop keeps one and
// reuses its buffers round after round (fresh ones every round were 4% of what a 1,000-daemon
// network allocated).
type snapshot struct {
	copies  []entry
	entries []*entry
}

// snapshot copies every contact into s and returns them, valid until s is used again.
func (t *table) snapshot(s *snapshot) []*entry {
	s.copies, s.entries = s.copies[:0], s.entries[:0]
	for i := range t.buckets {
		for _, e := range t.buckets[i].entries {
			s.copies = append(s.copies, *e)
		}
	}
	// (pointers taken once copies has stopped growing)
	for i := range s.copies {
		s.entries = append(s.entries, &s.copies[i])
	}
	return s.entries
}

func (t *table) len() int {
	n := 0
	for i := range t.buckets {
		n += len(t.buckets[i].entries)
	}
	return n
}

// admissible is c's bucket if c may enter it: an address served, and the subnet limits kept.
func (t *table) admissible(c Contact) (*bucket, bool) {
	i := distanceBucket(t.self, IDOf(c.PeerID))
	ip := c.Addr.Addr().Unmap()
	if i < 0 || (!t.allowLocal && isLocal(ip)) {
		return nil, false
	}
	b := &t.buckets[i]
	if t.exempt(ip) {
		return b, true
	}
	subnet := subnetOf(ip)
	inBucket := 0
	for _, o := range b.entries {
		if subnetOf(o.Addr.Addr()) == subnet {
			inBucket++
		}
	}
	return b, inBucket < bucketSubnetLimit && t.subnets[subnet] < tableSubnetLimit
}

// hasRoom reports whether c would enter its bucket now (not full, subnet limits kept).
func (t *table) hasRoom(c Contact) bool {
	b, ok := t.admissible(c)
	return ok && len(b.entries) < BucketSize
}

// has reports whether peerID is in the table.
func (t *table) has(peerID []byte) bool {
	id := IDOf(peerID)
	i := distanceBucket(t.self, id)
	return i >= 0 && slices.ContainsFunc(t.buckets[i].entries, func(e *entry) bool { return e.id == id })
}
