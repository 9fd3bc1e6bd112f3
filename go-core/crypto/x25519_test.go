package crypto

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"golang.org/x/crypto/curve25519"
)

// dh25519 gives the outputs of x/crypto's X25519 (which noise.DH25519 uses): key pairs and DHs
// of random keys, including points with the top bit set.
func TestDH25519MatchesXCrypto(t *testing.T) {
	var dh dh25519
	for range 500 {
		k, err := dh.GenerateKeypair(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := curve25519.X25519(k.Private, curve25519.Basepoint)
		if !bytes.Equal(k.Public, want) {
			t.Fatalf("public key %x, want %x", k.Public, want)
		}
		peer := make([]byte, 32)
		_, _ = rand.Read(peer)
		got, err1 := dh.DH(k.Private, peer)
		want, err2 := curve25519.X25519(k.Private, peer)
		if (err1 == nil) != (err2 == nil) || !bytes.Equal(got, want) {
			t.Fatalf("DH with %x: %x %v, want %x %v", peer, got, err1, want, err2)
		}
	}
}

// RFC 7748 §5.2's first vector, and a low-order point refused (§6.1).
func TestDH25519VectorAndLowOrder(t *testing.T) {
	scalar, _ := hex.DecodeString("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4")
	u, _ := hex.DecodeString("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c")
	want, _ := hex.DecodeString("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552")
	got, err := dh25519{}.DH(scalar, u)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("got %x %v", got, err)
	}
	if _, err := (dh25519{}).DH(scalar, make([]byte, 32)); err == nil {
		t.Fatal("the zero point (low order) was accepted")
	}
}

func BenchmarkX25519(b *testing.B) {
	k, _ := dh25519{}.GenerateKeypair(rand.Reader)
	peer, _ := dh25519{}.GenerateKeypair(rand.Reader)
	b.Run("keypair", func(b *testing.B) {
		for range b.N {
			_, _ = dh25519{}.GenerateKeypair(rand.Reader)
		}
	})
	b.Run("dh", func(b *testing.B) {
		for range b.N {
			_, _ = dh25519{}.DH(k.Private, peer.Public)
		}
	})
	b.Run("xcrypto-dh", func(b *testing.B) {
		for range b.N {
			_, _ = curve25519.X25519(k.Private, peer.Public)
		}
	})
}
