package crypto

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
)

const (
	// certificateDomain prefixes the static key an identity signs.
	certificateDomain = "detr-aecomms/v2/static-key"
	// CertificateSize is identity_public[32] ‖ Ed25519 signature[64].
	CertificateSize = ed25519.PublicKeySize + ed25519.SignatureSize
)

// Errors of certificates.
var (
	ErrCertificateSize      = errors.New("aecomms: certificate is not 96 bytes")
	ErrCertificateIdentity  = errors.New("aecomms: certificate identity does not match the peer id")
	ErrCertificateSignature = errors.New("aecomms: certificate signature does not verify over the static key")
)

// StaticKey is a node's X25519 Noise static key (never the Ed25519 key itself) with the
// certificate its identity signed for it.
type StaticKey struct {
	private, public [32]byte
	certificate     [CertificateSize]byte
}

// NewStaticKey makes a fresh static key for id from rand.
func NewStaticKey(id *Identity, rand io.Reader) (*StaticKey, error) {
	var secret [32]byte
	defer clear(secret[:])
	if _, err := io.ReadFull(rand, secret[:]); err != nil {
		return nil, err
	}
	return NewStaticKeyFromSecret(id, secret[:])
}

// NewStaticKeyFromSecret certifies the X25519 key of a 32-byte secret for id (test vectors).
func NewStaticKeyFromSecret(id *Identity, secret []byte) (*StaticKey, error) {
	if len(secret) != len(StaticKey{}.private) {
		return nil, fmt.Errorf("aecomms: a static key secret must be 32 bytes, got %d", len(secret))
	}
	k := &StaticKey{}
	copy(k.private[:], secret)
	copy(k.public[:], x25519Public(secret))
	copy(k.certificate[:], id.Public())
	copy(k.certificate[ed25519.PublicKeySize:], id.Sign(certificateMessage(k.public[:])))
	return k, nil
}

func certificateMessage(static []byte) []byte {
	return append([]byte(certificateDomain), static...)
}

// Public is the X25519 public key.
func (k *StaticKey) Public() []byte { return bytes.Clone(k.public[:]) }

// Certificate is identity_public ‖ Ed25519_sign(identity, domain ‖ static_public).
func (k *StaticKey) Certificate() []byte { return bytes.Clone(k.certificate[:]) }

// Close zeroizes the private key.
func (k *StaticKey) Close() {
	clear(k.private[:])
}

// verifyCertificate checks that cert certifies static; with a known remote PeerId, that the
// certifying identity is that PeerId's key. It returns the identity's PeerId.
func verifyCertificate(cert, static, remotePeerID []byte) ([]byte, error) {
	if len(cert) != CertificateSize {
		return nil, ErrCertificateSize
	}
	identity := ed25519.PublicKey(cert[:ed25519.PublicKeySize])
	if remotePeerID != nil {
		key, ok := PeerIDKey(remotePeerID)
		if !ok || !bytes.Equal(key, identity) {
			return nil, ErrCertificateIdentity
		}
	}
	if !Verify(identity, certificateMessage(static), cert[ed25519.PublicKeySize:]) {
		return nil, ErrCertificateSignature
	}
	return PeerID(bytes.Clone(identity)), nil
}
