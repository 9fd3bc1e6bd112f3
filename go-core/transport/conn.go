package transport

import (
	"net"
	"net/netip"
)

// PacketConn is what a Transport sends and receives datagrams through: a UDP socket, or the
// in-memory network of MemNetwork (same code paths, no sockets).
type PacketConn interface {
	// ReadFrom reads one datagram into buf; an error after Close ends the read loop.
	ReadFrom(buf []byte) (int, netip.AddrPort, error)
	// WriteTo sends one datagram. pkt is the caller's again when it returns (the transport
	// seals every frame into one buffer).
	WriteTo(pkt []byte, to netip.AddrPort) error
	LocalAddr() netip.AddrPort
	Close() error
}

// udpConn is a PacketConn over a UDP socket.
type udpConn struct{ c *net.UDPConn }

// ListenUDP opens a UDP socket at addr (e.g. "127.0.0.1:0").
func ListenUDP(addr string) (PacketConn, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	c, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, err
	}
	return udpConn{c}, nil
}

func (u udpConn) ReadFrom(buf []byte) (int, netip.AddrPort, error) {
	n, from, err := u.c.ReadFromUDPAddrPort(buf)
	return n, unmap(from), err
}

func (u udpConn) WriteTo(pkt []byte, to netip.AddrPort) error {
	_, err := u.c.WriteToUDPAddrPort(pkt, to)
	return err
}

func (u udpConn) LocalAddr() netip.AddrPort {
	return unmap(u.c.LocalAddr().(*net.UDPAddr).AddrPort())
}

func (u udpConn) Close() error { return u.c.Close() }

// unmap turns an IPv4-mapped IPv6 address into IPv4, so one host has one address.
func unmap(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}
