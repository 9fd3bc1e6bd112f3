package crypto

import (
	"crypto/rand"
	"fmt"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"
)

// Seal+open of one frame through a session into reused buffers, and through the raw AEAD with
// the same nonce layout (the baseline of the same run).
func BenchmarkSealOpen(b *testing.B) {
	for _, size := range []int{64, 1024, 1200, 16 << 10, 64 << 10} {
		msg := make([]byte, size)
		b.Run(fmt.Sprintf("session/%d", size), func(b *testing.B) {
			x, y := handshake(b)
			buf := make([]byte, 0, size+FrameOverhead)
			out := make([]byte, 0, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				f, _ := x.Send.Seal(buf[:0], msg)
				if _, err := y.Recv.Open(out[:0], f); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("raw/%d", size), func(b *testing.B) {
			key := make([]byte, 32)
			_, _ = rand.Read(key)
			aead, _ := chacha20poly1305.New(key)
			buf := make([]byte, 0, size+FrameOverhead)
			out := make([]byte, 0, size)
			var nonce [12]byte
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for i := range b.N {
				nonce[4] = byte(i)
				hdr := buf[:HeaderSize]
				f := aead.Seal(hdr, nonce[:], msg, hdr)
				if _, err := aead.Open(out[:0], nonce[:], f[HeaderSize:], f[:HeaderSize]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A whole XX handshake (both sides, certificates verified).
func BenchmarkHandshake(b *testing.B) {
	b.ReportAllocs()
	for range b.N {
		handshake(b)
	}
}
