package crypto

import (
	"crypto/subtle"
	"errors"
	"io"

	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
	"github.com/flynn/noise"
)

// dh25519 is Noise's 25519 DH function (RFC 7748 X25519, the same outputs as noise.DH25519)
// at a third of its cost. noise.DH25519 calls x/crypto's curve25519.X25519, which goes through
// crypto/ecdh: every call builds an ecdh.PrivateKey, and that computes the public key — a
// second Montgomery ladder — before the DH itself. A key pair cost two ladders and each of the
// three DHs of an XX handshake two more: eight ladders per side, most of the CPU of a
// discovery network of 1,000 daemons (issue 15). Here a key pair is one fixed-base Edwards
// multiplication (about a quarter of a ladder) and a DH is one ladder; both constant time.
type dh25519 struct{}

// errLowOrder is an all-zero shared secret: the peer sent a low-order point (RFC 7748 §6.1).
var errLowOrder = errors.New("aecomms: X25519 with a low-order point")

func (dh25519) GenerateKeypair(rng io.Reader) (noise.DHKey, error) {
	private := make([]byte, 32)
	if _, err := io.ReadFull(rng, private); err != nil {
		return noise.DHKey{}, err
	}
	return noise.DHKey{Private: private, Public: x25519Base(private)}, nil
}

func (dh25519) DH(private, public []byte) ([]byte, error) {
	if len(private) != 32 || len(public) != 32 {
		return nil, errors.New("aecomms: X25519 key of the wrong size")
	}
	var out [32]byte
	x25519(&out, private, public)
	var zero [32]byte
	if subtle.ConstantTimeCompare(out[:], zero[:]) == 1 {
		return nil, errLowOrder
	}
	return out[:], nil
}

func (dh25519) DHLen() int     { return 32 }
func (dh25519) DHName() string { return "25519" }

// x25519Base is X25519(scalar, 9): the clamped scalar times the Ed25519 base point (a
// precomputed table), mapped to its Montgomery u-coordinate, (1+y)/(1-y).
func x25519Base(scalar []byte) []byte {
	s, err := edwards25519.NewScalar().SetBytesWithClamping(scalar)
	if err != nil {
		panic(err) // only for a scalar not 32 bytes long
	}
	return new(edwards25519.Point).ScalarBaseMult(s).BytesMontgomery()
}

// x25519 is RFC 7748's X25519 Montgomery ladder, as in Go's crypto/ecdh.
func x25519(dst *[32]byte, scalar, point []byte) {
	var e [32]byte
	copy(e[:], scalar)
	e[0] &= 248
	e[31] &= 127
	e[31] |= 64

	var x1, x2, z2, x3, z3, tmp0, tmp1 field.Element
	_, _ = x1.SetBytes(point) // 32 bytes: no error; the top bit is ignored (RFC 7748 §5)
	x2.One()
	x3.Set(&x1)
	z3.One()

	swap := 0
	for pos := 254; pos >= 0; pos-- {
		b := e[pos/8] >> uint(pos&7)
		b &= 1
		swap ^= int(b)
		x2.Swap(&x3, swap)
		z2.Swap(&z3, swap)
		swap = int(b)

		tmp0.Subtract(&x3, &z3)
		tmp1.Subtract(&x2, &z2)
		x2.Add(&x2, &z2)
		z2.Add(&x3, &z3)
		z3.Multiply(&tmp0, &x2)
		z2.Multiply(&z2, &tmp1)
		tmp0.Square(&tmp1)
		tmp1.Square(&x2)
		x3.Add(&z3, &z2)
		z2.Subtract(&z3, &z2)
		x2.Multiply(&tmp1, &tmp0)
		tmp1.Subtract(&tmp1, &tmp0)
		z2.Square(&z2)

		z3.Mult32(&tmp1, 121666)
		x3.Square(&x3)
		tmp0.Add(&tmp0, &z3)
		z3.Multiply(&x1, &z2)
		z2.Multiply(&tmp1, &tmp0)
	}

	x2.Swap(&x3, swap)
	z2.Swap(&z3, swap)

	z2.Invert(&z2)
	x2.Multiply(&x2, &z2)
	copy(dst[:], x2.Bytes())
	clear(e[:])
}
