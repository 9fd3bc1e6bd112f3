package crypto

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"testing"
)

// n honest signatures of random messages.
func signedBatch(t testing.TB, n int) []signed {
	out := make([]signed, n)
	for i := range out {
		pub, priv, _ := ed25519.GenerateKey(rand.Reader)
		msg := make([]byte, 150)
		_, _ = rand.Read(msg)
		out[i] = signed{pub, msg, ed25519.Sign(priv, msg)}
	}
	return out
}

func verdicts(entries []signed) []bool {
	b := NewBatch(len(entries))
	for _, e := range entries {
		b.Add(e.pub, e.msg, e.sig)
	}
	return b.Verify()
}

// A batch's verdict on each signature is VerifyZIP215's: all honest ones pass, and a forged
// one (a flipped bit, another's message, a short key) fails alone, wherever it is.
func TestBatchTellsWhichSignatureFails(t *testing.T) {
	for _, n := range []int{1, 2, 6, 17} {
		entries := signedBatch(t, n)
		for i, ok := range verdicts(entries) {
			if !ok {
				t.Fatalf("batch of %d: honest signature %d refused", n, i)
			}
		}
		for bad := range n {
			for _, forge := range []func(e *signed){
				func(e *signed) { e.sig = bytes.Clone(e.sig); e.sig[bad%64] ^= 1 },
				func(e *signed) { e.msg = append(bytes.Clone(e.msg), 0) },
				func(e *signed) { e.pub = e.pub[:31] },
				func(e *signed) { e.sig = e.sig[:63] },
			} {
				forged := append([]signed(nil), entries...)
				forge(&forged[bad])
				got := verdicts(forged)
				for i, ok := range got {
					if ok != (i != bad) || ok != VerifyZIP215(forged[i].pub, forged[i].msg, forged[i].sig) {
						t.Fatalf("batch of %d, entry %d forged: verdicts %v", n, bad, got)
					}
				}
			}
		}
	}
	if got := NewBatch(0).Verify(); len(got) != 0 {
		t.Fatalf("an empty batch gave %v", got)
	}
}

// On keys and signatures at the edges (small order, non-canonical, S ≥ L) a batch agrees with
// VerifyZIP215, entry by entry, and honest signatures beside them still pass.
func TestBatchAgreesWithVerifyZIP215AtTheEdges(t *testing.T) {
	entries := signedBatch(t, 2)
	for _, pub := range edgeEncodings {
		for _, sig := range edgeSignatures {
			entries = append(entries, signed{pub, []byte("detr"), sig})
		}
	}
	got := verdicts(entries)
	for i, e := range entries {
		if got[i] != VerifyZIP215(e.pub, e.msg, e.sig) {
			t.Fatalf("entry %d (%x, %x): batch %v, VerifyZIP215 %v", i, e.pub, e.sig, got[i], !got[i])
		}
	}
	if !got[0] || !got[1] {
		t.Fatal("an honest signature beside edge cases was refused")
	}
}

// A batch against as many single verifications under crypto/ed25519's rules (Verify), the
// baseline of the run; ns/sig is per signature.
func BenchmarkBatch(b *testing.B) {
	for _, n := range []int{6, 64} {
		entries := signedBatch(b, n)
		b.Run(fmt.Sprintf("batch/%d", n), func(b *testing.B) {
			for b.Loop() {
				verdicts(entries)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/sig")
		})
		b.Run(fmt.Sprintf("single/%d", n), func(b *testing.B) {
			for b.Loop() {
				for _, e := range entries {
					Verify(e.pub, e.msg, e.sig)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/sig")
		})
	}
}
