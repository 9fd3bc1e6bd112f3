package crypto

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
)

// Ed25519 encodings at the edges of the standard library's rules: the identity point, a point
// of order 8, a non-canonical encoding of 1 (y = p + 1), and the group order L (S = L is not
// reduced, so it must not verify).
var (
	identityPoint  = append([]byte{1}, make([]byte, 31)...)
	order8Point    = []byte{0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a}
	nonCanonicalY  = []byte{0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}
	groupOrderLE   = []byte{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}
	edgeEncodings  = [][]byte{identityPoint, order8Point, nonCanonicalY, make([]byte, 32)}
	edgeSignatures = func() (sigs [][]byte) {
		for _, r := range edgeEncodings {
			sigs = append(sigs, append(bytes.Clone(r), make([]byte, 32)...), append(bytes.Clone(r), groupOrderLE...))
		}
		return sigs
	}()
)

// Verify accepts exactly what crypto/ed25519 accepts: honest signatures, each one with a bit
// flipped anywhere (key, message, signature), S past the group order, and keys and R of small
// order or non-canonical.
func TestVerifyAgreesWithTheStandardLibrary(t *testing.T) {
	check := func(pub ed25519.PublicKey, msg, sig []byte) {
		t.Helper()
		want := len(sig) == ed25519.SignatureSize && ed25519.Verify(pub, msg, sig)
		if got := Verify(pub, msg, sig); got != want {
			t.Fatalf("Verify(%x, %x, %x) = %v, crypto/ed25519 says %v", pub, msg, sig, got, want)
		}
	}
	accepted := 0
	for range 64 {
		pub, priv, _ := ed25519.GenerateKey(rand.Reader)
		msg := make([]byte, 1+len(pub)%97)
		_, _ = rand.Read(msg)
		sig := ed25519.Sign(priv, msg)
		if Verify(pub, msg, sig) {
			accepted++
		}
		check(pub, msg, sig)
		for bit := range 8 * len(sig) {
			bad := bytes.Clone(sig)
			bad[bit/8] ^= 1 << (bit % 8)
			check(pub, msg, bad)
		}
		for bit := range 8 * len(pub) {
			bad := bytes.Clone(pub)
			bad[bit/8] ^= 1 << (bit % 8)
			check(bad, msg, sig)
		}
		check(pub, append(bytes.Clone(msg), 0), sig)
		// S + L: the same point equation, refused as non-canonical by both.
		check(pub, msg, append(bytes.Clone(sig[:32]), addLE(sig[32:], groupOrderLE)...))
		check(pub, msg, sig[:63])
	}
	if accepted != 64 {
		t.Fatalf("%d of 64 honest signatures verified", accepted)
	}
	for _, pub := range edgeEncodings {
		for _, sig := range edgeSignatures {
			for _, msg := range [][]byte{nil, []byte("detr")} {
				check(pub, msg, sig)
			}
		}
	}
	if Verify(make([]byte, 31), nil, make([]byte, 64)) {
		t.Fatal("a 31-byte key verified")
	}
}

// sign gives the standard library's deterministic signature, byte for byte.
func TestSignIsTheStandardSignature(t *testing.T) {
	for i := range 32 {
		_, priv, _ := ed25519.GenerateKey(rand.Reader)
		msg := bytes.Repeat([]byte{byte(i)}, i*7)
		if got, want := sign(priv, msg), ed25519.Sign(priv, msg); !bytes.Equal(got, want) {
			t.Fatalf("sign = %x, crypto/ed25519 = %x", got, want)
		}
	}
}

// addLE is a + b, little-endian, as long as a (the carry out of the top byte is dropped).
func addLE(a, b []byte) []byte {
	out := make([]byte, len(a))
	carry := 0
	for i := range a {
		s := int(a[i]) + int(b[i]) + carry
		out[i], carry = byte(s), s>>8
	}
	return out
}

// One verification by curve25519-voi (Verify) and by crypto/ed25519, the baseline of the run.
func BenchmarkVerify(b *testing.B) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	msg := make([]byte, 200)
	sig := ed25519.Sign(priv, msg)
	b.Run("voi", func(b *testing.B) {
		for b.Loop() {
			if !Verify(pub, msg, sig) {
				b.Fatal("did not verify")
			}
		}
	})
	b.Run("stdlib", func(b *testing.B) {
		for b.Loop() {
			if !ed25519.Verify(pub, msg, sig) {
				b.Fatal("did not verify")
			}
		}
	})
}

// One signature by sign (curve25519-voi) and by crypto/ed25519, the baseline of the run.
func BenchmarkSign(b *testing.B) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	msg := make([]byte, 200)
	b.Run("voi", func(b *testing.B) {
		for b.Loop() {
			sign(priv, msg)
		}
	})
	b.Run("stdlib", func(b *testing.B) {
		for b.Loop() {
			ed25519.Sign(priv, msg)
		}
	})
}
