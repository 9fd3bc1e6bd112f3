package discovery

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Errors of record admission.
var (
	ErrStale   = errors.New("record: sequence not above the one held (stale)")
	ErrExpired = errors.New("record: signed longer ago than the record lifetime (expired)")
	ErrFuture  = errors.New("record: signed too far ahead of this daemon's clock")
	ErrAddress = errors.New("record: no TCP address this daemon serves (loopback and private addresses need AllowLocal)")
	ErrQuota   = errors.New("record: over a quota (total, chain, subnet or origin)")
)

// stored is a record held, with where it came from and its liveness.
type stored struct {
	rec    *Record
	raw    []byte
	origin string // PeerId of the daemon that delivered it first; "" for the local API
	subnet netip.Prefix
	rng    int // the page range (rangeOf), computed once
	// expires is when the record expires (signed at + RecordTTL), kept beside alive: the
	// scans of every record (Peers, checkRecords) read it without a second pointer to follow.
	expires  time.Time
	alive    bool
	checked  time.Time
	checking bool
	failures int
}

// signedAt is a record's signed time: its sequence number, Unix milliseconds.
func signedAt(rec *Record) time.Time {
	if rec.Seq > math.MaxInt64 {
		return time.UnixMilli(math.MaxInt64)
	}
	return time.UnixMilli(int64(rec.Seq))
}

func (n *Node) expired(rec *Record, now time.Time) bool {
	return now.Sub(signedAt(rec)) >= n.cfg.RecordTTL
}

// servable is the first TCP address of rec this daemon serves, and its subnet.
func (n *Node) servable(rec *Record) (netip.AddrPort, bool) {
	for _, a := range rec.Addrs {
		hp, ok := TCPAddr(a)
		if !ok {
			continue
		}
		ap, err := netip.ParseAddrPort(hp)
		if err != nil || (!n.cfg.AllowLocal && isLocal(ap.Addr())) {
			continue
		}
		return ap, true
	}
	return netip.AddrPort{}, false
}

// Register stores a node's own record (through the local API) and spreads it. The record must
// verify, be fresh and not be older than the one held.
func (n *Node) Register(raw []byte) (*Record, error) {
	rec, err := parseRecord(raw)
	if err != nil {
		return nil, err
	}
	key := string(rec.Genesis[:]) + string(rec.PeerID)
	n.mu.Lock()
	_, known := n.local[key]
	full := !known && len(n.local) >= maxLocalRecords
	n.mu.Unlock()
	if full {
		return nil, ErrQuota
	}
	if err := n.store([]*Record{rec}, [][]byte{raw}, "")[0]; err != nil {
		return nil, err
	}
	n.mu.Lock()
	n.local[key] = raw
	clear(n.pushed) // every contact is to get the new record
	n.mu.Unlock()
	n.gossip(raw, nil)
	return rec, nil
}

// admit checks a record against everything but its signature: fresh, not expired, not from
// the future, with a servable address (returned), within the quotas (t: records admitted
// before it and not kept yet, to which it is added).
func (n *Node) admit(rec *Record, origin string, t *tally) (netip.AddrPort, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.freshLocked(rec, time.Now()); err != nil {
		return netip.AddrPort{}, err
	}
	addr, ok := n.servable(rec)
	if !ok {
		return netip.AddrPort{}, ErrAddress
	}
	recs := n.records[rec.Genesis]
	if recs[string(rec.PeerID)] == nil {
		s := &stored{origin: origin, subnet: subnetOf(addr.Addr())}
		if err := n.quotaLocked(rec.Genesis, recs, s, t); err != nil {
			n.stats.QuotaRefused++
			return netip.AddrPort{}, err
		}
		t.add(rec.Genesis, recs != nil, s)
	}
	return addr, nil
}

// keep stores an admitted record whose signature verified, unless one as new was stored
// meanwhile or a quota filled.
func (n *Node) keep(rec *Record, raw []byte, origin string, addr netip.AddrPort) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	recs := n.records[rec.Genesis]
	key := string(rec.PeerID)
	prev := recs[key]
	if prev != nil && prev.rec.Seq >= rec.Seq {
		n.stats.Stale++
		return ErrStale
	}
	s := &stored{rec: rec, raw: raw, origin: origin, subnet: subnetOf(addr.Addr()), rng: rangeOf(rec.PeerID),
		expires: signedAt(rec).Add(n.cfg.RecordTTL)}
	if prev != nil {
		s.origin = prev.origin
		if sameAddrs(prev.rec.Addrs, rec.Addrs) {
			s.alive, s.checked = prev.alive, prev.checked
		}
	} else if err := n.quotaLocked(rec.Genesis, recs, s, nil); err != nil {
		n.stats.QuotaRefused++
		return err
	}
	if recs == nil {
		recs = map[string]*stored{}
		n.records[rec.Genesis] = recs
	}
	if prev == nil {
		n.nrecords++
		n.byOrigin[s.origin]++
		n.countSubnetLocked(rec.Genesis, s.subnet, 1)
	} else if prev.subnet != s.subnet {
		n.countSubnetLocked(rec.Genesis, prev.subnet, -1)
		n.countSubnetLocked(rec.Genesis, s.subnet, 1)
	}
	recs[key] = s
	if !s.alive {
		n.checkLocked(s)
	}
	set := n.sets[rec.Genesis]
	if set == nil {
		set = &heldSet{}
		n.sets[rec.Genesis] = set
	}
	set.put(s, prev)
	n.stats.Accepted++
	return nil
}

// countSubnetLocked adds delta to the records of genesis counted in subnet.
func (n *Node) countSubnetLocked(genesis [32]byte, subnet netip.Prefix, delta int) {
	counts := n.bySubnet[genesis]
	if counts == nil {
		counts = map[netip.Prefix]int{}
		n.bySubnet[genesis] = counts
	}
	if counts[subnet] += delta; counts[subnet] <= 0 {
		delete(counts, subnet)
		if len(counts) == 0 {
			delete(n.bySubnet, genesis)
		}
	}
}

// quotaLocked checks a new record of genesis against every quota.
func (n *Node) quotaLocked(genesis [32]byte, recs map[string]*stored, s *stored, t *tally) error {
	if t == nil {
		t = &tally{}
	}
	if n.nrecords+t.total >= maxRecords || len(recs)+t.chains[genesis] >= maxRecordsPerChain ||
		n.byOrigin[s.origin]+t.origins[s.origin] >= maxRecordsPerOrigin {
		return ErrQuota
	}
	if recs == nil && t.chains[genesis] == 0 && len(n.records)+t.newChains >= maxChains {
		return ErrQuota
	}
	if n.cfg.AllowLocal && isLocal(s.subnet.Addr()) {
		return nil
	}
	if n.bySubnet[genesis][s.subnet]+t.subnets[chainSubnet{genesis, s.subnet}] >= maxRecordsPerSubnet {
		return ErrQuota
	}
	return nil
}

// removeLocked forgets one record.
func (n *Node) removeLocked(genesis [32]byte, key string, s *stored) {
	delete(n.records[genesis], key)
	if set := n.sets[genesis]; set != nil {
		set.remove(s)
	}
	n.nrecords--
	if n.byOrigin[s.origin]--; n.byOrigin[s.origin] <= 0 {
		delete(n.byOrigin, s.origin)
	}
	n.countSubnetLocked(genesis, s.subnet, -1)
	delete(n.local, string(genesis[:])+key)
	if len(n.records[genesis]) == 0 {
		delete(n.records, genesis)
		delete(n.pulls, genesis)
		delete(n.sets, genesis)
	}
}

// freshLocked refuses, and counts, a record whose sequence is not above the one held
// (ErrStale), one expired (ErrExpired) and one signed too far ahead of our clock (ErrFuture).
func (n *Node) freshLocked(rec *Record, now time.Time) error {
	if old := n.records[rec.Genesis][string(rec.PeerID)]; old != nil && old.rec.Seq >= rec.Seq {
		n.stats.Stale++
		return ErrStale
	}
	if n.expired(rec, now) {
		n.stats.Expired++
		return ErrExpired
	}
	if signedAt(rec).Sub(now) > maxClockSkew {
		return ErrFuture
	}
	return nil
}

func (n *Node) count(c *uint64) {
	n.mu.Lock()
	*c++
	n.mu.Unlock()
}

func sameAddrs(a, b []string) bool {
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}

// heldSet is a chain's records as pages are built from, kept up to date on every change:
// each range's records in PeerId order and its digest, the XOR of SHA-256(PeerId ‖ u64le seq)
// (first 8 bytes) over the range's records, so that a change costs one hash, not a rebuild.
type heldSet struct {
	ranges  [numRanges][]heldRecord
	digests rangeDigests
}

// recordHash is SHA-256(PeerId ‖ u64le seq), first 8 bytes (little-endian): what range
// digests are XORs of, and how a GETRECORDS names a record its asker holds. 64 bits, so that
// making a record whose hash is another's, to keep that one from travelling, takes ~2^64 work.
func recordHash(peerID []byte, seq uint64) uint64 {
	h := sha256.Sum256(binary.LittleEndian.AppendUint64(append([]byte(nil), peerID...), seq))
	return binary.LittleEndian.Uint64(h[:digestSize])
}

func (h *heldSet) toggle(r int, hash uint64) {
	d := binary.LittleEndian.Uint64(h.digests[r][:]) ^ hash
	binary.LittleEndian.PutUint64(h.digests[r][:], d)
}

// put adds or replaces (old: the record replaced) a record.
func (h *heldSet) put(s *stored, old *stored) {
	r := s.rng
	if old != nil {
		h.remove(old)
	}
	recs := h.ranges[r]
	at, _ := slices.BinarySearchFunc(recs, s.rec.PeerID, func(e heldRecord, id []byte) int { return bytes.Compare(e.peerID, id) })
	held := heldRecord{peerID: s.rec.PeerID, raw: s.raw, hash: recordHash(s.rec.PeerID, s.rec.Seq)}
	h.ranges[r] = slices.Insert(recs, at, held)
	h.toggle(r, held.hash)
}

func (h *heldSet) remove(s *stored) {
	r := s.rng
	recs := h.ranges[r]
	at, found := slices.BinarySearchFunc(recs, s.rec.PeerID, func(e heldRecord, id []byte) int { return bytes.Compare(e.peerID, id) })
	if found {
		h.toggle(r, recs[at].hash)
		h.ranges[r] = slices.Delete(recs, at, at+1)
	}
}

// request is the GETRECORDS of a pull at (start, cursor): a probe, or the asker's digests with
// the hashes of the records it holds in the ranges from start on that differed (differ), those
// of range start after cursor, as many as fit.
func (n *Node) request(genesis [32]byte, start int, cursor []byte, differ uint64, probe bool) []byte {
	n.mu.Lock()
	defer n.mu.Unlock()
	q := &recordsRequest{genesis: genesis, start: start, cursor: cursor, digests: &rangeDigests{}, probe: probe}
	set := n.sets[genesis]
	if set == nil {
		return q.encode()
	}
	*q.digests = set.digests
	if probe {
		return q.encode()
	}
	room := heldRoom(cursor)
	q.held = make([]uint64, 0, room)
	for r := start; r < numRanges && len(q.held) < room; r++ {
		if differ&(1<<r) == 0 {
			continue
		}
		for _, rec := range set.ranges[r] {
			if len(q.held) == room {
				break
			}
			if r != start || bytes.Compare(rec.peerID, cursor) > 0 {
				q.held = append(q.held, rec.hash)
			}
		}
	}
	return q.encode()
}

// page answers a GETRECORDS: a page of the first range from start on whose digest differs
// from the asker's, without the records it holds (a probe: that range, no records), or a
// "done" page. Each names the ranges that differ.
func (n *Node) page(q *recordsRequest) []byte {
	n.mu.Lock()
	defer n.mu.Unlock()
	set := n.sets[q.genesis]
	var mine rangeDigests
	if set != nil {
		mine = set.digests
	}
	var differ uint64
	for r := range numRanges {
		if mine[r] != q.digests[r] {
			differ |= 1 << r
		}
	}
	first := bits.TrailingZeros64(differ >> q.start << q.start)
	switch {
	case first == numRanges:
		return recordsHead(nil, q.genesis, 0, flagDone, differ)
	case q.probe:
		return recordsHead(nil, q.genesis, first, flagMore, differ)
	}
	cursor := q.cursor
	if first != q.start {
		cursor = nil
	}
	var recs []heldRecord
	if set != nil {
		recs = set.ranges[first]
	}
	return encodeRecords(q.genesis, first, recs, cursor, q.held, differ)
}

// checkRecords queues the first liveness check of new records at once, and every
// recordScanRounds rounds scans every record: it drops the expired ones and those whose node
// failed maxCheckFailures checks, and queues checks of those not checked lately.
func (n *Node) checkRecords(now time.Time, round int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	// No more checks queued than the dial budget affords (a check it cannot afford would be
	// skipped, and listed again).
	perRound, queued := n.checks.allowance(), 0
	due := func(s *stored) bool {
		again := 5 * n.cfg.Refresh
		if s.alive {
			again = n.cfg.LivenessInterval
		}
		return !s.checking && now.Sub(s.checked) > again
	}
	for len(n.unchecked) > 0 && queued < perRound {
		s := n.unchecked[0]
		if n.records[s.rec.Genesis][string(s.rec.PeerID)] == s && due(s) {
			if !n.checks.queue(s) {
				break
			}
			s.checking = true
			queued++
		}
		n.unchecked[0] = nil
		n.unchecked = n.unchecked[1:]
	}
	if len(n.unchecked) == 0 {
		n.unchecked = nil // let the backing array go
	}
	if round%recordScanRounds != 0 {
		return
	}
	for g, recs := range n.records {
		for key, s := range recs {
			if !now.Before(s.expires) || s.failures >= maxCheckFailures {
				n.removeLocked(g, key, s)
				continue
			}
			if queued < perRound && due(s) && n.checks.queue(s) {
				s.checking = true
				queued++
			}
		}
	}
}

// checkLocked queues the first liveness check of a new record (or one whose addresses changed)
// at once if the dial budget affords it, else lists it for the next rounds. (Listed only, it
// waited for the next round: in a loaded 1,000-daemon network, a second or more after the
// last records reached a daemon.)
func (n *Node) checkLocked(s *stored) {
	if n.checks.allowance() > 0 && n.checks.queue(s) {
		s.checking = true
		return
	}
	n.uncheckLocked(s)
}

// uncheckLocked lists a new record (or one whose addresses changed) for its first liveness
// check; past maxRecords listed, the next scan finds it instead.
func (n *Node) uncheckLocked(s *stored) {
	if len(n.unchecked) < maxRecords {
		n.unchecked = append(n.unchecked, s)
	}
}
