package discovery

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"

	"github.com/flarechain/detr-p2p/go-core/crypto"
	"github.com/flarechain/detr-p2p/go-core/transport"
)

// Message types carried in transport frames.
const (
	msgPing       = 1 // nonce u64
	msgPong       = 2 // nonce u64
	msgFindNode   = 3 // target [32]
	msgNodes      = 4 // n u8, n × (lp8 peer id, lp8 "ip:port")
	msgPutRecord  = 5 // record
	msgGetRecords = 6 // genesis [32], digest [32], lp8 cursor (records after this PeerId)
	msgRecords    = 7 // genesis [32], more u8, n u8, n × lp16 record

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
		if _, ok := crypto.PeerIDKey(id); err != nil || !ok {
			return nil, ErrMessage
		}
		out = append(out, Contact{PeerID: append([]byte(nil), id...), Addr: ap})
	}
	if len(rd.b) != 0 {
		return nil, ErrMessage
	}
	return out, nil
}

// encodeRecords is one RECORDS page: the records of recs (wire forms, in PeerId order) after
// cursor that fit in one message; more tells the asker that records after the page remain.
func encodeRecords(genesis [32]byte, recs []heldRecord, cursor []byte) []byte {
	out := append([]byte{msgRecords}, genesis[:]...)
	out = append(out, 0, 0)
	count := 0
	for _, r := range recs {
		if bytes.Compare(r.peerID, cursor) <= 0 {
			continue
		}
		if len(out)+2+len(r.raw) > maxMessage || count == 255 {
			out[1+32] = 1
			break
		}
		out = binary.LittleEndian.AppendUint16(out, uint16(len(r.raw)))
		out = append(out, r.raw...)
		count++
	}
	out[1+32+1] = byte(count)
	return out
}

// heldRecord is a record's PeerId and wire form, as pages are built from.
type heldRecord struct {
	peerID, raw []byte
}

// recordsPage is one RECORDS message.
type recordsPage struct {
	genesis [32]byte
	more    bool
	records []*Record // parsed, not verified yet (see Node.store)
	// raw holds each record's wire form (to relay it unchanged).
	raw [][]byte
}

func decodeRecords(b []byte) (*recordsPage, error) {
	rd := &reader{b: b}
	page := &recordsPage{}
	copy(page.genesis[:], rd.take(32))
	more := rd.take(1)
	n := rd.take(1)
	if rd.err != nil || more[0] > 1 {
		return nil, ErrMessage
	}
	page.more = more[0] == 1
	for range int(n[0]) {
		raw := rd.lp16(MaxRecordSize)
		if rd.err != nil {
			return nil, ErrMessage
		}
		r, err := parseRecord(raw)
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

// getRecords asks for the records of genesis after cursor (a PeerId; empty: from the start);
// digest is what the asker holds (see held), so that a daemon in sync gets an empty page.
func getRecords(genesis [32]byte, digest [32]byte, cursor []byte) []byte {
	out := append([]byte{msgGetRecords}, genesis[:]...)
	out = append(out, digest[:]...)
	out = append(out, byte(len(cursor)))
	return append(out, cursor...)
}

// decodeGetRecords reads a GETRECORDS body.
func decodeGetRecords(b []byte) (genesis, digest [32]byte, cursor []byte, err error) {
	rd := &reader{b: b}
	copy(genesis[:], rd.take(32))
	copy(digest[:], rd.take(32))
	l := rd.take(1)
	if rd.err != nil {
		return genesis, digest, nil, ErrMessage
	}
	cursor = rd.take(int(l[0]))
	if rd.err != nil || len(rd.b) != 0 {
		return genesis, digest, nil, ErrMessage
	}
	return genesis, digest, cursor, nil
}
