package discovery

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"slices"

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
	msgGetRecords = 6 // genesis [32], start u8, lp8 cursor, numRanges × digest [8], probe u8, n u8, n × held [8]
	msgRecords    = 7 // genesis [32], range u8, flags u8, differ u64, n u8, n × lp16 record

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
// range at or after `start` whose digest differs, so that only what differs travels. Within
// that range, the records the asker lists as held (by their record hash) do not travel either:
// a range differs by one record, and its other records are not sent again. The asker learns
// which ranges to list from the answers, which carry the ranges that differ; a pull starts with
// a probe, answered by that set alone.
const (
	numRanges  = 64
	digestSize = 8
	// page flags
	flagMore = 1 // records of this range after the page remain
	flagDone = 2 // no range at or after start differs: the pull is over
	// getRecordsHead is a GETRECORDS without its cursor and held list.
	getRecordsHead = 1 + 32 + 1 + 1 + numRanges*digestSize + 1 + 1
	// maxHeld is the most held-record hashes a GETRECORDS lists (its count is one byte).
	maxHeld = 255
)

// rangeOf is the range a record of peerID falls in.
func rangeOf(peerID []byte) int { return int(IDOf(peerID)[0]) * numRanges / 256 }

// heldRecord is a record's PeerId, wire form and record hash, as pages are built from.
type heldRecord struct {
	peerID, raw []byte
	hash        uint64
}

// encodeRecords is one RECORDS page of range r: the records of recs (in PeerId order) after
// cursor that the asker does not hold (held: sorted hashes) and that fit in one message, with
// differ (recordsHead).
func encodeRecords(genesis [32]byte, r int, recs []heldRecord, cursor []byte, held []uint64, differ uint64) []byte {
	out := recordsHead(make([]byte, 0, maxMessage), genesis, r, 0, differ)
	const flagsAt, countAt = 1 + 32 + 1, 1 + 32 + 2 + 8
	count := 0
	for _, rec := range recs {
		if bytes.Compare(rec.peerID, cursor) <= 0 {
			continue
		}
		if _, found := slices.BinarySearch(held, rec.hash); found {
			continue
		}
		if len(out)+2+len(rec.raw) > maxMessage || count == 255 {
			out[flagsAt] = flagMore
			break
		}
		out = appendLP16(out, rec.raw)
		count++
	}
	out[countAt] = byte(count)
	return out
}

// recordsHead appends the head of a RECORDS message to out: genesis, range r, flags, differ
// (the set of ranges whose digests differ, bit i: range i) and a record count of 0. Alone, with
// flagDone, it ends a pull (no range at or after the one asked for differs); with flagMore, it
// answers a probe (range r differs, its records remain).
func recordsHead(out []byte, genesis [32]byte, r int, flags byte, differ uint64) []byte {
	out = append(out, msgRecords)
	out = append(out, genesis[:]...)
	out = append(out, byte(r), flags)
	out = binary.LittleEndian.AppendUint64(out, differ)
	return append(out, 0)
}

// recordsPage is one RECORDS message.
type recordsPage struct {
	genesis    [32]byte
	rng        int
	more, done bool
	differ     uint64    // the ranges whose digests differed when the page was made
	records    []*Record // parsed, not verified yet (see Node.store)
	// raw holds each record's wire form (to relay it unchanged).
	raw [][]byte
}

func decodeRecords(b []byte) (*recordsPage, error) {
	rd := &reader{b: b}
	page := &recordsPage{}
	copy(page.genesis[:], rd.take(32))
	head := rd.take(2)
	differ := rd.take(8)
	count := rd.take(1)
	if rd.err != nil || int(head[0]) >= numRanges || head[1] > flagMore|flagDone {
		return nil, ErrMessage
	}
	page.rng, page.more, page.done = int(head[0]), head[1]&flagMore != 0, head[1]&flagDone != 0
	page.differ = binary.LittleEndian.Uint64(differ)
	page.records, page.raw = make([]*Record, 0, count[0]), make([][]byte, 0, count[0])
	for range int(count[0]) {
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

// recordsRequest is one GETRECORDS.
type recordsRequest struct {
	genesis [32]byte
	start   int    // the range to page from
	cursor  []byte // the last PeerId received in range start; nil: from its first
	digests *rangeDigests
	// probe asks for no records: only the first range from start that differs, and the set
	// of ranges that differ.
	probe bool
	// held are the hashes (recordHash) of records the asker holds in the ranges it expects to
	// differ, sorted; those are not sent.
	held []uint64
}

// heldRoom is how many held-record hashes fit in a GETRECORDS with a cursor of that size.
func heldRoom(cursor []byte) int {
	return min(maxHeld, (maxMessage-getRecordsHead-len(cursor))/digestSize)
}

// encode is the GETRECORDS message (held must fit: heldRoom).
func (q *recordsRequest) encode() []byte {
	out := make([]byte, 0, getRecordsHead+len(q.cursor)+len(q.held)*digestSize)
	out = append(out, msgGetRecords)
	out = append(out, q.genesis[:]...)
	out = append(out, byte(q.start), byte(len(q.cursor)))
	out = append(out, q.cursor...)
	for i := range q.digests {
		out = append(out, q.digests[i][:]...)
	}
	probe := byte(0)
	if q.probe {
		probe = 1
	}
	out = append(out, probe, byte(len(q.held)))
	for _, h := range q.held {
		out = binary.LittleEndian.AppendUint64(out, h)
	}
	return out
}

// decodeGetRecords reads a GETRECORDS body; its held list comes back sorted.
func decodeGetRecords(b []byte) (*recordsRequest, error) {
	rd := &reader{b: b}
	q := &recordsRequest{digests: &rangeDigests{}}
	copy(q.genesis[:], rd.take(32))
	head := rd.take(2)
	if rd.err != nil || int(head[0]) >= numRanges {
		return nil, ErrMessage
	}
	q.start = int(head[0])
	q.cursor = rd.take(int(head[1]))
	for i := range q.digests {
		copy(q.digests[i][:], rd.take(digestSize))
	}
	tail := rd.take(2)
	if rd.err != nil || tail[0] > 1 {
		return nil, ErrMessage
	}
	q.probe = tail[0] == 1
	q.held = make([]uint64, int(tail[1]))
	for i := range q.held {
		if h := rd.take(digestSize); h != nil {
			q.held[i] = binary.LittleEndian.Uint64(h)
		}
	}
	if rd.err != nil || len(rd.b) != 0 {
		return nil, ErrMessage
	}
	slices.Sort(q.held)
	return q, nil
}
