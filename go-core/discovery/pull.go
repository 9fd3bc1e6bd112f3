package discovery

import (
	"bytes"
	"time"
)

// pullTimeout is how long a daemon waits for the next page of a pull before it asks another
// contact. It bounds a round trip, so it does not scale with the refresh period; progress is kept
// in the pull's cursor, so giving up on a slow contact costs one repeated page, never the pull.
const pullTimeout = 2 * time.Second

// pull is the anti-entropy exchange of one chain's records: range by range, only the ranges
// whose digests differ, pages in PeerId order, asked one after the other from one contact. The
// position (range and cursor) survives a lost or late page: the next round resumes there
// instead of starting again from the first page. A pull from the first range starts with a
// probe, whose answer names the ranges that differ; each request then lists the records held in
// those ranges, so that they do not travel again.
type pull struct {
	from   []byte    // PeerId of the contact asked for the next page
	start  int       // the range to go on from
	cursor []byte    // the last PeerId received in range start; nil: from its first
	sent   time.Time // when the next page was asked for; zero: no page awaited
	probe  bool      // the page awaited answers a probe
	differ uint64    // the ranges that differed in the last answer
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
		p.probe = p.start == 0 && p.cursor == nil
		start, cursor, differ, probe := p.start, bytes.Clone(p.cursor), p.differ, p.probe
		n.mu.Unlock()
		n.send(to[0].Contact, n.request(g, start, cursor, differ, probe))
	}
}

// expects reports whether a page of genesis from sender answers the pull in flight; a page
// nobody asked for (or from another contact) is refused.
func (n *Node) expects(sender Contact, genesis [32]byte) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	p := n.pulls[genesis]
	return p != nil && !p.sent.IsZero() && bytes.Equal(p.from, sender.PeerID)
}

// pulled moves a chain's pull on after a page from sender (its records stored): the next page
// is asked for at once, or the pull ends (no range differs any more).
func (n *Node) pulled(sender Contact, page *recordsPage) {
	n.mu.Lock()
	p := n.pulls[page.genesis]
	if p == nil || p.sent.IsZero() || !bytes.Equal(p.from, sender.PeerID) {
		n.mu.Unlock()
		return
	}
	p.differ = page.differ
	switch {
	case page.done, !page.more && page.rng+1 >= numRanges:
		p.start, p.cursor, p.sent, p.probe = 0, nil, time.Time{}, false
		n.mu.Unlock()
		return
	case p.probe:
		// The probe's answer: the first range that differs, from its first record. (Only a
		// probe is answered without records; a page of none is never asked for again.)
		p.start, p.cursor = page.rng, nil
	case page.more && len(page.records) > 0:
		p.start, p.cursor = page.rng, bytes.Clone(page.records[len(page.records)-1].PeerID)
	default:
		p.start, p.cursor = page.rng+1, nil
	}
	p.sent, p.probe = time.Now(), false
	start, cursor, differ := p.start, bytes.Clone(p.cursor), p.differ
	n.mu.Unlock()
	n.send(sender, n.request(page.genesis, start, cursor, differ, false))
}
