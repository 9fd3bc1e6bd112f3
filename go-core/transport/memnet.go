package transport

import (
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
)

// memQueue is the datagrams one in-memory endpoint may hold unread; more are dropped, as a
// full socket buffer drops them.
const memQueue = 512

// ErrClosed is returned by an endpoint after Close.
var ErrClosed = errors.New("transport: connection closed")

// MemNetwork is an in-memory datagram network: endpoints by address, lossless unless an
// endpoint's queue is full. Hook, when set, sees every datagram and may drop it (false) — tests
// use it to spoof, capture or reorder.
type MemNetwork struct {
	// endpoints by address (netip.AddrPort → *memConn). A sync.Map, not a map under a
	// RWMutex: with 1,000 busy endpoints, each Listen (a write) waited for the readers of
	// every datagram, some preempted while holding the read lock, and the datagrams queued
	// behind it: 1,000 daemons took 30 s to start (160 s started at once).
	endpoints sync.Map
	// Hook sees each datagram before delivery; returning false drops it.
	Hook func(from, to netip.AddrPort, pkt []byte) bool
	// Bytes and Packets count what was delivered; Overflows, the datagrams dropped because
	// their endpoint's queue was full.
	Bytes, Packets, Overflows atomic.Uint64
}

// NewMemNetwork makes an empty network.
func NewMemNetwork() *MemNetwork {
	return &MemNetwork{}
}

type datagram struct {
	from netip.AddrPort
	pkt  []byte
}

type memConn struct {
	net  *MemNetwork
	addr netip.AddrPort
	in   chan datagram
	done chan struct{}
	once sync.Once
	// overflows: datagrams to this endpoint dropped because its queue was full.
	overflows atomic.Uint64
}

// Listen attaches an endpoint at addr.
func (m *MemNetwork) Listen(addr netip.AddrPort) (PacketConn, error) {
	c := &memConn{net: m, addr: addr, in: make(chan datagram, memQueue), done: make(chan struct{})}
	if _, taken := m.endpoints.LoadOrStore(addr, c); taken {
		return nil, errors.New("transport: address in use")
	}
	return c, nil
}

// OverflowsAt is how many datagrams to addr were dropped because its queue was full (0 for an
// address nobody listens on).
func (m *MemNetwork) OverflowsAt(addr netip.AddrPort) uint64 {
	if v, ok := m.endpoints.Load(addr); ok {
		return v.(*memConn).overflows.Load()
	}
	return 0
}

// Inject delivers pkt to `to` as if `from` had sent it (spoofing, for tests).
func (m *MemNetwork) Inject(from, to netip.AddrPort, pkt []byte) {
	m.deliver(from, to, pkt)
}

func (m *MemNetwork) deliver(from, to netip.AddrPort, pkt []byte) {
	if m.Hook != nil && !m.Hook(from, to, pkt) {
		return
	}
	v, ok := m.endpoints.Load(to)
	if !ok {
		return
	}
	c := v.(*memConn)
	select {
	case c.in <- datagram{from: from, pkt: append([]byte(nil), pkt...)}:
		m.Bytes.Add(uint64(len(pkt)))
		m.Packets.Add(1)
	case <-c.done:
	default:
		m.Overflows.Add(1)
		c.overflows.Add(1)
	}
}

func (c *memConn) ReadFrom(buf []byte) (int, netip.AddrPort, error) {
	select {
	case d := <-c.in:
		return copy(buf, d.pkt), d.from, nil
	case <-c.done:
		return 0, netip.AddrPort{}, ErrClosed
	}
}

func (c *memConn) WriteTo(pkt []byte, to netip.AddrPort) error {
	select {
	case <-c.done:
		return ErrClosed
	default:
	}
	c.net.deliver(c.addr, to, pkt)
	return nil
}

func (c *memConn) LocalAddr() netip.AddrPort { return c.addr }

func (c *memConn) Close() error {
	c.once.Do(func() {
		close(c.done)
		c.net.endpoints.CompareAndDelete(c.addr, c)
	})
	return nil
}
