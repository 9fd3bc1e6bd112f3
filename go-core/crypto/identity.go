// Package crypto is AEComms v2 in Go (detr-aecomms/v2), byte for byte the construction of the
// Rust crate etrid-aecomms: a Noise_XX_25519_ChaChaPoly_SHA256 handshake (github.com/flynn/noise)
// whose static keys are certified by the nodes' Ed25519 identities, then ChaCha20-Poly1305
// frames with a per-direction counter and an in-band rekey per direction.
// tests/vectors/aecomms.json pins both implementations.
package crypto

import (
	"crypto/ed25519"
	"fmt"
	"io"
)

// peerIDPrefix is the identity multihash of a protobuf Ed25519 public key, before the key.
const peerIDPrefix = "\x00\x24\x08\x01\x12\x20"

// PeerIDSize is the length of an Ed25519 libp2p PeerId.
const PeerIDSize = len(peerIDPrefix) + ed25519.PublicKeySize

// PeerID is the libp2p PeerId of an Ed25519 key: the identity multihash of its protobuf
// encoding (0x00 0x24 0x08 0x01 0x12 0x20 ‖ key).
func PeerID(pub ed25519.PublicKey) []byte {
	return append([]byte(peerIDPrefix), pub...)
}

// PeerIDKey is the Ed25519 key inside an Ed25519 PeerId; false for any other PeerId.
func PeerIDKey(peerID []byte) (ed25519.PublicKey, bool) {
	if len(peerID) != PeerIDSize || string(peerID[:len(peerIDPrefix)]) != peerIDPrefix {
		return nil, false
	}
	return ed25519.PublicKey(peerID[len(peerIDPrefix):]), true
}

// Identity is a node's long-term Ed25519 key and its PeerId.
type Identity struct {
	key    ed25519.PrivateKey
	PeerID []byte
}

// NewIdentity derives the identity of a 32-byte Ed25519 seed (a libp2p node key).
func NewIdentity(seed []byte) (*Identity, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("aecomms: identity seed must be %d bytes, got %d", ed25519.SeedSize, len(seed))
	}
	key := ed25519.NewKeyFromSeed(seed)
	return &Identity{key: key, PeerID: PeerID(key.Public().(ed25519.PublicKey))}, nil
}

// GenerateIdentity makes a fresh identity from rand.
func GenerateIdentity(rand io.Reader) (*Identity, error) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := io.ReadFull(rand, seed); err != nil {
		return nil, err
	}
	defer clear(seed)
	return NewIdentity(seed)
}

// Public is the identity's Ed25519 public key.
func (id *Identity) Public() ed25519.PublicKey { return id.key.Public().(ed25519.PublicKey) }

// Sign signs msg with the identity key.
func (id *Identity) Sign(msg []byte) []byte { return sign(id.key, msg) }
