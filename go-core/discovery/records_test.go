package discovery

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// A page's records are verified in one batch, and each keeps its own verdict: the valid ones
// are stored, a forged one (anywhere in the page) is refused with ErrRecordSig, a stale copy
// with ErrStale, and nothing else is lost.
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
		// The first record again: stale once the page's first copy is kept.
		recs, raws = append(recs, recs[0]), append(raws, raws[0])
		errs := n.store(recs, raws, "origin")
		for i, err := range errs {
			switch {
			case i == forgedAt && !errors.Is(err, ErrRecordSig):
				t.Fatalf("forged record %d: %v", i, err)
			case i == 6 && forgedAt != 0 && !errors.Is(err, ErrStale):
				t.Fatalf("the stale copy: %v", err)
			case i == 6 && forgedAt == 0 && !errors.Is(err, ErrRecordSig):
				t.Fatalf("the forged record's copy: %v", err)
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
