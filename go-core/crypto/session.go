package crypto

import (
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"math"
	"time"

	"github.com/flynn/noise"
	"golang.org/x/crypto/chacha20poly1305"
)

const (
	// HeaderSize is u64le(epoch) ‖ u64le(counter), the frame's associated data.
	HeaderSize = 16
	// FrameOverhead is the header plus the Poly1305 tag.
	FrameOverhead = HeaderSize + chacha20poly1305.Overhead
	// PreviousKeyGrace bounds how long a receiver keeps the previous epoch's key after a
	// ratchet, for frames of that epoch reordered behind the first of the new one; it is
	// dropped sooner once the window has moved past every counter of that epoch.
	PreviousKeyGrace = 10 * time.Second
	// exhausted is 2^64-1, Noise's rekey nonce: never a frame counter.
	exhausted = math.MaxUint64
)

// Errors of sealing and opening. None reveals key material.
var (
	ErrShortFrame = errors.New("aecomms: frame shorter than its header and tag")
	ErrEpoch      = errors.New("aecomms: frame of an epoch this session holds no key for")
	ErrReplay     = errors.New("aecomms: frame counter replayed or below the window")
	ErrAuth       = errors.New("aecomms: frame failed authentication")
	ErrExhausted  = errors.New("aecomms: counter exhausted")
)

// rekey is Noise's REKEY: the first 32 bytes of ChaCha20-Poly1305(k, nonce 2^64-1, empty ad,
// 32 zero bytes), by flynn/noise's CipherState.Rekey. The old key is zeroized.
func rekey(k *[32]byte) {
	cs := noise.UnsafeNewCipherState(suite, *k, 0)
	cs.Rekey()
	next := cs.UnsafeKey()
	*k = next
	clear(next[:])
}

// key is one epoch's key of one direction and its AEAD.
type key struct {
	k    [32]byte
	aead cipher.AEAD
}

func (k *key) set(raw [32]byte) {
	k.k = raw
	k.aead, _ = chacha20poly1305.New(k.k[:]) // a 32-byte key never fails
}

func (k *key) zero() {
	clear(k.k[:])
	k.aead = nil
}

// SendHalf seals frames of one direction. Not safe for concurrent use.
type SendHalf struct {
	key     key
	epoch   uint64
	counter uint64
	rekey   bool
	nonce   [chacha20poly1305.NonceSize]byte
}

// Session is both halves of an established AEComms session.
type Session struct {
	Send *SendHalf
	Recv *RecvHalf
}

func newSession(send, recv [32]byte) *Session {
	s := &Session{Send: &SendHalf{}, Recv: &RecvHalf{}}
	s.Send.key.set(send)
	s.Recv.cur.set(recv)
	return s
}

// Close zeroizes both halves.
func (s *Session) Close() {
	s.Send.Close()
	s.Recv.Close()
}

// Epoch is the send key's epoch.
func (s *SendHalf) Epoch() uint64 { return s.epoch }

// Counter is the counter of the next frame.
func (s *SendHalf) Counter() uint64 { return s.counter }

// Rekey makes the next frame the first of epoch+1, under the ratcheted key.
func (s *SendHalf) Rekey() { s.rekey = true }

// Close zeroizes the key.
func (s *SendHalf) Close() { s.key.zero() }

// Seal appends the next frame, u64le(epoch) ‖ u64le(counter) ‖ ciphertext ‖ tag, to dst and
// returns it. With cap(dst)-len(dst) ≥ len(plaintext)+FrameOverhead nothing is allocated;
// plaintext may be dst[len(dst)+HeaderSize:] (sealing in place).
func (s *SendHalf) Seal(dst, plaintext []byte) ([]byte, error) {
	if s.counter == exhausted {
		return nil, ErrExhausted
	}
	if s.key.aead == nil {
		return nil, ErrAuth
	}
	if s.rekey {
		rekey(&s.key.k)
		s.key.set(s.key.k)
		s.epoch++
		s.rekey = false
	}
	binary.LittleEndian.PutUint64(s.nonce[4:], s.counter)
	head := len(dst)
	dst = binary.LittleEndian.AppendUint64(dst, s.epoch)
	dst = binary.LittleEndian.AppendUint64(dst, s.counter)
	s.counter++
	return s.key.aead.Seal(dst, s.nonce[:], plaintext, dst[head:]), nil
}

// RecvHalf opens the frames of one direction over an unordered transport (UDP): a sliding
// replay window over the counter, which runs on across epochs; the current epoch, the next one
// (the key ratchets once) and, for a while, the previous one. Not safe for concurrent use.
type RecvHalf struct {
	cur, prev key
	epoch     uint64
	window    window
	// the previous key is kept while a frame of its epoch can still be fresh: its counters are
	// all below prevBelow; kept until the window passes it or until prevUntil.
	hasPrev   bool
	prevBelow uint64
	prevUntil time.Time
	nonce     [chacha20poly1305.NonceSize]byte
}

// Close zeroizes the keys.
func (r *RecvHalf) Close() {
	r.cur.zero()
	r.prev.zero()
	r.hasPrev = false
}

// Epoch is the receive key's epoch.
func (r *RecvHalf) Epoch() uint64 { return r.epoch }

// Open authenticates frame and appends its plaintext to dst. With dst = frame[HeaderSize:
// HeaderSize] it opens in place; with enough capacity in dst nothing is allocated. A refused
// frame changes nothing.
func (r *RecvHalf) Open(dst, frame []byte) ([]byte, error) {
	if len(frame) < FrameOverhead {
		return nil, ErrShortFrame
	}
	if r.cur.aead == nil {
		return nil, ErrAuth
	}
	epoch := binary.LittleEndian.Uint64(frame)
	counter := binary.LittleEndian.Uint64(frame[8:])
	if counter == exhausted || !r.window.fresh(counter) {
		return nil, ErrReplay
	}
	r.dropStalePrev()
	binary.LittleEndian.PutUint64(r.nonce[4:], counter)
	header, body := frame[:HeaderSize], frame[HeaderSize:]
	switch {
	case epoch == r.epoch:
		out, err := r.cur.aead.Open(dst, r.nonce[:], body, header)
		if err != nil {
			return nil, ErrAuth
		}
		r.window.accept(counter)
		return out, nil
	case epoch == r.epoch+1:
		var next key
		raw := r.cur.k
		rekey(&raw)
		next.set(raw)
		clear(raw[:])
		out, err := next.aead.Open(dst, r.nonce[:], body, header)
		if err != nil {
			next.zero()
			return nil, ErrAuth
		}
		r.prev.zero()
		r.prev, r.cur = r.cur, next
		r.epoch++
		r.hasPrev, r.prevBelow, r.prevUntil = true, counter, time.Now().Add(PreviousKeyGrace)
		r.window.accept(counter)
		return out, nil
	case r.hasPrev && epoch+1 == r.epoch && counter < r.prevBelow:
		out, err := r.prev.aead.Open(dst, r.nonce[:], body, header)
		if err != nil {
			return nil, ErrAuth
		}
		r.window.accept(counter)
		return out, nil
	}
	return nil, ErrEpoch
}

// dropStalePrev zeroizes the previous key once no frame of its epoch can be fresh.
func (r *RecvHalf) dropStalePrev() {
	if !r.hasPrev {
		return
	}
	passed := r.window.highest >= r.prevBelow && r.window.highest-r.prevBelow >= WindowSize
	if passed || time.Now().After(r.prevUntil) {
		r.prev.zero()
		r.hasPrev = false
	}
}
