package discovery

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// A page's records are verified in one batch, and each keeps its own verdict: the valid ones
// are stored, a forged one (anywhere in the page) is refused with ErrRecordSig, a copy with
// ErrStale, and nothing else is lost.
func TestAPageKeepsItsValidRecordsAndRefusesTheForgedOne(t *testing.T) {
	for forgedAt := range 6 {
		n, err := New(mustID(t), Config{Logger: quiet, Liveness: func(*Record) bool { return true }})
		if err != nil {
			t.Fatal(err)
		}
		now := uint64(time.Now().UnixMilli())
		var recs []*Record
		var raws [][]byte
		for i := range 6 {
			raw := signed(t, mustID(t), 1, now, fmt.Sprintf("/ip4/11.0.%d.1/tcp/30333", i))
			if i == forgedAt {
				raw[len(raw)-1] ^= 1
			}
			rec, err := parseRecord(raw)
			if err != nil {
				t.Fatal(err)
			}
			recs, raws = append(recs, rec), append(raws, raw)
		}
		// The first record again: an exact copy of one queued, stale without a second
		// verification (forged or not).
		recs, raws = append(recs, recs[0]), append(raws, raws[0])
		errs := n.store(recs, raws, "origin")
		for i, err := range errs {
			switch {
			case i == forgedAt && !errors.Is(err, ErrRecordSig):
				t.Fatalf("forged record %d: %v", i, err)
			case i == 6 && !errors.Is(err, ErrStale):
				t.Fatalf("the copy: %v", err)
			case i != forgedAt && i != 6 && err != nil:
				t.Fatalf("valid record %d refused: %v", i, err)
			}
		}
		if s, _ := n.Stats(); s.Records != 5 || s.Accepted != 5 {
			t.Fatalf("forged record at %d: %+v", forgedAt, s)
		}
		n.Close()
	}
}

// Finding (a profile of 1,000 daemons converging): a pull sent every record of a range whose
// digest differed, though the asker held all of them but one: 1.7 million stale copies travelled,
// each parsed and dropped. Now a pull starts with a probe that names the ranges that differ, and
// each request lists the records its asker holds there: only the missing one travels.
func TestAPullSendsOnlyTheRecordsTheAskerLacks(t *testing.T) {
	newNode := func() *Node {
		n, _ := dialCountingDaemon(t, 0)
		return n
	}
	a, b := newNode(), newNode()
	// 20 records in one range (the first one's), each in a /24 of its own.
	now := uint64(time.Now().UnixMilli())
	var raws [][]byte
	var recs []*Record
	r := -1
	for len(raws) < 20 {
		id := mustID(t)
		if r < 0 {
			r = rangeOf(id.PeerID)
		}
		if rangeOf(id.PeerID) != r {
			continue
		}
		raw := signed(t, id, 1, now, fmt.Sprintf("/ip4/11.0.%d.1/tcp/30333", len(raws)))
		rec, err := parseRecord(raw)
		if err != nil {
			t.Fatal(err)
		}
		raws, recs = append(raws, raw), append(recs, rec)
	}
	const missing = 9
	for i, err := range a.store(recs, raws, "origin") {
		if err != nil {
			t.Fatalf("a, record %d: %v", i, err)
		}
	}
	for i, err := range b.store(slices.Delete(slices.Clone(recs), missing, missing+1), slices.Delete(slices.Clone(raws), missing, missing+1), "origin") {
		if err != nil {
			t.Fatalf("b, record %d: %v", i, err)
		}
	}
	g := [32]byte{1}
	ask := func(msg []byte) *recordsPage {
		t.Helper()
		if msg[0] != msgGetRecords {
			t.Fatalf("not a GETRECORDS: %d", msg[0])
		}
		if len(msg) > maxMessage {
			t.Fatalf("a GETRECORDS of %d bytes (at most %d)", len(msg), maxMessage)
		}
		q, err := decodeGetRecords(msg[1:])
		if err != nil {
			t.Fatal(err)
		}
		out := a.page(q)
		page, err := decodeRecords(out[1:])
		if err != nil {
			t.Fatal(err)
		}
		return page
	}
	probe := ask(b.request(g, 0, nil, 0, true))
	if probe.rng != r || !probe.more || probe.done || len(probe.records) != 0 || probe.differ != 1<<r {
		t.Fatalf("the probe's answer: range %d (want %d), more %v, done %v, %d records, differ %x",
			probe.rng, r, probe.more, probe.done, len(probe.records), probe.differ)
	}
	page := ask(b.request(g, probe.rng, nil, probe.differ, false))
	if page.rng != r || page.more || len(page.raw) != 1 || !bytes.Equal(page.raw[0], raws[missing]) {
		t.Fatalf("the page: range %d, more %v, %d records (want only the missing one)", page.rng, page.more, len(page.raw))
	}
	// Without the list (a daemon that lists nothing), the whole range travels, as before, in
	// pages.
	var cursor []byte
	got := 0
	for pages := 0; pages < len(raws); pages++ {
		whole := ask(b.request(g, r, cursor, 0, false))
		got += len(whole.records)
		if !whole.more {
			break
		}
		cursor = whole.records[len(whole.records)-1].PeerID
	}
	if got != len(raws) {
		t.Fatalf("requests listing nothing got %d records, want %d", got, len(raws))
	}
	// Once b holds the record, nothing differs: the pull is over.
	if err := b.store(recs[missing:missing+1], raws[missing:missing+1], "origin")[0]; err != nil {
		t.Fatal(err)
	}
	if done := ask(b.request(g, 0, nil, 0, true)); !done.done || done.differ != 0 {
		t.Fatalf("in step, the probe's answer: done %v, differ %x", done.done, done.differ)
	}
}

// Finding (1,000 daemons converging): the dial budget allowed 100 checks at once, so a daemon
// that learned a whole chain handed it out over the next 10 s; when every record had reached
// every daemon, up to 58% of them still waited for their check. Now the budget's burst is a
// chain: 1,000 records learned at once are all checked within a few rounds, far sooner than the
// 100 + 100/s of the sustained rate allow.
func TestAChainLearnedAtOnceIsCheckedAtOnce(t *testing.T) {
	n, dials := dialCountingDaemon(t, 50*time.Millisecond)
	const chain = 1000
	now := uint64(time.Now().UnixMilli())
	var recs []*Record
	var raws [][]byte
	for i := range chain {
		raw := signed(t, mustID(t), 1, now, fmt.Sprintf("/ip4/11.%d.%d.1/tcp/30333", i>>8, i&255))
		rec, err := parseRecord(raw)
		if err != nil {
			t.Fatal(err)
		}
		recs, raws = append(recs, rec), append(raws, raw)
	}
	start := time.Now()
	// (two origins: one daemon may deliver at most maxRecordsPerOrigin)
	for k, from := range []string{"origin a", "origin b"} {
		for _, err := range n.store(recs[k*chain/2:(k+1)*chain/2], raws[k*chain/2:(k+1)*chain/2], from) {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	// The sustained rate alone would have checked 100 + 100/s by the deadline: 600.
	deadline := 5 * time.Second
	for len(n.Peers([32]byte{1})) < chain {
		if time.Since(start) > deadline {
			t.Fatalf("%d of %d records checked after %v (%d dials)", len(n.Peers([32]byte{1})), chain, deadline, dials.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if d := dials.Load(); d > chain+dialsPerSecond*int64(time.Since(start)/time.Second+1) {
		t.Fatalf("%d dials for %d records", d, chain)
	}
}

// A record is checked as it is stored, not at the next round: in a loaded 1,000-daemon
// network, a round comes a second or more after the records that last reached a daemon.
func TestARecordIsCheckedAsItIsStored(t *testing.T) {
	n, _ := dialCountingDaemon(t, time.Hour)
	time.Sleep(100 * time.Millisecond) // (the first round, at start)
	raw := signed(t, mustID(t), 1, uint64(time.Now().UnixMilli()), "/ip4/11.0.0.1/tcp/30333")
	rec, err := parseRecord(raw)
	if err != nil {
		t.Fatal(err)
	}
	if errs := n.store([]*Record{rec}, [][]byte{raw}, "origin"); errs[0] != nil {
		t.Fatal(errs[0])
	}
	for start := time.Now(); len(n.Peers([32]byte{1})) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Since(start) > 2*time.Second {
			t.Fatal("the record waits for the next round to be checked")
		}
	}
}

// Only exact copies of a queued record are dropped before verification: a forged copy with the
// same sequence number, queued first, does not hide the honest record behind it.
func TestAForgedCopyQueuedFirstDoesNotHideTheRecord(t *testing.T) {
	n, _ := dialCountingDaemon(t, 0)
	raw := signed(t, mustID(t), 1, uint64(time.Now().UnixMilli()), "/ip4/11.0.0.1/tcp/30333")
	forged := bytes.Clone(raw)
	forged[len(forged)-1] ^= 1
	var recs []*Record
	for _, r := range [][]byte{forged, raw} {
		rec, err := parseRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	errs := n.store(recs, [][]byte{forged, raw}, "origin")
	if !errors.Is(errs[0], ErrRecordSig) || errs[1] != nil {
		t.Fatalf("forged copy: %v, record: %v", errs[0], errs[1])
	}
	n.mu.Lock()
	held := n.records[[32]byte{1}][string(recs[1].PeerID)]
	n.mu.Unlock()
	if held == nil || !bytes.Equal(held.raw, raw) {
		t.Fatal("the record was not kept as signed")
	}
	if s, _ := n.Stats(); s.Records != 1 || s.Stale != 0 {
		t.Fatalf("%+v", s)
	}
}

// The records of the messages that queue while the verifier is busy are verified and stored
// together (one batch): when the first of them gets its verdicts, the last one's records are
// stored already. One message at a time, a batch held one datagram's records (~5).
func TestMessagesQueuedMeanwhileAreVerifiedTogether(t *testing.T) {
	n, _ := dialCountingDaemon(t, 0)
	now := uint64(time.Now().UnixMilli())
	message := func(k int) ([]*Record, [][]byte) {
		var recs []*Record
		var raws [][]byte
		for i := range 5 {
			raw := signed(t, mustID(t), 1, now, fmt.Sprintf("/ip4/11.%d.%d.1/tcp/30333", k, i))
			rec, err := parseRecord(raw)
			if err != nil {
				t.Fatal(err)
			}
			recs, raws = append(recs, rec), append(raws, raw)
		}
		return recs, raws
	}
	// The verifier is held in the first message's verdicts until the others queue.
	held, release := make(chan struct{}), make(chan struct{})
	recs, raws := message(0)
	n.storeLater(recs, raws, "origin", func([]error) {
		close(held)
		<-release
	})
	<-held
	const queued = 6
	storedAtFirstVerdicts := make(chan int, 1)
	for k := 1; k <= queued; k++ {
		recs, raws := message(k)
		n.storeLater(recs, raws, "origin", func(errs []error) {
			for _, err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
			if k == 1 {
				s, _ := n.Stats()
				storedAtFirstVerdicts <- s.Records
			}
		})
	}
	close(release)
	if got, want := <-storedAtFirstVerdicts, 5*(queued+1); got != want {
		t.Fatalf("%d records stored when the first queued message got its verdicts, want %d", got, want)
	}
}
