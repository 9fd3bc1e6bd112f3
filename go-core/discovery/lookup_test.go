package discovery

import (
	"net/netip"
	"testing"
	"time"
)

// Each FINDNODE takes one NODES reply: two lookups sent to one contact in one round (our own
// neighbourhood and a random id) take both replies, a third reply is unsolicited. (Matched by
// contact only, the second reply of every such round was dropped: a daemon whose thin table
// held its two bootstraps learned from half the replies it asked for.)
func TestEveryFindNodeTakesItsReply(t *testing.T) {
	d := startDaemon(t, mustID(t), "127.0.0.1:0", nil)
	replies := make(chan struct{}, 4)
	a := newAttacker(t, func(a *attacker, from netip.AddrPort, peerID, msg []byte) {
		if msg[0] == msgFindNode {
			if err := a.send(from, peerID, encodeNodes(nil)); err == nil {
				replies <- struct{}{}
			}
		}
	})
	var one, two NodeID
	two[0] = 1
	d.findNode(a.contact(), one)
	d.findNode(a.contact(), two)
	for range 2 {
		select {
		case <-replies:
		case <-time.After(3 * time.Second):
			t.Fatal("the attacker was not asked twice")
		}
	}
	if err := a.send(d.Self().Addr, d.id.PeerID, encodeNodes(nil)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if s, _ := d.Stats(); s.Unsolicited >= 1 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if s, _ := d.Stats(); s.Unsolicited != 1 || s.Contacts != 1 {
		t.Fatalf("want both replies taken and the third refused: %+v", s)
	}
}
