package transport

import (
	"crypto/rand"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/flarechain/detr-p2p/go-core/crypto"
)

type inbox struct {
	mu   sync.Mutex
	msgs []string
}

func (b *inbox) handler(_ netip.AddrPort, _ []byte, msg []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.msgs = append(b.msgs, string(msg))
}

func (b *inbox) wait(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		b.mu.Lock()
		if len(b.msgs) >= n {
			out := append([]string(nil), b.msgs...)
			b.mu.Unlock()
			return out
		}
		b.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("waited for %d messages", n)
	return nil
}

func node(t *testing.T, cfg Config, h Handler) (*Transport, *crypto.Identity) {
	t.Helper()
	id, _ := crypto.GenerateIdentity(rand.Reader)
	tr, err := Listen("127.0.0.1:0", id, cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr, id
}

// raw is a plain UDP socket playing an attacker.
func raw(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestMessagesFlowBothWaysAfterOneHandshake(t *testing.T) {
	var ba, bb inbox
	a, _ := node(t, Config{}, ba.handler)
	b, bid := node(t, Config{}, bb.handler)
	for _, m := range []string{"one", "two", "three"} {
		if err := a.Send(b.LocalAddr(), bid.PeerID, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	if got := bb.wait(t, 3); got[0] != "one" || got[2] != "three" {
		t.Fatalf("got %v", got)
	}
	if err := b.Send(a.LocalAddr(), a.id.PeerID, []byte("back")); err != nil {
		t.Fatal(err)
	}
	ba.wait(t, 1)
	if s := a.Stats(); s.Handshakes != 1 || b.Stats().Handshakes != 1 {
		t.Fatalf("one handshake each: %+v %+v", s, b.Stats())
	}
	if err := a.Send(b.LocalAddr(), bid.PeerID, make([]byte, MaxMessageSize+1)); err != ErrTooLarge {
		t.Fatalf("oversize: %v", err)
	}
}

func TestReplayedAndForgedPacketsAreRefused(t *testing.T) {
	var bb inbox
	b, bid := node(t, Config{}, bb.handler)
	a, _ := node(t, Config{}, nil)
	// Capture a's data packet by sending through a proxy socket? Simpler: seal with a's
	// session directly after the handshake, then resend the same bytes from a's socket.
	if err := a.Send(b.LocalAddr(), bid.PeerID, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	bb.wait(t, 1)
	a.mu.Lock()
	p := a.peers[b.LocalAddr()]
	frame, _ := p.current.Seal([]byte("once"))
	a.mu.Unlock()
	pkt := append([]byte{typeData}, frame...)
	for range 3 {
		if _, err := a.conn.WriteToUDPAddrPort(pkt, b.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	bb.wait(t, 2)
	time.Sleep(100 * time.Millisecond)
	if got := bb.wait(t, 2); len(got) != 2 {
		t.Fatalf("replays delivered: %v", got)
	}
	if s := b.Stats(); s.AuthFailures != 2 {
		t.Fatalf("two replays refused: %+v", s)
	}
	// From another socket, the same frame is unknown traffic.
	r := raw(t)
	r.WriteToUDPAddrPort(pkt, b.LocalAddr())
	time.Sleep(50 * time.Millisecond)
	if len(bb.wait(t, 2)) != 2 {
		t.Fatal("foreign frame delivered")
	}
}

func TestAnUnverifiedAddressIsNeverAmplified(t *testing.T) {
	b, bid := node(t, Config{}, nil)
	attacker, _ := crypto.GenerateIdentity(rand.Reader)
	r := raw(t)
	p, _ := crypto.StartHandshake(attacker, crypto.Binding{Remote: bid.PeerID, Protocol: []byte("/detr/discovery/1")}, 0, rand.Reader)
	init := encodeHandshake(typeInit, attacker.PeerID, &p.Message, nil)
	// An init below the minimum size gets no answer at all.
	r.WriteToUDPAddrPort(init[:MinInitSize-1], b.LocalAddr())
	r.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	buf := make([]byte, 2048)
	if n, _, err := r.ReadFromUDPAddrPort(buf); err == nil {
		t.Fatalf("answered a short init with %d bytes", n)
	}
	// A full init gets a response no larger than itself.
	r.WriteToUDPAddrPort(init, b.LocalAddr())
	r.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, _, err := r.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatal(err)
	}
	if n > len(init) {
		t.Fatalf("response %d bytes > init %d", n, len(init))
	}
	// Until the address proves itself, b sends it nothing but that response.
	if err := b.Send(r.LocalAddr().(*net.UDPAddr).AddrPort(), attacker.PeerID, []byte("x")); err != nil {
		t.Fatal(err)
	}
	r.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, _, err := r.ReadFromUDPAddrPort(buf); err == nil {
		t.Fatalf("sent %d bytes to an unverified address", n)
	}
}

func TestGarbageOversizeAndFloodsAreDropped(t *testing.T) {
	var bb inbox
	b, _ := node(t, Config{PerIPRate: 10, PerIPBurst: 10}, bb.handler)
	r := raw(t)
	for _, pkt := range [][]byte{{}, {9, 9, 9}, {typeInit, 200}, {typeResp}, make([]byte, MaxPacketSize+1)} {
		r.WriteToUDPAddrPort(pkt, b.LocalAddr())
	}
	for range 50 {
		r.WriteToUDPAddrPort([]byte{typeData, 1, 2, 3}, b.LocalAddr())
	}
	time.Sleep(200 * time.Millisecond)
	s := b.Stats()
	if s.RateLimited < 40 {
		t.Fatalf("flood not limited: %+v", s)
	}
	if len(bb.msgs) != 0 {
		t.Fatal("garbage delivered")
	}
}

func TestAHandshakeToNobodyTimesOut(t *testing.T) {
	a, _ := node(t, Config{HandshakeTimeout: 100 * time.Millisecond}, nil)
	ghost, _ := crypto.GenerateIdentity(rand.Reader)
	r := raw(t) // receives the init, never answers
	to := r.LocalAddr().(*net.UDPAddr).AddrPort()
	if err := a.Send(to, ghost.PeerID, []byte("lost")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for a.Stats().Timeouts == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if s := a.Stats(); s.Timeouts != 1 || s.Dropped < 1 {
		t.Fatalf("handshake did not time out: %+v", s)
	}
}

func FuzzPacket(f *testing.F) {
	f.Add([]byte{typeInit, 38})
	f.Add([]byte{typeData, 0, 0})
	id, _ := crypto.GenerateIdentity(rand.Reader)
	tr, err := Listen("127.0.0.1:0", id, Config{PerIPRate: 1e9, PerIPBurst: 1 << 30}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { tr.Close() })
	from := netip.MustParseAddrPort("127.0.0.1:9")
	f.Fuzz(func(t *testing.T, pkt []byte) {
		if d := tr.handle(from, pkt); d != nil {
			t.Fatal("a random packet was delivered")
		}
	})
}
