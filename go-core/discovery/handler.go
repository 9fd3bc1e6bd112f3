package discovery

import (
	"errors"
	"net/netip"
	"time"
)

// onMessage handles one authenticated message (called by the transport).
func (n *Node) onMessage(from netip.AddrPort, peerID []byte, msg []byte) {
	if len(msg) == 0 {
		return
	}
	sender := Contact{PeerID: peerID, Addr: from}
	body := msg[1:]
	switch msg[0] {
	case msgPing:
		if len(body) == 8 {
			n.send(sender, append([]byte{msgPong}, body...))
		}
		n.pingUnknown(sender)
	case msgPong:
		if n.ponged(sender, body) {
			n.verified(sender)
		}
	case msgFindNode:
		if len(body) != 32 {
			n.reject(sender, ErrMessage)
			return
		}
		var target NodeID
		copy(target[:], body)
		n.mu.Lock()
		closest := n.table.closest(target, BucketSize+1)
		n.mu.Unlock()
		var out []Contact
		for _, c := range closest {
			if string(c.PeerID) != string(peerID) {
				out = append(out, c)
			}
		}
		n.send(sender, encodeNodes(out))
		n.pingUnknown(sender)
	case msgNodes:
		if !n.solicited(peerID) {
			n.count(&n.stats.Unsolicited)
			return
		}
		contacts, err := decodeNodes(body)
		if err != nil {
			n.reject(sender, err)
			return
		}
		n.verified(sender)
		n.learn(contacts)
	case msgPutRecord:
		raws, err := decodePutRecord(body)
		if err != nil {
			n.reject(sender, err)
			return
		}
		recs := make([]*Record, 0, len(raws))
		parsed := raws[:0]
		for _, raw := range raws {
			rec, err := parseRecord(raw)
			if err != nil {
				n.reject(sender, err)
				continue
			}
			recs, parsed = append(recs, rec), append(parsed, raw)
		}
		n.storeLater(recs, parsed, string(peerID), func(errs []error) {
			for i, err := range errs {
				if n.judge(sender, err) {
					n.gossip(parsed[i], peerID)
				}
			}
		})
	case msgGetRecords:
		q, err := decodeGetRecords(body)
		if err != nil {
			n.reject(sender, err)
			return
		}
		n.send(sender, n.page(q))
		n.pingUnknown(sender)
	case msgRecords:
		page, err := decodeRecords(body)
		if err != nil {
			n.reject(sender, err)
			return
		}
		if !n.expects(sender, page.genesis) {
			n.count(&n.stats.Unsolicited)
			return
		}
		n.verified(sender)
		var recs []*Record
		var raws [][]byte
		for i, rec := range page.records {
			if rec.Genesis == page.genesis {
				recs, raws = append(recs, rec), append(raws, page.raw[i])
			}
		}
		n.storeLater(recs, raws, string(peerID), func(errs []error) {
			for _, err := range errs {
				n.judge(sender, err)
			}
		})
		n.pulled(sender, page)
	}
}

// verified puts a contact that answered one of our requests in the table: the only way in.
func (n *Node) verified(c Contact) {
	n.mu.Lock()
	n.table.add(c, time.Now())
	n.mu.Unlock()
}

// pingUnknown pings a requester the table does not hold but has room for: its pong makes it a
// contact (the session exists already, so this costs no handshake).
func (n *Node) pingUnknown(c Contact) {
	n.mu.Lock()
	known := n.table.has(c.PeerID) || !n.table.hasRoom(c)
	outstanding := false
	for _, p := range n.pings {
		if known {
			break // (every request from a contact comes here: no scan of the pings for it)
		}
		if string(p.contact.PeerID) == string(c.PeerID) {
			outstanding = true
			break
		}
	}
	n.mu.Unlock()
	if !known && !outstanding {
		n.ping(c)
	}
}

// judge takes the verdict on a record from sender: true if it was stored. A stale, expired or
// over-quota record is no fault of the sender's; any other refusal (malformed, forged, from the
// future, no servable address) is rejected.
func (n *Node) judge(sender Contact, err error) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, ErrStale), errors.Is(err, ErrQuota), errors.Is(err, ErrExpired):
	default:
		n.reject(sender, err)
	}
	return false
}

func (n *Node) reject(from Contact, err error) {
	n.count(&n.stats.Rejected)
	n.log.Debug("rejected message", "from", from.Addr, "err", err)
}
