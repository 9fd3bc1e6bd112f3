package crypto

import (
	"crypto/rand"
	"fmt"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"
)

// Seal+open of one discovery-sized packet through a Session, and through the raw AEAD with the
// same nonce layout (the baseline of the same run).
func BenchmarkSealOpen(b *testing.B) {
	for _, size := range []int{64, 1024, 1200} {
		msg := make([]byte, size)
		b.Run(fmt.Sprintf("session/%d", size), func(b *testing.B) {
			x, y := pair(b)
			b.SetBytes(int64(size))
			for range b.N {
				f, _ := x.Seal(msg)
				if _, err := y.Open(f); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("raw/%d", size), func(b *testing.B) {
			key := make([]byte, 32)
			_, _ = rand.Read(key)
			aead, _ := chacha20poly1305.New(key)
			b.SetBytes(int64(size))
			for i := range b.N {
				n := nonce(uint64(i))
				hdr := make([]byte, 16, 16+size+16)
				f := aead.Seal(hdr, n, msg, hdr)
				if _, err := aead.Open(nil, n, f[16:], f[:16]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
