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
	msgPutRecord  = 5 // n ≥ 1 × lp16 record (as many as fit)
	msgGetRecords = 6 // genesis [32], start u8, lp8 cursor, numRanges × digest [8]
	msgRecords    = 7 // genesis [32], range u8, flags u8, n u8, n × lp16 record

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

// Record pages: records fall in numRanges ranges by the first byte of their NodeID; a
// GETRECORDS carries the asker's digest of each range, and the answer pages through the first
// range at or after `start` whose digest differs, so that only what differs travels.
const (
	numRanges  = 64
	digestSize = 8
	// page flags
	flagMore = 1 // records of this range after the page remain
	flagDone = 2 // no range at or after start differs: the pull is over
)

// rangeOf is the range a record of peerID falls in.
func rangeOf(peerID []byte) int { return int(IDOf(peerID)[0]) * numRanges / 256 }

// heldRecord is a record's PeerId and wire form, as pages are built from.
type heldRecord struct {
	peerID, raw []byte
}

// encodeRecords is one RECORDS page of range r: the records of recs (in PeerId order) after
// cursor that fit in one message.
func encodeRecords(genesis [32]byte, r int, recs []heldRecord, cursor []byte, done bool) []byte {
	out := append([]byte{msgRecords}, genesis[:]...)
	out = append(out, byte(r), 0, 0)
	if done {
		out[1+32+1] = flagDone
		return out
	}
	count := 0
	for _, rec := range recs {
		if bytes.Compare(rec.peerID, cursor) <= 0 {
			continue
		}
		if len(out)+2+len(rec.raw) > maxMessage || count == 255 {
			out[1+32+1] = flagMore
			break
		}
		out = binary.LittleEndian.AppendUint16(out, uint16(len(rec.raw)))
		out = append(out, rec.raw...)
		count++
	}
	out[1+32+2] = byte(count)
	return out
}

// recordsPage is one RECORDS message.
type recordsPage struct {
	genesis    [32]byte
	rng        int
	more, done bool
	records    []*Record // parsed, not verified yet (see Node.store)
	// raw holds each record's wire form (to relay it unchanged).
	raw [][]byte
}

func decodeRecords(b []byte) (*recordsPage, error) {
	rd := &reader{b: b}
	page := &recordsPage{}
	copy(page.genesis[:], rd.take(32))
	head := rd.take(3)
	if rd.err != nil || int(head[0]) >= numRanges || head[1] > flagMore|flagDone {
		return nil, ErrMessage
	}
	page.rng, page.more, page.done = int(head[0]), head[1]&flagMore != 0, head[1]&flagDone != 0
	for range int(head[2]) {
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

// rangeDigests are the asker's digests of every range.
type rangeDigests [numRanges][digestSize]byte

// getRecords asks for the records of genesis from range start on (after cursor, a PeerId, in
// range start), sending the asker's digest of every range.
func getRecords(genesis [32]byte, start int, cursor []byte, digests *rangeDigests) []byte {
	out := append([]byte{msgGetRecords}, genesis[:]...)
	out = append(out, byte(start), byte(len(cursor)))
	out = append(out, cursor...)
	for i := range digests {
		out = append(out, digests[i][:]...)
	}
	return out
}

// decodeGetRecords reads a GETRECORDS body.
func decodeGetRecords(b []byte) (genesis [32]byte, start int, cursor []byte, digests *rangeDigests, err error) {
	rd := &reader{b: b}
	copy(genesis[:], rd.take(32))
	head := rd.take(2)
	if rd.err != nil || int(head[0]) >= numRanges {
		return genesis, 0, nil, nil, ErrMessage
	}
	cursor = rd.take(int(head[1]))
	digests = &rangeDigests{}
	for i := range digests {
		copy(digests[i][:], rd.take(digestSize))
	}
	if rd.err != nil || len(rd.b) != 0 {
		return genesis, 0, nil, nil, ErrMessage
	}
	return genesis, int(head[0]), cursor, digests, nil
}
