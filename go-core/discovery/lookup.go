package discovery

import (
	"time"
)

// findNode asks c for the contacts closest to target; only then is a NODES reply from c taken.
func (n *Node) findNode(c Contact, target NodeID) {
	n.mu.Lock()
	if len(n.lookups) >= maxPendingPings {
		n.mu.Unlock()
		return
	}
	n.lookups[string(c.PeerID)] = time.Now()
	n.mu.Unlock()
	n.send(c, append([]byte{msgFindNode}, target[:]...))
}

// solicited reports (and settles) a FINDNODE to peerID awaiting its reply.
func (n *Node) solicited(peerID []byte) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	sent, ok := n.lookups[string(peerID)]
	delete(n.lookups, string(peerID))
	return ok && time.Since(sent) < lookupTimeout
}

func (n *Node) expireLookups(now time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for id, sent := range n.lookups {
		if now.Sub(sent) >= lookupTimeout {
			delete(n.lookups, id)
		}
	}
}

// learn pings unknown contacts of a NODES reply that the table wants (room in their bucket or
// its replacement list): at most maxNewContactsPerReply, one per host (IP; on loopback IP and
// port), none at an address this daemon does not serve. They enter the table when they answer.
// A ping to a new contact costs a handshake (most of a millisecond of CPU on both sides):
// pinging every unknown contact of every reply, those the table would drop included, made 300
// daemons do 84 handshakes each for 68 contacts (70 for 61 with this filter).
func (n *Node) learn(contacts []Contact) {
	hosts := map[string]bool{}
	var fresh []Contact
	n.mu.Lock()
	for _, c := range contacts {
		if len(fresh) >= maxNewContactsPerReply {
			break
		}
		ip := c.Addr.Addr().Unmap()
		host := ip.String()
		if ip.IsLoopback() {
			host = c.Addr.String()
		}
		if string(c.PeerID) == string(n.id.PeerID) || n.table.has(c.PeerID) || hosts[host] ||
			(!n.cfg.AllowLocal && isLocal(ip)) || !c.Addr.IsValid() || c.Addr.Port() == 0 ||
			!n.table.wants(c) {
			continue
		}
		hosts[host] = true
		fresh = append(fresh, c)
	}
	n.mu.Unlock()
	for _, c := range fresh {
		n.ping(c)
	}
}
