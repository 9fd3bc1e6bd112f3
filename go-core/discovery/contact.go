package discovery

import (
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// dialLiveness checks a record by opening a TCP connection to its first address this daemon
// serves (one dial per check: the dial budget counts checks).
func (n *Node) dialLiveness(timeout time.Duration) func(*Record) bool {
	return func(r *Record) bool {
		ap, ok := n.servable(r)
		if !ok {
			return false
		}
		conn, err := net.DialTimeout("tcp", ap.String(), timeout)
		if err != nil {
			return false
		}
		conn.Close()
		return true
	}
}

// TCPAddr turns /ip4/<a>/tcp/<p> or /ip6/<a>/tcp/<p> into host:port.
func TCPAddr(multiaddr string) (string, bool) {
	parts := strings.Split(multiaddr, "/")
	if len(parts) < 5 || parts[0] != "" || parts[3] != "tcp" {
		return "", false
	}
	ip, err := netip.ParseAddr(parts[2])
	if err != nil || (parts[1] != "ip4" && parts[1] != "ip6") {
		return "", false
	}
	return net.JoinHostPort(ip.String(), parts[4]), true
}

// ParseContact reads "<peer id hex>@<ip:port>", the form a daemon prints for itself.
func ParseContact(s string) (Contact, error) {
	id, addr, ok := strings.Cut(s, "@")
	if !ok {
		return Contact{}, fmt.Errorf("contact %q: want <peer-id-hex>@<ip:port>", s)
	}
	peerID, err := hex.DecodeString(id)
	if err != nil || len(peerID) == 0 {
		return Contact{}, fmt.Errorf("contact %q: peer id is not hex", s)
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return Contact{}, fmt.Errorf("contact %q: %v", s, err)
	}
	return Contact{PeerID: peerID, Addr: ap}, nil
}

// String is the "<peer id hex>@<ip:port>" form.
func (c Contact) String() string { return hex.EncodeToString(c.PeerID) + "@" + c.Addr.String() }
