package crypto

import (
	"crypto/cipher"
	"encoding/binary"
	"errors"

	"golang.org/x/crypto/chacha20poly1305"
)

// FrameOverhead is the header (u64le generation ‖ u64le counter) plus the Poly1305 tag.
const FrameOverhead = 16 + chacha20poly1305.Overhead

// Errors of sealing and opening. None reveals key material.
var (
	ErrShortFrame      = errors.New("aecomms: frame shorter than its header and tag")
	ErrFrameGeneration = errors.New("aecomms: frame is of another key generation")
	ErrReplay          = errors.New("aecomms: frame counter not above the last accepted (replay)")
	ErrAuth            = errors.New("aecomms: frame failed authentication")
	ErrExhausted       = errors.New("aecomms: counter space exhausted; rekey")
)

// Session is one direction pair of keys of one generation. Not safe for concurrent use.
type Session struct {
	generation uint64
	send, recv cipher.AEAD
	sendKey    [32]byte
	recvKey    [32]byte
	nextSend   uint64
	// highest counter accepted plus one; 0 before the first frame.
	recvFloor uint64
}

func newSession(generation uint64, send, recv []byte) (*Session, error) {
	s := &Session{generation: generation}
	copy(s.sendKey[:], send)
	copy(s.recvKey[:], recv)
	var err error
	if s.send, err = chacha20poly1305.New(s.sendKey[:]); err != nil {
		return nil, err
	}
	if s.recv, err = chacha20poly1305.New(s.recvKey[:]); err != nil {
		return nil, err
	}
	return s, nil
}

// Generation is the key generation of the session.
func (s *Session) Generation() uint64 { return s.generation }

// Sent is the number of frames sealed so far.
func (s *Session) Sent() uint64 { return s.nextSend }

// Close zeroizes the keys; the session cannot be used afterwards.
func (s *Session) Close() {
	clear(s.sendKey[:])
	clear(s.recvKey[:])
	s.send, s.recv = nil, nil
}

func nonce(counter uint64) []byte {
	n := make([]byte, chacha20poly1305.NonceSize)
	binary.LittleEndian.PutUint64(n[4:], counter)
	return n
}

// Seal encrypts plaintext as the next frame: header ‖ ciphertext ‖ tag.
func (s *Session) Seal(plaintext []byte) ([]byte, error) {
	if s.nextSend == ^uint64(0) {
		return nil, ErrExhausted
	}
	counter := s.nextSend
	s.nextSend++
	out := make([]byte, 16, 16+len(plaintext)+chacha20poly1305.Overhead)
	binary.LittleEndian.PutUint64(out, s.generation)
	binary.LittleEndian.PutUint64(out[8:], counter)
	return s.send.Seal(out, nonce(counter), plaintext, out[:16]), nil
}

// Open authenticates and decrypts a frame; a frame whose counter is not above every counter
// accepted before is refused.
func (s *Session) Open(frame []byte) ([]byte, error) {
	if len(frame) < FrameOverhead {
		return nil, ErrShortFrame
	}
	if binary.LittleEndian.Uint64(frame) != s.generation {
		return nil, ErrFrameGeneration
	}
	counter := binary.LittleEndian.Uint64(frame[8:])
	if counter < s.recvFloor {
		return nil, ErrReplay
	}
	plain, err := s.recv.Open(nil, nonce(counter), frame[16:], frame[:16])
	if err != nil {
		return nil, ErrAuth
	}
	s.recvFloor = counter + 1
	return plain, nil
}
