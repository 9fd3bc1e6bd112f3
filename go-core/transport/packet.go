// Package transport carries discovery messages between daemons as sealed UDP datagrams:
// AEComms v2 (Noise XX with certified static keys, the crypto package) per (PeerId, address),
// then ChaCha20-Poly1305 frames opened through a sliding replay window.
//
// A responder does no Diffie-Hellman, signature or key generation for an address until that
// address has echoed a stateless cookie (WireGuard's cookie reply, discv5's WHOAREYOU); every
// answer to an unproven address is smaller than what it sent; a handshake replaces a session
// only once it is complete and authenticated; handshake crypto runs in a bounded worker pool,
// never on the read loop or under the transport's lock.
package transport

import (
	"encoding/binary"
	"errors"

	"github.com/flarechain/detr-p2p/go-core/crypto"
)

// Datagram layout: one type byte, then
//
//	hello    i→r  u32le sender index ‖ cookie[16] (zero: none yet) ‖ XX message 1 (32) ‖ zero padding to HelloSize
//	cookie   r→i  u32le receiver index ‖ the hello's ephemeral key[:16] ‖ cookie[16]
//	response r→i  u32le sender index ‖ u32le receiver index ‖ XX message 2 (192)
//	finish   i→r  u32le receiver index ‖ XX message 3 (160) ‖ a frame (the initiator repeats message 3
//	              in front of its frames until a frame of the responder shows it arrived; the
//	              responder sends an empty frame if it has nothing to say)
//	data          u32le receiver index ‖ frame (u64le epoch ‖ u64le counter ‖ ciphertext ‖ tag)
const (
	typeHello    = 1
	typeCookie   = 2
	typeResponse = 3
	typeFinish   = 4
	typeData     = 5

	// MaxPacketSize bounds every datagram sent or accepted (discv5's limit: no fragmentation on
	// any path with the IPv6 minimum MTU).
	MaxPacketSize = 1280
	// HelloSize is the padded size of a hello: the largest answer to it (a response, 201
	// bytes) is smaller, so an address never gets more bytes than it sent before it proves it
	// receives.
	HelloSize = 256
	// CookieSize is the size of a cookie and of the MAC it is.
	CookieSize = 16

	helloHead    = 1 + 4 + CookieSize
	cookieLen    = 1 + 4 + 16 + CookieSize
	responseLen  = 1 + 4 + 4 + crypto.Msg2Size
	finishHead   = 1 + 4 + crypto.Msg3Size
	dataHead     = 1 + 4
	minFinishLen = finishHead + crypto.FrameOverhead

	// MaxMessageSize is the largest plaintext one datagram carries (in a finish, the largest
	// envelope: message 3 in front of the frame).
	MaxMessageSize = MaxPacketSize - finishHead - crypto.FrameOverhead
)

// Errors of datagram parsing and sending.
var (
	ErrPacket   = errors.New("transport: malformed datagram")
	ErrTooLarge = errors.New("transport: message over the datagram limit")
)

func encodeHello(index uint32, cookie *[CookieSize]byte, msg1 []byte) []byte {
	out := make([]byte, HelloSize)
	out[0] = typeHello
	binary.LittleEndian.PutUint32(out[1:], index)
	if cookie != nil {
		copy(out[5:], cookie[:])
	}
	copy(out[helloHead:], msg1)
	return out
}

type hello struct {
	index  uint32
	cookie [CookieSize]byte
	msg1   []byte
}

func parseHello(p []byte) (hello, error) {
	if len(p) != HelloSize {
		return hello{}, ErrPacket
	}
	h := hello{index: binary.LittleEndian.Uint32(p[1:]), msg1: p[helloHead : helloHead+crypto.Msg1Size]}
	copy(h.cookie[:], p[5:])
	return h, nil
}

func encodeCookie(index uint32, ephemeral []byte, cookie [CookieSize]byte) []byte {
	out := make([]byte, 0, cookieLen)
	out = append(out, typeCookie)
	out = binary.LittleEndian.AppendUint32(out, index)
	out = append(out, ephemeral[:16]...)
	return append(out, cookie[:]...)
}

func encodeResponse(sender, receiver uint32, msg2 []byte) []byte {
	out := make([]byte, 0, responseLen)
	out = append(out, typeResponse)
	out = binary.LittleEndian.AppendUint32(out, sender)
	out = binary.LittleEndian.AppendUint32(out, receiver)
	return append(out, msg2...)
}

// finishPrefix is a finish datagram up to its frame.
func finishPrefix(receiver uint32, msg3 []byte) []byte {
	out := make([]byte, 0, finishHead)
	out = append(out, typeFinish)
	out = binary.LittleEndian.AppendUint32(out, receiver)
	return append(out, msg3...)
}
