package crypto

import (
	"encoding/binary"
	"errors"
	"io"

	"github.com/flynn/noise"
)

const (
	// prologueDomain starts every prologue.
	prologueDomain = "detr-aecomms/v2"
	// Msg1Size, Msg2Size and Msg3Size are the XX messages: e; e, ee, s, es + certificate;
	// s, se + certificate.
	Msg1Size = 32
	Msg2Size = 32 + 48 + CertificateSize + 16
	Msg3Size = 48 + CertificateSize + 16
)

// suite is Noise_XX_25519_ChaChaPoly_SHA256's cipher suite as flynn/noise defines it: its
// cipher serves rekey; a handshake uses the same suite with a DH function of its own (dh.go).
var suite = noise.NewCipherSuite(noise.DH25519, noise.CipherChaChaPoly, noise.HashSHA256)

// Errors of the handshake. Each names what failed; none reveals key material.
var (
	ErrHandshakeOrder   = errors.New("aecomms: handshake message out of order")
	ErrHandshakeMessage = errors.New("aecomms: handshake message does not authenticate (wrong prologue, keys or bytes)")
	ErrHandshakePayload = errors.New("aecomms: handshake payload of the wrong size")
)

// Prologue is "detr-aecomms/v2" ‖ lp(initiator PeerId) ‖ lp(responder PeerId) ‖ lp(protocol) ‖
// genesis, lp(x) = u32le(len(x)) ‖ x.
func Prologue(initiator, responder, protocol []byte, genesis [32]byte) []byte {
	out := append([]byte(nil), prologueDomain...)
	for _, x := range [][]byte{initiator, responder, protocol} {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(x)))
		out = append(out, x...)
	}
	return append(out, genesis[:]...)
}

// HandshakeConfig sets up one side of a handshake.
type HandshakeConfig struct {
	Initiator bool
	Static    *StaticKey
	Prologue  []byte
	// RemotePeerID, when known, must be the identity that certifies the remote static key.
	RemotePeerID []byte
	// Ephemeral is the source of the ephemeral secret (crypto/rand.Reader; fixed in vectors).
	Ephemeral io.Reader
}

// Handshake is one side of Noise XX: message 1 (i→r) e; message 2 (r→i) e, ee, s, es with the
// responder's certificate; message 3 (i→r) s, se with the initiator's certificate.
type Handshake struct {
	hs           *noise.HandshakeState
	initiator    bool
	certificate  []byte
	remotePeerID []byte
	done         bool
	// RemotePeerID is the remote identity's PeerId once its certificate verified.
	RemotePeerID []byte
}

// NewHandshake starts one side.
func NewHandshake(cfg HandshakeConfig) (*Handshake, error) {
	hs, err := noise.NewHandshakeState(noise.Config{
		CipherSuite:   noise.NewCipherSuite(dh25519{}, noise.CipherChaChaPoly, noise.HashSHA256),
		Random:        cfg.Ephemeral,
		Pattern:       noise.HandshakeXX,
		Initiator:     cfg.Initiator,
		Prologue:      cfg.Prologue,
		StaticKeypair: noise.DHKey{Private: cfg.Static.private[:], Public: cfg.Static.public[:]},
	})
	if err != nil {
		return nil, err
	}
	return &Handshake{
		hs: hs, initiator: cfg.Initiator, certificate: cfg.Static.certificate[:],
		remotePeerID: cfg.RemotePeerID,
	}, nil
}

// Step is the number of messages written or read so far (0 to 3).
func (h *Handshake) Step() int { return h.hs.MessageIndex() }

// ourTurn reports whether this side writes the next message.
func (h *Handshake) ourTurn() bool {
	return !h.done && (h.Step()%2 == 0) == h.initiator
}

// WriteMessage appends this side's next message to out. After message 3 (initiator) the
// session is returned.
func (h *Handshake) WriteMessage(out []byte) ([]byte, *Session, error) {
	if !h.ourTurn() {
		return nil, nil, ErrHandshakeOrder
	}
	var payload []byte
	if h.Step() > 0 {
		payload = h.certificate
	}
	out, c1, c2, err := h.hs.WriteMessage(out, payload)
	if err != nil {
		return nil, nil, err
	}
	if c1 == nil {
		return out, nil, nil
	}
	return out, h.finish(c1, c2), nil
}

// ReadMessage processes the remote side's next message, checking its certificate. After
// message 3 (responder) the session is returned. A failed read leaves the handshake unusable.
func (h *Handshake) ReadMessage(msg []byte) (*Session, error) {
	if h.done || h.ourTurn() {
		return nil, ErrHandshakeOrder
	}
	want := [...]int{Msg1Size, Msg2Size, Msg3Size}[h.Step()]
	if len(msg) != want {
		h.Close()
		return nil, ErrHandshakePayload
	}
	payload, c1, c2, err := h.hs.ReadMessage(nil, msg)
	if err != nil {
		h.Close()
		return nil, ErrHandshakeMessage
	}
	if h.Step() > 1 {
		peer, err := verifyCertificate(payload, h.hs.PeerStatic(), h.remotePeerID)
		if err != nil {
			h.Close()
			return nil, err
		}
		h.RemotePeerID = peer
	}
	if c1 == nil {
		return nil, nil
	}
	return h.finish(c1, c2), nil
}

// HandshakeHash is Noise's h, the transcript hash (after the handshake: its channel binding).
func (h *Handshake) HandshakeHash() []byte { return append([]byte(nil), h.hs.ChannelBinding()...) }

// Close zeroizes the ephemeral secret; the handshake cannot go on afterwards.
func (h *Handshake) Close() {
	h.done = true
	clear(h.hs.LocalEphemeral().Private)
}

// finish splits the keys: c1 is k_i2r, c2 is k_r2i.
func (h *Handshake) finish(c1, c2 *noise.CipherState) *Session {
	h.Close()
	i2r, r2i := c1.UnsafeKey(), c2.UnsafeKey()
	defer clear(i2r[:])
	defer clear(r2i[:])
	if h.initiator {
		return newSession(i2r, r2i)
	}
	return newSession(r2i, i2r)
}
