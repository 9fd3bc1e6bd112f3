package transport

import (
	"hash/maphash"
	"net/netip"
	"sync"
	"time"
)

// limiterSlots is the number of token buckets the per-source limiter keeps, whatever the
// number of sources: a source hashes (with a random seed) to one slot, so memory is fixed and
// nothing is ever cleared whole; an attacker cannot aim collisions it cannot compute.
const limiterSlots = 1 << 14

// sourceLimiter limits datagrams per source prefix: an IPv4 address, an IPv6 /64 (one host
// usually owns a whole /64), or, on loopback, the address and port (the local daemons of one
// host share 127.0.0.1).
type sourceLimiter struct {
	mu    sync.Mutex
	seed  maphash.Seed
	rate  float64
	burst float64
	epoch time.Time // bucket times are nanoseconds since epoch (monotonic)
	slots [limiterSlots]bucket
}

// bucket holds no pointer (a time.Time would: its location), so the 256 KiB of slots are
// never scanned by the garbage collector; a process running many transports (the in-memory
// benchmarks run 1,000) otherwise spent its GC time on them.
type bucket struct {
	tokens float64
	last   int64 // nanoseconds since the limiter's epoch; 0: never used
}

func newSourceLimiter(rate float64, burst int) *sourceLimiter {
	return &sourceLimiter{seed: maphash.MakeSeed(), rate: rate, burst: float64(burst), epoch: time.Now()}
}

// sourceKey is the prefix a source is limited by.
func sourceKey(a netip.AddrPort) []byte {
	ip := a.Addr()
	switch {
	case ip.IsLoopback():
		b, _ := a.MarshalBinary()
		return b
	case ip.Is4():
		b := ip.As4()
		return b[:]
	default:
		b := ip.As16()
		return b[:8]
	}
}

func (l *sourceLimiter) allow(src netip.AddrPort, now time.Time) bool {
	slot := maphash.Bytes(l.seed, sourceKey(src)) % limiterSlots
	l.mu.Lock()
	defer l.mu.Unlock()
	b := &l.slots[slot]
	at := max(1, int64(now.Sub(l.epoch)))
	if b.last == 0 {
		b.tokens = l.burst
	} else {
		b.tokens = min(l.burst, b.tokens+time.Duration(max(0, at-b.last)).Seconds()*l.rate)
	}
	b.last = at
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
