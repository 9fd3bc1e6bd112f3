// Package discovery finds FlareChain nodes: signed node records, a Kademlia-style table of
// daemons, lookups, gossip and anti-entropy of records, liveness checks and expiry.
package discovery

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/flarechain/detr-p2p/go-core/crypto"
)

// Record bounds: a record always fits in one transport packet with room to spare.
const (
	MaxAddrs      = 8
	MaxAddrLen    = 96
	MaxRecordSize = 1 + 2 + 38 + 32 + 1 + 8 + 1 + MaxAddrs*(2+MaxAddrLen) + 64
	recordVersion = 1
	recordDomain  = "detr-discovery/v1/record"
	ed25519Prefix = "\x00\x24\x08\x01\x12\x20"
)

// Errors of record decoding and verification.
var (
	ErrRecordTooLarge = errors.New("record: over the size limit")
	ErrRecordFormat   = errors.New("record: malformed")
	ErrRecordPeerID   = errors.New("record: peer id is not an Ed25519 libp2p peer id")
	ErrRecordSig      = errors.New("record: signature does not verify")
)

// Record is a node's signed statement of where it can be reached.
type Record struct {
	PeerID    []byte   // libp2p PeerId of the node's Ed25519 key (38 bytes)
	Genesis   [32]byte // the chain the node follows
	Roles     uint8    // Substrate roles bits
	Seq       uint64   // a higher sequence replaces a lower one
	Addrs     []string // multiaddrs without /p2p/, e.g. /ip4/127.0.0.1/tcp/30333
	Signature [64]byte // Ed25519 over "detr-discovery/v1/record" ‖ body
}

// appendLP16 appends b with its length before it (u16le).
func appendLP16[T []byte | string](out []byte, b T) []byte {
	out = binary.LittleEndian.AppendUint16(out, uint16(len(b)))
	return append(out, b...)
}

// appendBody appends everything the signature covers, after the domain.
func (r *Record) appendBody(out []byte) ([]byte, error) {
	if len(r.Addrs) > MaxAddrs {
		return nil, fmt.Errorf("%w: %d addresses (at most %d)", ErrRecordTooLarge, len(r.Addrs), MaxAddrs)
	}
	out = append(out, recordVersion)
	out = appendLP16(out, r.PeerID)
	out = append(out, r.Genesis[:]...)
	out = append(out, r.Roles)
	out = binary.LittleEndian.AppendUint64(out, r.Seq)
	out = append(out, byte(len(r.Addrs)))
	for _, a := range r.Addrs {
		if len(a) == 0 || len(a) > MaxAddrLen {
			return nil, fmt.Errorf("%w: address of %d bytes (1 to %d)", ErrRecordFormat, len(a), MaxAddrLen)
		}
		out = appendLP16(out, a)
	}
	return out, nil
}

// bodySize is the size of the body (appendBody) and the signature.
func (r *Record) bodySize() int {
	n := 1 + 2 + len(r.PeerID) + 32 + 1 + 8 + 1 + len(r.Signature)
	for _, a := range r.Addrs {
		n += 2 + len(a)
	}
	return n
}

// SigningBytes is what the node signs: the domain and the body.
func (r *Record) SigningBytes() ([]byte, error) {
	return r.appendBody(append(make([]byte, 0, len(recordDomain)+r.bodySize()), recordDomain...))
}

// Encode is the wire form: body ‖ signature.
func (r *Record) Encode() ([]byte, error) {
	body, err := r.appendBody(make([]byte, 0, r.bodySize()))
	if err != nil {
		return nil, err
	}
	out := append(body, r.Signature[:]...)
	if len(out) > MaxRecordSize {
		return nil, ErrRecordTooLarge
	}
	return out, nil
}

// Sign sets the signature with the node's identity (its PeerID must be the identity's).
func (r *Record) Sign(id *crypto.Identity) error {
	r.PeerID = id.PeerID
	msg, err := r.SigningBytes()
	if err != nil {
		return err
	}
	copy(r.Signature[:], id.Sign(msg))
	return nil
}

// PublicKey is the Ed25519 key inside the record's PeerID.
func (r *Record) PublicKey() (ed25519.PublicKey, error) {
	if len(r.PeerID) != len(ed25519Prefix)+32 || !bytes.HasPrefix(r.PeerID, []byte(ed25519Prefix)) {
		return nil, ErrRecordPeerID
	}
	return ed25519.PublicKey(r.PeerID[len(ed25519Prefix):]), nil
}

// Verify checks the signature against the key in the PeerID, under ZIP-215's rules: the rules
// a batch of records is verified under (crypto.Batch), so that a record verifies alone exactly
// when it verifies in a page.
func (r *Record) Verify() error {
	pub, msg, err := r.signed()
	if err != nil {
		return err
	}
	if !crypto.VerifyZIP215(pub, msg, r.Signature[:]) {
		return ErrRecordSig
	}
	return nil
}

// signed is the key and the bytes the record's signature is over.
func (r *Record) signed() (ed25519.PublicKey, []byte, error) {
	pub, err := r.PublicKey()
	if err != nil {
		return nil, nil, err
	}
	msg, err := r.SigningBytes()
	if err != nil {
		return nil, nil, err
	}
	return pub, msg, nil
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil || n > len(r.b) {
		r.err = ErrRecordFormat
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) lp16(max int) []byte {
	l := r.take(2)
	if l == nil {
		return nil
	}
	n := int(binary.LittleEndian.Uint16(l))
	if n > max {
		r.err = ErrRecordFormat
		return nil
	}
	return r.take(n)
}

// DecodeRecord parses and verifies a record; anything malformed, oversize or forged is an error.
func DecodeRecord(b []byte) (*Record, error) {
	r, err := parseRecord(b)
	if err != nil {
		return nil, err
	}
	if err := r.Verify(); err != nil {
		return nil, err
	}
	return r, nil
}

// parseRecord reads a record without checking its signature (the caller verifies it before
// keeping it; a stale copy is dropped without paying for a verification).
func parseRecord(b []byte) (*Record, error) {
	if len(b) > MaxRecordSize {
		return nil, ErrRecordTooLarge
	}
	rd := &reader{b: b}
	if v := rd.take(1); v != nil && v[0] != recordVersion {
		return nil, fmt.Errorf("%w: version %d", ErrRecordFormat, v[0])
	}
	r := &Record{PeerID: bytes.Clone(rd.lp16(64))}
	copy(r.Genesis[:], rd.take(32))
	if roles := rd.take(1); roles != nil {
		r.Roles = roles[0]
	}
	if seq := rd.take(8); seq != nil {
		r.Seq = binary.LittleEndian.Uint64(seq)
	}
	n := rd.take(1)
	if n != nil && int(n[0]) > MaxAddrs {
		return nil, fmt.Errorf("%w: %d addresses", ErrRecordFormat, n[0])
	}
	if n != nil {
		for range int(n[0]) {
			a := rd.lp16(MaxAddrLen)
			if len(a) == 0 {
				rd.err = ErrRecordFormat
				break
			}
			r.Addrs = append(r.Addrs, string(a))
		}
	}
	copy(r.Signature[:], rd.take(64))
	if rd.err != nil {
		return nil, rd.err
	}
	if len(rd.b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrRecordFormat, len(rd.b))
	}
	return r, nil
}
