package discovery

import (
	"time"
)

// findNode asks c for the contacts closest to target; only then is a NODES reply from c taken,
// one per FINDNODE (at most maxLookupsPerContact awaited from one contact).
func (n *Node) findNode(c Contact, target NodeID) {
	now := time.Now()
	n.mu.Lock()
	asked, ok := n.lookups[string(c.PeerID)]
	if !ok && len(n.lookups) >= maxPendingPings {
		n.mu.Unlock()
		return
	}
	if len(asked) >= maxLookupsPerContact {
		asked = asked[1:]
	}
	n.lookups[string(c.PeerID)] = append(asked, now)
	n.stats.Lookups++
	n.mu.Unlock()
	n.send(c, append([]byte{msgFindNode}, target[:]...))
}

// solicited reports (and settles) a FINDNODE to peerID awaiting its reply: the oldest one not
// expired.
func (n *Node) solicited(peerID []byte) bool {
	now := time.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	asked := unexpired(n.lookups[string(peerID)], now)
	if len(asked) == 0 {
		delete(n.lookups, string(peerID))
		return false
	}
	if len(asked) == 1 {
		delete(n.lookups, string(peerID))
	} else {
		n.lookups[string(peerID)] = asked[1:]
	}
	return true
}

// unexpired is asked (send times, oldest first) without the lookups older than lookupTimeout.
func unexpired(asked []time.Time, now time.Time) []time.Time {
	for len(asked) > 0 && now.Sub(asked[0]) >= lookupTimeout {
		asked = asked[1:]
	}
	return asked
}

func (n *Node) expireLookups(now time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for id, asked := range n.lookups {
		if asked = unexpired(asked, now); len(asked) == 0 {
			delete(n.lookups, id)
		} else {
			n.lookups[id] = asked
		}
	}
}

// learn pings unknown contacts of a NODES reply that have room in their bucket: at most
// maxNewContactsPerReply, one per host (IP; on loopback IP and port), none at an address this
// daemon does not serve. They enter the table when they answer. Contacts of a full bucket go on
// its replacement list unpinged (at most as many), and are pinged when a place frees.
// A ping to a new contact costs a handshake (most of a millisecond of CPU on both sides):
// pinging every unknown contact of every reply made 300 daemons do 84 handshakes each for 68
// contacts; pinging those for the replacement lists too made 1,000 daemons do 110–140 for 90;
// pinging 4 per reply, 106–114 for 95; 2 per reply, 72–88 for 67 (limits.go).
func (n *Node) learn(contacts []Contact) {
	hosts := map[string]bool{}
	var fresh []Contact
	kept := 0
	n.mu.Lock()
	for _, c := range contacts {
		if len(fresh) >= maxNewContactsPerReply && kept >= maxNewContactsPerReply {
			break
		}
		ip := c.Addr.Addr().Unmap()
		host := ip.String()
		if ip.IsLoopback() {
			host = c.Addr.String()
		}
		if string(c.PeerID) == string(n.id.PeerID) || n.table.has(c.PeerID) || hosts[host] ||
			(!n.cfg.AllowLocal && isLocal(ip)) || !c.Addr.IsValid() || c.Addr.Port() == 0 {
			continue
		}
		switch {
		case len(fresh) < maxNewContactsPerReply && n.table.hasRoom(c):
			hosts[host] = true
			fresh = append(fresh, c)
		case kept < maxNewContactsPerReply && n.table.candidate(c):
			hosts[host] = true
			kept++
		}
	}
	n.mu.Unlock()
	for _, c := range fresh {
		n.ping(c)
	}
}
