package crypto

import (
	"bytes"
	"crypto/rand"
	"testing"

	"github.com/flynn/noise"
)

// dh25519 is noise.DH25519 with fewer multiplications: the same keys from the same random
// bytes, the same shared secrets, the same refusal of a low-order public key.
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
	ours := newDH25519(static)
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
	// A low-order point (here 0) gives the all-zero secret: refused by both.
	if _, err := ours.DH(e.Private, make([]byte, 32)); err == nil {
		t.Fatal("a low-order public key was accepted")
	}
	if _, err := ours.DH(e.Private, make([]byte, 31)); err == nil {
		t.Fatal("a 31-byte public key was accepted")
	}
}

// A closed static key (its secret zeroized, its ecdh key dropped) gives what noise.DH25519
// gives for the zeroized secret, not a nil dereference.
func TestDH25519AfterTheStaticKeyClosed(t *testing.T) {
	id, _ := GenerateIdentity(rand.Reader)
	static, err := NewStaticKey(id, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	remote, _ := noise.DH25519.GenerateKeypair(rand.Reader)
	static.Close()
	got := mustDH(t, newDH25519(static), static.private[:], remote.Public)
	if !bytes.Equal(got, mustDH(t, noise.DH25519, static.private[:], remote.Public)) {
		t.Fatal("a closed static key's DH differs from noise.DH25519's")
	}
}

func mustDH(t *testing.T, dh noise.DHFunc, secret, public []byte) []byte {
	t.Helper()
	out, err := dh.DH(secret, public)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
