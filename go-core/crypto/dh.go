package crypto

import (
	"crypto/rand"
	"io"

	"github.com/flynn/noise"
	"github.com/oasisprotocol/curve25519-voi/primitives/x25519"
)

// dh25519 is Noise's "25519" DH function: noise.DH25519's keys from the same random bytes and
// its shared secrets, byte for byte (TestDH25519AgreesWithNoise), computed by curve25519-voi.
// A generated key's public half comes from voi's precomputed base-point table, about 10 µs
// where the Montgomery ladder of crypto/ecdh and x/crypto takes 45 µs (BenchmarkX25519); each
// DH is voi's constant-time ladder, as fast as crypto/ecdh's. Noise holds the secrets, so the
// function keeps no state: the handshake zeroizes them (Handshake.Close).
type dh25519 struct{}

// GenerateKeypair reads a 32-byte secret from rng (as noise.DH25519 does, so fixed vectors
// keep their bytes) and derives its public key.
func (dh25519) GenerateKeypair(rng io.Reader) (noise.DHKey, error) {
	if rng == nil {
		rng = rand.Reader
	}
	secret := make([]byte, x25519.ScalarSize)
	if _, err := io.ReadFull(rng, secret); err != nil {
		return noise.DHKey{}, err
	}
	return noise.DHKey{Private: secret, Public: x25519Public(secret)}, nil
}

// DH is X25519(secret, public); a public key of the wrong size or of low order (an all-zero
// shared secret) is an error, as in noise.DH25519.
func (dh25519) DH(secret, public []byte) ([]byte, error) {
	return x25519.X25519(secret, public)
}

// DHLen is the size of a public key and of a shared secret.
func (dh25519) DHLen() int { return x25519.PointSize }

// DHName is "25519", as in the protocol name Noise_XX_25519_ChaChaPoly_SHA256.
func (dh25519) DHName() string { return "25519" }

// x25519Public is X25519(secret, 9), the public key of a 32-byte secret.
func x25519Public(secret []byte) []byte {
	var public [x25519.PointSize]byte
	x25519.ScalarBaseMult(&public, (*[x25519.ScalarSize]byte)(secret))
	return public[:]
}
