package discovery

import "time"

// noteInterestLocked remembers that the local node asked for genesis; past maxInterests the
// least recently asked chain is forgotten.
func (n *Node) noteInterestLocked(genesis [32]byte, now time.Time) {
	if _, ok := n.interest[genesis]; !ok && len(n.interest) >= maxInterests {
		var oldest [32]byte
		var at time.Time
		for g, t := range n.interest {
			if at.IsZero() || t.Before(at) {
				oldest, at = g, t
			}
		}
		delete(n.interest, oldest)
	}
	n.interest[genesis] = now
}

// chainsLocked lists the chains to pull: those with records, and those asked for lately.
func (n *Node) chainsLocked(now time.Time) [][32]byte {
	var out [][32]byte
	for g := range n.records {
		out = append(out, g)
	}
	for g, at := range n.interest {
		if now.Sub(at) > interestTTL {
			delete(n.interest, g)
			continue
		}
		if _, known := n.records[g]; !known {
			out = append(out, g)
		}
	}
	return out
}
