package discovery

import (
	"bytes"
	"time"
)

// pullTimeout is how long a daemon waits for the next page of a pull before it asks another
// contact. It bounds a round trip, so it does not scale with the refresh period; progress is kept
// in the pull's cursor, so giving up on a slow contact costs one repeated page, never the pull.
const pullTimeout = 2 * time.Second

// pull is the anti-entropy exchange of one chain's records: pages in PeerId order, asked one
// after the other from one contact. The cursor survives a lost or late page: the next round
// resumes after the last record received instead of starting again from the first page.
type pull struct {
	from   []byte    // PeerId of the contact asked for the next page
	cursor []byte    // the last PeerId received; nil: from the start
	sent   time.Time // when the next page was asked for; zero: no page awaited
}

// pullRound asks one contact for the records of each known chain, resuming each chain's pull
// where it stopped. A pull whose page is awaited is left alone until pullTimeout.
func (n *Node) pullRound(genesis [][32]byte, all []*entry, now time.Time) {
	for _, g := range genesis {
		to := pick(all, 1, nil)
		if len(to) == 0 {
			return
		}
		n.mu.Lock()
		p := n.pulls[g]
		if p == nil {
			p = &pull{}
			n.pulls[g] = p
		}
		if !p.sent.IsZero() && now.Sub(p.sent) < pullTimeout {
			n.mu.Unlock()
			continue
		}
		p.from, p.sent = bytes.Clone(to[0].PeerID), now
		cursor := bytes.Clone(p.cursor)
		n.mu.Unlock()
		_, digest := n.held(g)
		n.send(to[0].Contact, getRecords(g, digest, cursor))
	}
}

// pulled checks that page answers the pull in flight for its chain from sender, and moves the
// pull on: the next page is asked for at once, or the pull ends (an empty or last page). A page
// nobody asked for (or from another contact) is refused: false.
func (n *Node) pulled(sender Contact, page *recordsPage) bool {
	n.mu.Lock()
	p := n.pulls[page.genesis]
	if p == nil || p.sent.IsZero() || !bytes.Equal(p.from, sender.PeerID) {
		n.mu.Unlock()
		return false
	}
	if !page.more || len(page.records) == 0 {
		p.cursor, p.sent = nil, time.Time{}
		n.mu.Unlock()
		return true
	}
	p.cursor = bytes.Clone(page.records[len(page.records)-1].PeerID)
	p.sent = time.Now()
	cursor := bytes.Clone(p.cursor)
	n.mu.Unlock()
	_, digest := n.held(page.genesis)
	n.send(sender, getRecords(page.genesis, digest, cursor))
	return true
}
