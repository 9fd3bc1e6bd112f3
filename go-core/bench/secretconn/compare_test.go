package secretconn

import (
	"fmt"
	"io"
	"net"
	"testing"

	cmted "github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/p2p/conn"
)

// tcpPair is a connected pair of TCP sockets on 127.0.0.1.
func tcpPair(tb testing.TB) (net.Conn, net.Conn) {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		accepted <- c
	}()
	a, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	b := <-accepted
	if b == nil {
		tb.Fatal("accept failed")
	}
	return a, b
}

// both runs f(a) and g(b) at once and fails on either error.
func both(tb testing.TB, f, g func() error) {
	tb.Helper()
	errc := make(chan error, 1)
	go func() { errc <- g() }()
	if err := f(); err != nil {
		tb.Fatal(err)
	}
	if err := <-errc; err != nil {
		tb.Fatal(err)
	}
}

func aecommsPair(tb testing.TB, x, y *party) (*stream, *stream) {
	ca, cb := tcpPair(tb)
	tb.Cleanup(func() { ca.Close(); cb.Close() })
	var sa, sb *stream
	both(tb, func() (err error) { sa, err = handshake(ca, x, y, true); return },
		func() (err error) { sb, err = handshake(cb, y, x, false); return })
	return sa, sb
}

func secretPair(tb testing.TB, x, y cmted.PrivKey) (*conn.SecretConnection, *conn.SecretConnection) {
	ca, cb := tcpPair(tb)
	tb.Cleanup(func() { ca.Close(); cb.Close() })
	var sa, sb *conn.SecretConnection
	both(tb, func() (err error) { sa, err = conn.MakeSecretConnection(ca, x); return },
		func() (err error) { sb, err = conn.MakeSecretConnection(cb, y); return })
	return sa, sb
}

// throughput sends b.N messages of size from one side while the other reads them.
func benchAEComms(size int) func(*testing.B) {
	return func(b *testing.B) {
		x, _ := newParty()
		y, _ := newParty()
		sa, sb := aecommsPair(b, x, y)
		msg := make([]byte, size)
		b.SetBytes(int64(size))
		b.ReportAllocs()
		b.ResetTimer()
		both(b, func() error {
			for range b.N {
				if err := sa.Write(msg); err != nil {
					return err
				}
			}
			return nil
		}, func() error {
			for range b.N {
				if _, err := sb.Read(); err != nil {
					return err
				}
			}
			return nil
		})
	}
}

func benchSecret(size int) func(*testing.B) {
	return func(b *testing.B) {
		sa, sb := secretPair(b, cmted.GenPrivKey(), cmted.GenPrivKey())
		msg := make([]byte, size)
		buf := make([]byte, size)
		b.SetBytes(int64(size))
		b.ReportAllocs()
		b.ResetTimer()
		both(b, func() error {
			for range b.N {
				if _, err := sa.Write(msg); err != nil {
					return err
				}
			}
			return nil
		}, func() error {
			for range b.N {
				if _, err := io.ReadFull(sb, buf); err != nil {
					return err
				}
			}
			return nil
		})
	}
}

// handshakes: both sides of one handshake per iteration, on a fresh TCP pair made outside the
// timer, long-term keys made once.
func benchAECommsHandshake(b *testing.B) {
	x, _ := newParty()
	y, _ := newParty()
	b.ReportAllocs()
	for range b.N {
		b.StopTimer()
		ca, cb := tcpPair(b)
		b.StartTimer()
		both(b, func() error { _, err := handshake(ca, x, y, true); return err },
			func() error { _, err := handshake(cb, y, x, false); return err })
		b.StopTimer()
		ca.Close()
		cb.Close()
		b.StartTimer()
	}
}

func benchSecretHandshake(b *testing.B) {
	x, y := cmted.GenPrivKey(), cmted.GenPrivKey()
	b.ReportAllocs()
	for range b.N {
		b.StopTimer()
		ca, cb := tcpPair(b)
		b.StartTimer()
		both(b, func() error { _, err := conn.MakeSecretConnection(ca, x); return err },
			func() error { _, err := conn.MakeSecretConnection(cb, y); return err })
		b.StopTimer()
		ca.Close()
		cb.Close()
		b.StartTimer()
	}
}

func BenchmarkAEComms(b *testing.B) {
	for _, size := range []int{1 << 10, 16 << 10, 64 << 10} {
		b.Run(fmt.Sprint(size), benchAEComms(size))
	}
	b.Run("handshake", benchAECommsHandshake)
}

func BenchmarkSecretConnection(b *testing.B) {
	for _, size := range []int{1 << 10, 16 << 10, 64 << 10} {
		b.Run(fmt.Sprint(size), benchSecret(size))
	}
	b.Run("handshake", benchSecretHandshake)
}

// BenchmarkRatios measures both, one after the other in this run, and prints AEComms /
// SecretConnection for each figure with the goal (issue 16).
func BenchmarkRatios(b *testing.B) {
	for range b.N {
		fmt.Printf("%-12s %16s %16s %8s %6s\n", "figure", "AEComms", "SecretConn", "ratio", "goal")
		for _, c := range []struct {
			name string
			size int
			goal float64
		}{{"1 KiB", 1 << 10, 1.5}, {"16 KiB", 16 << 10, 0}, {"64 KiB", 64 << 10, 3}} {
			a := testing.Benchmark(benchAEComms(c.size))
			s := testing.Benchmark(benchSecret(c.size))
			mbps := func(r testing.BenchmarkResult) float64 {
				return float64(r.Bytes) * float64(r.N) / r.T.Seconds() / 1e6
			}
			ratio := mbps(a) / mbps(s)
			fmt.Printf("%-12s %11.0f MB/s %11.0f MB/s %7.2fx %6s\n", c.name, mbps(a), mbps(s), ratio, goal(c.goal, ratio))
		}
		a := testing.Benchmark(benchAECommsHandshake)
		s := testing.Benchmark(benchSecretHandshake)
		perSec := func(r testing.BenchmarkResult) float64 { return float64(r.N) / r.T.Seconds() }
		ratio := perSec(a) / perSec(s)
		fmt.Printf("%-12s %13.0f /s %13.0f /s %7.2fx %6s\n", "handshakes", perSec(a), perSec(s), ratio, goal(1.5, ratio))
	}
}

func goal(want, got float64) string {
	switch {
	case want == 0:
		return "-"
	case got >= want:
		return fmt.Sprintf(">=%.1f ok", want)
	}
	return fmt.Sprintf(">=%.1f MISSED", want)
}
