package crypto

import (
	"crypto/ecdh"
	"crypto/rand"
	"crypto/subtle"
	"io"

	"github.com/flynn/noise"
)

// dh25519 is Noise's "25519" DH function for one handshake, the same function as
// noise.DH25519 with half its work. That one goes through x/crypto's curve25519.X25519, which
// builds a crypto/ecdh private key (one X25519 base-point multiplication, for its public key)
// on every DH and twice per key generation: each side of XX did 8 multiplications where 4 are
// needed (one to generate the ephemeral, one per DH). This one builds the ecdh key of a secret
// once: the static key's when the StaticKey is made, the ephemeral's when it is generated.
// Every multiplication is still crypto/ecdh's.
type dh25519 struct {
	keys []dhKey
}

// dhKey is a secret as Noise holds it and its crypto/ecdh key.
type dhKey struct {
	secret []byte
	key    *ecdh.PrivateKey
}

// newDH25519 starts a handshake's DH function knowing the static key (unless it was closed:
// then the secret Noise holds is zeroized and key builds its ecdh key as noise.DH25519 would).
func newDH25519(static *StaticKey) *dh25519 {
	d := &dh25519{}
	if static.ecdh != nil {
		d.keys = append(d.keys, dhKey{secret: static.private[:], key: static.ecdh})
	}
	return d
}

// GenerateKeypair reads a 32-byte secret from rng (as noise.DH25519 does, so fixed vectors
// keep their bytes) and derives its public key.
func (d *dh25519) GenerateKeypair(rng io.Reader) (noise.DHKey, error) {
	if rng == nil {
		rng = rand.Reader
	}
	secret := make([]byte, 32)
	if _, err := io.ReadFull(rng, secret); err != nil {
		return noise.DHKey{}, err
	}
	key, err := ecdh.X25519().NewPrivateKey(secret)
	if err != nil {
		return noise.DHKey{}, err
	}
	d.keys = append(d.keys, dhKey{secret: secret, key: key})
	return noise.DHKey{Private: secret, Public: key.PublicKey().Bytes()}, nil
}

// DH is X25519(secret, public); a low-order public key is an error, as in noise.DH25519.
func (d *dh25519) DH(secret, public []byte) ([]byte, error) {
	remote, err := ecdh.X25519().NewPublicKey(public)
	if err != nil {
		return nil, err
	}
	key, err := d.key(secret)
	if err != nil {
		return nil, err
	}
	return key.ECDH(remote)
}

// key is the ecdh key of a secret this handshake knows, or a new one (a secret Noise was
// given some other way).
func (d *dh25519) key(secret []byte) (*ecdh.PrivateKey, error) {
	for _, k := range d.keys {
		if subtle.ConstantTimeCompare(k.secret, secret) == 1 {
			return k.key, nil
		}
	}
	return ecdh.X25519().NewPrivateKey(secret)
}

// forget drops the ecdh keys (the handshake is over; Noise's secrets are zeroized by Close).
func (d *dh25519) forget() { d.keys = nil }

// DHLen is the size of a public key and of a shared secret.
func (d *dh25519) DHLen() int { return 32 }

// DHName is "25519", as in the protocol name Noise_XX_25519_ChaChaPoly_SHA256.
func (d *dh25519) DHName() string { return "25519" }
