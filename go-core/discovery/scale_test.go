package discovery

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/flarechain/detr-p2p/go-core/transport"
)

// 1,000 daemons in one process over transport.MemNetwork (the same transport and daemon code,
// datagrams through channels instead of sockets), each at its own public-looking address and
// serving one node's record, at the default 1 s refresh: time (from the first daemon's start,
// joins included) until every daemon hands out all 1,000 records, capped at 180 s, how many did
// and the fewest records any hands out; then bytes each daemon sends per minute over the next
// 20 s, and heap per daemon.
func BenchmarkConvergence1000(b *testing.B) {
	const size = 1000
	for range b.N {
		var before runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		mn := transport.NewMemNetwork()
		daemons := make([]*Node, size)
		g := [32]byte{1}
		start := time.Now()
		for i := range daemons {
			ip := netip.AddrFrom4([4]byte{11, byte(i >> 8), byte(i), 1})
			conn, err := mn.Listen(netip.AddrPortFrom(ip, 30400))
			if err != nil {
				b.Fatal(err)
			}
			var boot []Contact
			if i > 0 {
				// Two bootstrap daemons: the first and one that joined before.
				boot = []Contact{daemons[0].Self(), daemons[i/2].Self()}
			}
			d, err := New(mustID(b), Config{Conn: conn, Bootstrap: boot, Logger: quiet,
				Liveness: func(*Record) bool { return true }})
			if err != nil {
				b.Fatal(err)
			}
			daemons[i] = d
			rec := &Record{Genesis: g, Roles: 4, Seq: uint64(time.Now().UnixMilli()), Addrs: []string{fmt.Sprintf("/ip4/%s/tcp/30333", ip)}}
			if err := rec.Sign(mustID(b)); err != nil {
				b.Fatal(err)
			}
			raw, _ := rec.Encode()
			if _, err := d.Register(raw); err != nil {
				b.Fatal(err)
			}
		}
		// Until every daemon hands out every record, or 180 s: time, daemons done and the
		// fewest records a daemon hands out (measured, not asserted).
		done, fewest := 0, 0
		for time.Since(start) < 180*time.Second {
			done, fewest = 0, size
			for _, d := range daemons {
				k := len(d.Peers(g))
				fewest = min(fewest, k)
				if k >= size {
					done++
				}
			}
			if done == size {
				break
			}
			time.Sleep(time.Second)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/converge")
		b.ReportMetric(float64(done), "daemons-converged")
		b.ReportMetric(float64(fewest), "fewest-records")
		var mid runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&mid)
		b.ReportMetric(float64(mid.HeapAlloc-before.HeapAlloc)/size/1024, "KiB-heap/daemon")
		sent := func() (bytes uint64) {
			for _, d := range daemons {
				_, ts := d.Stats()
				bytes += ts.BytesOut
			}
			return
		}
		b0 := sent()
		const window = 20 * time.Second
		time.Sleep(window)
		b.ReportMetric(float64(sent()-b0)*float64(time.Minute)/float64(window)/size, "bytes/node/min")
		for _, d := range daemons {
			d.Close()
		}
	}
}
