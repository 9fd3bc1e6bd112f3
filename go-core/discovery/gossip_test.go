package discovery

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// PUTRECORD messages carry as many records as fit, and read back the same; a malformed body
// (empty, truncated, a record over the size limit, a trailing byte) is an error.
func TestPutRecordMessages(t *testing.T) {
	var raws [][]byte
	for i := range 12 {
		raws = append(raws, signed(t, mustID(t), 1, at(uint64(i)), fmt.Sprintf("/ip4/11.0.%d.1/tcp/30333", i)))
	}
	msgs := putRecords(raws)
	if len(msgs) < 2 {
		t.Fatalf("12 records of %d bytes in %d message(s)", len(raws[0]), len(msgs))
	}
	var back [][]byte
	for _, msg := range msgs {
		if len(msg) > maxMessage || msg[0] != msgPutRecord {
			t.Fatalf("a message of %d bytes, type %d", len(msg), msg[0])
		}
		got, err := decodePutRecord(msg[1:])
		if err != nil {
			t.Fatal(err)
		}
		back = append(back, got...)
	}
	if len(back) != len(raws) {
		t.Fatalf("%d records back of %d", len(back), len(raws))
	}
	for i := range raws {
		if !bytes.Equal(back[i], raws[i]) {
			t.Fatalf("record %d differs", i)
		}
	}
	body := msgs[0][1:]
	oversize := appendLP16(nil, make([]byte, MaxRecordSize+1))
	for _, bad := range [][]byte{nil, body[:len(body)-1], append(bytes.Clone(body), 0), oversize} {
		if _, err := decodePutRecord(bad); err == nil {
			t.Fatalf("malformed body of %d bytes accepted", len(bad))
		}
	}
}

// Records stored within gossipDelay of each other travel to a contact in one message: five
// records registered at once reach the other daemon in one datagram (two, should the test
// stall past gossipDelay between two of them), all five stored there.
func TestGossipBatchesTheRecordsOfAMoment(t *testing.T) {
	// Rounds an hour apart: only the gossip travels once the daemons know each other.
	a := startDaemonEvery(t, mustID(t), "127.0.0.1:0", nil, time.Hour)
	b := startDaemonEvery(t, mustID(t), "127.0.0.1:0", nil, time.Hour)
	a.verified(b.Self())
	b.verified(a.Self())
	// A session first (its handshake is not gossip).
	a.ping(b.Self())
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, ts := b.Stats(); ts.Handshakes > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no session between the daemons")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	_, before := b.Stats()
	addr := nodeListener(t)
	var raws [][]byte
	for i := range 5 {
		raws = append(raws, signed(t, mustID(t), 1, at(uint64(i)), addr))
	}
	for _, raw := range raws {
		if _, err := a.Register(raw); err != nil {
			t.Fatal(err)
		}
	}
	for time.Now().Before(deadline) {
		if s, _ := b.Stats(); s.Accepted == 5 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	s, ts := b.Stats()
	if s.Accepted != 5 {
		t.Fatalf("the other daemon stored %d of 5 records", s.Accepted)
	}
	if got := ts.PacketsIn - before.PacketsIn; got > 2 {
		t.Fatalf("5 records came in %d datagrams", got)
	}
}

// While its table is thin, a daemon pushes the records registered through its API to each
// contact once, not to one contact every round: in the 1,000-daemon benchmark, every joining
// daemon pushed its record to the first bootstrap daemon round after round, and that daemon
// dropped datagrams by the thousand.
func TestAThinTablePushesEachContactOnce(t *testing.T) {
	b := startDaemon(t, mustID(t), "127.0.0.1:0", nil)
	a := startDaemon(t, mustID(t), "127.0.0.1:0", []Contact{b.Self()})
	if _, err := a.Register(signed(t, mustID(t), 1, at(0), nodeListener(t))); err != nil {
		t.Fatal(err)
	}
	if !waitStats(b, 5*time.Second, func(s Stats) bool { return s.Records == 1 }) {
		t.Fatal("the record never reached the bootstrap daemon")
	}
	time.Sleep(15 * testRefresh)
	// (one stale copy may cross: a push and a pull page in flight together)
	if s, _ := b.Stats(); s.Stale > 1 {
		t.Fatalf("the bootstrap daemon got the record again and again: %+v", s)
	}
}
