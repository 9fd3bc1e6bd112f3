package discovery

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"github.com/flarechain/detr-p2p/go-core/transport"
)

// Message types carried in transport frames.
const (
	msgPing       = 1 // nonce u64
	msgPong       = 2 // nonce u64
	msgFindNode   = 3 // target [32]
	msgNodes      = 4 // n u8, n × (lp8 peer id, lp8 "ip:port")
	msgPutRecord  = 5 // record
	msgGetRecords = 6 // genesis [32], offset u16
	msgRecords    = 7 // genesis [32], total u16, offset u16, n u8, n × lp16 record

	maxMessage = transport.MaxMessageSize
)

// ErrMessage is any malformed discovery message.
var ErrMessage = errors.New("discovery: malformed message")

// Contact is a daemon: its PeerId and UDP address.
type Contact struct {
	PeerID []byte
	Addr   netip.AddrPort
}

func encodeNodes(contacts []Contact) []byte {
	out := []byte{msgNodes, 0}
	for _, c := range contacts {
		addr := c.Addr.String()
		if len(out)+2+len(c.PeerID)+len(addr) > maxMessage {
			break
		}
		out = append(out, byte(len(c.PeerID)))
		out = append(out, c.PeerID...)
		out = append(out, byte(len(addr)))
		out = append(out, addr...)
		out[1]++
	}
	return out
}

func decodeNodes(b []byte) ([]Contact, error) {
	rd := &reader{b: b}
	n := rd.take(1)
	if n == nil {
		return nil, ErrMessage
	}
	var out []Contact
	for range int(n[0]) {
		l := rd.take(1)
		if l == nil {
			return nil, ErrMessage
		}
		id := rd.take(int(l[0]))
		l = rd.take(1)
		if l == nil {
			return nil, ErrMessage
		}
		addr := rd.take(int(l[0]))
		if rd.err != nil {
			return nil, ErrMessage
		}
		ap, err := netip.ParseAddrPort(string(addr))
		if err != nil || len(id) == 0 {
			return nil, ErrMessage
		}
		out = append(out, Contact{PeerID: append([]byte(nil), id...), Addr: ap})
	}
	if len(rd.b) != 0 {
		return nil, ErrMessage
	}
	return out, nil
}

func encodeRecords(genesis [32]byte, total, offset int, recs [][]byte) ([]byte, int) {
	out := append([]byte{msgRecords}, genesis[:]...)
	out = binary.LittleEndian.AppendUint16(out, uint16(total))
	out = binary.LittleEndian.AppendUint16(out, uint16(offset))
	out = append(out, 0)
	count := 0
	for _, r := range recs[offset:] {
		if len(out)+2+len(r) > maxMessage || count == 255 {
			break
		}
		out = binary.LittleEndian.AppendUint16(out, uint16(len(r)))
		out = append(out, r...)
		count++
	}
	out[1+32+4] = byte(count)
	return out, count
}

// recordsPage is one RECORDS message.
type recordsPage struct {
	genesis       [32]byte
	total, offset int
	records       []*Record
	// raw holds each record's wire form (to relay it unchanged).
	raw [][]byte
}

func decodeRecords(b []byte) (*recordsPage, error) {
	rd := &reader{b: b}
	page := &recordsPage{}
	copy(page.genesis[:], rd.take(32))
	t := rd.take(2)
	o := rd.take(2)
	n := rd.take(1)
	if rd.err != nil {
		return nil, ErrMessage
	}
	page.total = int(binary.LittleEndian.Uint16(t))
	page.offset = int(binary.LittleEndian.Uint16(o))
	for range int(n[0]) {
		raw := rd.lp16(MaxRecordSize)
		if rd.err != nil {
			return nil, ErrMessage
		}
		r, err := DecodeRecord(raw)
		if err != nil {
			return nil, err
		}
		page.records = append(page.records, r)
		page.raw = append(page.raw, raw)
	}
	if len(rd.b) != 0 {
		return nil, ErrMessage
	}
	return page, nil
}
