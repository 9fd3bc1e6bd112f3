package discovery

import (
	"errors"
	"net/netip"
	"time"

	"github.com/flarechain/detr-p2p/go-core/crypto"
)

// Records are stored by one goroutine, the verifier. The read loop (and the local API) drops
// the copies that cannot be stored (stale, expired, from the future, exact copies of one
// already queued) and queues the rest; the verifier takes every message that queued meanwhile,
// up to maxVerifyBatch signatures, and verifies them in one batch. A message at a time, each
// batch held ~5 records (one datagram's worth); while 1,000 daemons converge, verifying
// records was a quarter of their CPU, and a batch of 32 costs 0.7 of as many batches of 6
// (crypto's BenchmarkBatch: 27.6 against 38.9 µs a signature).
const (
	// maxVerifyBatch: the signatures a batch takes at most (past 32, a batch saves no more).
	maxVerifyBatch = 64
	// verifyQueue bounds the messages whose records wait for the verifier; a full queue holds
	// the read loop, and the socket's buffer takes the rest.
	verifyQueue = 32
)

// ErrClosed is the verdict on records stored through a daemon that is closing.
var ErrClosed = errors.New("discovery: daemon closed")

// arrival is the records of one message (or one API call) on their way to the store.
type arrival struct {
	recs   []*Record
	raws   [][]byte
	origin string
	errs   []error // each record's verdict; nil for the queued ones until the verifier's
	queued []int   // the records queued (not refused by storeLater)
	done   func(errs []error)
}

// pendingKey names a queued record: its chain and PeerId.
type pendingKey struct {
	genesis [32]byte
	peerID  string
}

// pendingCopy is the last copy of a record queued: a copy with the same sequence number and
// signature is a duplicate. (A forged copy, whatever its sequence number, never hides an
// honest one: only exact copies are dropped.)
type pendingCopy struct {
	seq uint64
	sig [64]byte
}

// storeLater queues the records of a message for the verifier, which calls done with each
// record's verdict (done is called here when no record is queued). It refuses here, counted as
// the verifier would, a record not newer than the one held or an exact copy of one queued
// (ErrStale), expired (ErrExpired) or from the future (ErrFuture). It waits while the queue is
// full, and returns false, without calling done, once the daemon is closing.
func (n *Node) storeLater(recs []*Record, raws [][]byte, origin string, done func(errs []error)) bool {
	a := &arrival{recs: recs, raws: raws, origin: origin, errs: make([]error, len(recs)), done: done}
	now := time.Now()
	n.mu.Lock()
	for i, rec := range recs {
		key := pendingKey{rec.Genesis, string(rec.PeerID)}
		if p, queued := n.pending[key]; queued && p.seq == rec.Seq && p.sig == rec.Signature {
			n.stats.Stale++
			a.errs[i] = ErrStale
		} else if a.errs[i] = n.freshLocked(rec, now); a.errs[i] == nil {
			n.pending[key] = pendingCopy{rec.Seq, rec.Signature}
			a.queued = append(a.queued, i)
		}
	}
	n.mu.Unlock()
	if len(a.queued) == 0 {
		done(a.errs)
		return true
	}
	select {
	case n.arrivals <- a:
		return true
	case <-n.done:
		return false
	}
}

// store is storeLater waiting for the verdicts (ErrClosed for each record once the daemon is
// closing). Not on the verifier.
func (n *Node) store(recs []*Record, raws [][]byte, origin string) []error {
	verdicts := make(chan []error, 1)
	if n.storeLater(recs, raws, origin, func(errs []error) { verdicts <- errs }) {
		select {
		case errs := <-verdicts:
			return errs
		case <-n.done:
		}
	}
	errs := make([]error, len(recs))
	for i := range errs {
		errs[i] = ErrClosed
	}
	return errs
}

// verifier stores what storeLater queues, as many messages at once as queued meanwhile.
func (n *Node) verifier() {
	defer n.wg.Done()
	for {
		var group []*arrival
		select {
		case a := <-n.arrivals:
			group = append(group, a)
		case <-n.done:
			return
		}
		sigs := len(group[0].queued)
	more:
		for sigs < maxVerifyBatch {
			select {
			case a := <-n.arrivals:
				group = append(group, a)
				sigs += len(a.queued)
			default:
				break more
			}
		}
		n.storeGroup(group, sigs)
		for _, a := range group {
			a.done(a.errs)
		}
	}
}

// storeGroup admits the queued records of group (admit: quotas count the ones admitted before
// them), verifies their signatures in one batch, keeps the valid ones, and sets every verdict.
func (n *Node) storeGroup(group []*arrival, sigs int) {
	type admitted struct {
		a    *arrival
		i    int
		addr netip.AddrPort
	}
	var t tally
	batch := crypto.NewBatch(sigs)
	list := make([]admitted, 0, sigs)
	for _, a := range group {
		for _, i := range a.queued {
			rec := a.recs[i]
			addr, err := n.admit(rec, a.origin, &t)
			if err != nil {
				a.errs[i] = err
				continue
			}
			pub, msg, err := rec.signed()
			if err != nil {
				a.errs[i] = err
				continue
			}
			batch.Add(pub, msg, rec.Signature[:])
			list = append(list, admitted{a, i, addr})
		}
	}
	for k, ok := range batch.Verify() {
		r := list[k]
		if !ok {
			r.a.errs[r.i] = ErrRecordSig
			continue
		}
		r.a.errs[r.i] = n.keep(r.a.recs[r.i], r.a.raws[r.i], r.a.origin, r.addr)
	}
	n.mu.Lock()
	for _, a := range group {
		for _, i := range a.queued {
			rec := a.recs[i]
			key := pendingKey{rec.Genesis, string(rec.PeerID)}
			if p := n.pending[key]; p.seq == rec.Seq && p.sig == rec.Signature {
				delete(n.pending, key)
			}
		}
	}
	n.mu.Unlock()
}

// tally counts toward the quotas the records a group admitted that are not kept yet (each
// admitted record is new to the store when admitted).
type tally struct {
	total     int
	newChains int
	chains    map[[32]byte]int
	origins   map[string]int
	subnets   map[chainSubnet]int
}

type chainSubnet struct {
	genesis [32]byte
	subnet  netip.Prefix
}

func (t *tally) add(genesis [32]byte, chainHeld bool, s *stored) {
	if t.chains == nil {
		t.chains, t.origins, t.subnets = map[[32]byte]int{}, map[string]int{}, map[chainSubnet]int{}
	}
	if !chainHeld && t.chains[genesis] == 0 {
		t.newChains++
	}
	t.total++
	t.chains[genesis]++
	t.origins[s.origin]++
	t.subnets[chainSubnet{genesis, s.subnet}]++
}
