package discovery

import (
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/flarechain/detr-p2p/go-core/crypto"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// base is the signed time of the test records: sequence numbers are Unix milliseconds.
var base = uint64(time.Now().UnixMilli())

// at is the sequence number k milliseconds after base.
func at(k uint64) uint64 { return base + k }

// nodeListener is a TCP listener standing in for a FlareChain node (the liveness check dials it).
func nodeListener(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	a := l.Addr().(*net.TCPAddr)
	return fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", a.Port)
}

// testRefresh speeds the rounds up for the tests; the benchmark uses the default (1 s).
const testRefresh = 200 * time.Millisecond

func startDaemon(t testing.TB, id *crypto.Identity, listen string, boot []Contact) *Node {
	t.Helper()
	return startDaemonEvery(t, id, listen, boot, testRefresh)
}

func startDaemonEvery(t testing.TB, id *crypto.Identity, listen string, boot []Contact, refresh time.Duration) *Node {
	t.Helper()
	n, err := New(id, Config{Listen: listen, Bootstrap: boot, Refresh: refresh, AllowLocal: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	return n
}

// converged waits until every daemon hands out `want` records of genesis g.
func converged(t testing.TB, daemons []*Node, g [32]byte, want int, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < timeout {
		done := true
		for _, d := range daemons {
			if d != nil && len(d.Peers(g)) < want {
				done = false
				break
			}
		}
		if done {
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i, d := range daemons {
		if d != nil && len(d.Peers(g)) < want {
			s, ts := d.Stats()
			t.Errorf("daemon %d has %d of %d records: %+v %+v", i, len(d.Peers(g)), want, s, ts)
		}
	}
	t.Fatalf("no convergence within %v", timeout)
	return 0
}

func network(t testing.TB, size int, genesis byte) ([]*Node, []*crypto.Identity, [32]byte) {
	return networkEvery(t, size, genesis, testRefresh)
}

func networkEvery(t testing.TB, size int, genesis byte, refresh time.Duration) ([]*Node, []*crypto.Identity, [32]byte) {
	t.Helper()
	ids := make([]*crypto.Identity, size)
	daemons := make([]*Node, size)
	g := [32]byte{genesis}
	for i := range daemons {
		ids[i], _ = crypto.GenerateIdentity(rand.Reader)
		var boot []Contact
		if i > 0 {
			boot = []Contact{daemons[0].Self()}
		}
		daemons[i] = startDaemonEvery(t, ids[i], "127.0.0.1:0", boot, refresh)
		// Each daemon serves one node of the chain, which registers its record.
		nodeID, _ := crypto.GenerateIdentity(rand.Reader)
		if _, err := daemons[i].Register(signed(t, nodeID, genesis, at(1), nodeListener(t))); err != nil {
			t.Fatal(err)
		}
	}
	return daemons, ids, g
}

func TestFiftyDaemonsConvergeAndARestartedOneRejoins(t *testing.T) {
	daemons, ids, g := network(t, 50, 1)
	took := converged(t, daemons, g, 50, 60*time.Second)
	t.Logf("50 daemons converged in %v", took)

	// A record of another chain does not leak into this one's list.
	other, _ := crypto.GenerateIdentity(rand.Reader)
	if _, err := daemons[3].Register(signed(t, other, 2, at(1), nodeListener(t))); err != nil {
		t.Fatal(err)
	}
	converged(t, daemons, [32]byte{2}, 1, 30*time.Second)
	if n := len(daemons[7].Peers(g)); n != 50 {
		t.Fatalf("genesis 1 has %d records", n)
	}

	// Kill daemon 10, restart it with the same key and port: it learns every record again.
	addr := daemons[10].Self().Addr.String()
	daemons[10].Close()
	daemons[10] = startDaemon(t, ids[10], addr, []Contact{daemons[0].Self()})
	took = converged(t, daemons, g, 51-1, 60*time.Second)
	t.Logf("restarted daemon rejoined in %v", took)
}

func TestForgedAndStaleRecordsAreRejected(t *testing.T) {
	daemons, _, g := network(t, 3, 1)
	converged(t, daemons, g, 3, 30*time.Second)
	node, _ := crypto.GenerateIdentity(rand.Reader)
	addr := nodeListener(t)
	if _, err := daemons[0].Register(signed(t, node, 1, at(5), addr)); err != nil {
		t.Fatal(err)
	}
	if _, err := daemons[0].Register(signed(t, node, 1, at(5), addr)); err != ErrStale {
		t.Fatalf("same sequence: %v", err)
	}
	if _, err := daemons[0].Register(signed(t, node, 1, at(4), addr)); err != ErrStale {
		t.Fatalf("lower sequence: %v", err)
	}
	forged := signed(t, node, 1, at(9), "/ip4/10.6.6.6/tcp/1")
	forged[len(forged)-1] ^= 1
	if _, err := daemons[0].Register(forged); err == nil {
		t.Fatal("forged record registered")
	}
	// Pushed over the wire by a peer daemon, a forged record is rejected and counted.
	before, _ := daemons[1].Stats()
	daemons[0].send(daemons[1].Self(), putRecords([][]byte{forged})[0])
	// (a forged record with a sequence above the one held is verified, and refused)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if s, _ := daemons[1].Stats(); s.Rejected > before.Rejected {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if s, _ := daemons[1].Stats(); s.Rejected == before.Rejected {
		t.Fatal("forged record not rejected")
	}
	// A higher sequence replaces the record everywhere.
	converged(t, daemons, g, 4, 30*time.Second)
	if _, err := daemons[2].Register(signed(t, node, 1, at(6), addr, "/ip4/127.0.0.1/tcp/2")); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ok := true
		for _, d := range daemons {
			for _, r := range d.Peers(g) {
				if string(r.PeerID) == string(node.PeerID) && r.Seq != at(6) {
					ok = false
				}
			}
		}
		if ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("sequence 6 did not replace 5")
}

func TestADeadNodeIsNotHandedOut(t *testing.T) {
	d := startDaemon(t, mustID(t), "127.0.0.1:0", nil)
	node := mustID(t)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", l.Addr().(*net.TCPAddr).Port)
	l.Close()
	if _, err := d.Register(signed(t, node, 1, at(1), dead)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if s, _ := d.Stats(); s.Records > 1 || s.Dials == 0 || len(d.Peers([32]byte{1})) != 0 {
		t.Fatalf("a record whose node does not answer was handed out: %+v", s)
	}
}

func mustID(t testing.TB) *crypto.Identity {
	id, err := crypto.GenerateIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// 100 daemons at the default 1 s refresh: time to converge, then packets and bytes each daemon
// sends per minute at steady state (measured over 20 s after convergence).
func BenchmarkConvergence100(b *testing.B) {
	for range b.N {
		daemons, _, g := networkEvery(b, 100, 1, time.Second)
		took := converged(b, daemons, g, 100, 180*time.Second)
		b.ReportMetric(took.Seconds(), "s/converge")
		sent := func() (pkts, bytes uint64) {
			for _, d := range daemons {
				_, ts := d.Stats()
				pkts += ts.PacketsOut
				bytes += ts.BytesOut
			}
			return
		}
		p0, b0 := sent()
		const window = 20 * time.Second
		time.Sleep(window)
		p1, b1 := sent()
		perMinute := float64(time.Minute) / float64(window) / 100
		b.ReportMetric(float64(p1-p0)*perMinute, "pkts/node/min")
		b.ReportMetric(float64(b1-b0)*perMinute, "bytes/node/min")
		for _, d := range daemons {
			d.Close()
		}
	}
}

// A daemon answers from the first datagram it reads: a contact that pings it the moment it
// starts (a daemon restarted on its address, under traffic) reaches a daemon that is whole. The
// transport once read datagrams before the daemon had kept it, so the first answers read a
// transport not yet set (a data race, which `go test -race` reports here, and a nil transport
// for a datagram early enough).
func TestADaemonAnswersFromItsFirstDatagram(t *testing.T) {
	a := startDaemonEvery(t, mustID(t), "127.0.0.1:0", nil, time.Hour)
	for range 3 {
		b := startDaemonEvery(t, mustID(t), "127.0.0.1:0", nil, time.Hour)
		// (nothing here touches b until a has its answer: the race detector sees b's reads)
		contacts, _ := a.Stats()
		a.ping(b.Self())
		if !waitStats(a, 5*time.Second, func(s Stats) bool { return s.Contacts > contacts.Contacts }) {
			t.Fatal("the new daemon never answered")
		}
	}
}
