// Package transport carries discovery messages between daemons as sealed UDP packets: an
// AEComms handshake (the crypto package) per peer address, then ChaCha20-Poly1305 frames.
// Packets are at most 1280 bytes (like discv5). A daemon never sends an address that has not
// proven it receives there more bytes than that address sent (anti-amplification), limits
// packets per source IP, and forgets handshakes that do not complete in time.
package transport

import (
	"errors"

	"github.com/flarechain/detr-p2p/go-core/crypto"
)

// Packet layout: one type byte, then
//
//	init: lp8(peer id) ‖ handshake (136) ‖ zero padding up to MinInitSize
//	resp: lp8(peer id) ‖ handshake (136) ‖ the init's ephemeral key (32)
//	data: sealed frame (u64le generation ‖ u64le counter ‖ ciphertext ‖ tag)
const (
	typeInit = 1
	typeResp = 2
	typeData = 3

	// MaxPacketSize bounds every packet sent or accepted.
	MaxPacketSize = 1280
	// MinInitSize is the least size of an init packet: the response is never larger, so an
	// unverified address gets at most as many bytes as it sent.
	MinInitSize = 256
	// MaxMessageSize is the largest plaintext a data packet carries.
	MaxMessageSize = MaxPacketSize - 1 - crypto.FrameOverhead
	maxPeerIDLen   = 64
)

// Errors of packet parsing.
var (
	ErrPacketSize = errors.New("transport: packet size out of bounds")
	ErrPacketType = errors.New("transport: unknown packet type")
	ErrPacket     = errors.New("transport: malformed packet")
	ErrTooLarge   = errors.New("transport: message over the packet limit")
)

type handshakePacket struct {
	peerID    []byte
	handshake *crypto.HandshakeMessage
	// echo is, in a resp, the ephemeral key of the init it answers: a resp to an earlier init
	// (late, after a timeout and a new init) would otherwise complete with mismatched keys.
	echo [32]byte
}

// encodeHandshake builds an init (echo nil) or a resp (echo: the init's ephemeral key).
func encodeHandshake(typ byte, peerID []byte, h *crypto.HandshakeMessage, echo *[32]byte) []byte {
	out := append([]byte{typ, byte(len(peerID))}, peerID...)
	out = append(out, h.Encode()...)
	if echo != nil {
		out = append(out, echo[:]...)
	}
	if typ == typeInit && len(out) < MinInitSize {
		out = append(out, make([]byte, MinInitSize-len(out))...)
	}
	return out
}

// parseHandshake reads an init or resp packet (type byte included).
func parseHandshake(p []byte) (*handshakePacket, error) {
	if len(p) < 2 {
		return nil, ErrPacket
	}
	n := int(p[1])
	if n == 0 || n > maxPeerIDLen || len(p) < 2+n+crypto.HandshakeSize {
		return nil, ErrPacket
	}
	if p[0] == typeInit && len(p) < MinInitSize {
		return nil, ErrPacketSize
	}
	if p[0] == typeResp && len(p) != 2+n+crypto.HandshakeSize+32 {
		return nil, ErrPacket
	}
	h, err := crypto.DecodeHandshake(p[2+n : 2+n+crypto.HandshakeSize])
	if err != nil {
		return nil, err
	}
	hp := &handshakePacket{peerID: append([]byte(nil), p[2:2+n]...), handshake: h}
	if p[0] == typeResp {
		copy(hp.echo[:], p[2+n+crypto.HandshakeSize:])
	}
	return hp, nil
}
