// Package crypto is the AEComms construction (detr-aecomms/v1) in Go, byte for byte the same
// as the Rust crate etrid-aecomms (client/aecomms/src/lib.rs): an Ed25519-signed X25519
// handshake per generation, HKDF-SHA256 keys per direction, ChaCha20-Poly1305 frames with a
// strictly increasing counter as nonce. tests/vectors/aecomms.json pins both implementations.
package crypto

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

const (
	statementDomain  = "detr-aecomms/v1/handshake"
	transcriptDomain = "detr-aecomms/v1/transcript"
	keysInfo         = "detr-aecomms/v1/keys"

	// HandshakeSize is the SCALE encoding of a handshake: u64le generation, ephemeral key,
	// identity key, signature.
	HandshakeSize = 8 + 32 + 32 + 64
)

// Errors of the handshake. Each names what failed; none reveals key material.
var (
	ErrHandshakeSize     = errors.New("aecomms: handshake is not 136 bytes")
	ErrWrongIdentity     = errors.New("aecomms: handshake identity does not match the peer id")
	ErrBadSignature      = errors.New("aecomms: handshake signature does not verify")
	ErrWrongGeneration   = errors.New("aecomms: handshake generation differs")
	ErrNonContributory   = errors.New("aecomms: X25519 result is all zero")
	ErrSamePeer          = errors.New("aecomms: both sides have the same peer id")
	ErrMalformedEphemral = errors.New("aecomms: malformed ephemeral key")
)

// PeerID is the libp2p PeerId of an Ed25519 key: the identity multihash of its protobuf
// encoding (0x00 0x24 0x08 0x01 0x12 0x20 ‖ key).
func PeerID(pub ed25519.PublicKey) []byte {
	return append([]byte{0x00, 0x24, 0x08, 0x01, 0x12, 0x20}, pub...)
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
func (id *Identity) Sign(msg []byte) []byte { return ed25519.Sign(id.key, msg) }

// Binding is what a handshake is bound to besides the two keys.
type Binding struct {
	Remote   []byte // the remote PeerId
	Protocol []byte // the stream's protocol name
	Genesis  [32]byte
}

// HandshakeMessage is one side's handshake.
type HandshakeMessage struct {
	Generation uint64
	Ephemeral  [32]byte
	Identity   [32]byte
	Signature  [64]byte
}

// Encode is the SCALE encoding (fixed 136 bytes).
func (h *HandshakeMessage) Encode() []byte {
	out := binary.LittleEndian.AppendUint64(make([]byte, 0, HandshakeSize), h.Generation)
	out = append(out, h.Ephemeral[:]...)
	out = append(out, h.Identity[:]...)
	return append(out, h.Signature[:]...)
}

// DecodeHandshake parses the SCALE encoding.
func DecodeHandshake(b []byte) (*HandshakeMessage, error) {
	if len(b) != HandshakeSize {
		return nil, ErrHandshakeSize
	}
	h := &HandshakeMessage{Generation: binary.LittleEndian.Uint64(b)}
	copy(h.Ephemeral[:], b[8:40])
	copy(h.Identity[:], b[40:72])
	copy(h.Signature[:], b[72:])
	return h, nil
}

func appendLP(out, b []byte) []byte {
	out = binary.LittleEndian.AppendUint32(out, uint32(len(b)))
	return append(out, b...)
}

func statement(b *Binding, sender, receiver []byte, gen uint64, eph, ident []byte) []byte {
	out := append(make([]byte, 0, 256), statementDomain...)
	out = appendLP(out, sender)
	out = appendLP(out, receiver)
	out = appendLP(out, b.Protocol)
	out = append(out, b.Genesis[:]...)
	out = binary.LittleEndian.AppendUint64(out, gen)
	out = append(out, eph...)
	return append(out, ident...)
}

// Pending is a handshake sent and not yet answered; it holds the ephemeral secret.
type Pending struct {
	local   *Identity
	binding Binding
	eph     *ecdh.PrivateKey
	Message HandshakeMessage
}

// StartHandshake makes this side's handshake of `generation` for the peer of `binding`.
func StartHandshake(local *Identity, binding Binding, generation uint64, rand io.Reader) (*Pending, error) {
	eph, err := ecdh.X25519().GenerateKey(rand)
	if err != nil {
		return nil, err
	}
	return startWith(local, binding, generation, eph), nil
}

// StartHandshakeWithSecret is StartHandshake with a given ephemeral secret (test vectors only).
func StartHandshakeWithSecret(local *Identity, binding Binding, generation uint64, secret []byte) (*Pending, error) {
	eph, err := ecdh.X25519().NewPrivateKey(secret)
	if err != nil {
		return nil, err
	}
	return startWith(local, binding, generation, eph), nil
}

func startWith(local *Identity, binding Binding, generation uint64, eph *ecdh.PrivateKey) *Pending {
	p := &Pending{local: local, binding: binding, eph: eph}
	p.Message.Generation = generation
	copy(p.Message.Ephemeral[:], eph.PublicKey().Bytes())
	copy(p.Message.Identity[:], local.Public())
	st := statement(&binding, local.PeerID, binding.Remote, generation, p.Message.Ephemeral[:], p.Message.Identity[:])
	copy(p.Message.Signature[:], local.Sign(st))
	return p
}

// Complete verifies the remote handshake and derives the session.
func (p *Pending) Complete(remote *HandshakeMessage) (*Session, error) {
	if remote.Generation != p.Message.Generation {
		return nil, ErrWrongGeneration
	}
	if !bytes.Equal(PeerID(remote.Identity[:]), p.binding.Remote) {
		return nil, ErrWrongIdentity
	}
	st := statement(&p.binding, p.binding.Remote, p.local.PeerID, remote.Generation, remote.Ephemeral[:], remote.Identity[:])
	if !ed25519.Verify(remote.Identity[:], st, remote.Signature[:]) {
		return nil, ErrBadSignature
	}
	cmp := bytes.Compare(p.local.PeerID, p.binding.Remote)
	if cmp == 0 {
		return nil, ErrSamePeer
	}
	remoteEph, err := ecdh.X25519().NewPublicKey(remote.Ephemeral[:])
	if err != nil {
		return nil, ErrMalformedEphemral
	}
	// crypto/ecdh refuses low-order points (all-zero results) with an error.
	dh, err := p.eph.ECDH(remoteEph)
	if err != nil {
		return nil, ErrNonContributory
	}
	defer clear(dh)
	p.eph = nil

	type side struct{ peer, eph, ident []byte }
	self := side{p.local.PeerID, p.Message.Ephemeral[:], p.Message.Identity[:]}
	other := side{p.binding.Remote, remote.Ephemeral[:], remote.Identity[:]}
	a, b, weAreA := self, other, cmp < 0
	if !weAreA {
		a, b = other, self
	}
	th := append(make([]byte, 0, 256), transcriptDomain...)
	th = appendLP(th, a.peer)
	th = appendLP(th, b.peer)
	th = appendLP(th, p.binding.Protocol)
	th = append(th, p.binding.Genesis[:]...)
	th = binary.LittleEndian.AppendUint64(th, p.Message.Generation)
	th = append(th, a.eph...)
	th = append(th, b.eph...)
	th = append(th, a.ident...)
	th = append(th, b.ident...)
	salt := sha256.Sum256(th)
	okm, err := hkdf.Key(sha256.New, dh, salt[:], keysInfo, 64)
	if err != nil {
		return nil, err
	}
	defer clear(okm)
	send, recv := okm[:32], okm[32:]
	if !weAreA {
		send, recv = recv, send
	}
	return newSession(p.Message.Generation, send, recv)
}
