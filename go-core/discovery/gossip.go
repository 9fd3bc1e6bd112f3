package discovery

import (
	"time"
)

// gossipDelay is how long a record to gossip waits for others to travel with it in one
// PUTRECORD message (as many as fit in one). One record a message, a 1,000-daemon network sent
// some 3 million of them while converging, each a seal, a datagram and an open, and each record
// a verification of its own; together they share all three and one batch verification.
// Rounds of gossip take at most this much longer per hop.
const gossipDelay = 50 * time.Millisecond

// gossiped is a record waiting in the outbox and the daemon it came from ("" for our own).
type gossiped struct {
	raw  []byte
	from string
}

// gossip pushes a record to a few random contacts (gossipFanout), except the daemon it came
// from, together with the records stored within gossipDelay: it waits in the outbox until then,
// or until the outbox holds a message's worth.
func (n *Node) gossip(raw []byte, from []byte) {
	n.mu.Lock()
	var full []gossiped
	if n.outboxBytes+2+len(raw) > maxMessage-1 {
		full, n.outbox, n.outboxBytes = n.outbox, nil, 0
	}
	n.outbox = append(n.outbox, gossiped{raw: raw, from: string(from)})
	n.outboxBytes += 2 + len(raw)
	if len(n.outbox) == 1 {
		time.AfterFunc(gossipDelay, n.flushGossip)
	}
	n.mu.Unlock()
	n.sendGossip(full)
}

// flushGossip sends what waits in the outbox (unless the daemon is closed).
func (n *Node) flushGossip() {
	select {
	case <-n.done:
		return
	default:
	}
	n.mu.Lock()
	out := n.outbox
	n.outbox, n.outboxBytes = nil, 0
	n.mu.Unlock()
	n.sendGossip(out)
}

// sendGossip sends records to gossipFanout random contacts, each of them in one message
// without the records it sent us.
func (n *Node) sendGossip(records []gossiped) {
	if len(records) == 0 {
		return
	}
	n.mu.Lock()
	to := n.table.sample(gossipFanout + 1)
	n.mu.Unlock()
	sent := 0
	for _, c := range to {
		if sent == gossipFanout {
			return
		}
		msg := append(make([]byte, 0, maxMessage), msgPutRecord)
		for _, g := range records {
			if g.from != string(c.PeerID) {
				msg = appendLP16(msg, g.raw)
			}
		}
		if len(msg) > 1 {
			n.send(c, msg)
			sent++
		}
	}
}

// putRecords packs records into PUTRECORD messages, as many as fit in each.
func putRecords(raws [][]byte) [][]byte {
	var out [][]byte
	msg := []byte{msgPutRecord}
	for _, raw := range raws {
		if len(msg)+2+len(raw) > maxMessage && len(msg) > 1 {
			out, msg = append(out, msg), []byte{msgPutRecord}
		}
		msg = appendLP16(msg, raw)
	}
	if len(msg) > 1 {
		out = append(out, msg)
	}
	return out
}

// decodePutRecord reads a PUTRECORD body: one or more records, each lp16. The records are
// copies (they outlive the datagram).
func decodePutRecord(b []byte) ([][]byte, error) {
	rd := &reader{b: b}
	var raws [][]byte
	for len(rd.b) > 0 {
		raw := rd.lp16(MaxRecordSize)
		if rd.err != nil {
			return nil, ErrMessage
		}
		raws = append(raws, append([]byte(nil), raw...))
	}
	if len(raws) == 0 {
		return nil, ErrMessage
	}
	return raws, nil
}
