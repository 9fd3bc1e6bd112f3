package crypto

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"testing"

	"github.com/flynn/noise"
)

// dh25519 is noise.DH25519 by curve25519-voi: the same keys from the same random bytes, the
// same shared secrets (for any 32 bytes as the public key: top bit set, u past p), the same
// refusal of a low-order public key.
func TestDH25519AgreesWithNoise(t *testing.T) {
	id, err := GenerateIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	static, err := NewStaticKey(id, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	seed := make([]byte, 32)
	_, _ = rand.Read(seed)
	ours := dh25519{}
	e, err := ours.GenerateKeypair(bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := noise.DH25519.GenerateKeypair(bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e.Private, theirs.Private) || !bytes.Equal(e.Public, theirs.Public) {
		t.Fatal("a key generated from the same bytes differs from noise.DH25519's")
	}
	if !bytes.Equal(static.Public(), mustDH(t, noise.DH25519, static.private[:], []byte{9, 31: 0})) {
		t.Fatal("the static public key differs from X25519(secret, 9)")
	}
	remote, _ := noise.DH25519.GenerateKeypair(rand.Reader)
	// The static key, the generated ephemeral and a secret the handshake was not given.
	for _, secret := range [][]byte{static.private[:], e.Private, remote.Private} {
		if !bytes.Equal(mustDH(t, ours, secret, theirs.Public), mustDH(t, noise.DH25519, secret, theirs.Public)) {
			t.Fatal("a shared secret differs from noise.DH25519's")
		}
	}
	// Any 32 bytes are a public key to X25519 (RFC 7748 masks the top bit; u ≥ p is reduced).
	for i := range 256 {
		public := make([]byte, 32)
		_, _ = rand.Read(public)
		switch i % 4 {
		case 1:
			public[31] |= 0x80
		case 2: // p + small, p = 2^255 - 19
			public = append([]byte{0xee + byte(i%17)}, bytes.Repeat([]byte{0xff}, 30)...)
			public = append(public, 0x7f)
		}
		want, werr := noise.DH25519.DH(e.Private, public)
		got, gerr := ours.DH(e.Private, public)
		if !bytes.Equal(got, want) || (werr == nil) != (gerr == nil) {
			t.Fatalf("DH with public key %x: %x, %v; noise.DH25519: %x, %v", public, got, gerr, want, werr)
		}
	}
	// A low-order point (here 0) gives the all-zero secret: refused by both.
	if _, err := ours.DH(e.Private, make([]byte, 32)); err == nil {
		t.Fatal("a low-order public key was accepted")
	}
	if _, err := ours.DH(e.Private, make([]byte, 31)); err == nil {
		t.Fatal("a 31-byte public key was accepted")
	}
}

// A static key's secret must be 32 bytes: anything else is an error, not a panic.
func TestStaticKeySecretSize(t *testing.T) {
	id, _ := GenerateIdentity(rand.Reader)
	for _, n := range []int{0, 31, 33} {
		if _, err := NewStaticKeyFromSecret(id, make([]byte, n)); err == nil {
			t.Fatalf("a %d-byte secret made a static key", n)
		}
	}
}

// One X25519 public key from its secret: by dh25519 (voi's base-point table) and by crypto/ecdh,
// the baseline of the run.
func BenchmarkX25519(b *testing.B) {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	b.Run("voi", func(b *testing.B) {
		for b.Loop() {
			x25519Public(secret)
		}
	})
	b.Run("ecdh", func(b *testing.B) {
		for b.Loop() {
			key, _ := ecdh.X25519().NewPrivateKey(secret)
			key.PublicKey().Bytes()
		}
	})
}

func mustDH(t *testing.T, dh noise.DHFunc, secret, public []byte) []byte {
	t.Helper()
	out, err := dh.DH(secret, public)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
