package discovery

import (
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flarechain/detr-p2p/go-core/crypto"
	"github.com/flarechain/detr-p2p/go-core/transport"
)

// 1,000 daemons in one process over transport.MemNetwork (the same transport and daemon code,
// datagrams through channels instead of sockets), each at its own public-looking address and
// serving one node's record, at the default 1 s refresh: time (from the first daemon's start,
// joins included) until every daemon hands out all 1,000 records, capped at 180 s, how many did
// and the fewest records any hands out; then bytes each daemon sends per minute over the next
// 20 s, and heap per daemon.
func BenchmarkConvergence1000(b *testing.B) { benchConvergence(b, 1000) }

// BenchmarkConvergence300 is the same at 300 daemons.
func BenchmarkConvergence300(b *testing.B) { benchConvergence(b, 300) }

func benchConvergence(b *testing.B, size int) {
	defer paceGCAsSeparateDaemons(size)()
	for range b.N {
		var before runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		mn := transport.NewMemNetwork()
		daemons := make([]*Node, size)
		g := [32]byte{1}
		// The daemons' keys and their nodes' signed records exist before the network starts.
		ids := make([]*crypto.Identity, size)
		raws := make([][]byte, size)
		ipOf := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{11, byte(i >> 8), byte(i), 1}) }
		for i := range size {
			ids[i] = mustID(b)
			rec := &Record{Genesis: g, Roles: 4, Seq: uint64(time.Now().UnixMilli()), Addrs: []string{fmt.Sprintf("/ip4/%s/tcp/30333", ipOf(i))}}
			if err := rec.Sign(mustID(b)); err != nil {
				b.Fatal(err)
			}
			raws[i], _ = rec.Encode()
		}
		addrOf := func(i int) netip.AddrPort { return netip.AddrPortFrom(ipOf(i), 30400) }
		index := make(map[string]int, size)
		for i, raw := range raws {
			rec, _ := DecodeRecord(raw)
			index[string(rec.PeerID)] = i
		}
		watches := make([]watch, size)
		cpu0 := cpuTime()
		start := time.Now()
		for i := range watches {
			watches[i] = watch{index: index, start: start, checked: make([]bool, size)}
		}
		// Every daemon starts at once, as on machines of their own. Started one after the
		// other in this process, each start waited behind the goroutines of the daemons
		// already running: 1,000 took 30 s to start, and the benchmark measured that.
		var starting sync.WaitGroup
		for i := range daemons {
			starting.Go(func() {
				// Each daemon in its own /24: an Internet-like topology, within the subnet limits.
				conn, err := mn.Listen(addrOf(i))
				if err != nil {
					b.Error(err)
					return
				}
				var boot []Contact
				if i > 0 {
					// Two bootstrap daemons: the first and another (up or not yet).
					boot = []Contact{{PeerID: ids[0].PeerID, Addr: addrOf(0)}, {PeerID: ids[i/2].PeerID, Addr: addrOf(i / 2)}}
				}
				d, err := New(ids[i], Config{Conn: conn, Bootstrap: boot, Logger: quiet,
					Liveness: watches[i].check})
				if err != nil {
					b.Error(err)
					return
				}
				daemons[i] = d
				if _, err := d.Register(raws[i]); err != nil {
					b.Error(err)
				}
			})
		}
		starting.Wait()
		if b.Failed() {
			b.FailNow()
		}
		fmt.Fprintf(os.Stderr, "%d daemons started in %.1f s\n", size, time.Since(start).Seconds())
		// Until every daemon hands out every record, or 180 s. A daemon hands a record out from
		// the moment its liveness check returns, so the time is when the last daemon checked
		// its last record, as the checks saw it: asking every daemon for its records each
		// second cost them a third of a core, and a pass of questions, queued behind their
		// busy goroutines, ended up to tens of seconds after what it observed.
		lastLog := time.Now()
		var took time.Duration
		for {
			done, last := 0, time.Duration(0)
			for i := range watches {
				if at := watches[i].at.Load(); at > 0 {
					done, last = done+1, max(last, time.Duration(at))
				}
			}
			if done == size {
				took = last
				break
			}
			if took = time.Since(start); took >= 180*time.Second {
				break
			}
			if time.Since(lastLog) >= 10*time.Second {
				lastLog = time.Now()
				// Progress on stderr at once (b.Logf prints only when the benchmark ends).
				// Records held, records handed out (checked) and contacts over the daemons:
				// fewest, 1st and 10th percentile, median, 90th percentile.
				// (Every daemon asked at once: asked one after the other, each waiting for its
				// lock behind the busy daemons' goroutines, a pass took tens of seconds.)
				stats := make([]Stats, size)
				var asking sync.WaitGroup
				for i, d := range daemons {
					asking.Go(func() { stats[i], _ = d.Stats() })
				}
				asking.Wait()
				var stored, handed, contacts []int
				worst := 0
				for i, s := range stats {
					stored, handed, contacts = append(stored, s.Records), append(handed, int(watches[i].handed.Load())), append(contacts, s.Contacts)
					if handed[i] < handed[worst] {
						worst = i
					}
				}
				s, ts := daemons[worst].Stats()
				spread := func(v []int) []int {
					slices.Sort(v)
					return []int{v[0], v[size/100], v[size/10], v[size/2], v[size*9/10]}
				}
				fmt.Fprintf(os.Stderr, "%3.0f s: records held %v, handed out %v, contacts %v\n",
					time.Since(start).Seconds(), spread(stored), spread(handed), spread(contacts))
				fmt.Fprintf(os.Stderr, "%3.0f s: %d daemons converged (daemon %d: %+v %+v)\n",
					time.Since(start).Seconds(), done, worst, s, ts)
			}
			time.Sleep(100 * time.Millisecond)
		}
		// CPU time the process spent until then: what the network cost whatever else the
		// machine ran (on 2 cores of its own, the time to converge is at least half of it).
		b.ReportMetric((cpuTime() - cpu0).Seconds(), "cpu-s/converge")
		// Then every daemon is asked (the figures below are its answers, not the checks').
		held := make([]int, size)
		var last sync.WaitGroup
		for i, d := range daemons {
			last.Go(func() { held[i] = len(d.Peers(g)) })
		}
		last.Wait()
		done, fewest := 0, size
		for _, k := range held {
			fewest = min(fewest, k)
			if k >= size {
				done++
			}
		}
		b.ReportMetric(took.Seconds(), "s/converge")
		b.ReportMetric(float64(done), "daemons-converged")
		b.ReportMetric(float64(fewest), "fewest-records")
		// Handshakes (completed, either side) and table contacts per daemon, at convergence.
		var handshakes, contacts int
		var sum Stats
		var tsum transport.Stats
		for _, d := range daemons {
			s, ts := d.Stats()
			handshakes += int(ts.Handshakes)
			contacts += s.Contacts
			sum.Records += s.Records
			sum.AliveRecords += s.AliveRecords
			sum.Accepted += s.Accepted
			sum.Stale += s.Stale
			sum.QuotaRefused += s.QuotaRefused
			sum.Unsolicited += s.Unsolicited
			sum.Dials += s.Dials
			sum.DialsSkipped += s.DialsSkipped
			tsum.PacketsOut += ts.PacketsOut
			tsum.Dropped += ts.Dropped
			tsum.RateLimited += ts.RateLimited
			tsum.Timeouts += ts.Timeouts
			tsum.HandshakesShed += ts.HandshakesShed
			tsum.HandshakeFailures += ts.HandshakeFailures
			tsum.CookiesSent += ts.CookiesSent
		}
		// Datagrams dropped by full queues (the in-memory stand-in for a socket buffer), and how
		// many of them were to the first bootstrap daemon, which every daemon joins through.
		fmt.Fprintf(os.Stderr, "at %.0f s, all daemons: %+v\n%+v\n%d datagrams delivered, %d dropped by full queues (%d to daemon 0)\n",
			took.Seconds(), sum, tsum, mn.Packets.Load(), mn.Overflows.Load(), mn.OverflowsAt(addrOf(0)))
		b.ReportMetric(float64(handshakes)/float64(size), "handshakes/daemon")
		b.ReportMetric(float64(contacts)/float64(size), "contacts/daemon")
		var mid runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&mid)
		b.ReportMetric(float64(mid.HeapAlloc-before.HeapAlloc)/float64(size)/1024, "KiB-heap/daemon")
		sent := func() (bytes uint64) {
			for _, d := range daemons {
				_, ts := d.Stats()
				bytes += ts.BytesOut
			}
			return
		}
		b0, c0 := sent(), cpuTime()
		const window = 20 * time.Second
		time.Sleep(window)
		b.ReportMetric(float64(sent()-b0)*float64(time.Minute)/float64(window)/float64(size), "bytes/node/min")
		// CPU the daemons use meanwhile, in cores (the background load of the network).
		b.ReportMetric(float64(cpuTime()-c0)/float64(window), "cores-after")
		// Closed all at once: one after the other, each close waits for goroutines that the
		// daemons still running starve.
		var closing sync.WaitGroup
		for _, d := range daemons {
			closing.Go(d.Close)
		}
		closing.Wait()
	}
}

// heapMinimum is Go's smallest heap goal of a process (the runtime's heapMinimum at GOGC=100).
const heapMinimum = 4 << 20

// paceGCAsSeparateDaemons has the collector of this process run about as often as those of
// size daemons of their own would, and returns what restores it. Go paces a collector per
// process: a daemon alone (~1.4 MB live) collects when its heap reaches Go's 4 MB minimum
// goal, while size daemons sharing one heap were collected each time the shared heap doubled:
// about twice as often once converged, and up to ten times as often while each held little
// (in a profile of 1,000, collection and allocation were a fifth of the CPU). So the shared
// heap is collected at a limit of 4 MiB per daemon (GOGC off), the sum of the separate goals.
// With GOGC or GOMEMLIMIT set, the collector is left as they say (GOGC=100 measures with the
// shared pacing).
func paceGCAsSeparateDaemons(size int) (restore func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	fmt.Fprintf(os.Stderr, "collector paced as %d processes: memory limit %d MiB, GOGC off\n", size, size*heapMinimum>>20)
	percent := debug.SetGCPercent(-1)
	limit := debug.SetMemoryLimit(int64(size) * heapMinimum)
	return func() {
		debug.SetMemoryLimit(limit)
		debug.SetGCPercent(percent)
	}
}

// watch is a daemon's liveness check in the benchmark: every node answers, and the check
// notes when the daemon has checked, so hands out, every record of the network.
type watch struct {
	index   map[string]int // a record's node → its daemon (read only)
	start   time.Time
	mu      sync.Mutex
	checked []bool // by daemon, nil once all are
	handed  atomic.Int64
	at      atomic.Int64 // time from start until all were checked, 0 until then
}

func (w *watch) check(rec *Record) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if i, ok := w.index[string(rec.PeerID)]; ok && w.checked != nil && !w.checked[i] {
		w.checked[i] = true
		if w.handed.Add(1) == int64(len(w.checked)) {
			w.at.Store(int64(time.Since(w.start)))
			w.checked = nil
		}
	}
	return true
}
