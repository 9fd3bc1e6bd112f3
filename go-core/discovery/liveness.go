package discovery

import (
	"encoding/binary"
	"slices"
	"time"
)

const (
	// pingTimeout is how long a pong may take before its ping counts as missed. It bounds a
	// round trip, which a slow or loaded host stretches, so it does not shrink with the refresh
	// period: counting missed rounds instead evicted contacts that answered every ping late.
	pingTimeout = 3 * time.Second
	// idleRounds: a contact not heard from for this many refresh rounds gets a ping.
	idleRounds = 3
	// pingsPerRound bounds the liveness pings of one round, the least recently seen contacts
	// first: pinging every idle contact each round made the liveness traffic grow with the
	// table and starve a slow host of the time to answer (go-ethereum revalidates one contact
	// at a time for the same reason).
	pingsPerRound = 2
)

// pendingPing is a ping awaiting its pong.
type pendingPing struct {
	contact Contact
	sent    time.Time
	missed  bool // counted as a miss (pingTimeout); its pong is still taken until pongGrace
}

func leUint64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

// ponged settles the ping of nonce if c (identity and address) was the one pinged.
func (n *Node) ponged(c Contact, nonce []byte) bool {
	if len(nonce) != 8 {
		return false
	}
	key := leUint64(nonce)
	n.mu.Lock()
	defer n.mu.Unlock()
	p, ok := n.pings[key]
	if !ok || string(p.contact.PeerID) != string(c.PeerID) || p.contact.Addr != c.Addr {
		n.stats.Unsolicited++
		return false
	}
	delete(n.pings, key)
	return true
}

// livenessRound counts every ping unanswered for pingTimeout as a miss (maxPingFailures in a
// row evict the contact, and its bucket's newest replacement is pinged; an answer, even a late
// one, resets the count), forgets pings after pongGrace, and pings the contacts idle for
// idleRounds rounds that have no ping outstanding (missed ones aside), at most pingsPerRound.
func (n *Node) livenessRound(all []*entry, now time.Time) {
	n.mu.Lock()
	outstanding := map[string]bool{}
	var replacements []Contact
	for nonce, p := range n.pings {
		switch age := now.Sub(p.sent); {
		case age >= pongGrace:
			delete(n.pings, nonce)
		case p.missed:
		case age >= pingTimeout:
			p.missed = true
			n.pings[nonce] = p
			if r, ok := n.table.failed(p.contact.PeerID); ok {
				replacements = append(replacements, r)
			}
		default:
			outstanding[string(p.contact.PeerID)] = true
		}
	}
	n.mu.Unlock()
	for _, r := range replacements {
		n.ping(r)
	}
	idle := slices.DeleteFunc(slices.Clone(all), func(e *entry) bool {
		return now.Sub(e.lastSeen) <= idleRounds*n.cfg.Refresh || outstanding[string(e.PeerID)]
	})
	slices.SortFunc(idle, func(a, b *entry) int { return a.lastSeen.Compare(b.lastSeen) })
	for _, e := range idle[:min(len(idle), pingsPerRound)] {
		n.ping(e.Contact)
	}
}
