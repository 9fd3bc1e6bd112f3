package crypto

import (
	"bytes"
	"crypto/rand"
	"errors"
	"math"
	"testing"
)

// handshake runs XX between fresh identities; it returns both sessions (initiator's first).
func handshake(t testing.TB) (*Session, *Session) {
	t.Helper()
	a, _ := GenerateIdentity(rand.Reader)
	b, _ := GenerateIdentity(rand.Reader)
	ak, _ := NewStaticKey(a, rand.Reader)
	bk, _ := NewStaticKey(b, rand.Reader)
	prologue := Prologue(nil, b.PeerID, []byte("/detr/discovery/3"), [32]byte{})
	i, _ := NewHandshake(HandshakeConfig{Initiator: true, Static: ak, Prologue: prologue, RemotePeerID: b.PeerID, Ephemeral: rand.Reader})
	r, _ := NewHandshake(HandshakeConfig{Static: bk, Prologue: prologue, Ephemeral: rand.Reader})
	m1, _, _ := i.WriteMessage(nil)
	if _, err := r.ReadMessage(m1); err != nil {
		t.Fatal(err)
	}
	m2, _, _ := r.WriteMessage(nil)
	if _, err := i.ReadMessage(m2); err != nil {
		t.Fatal(err)
	}
	m3, si, err := i.WriteMessage(nil)
	if err != nil {
		t.Fatal(err)
	}
	sr, err := r.ReadMessage(m3)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.RemotePeerID, a.PeerID) || !bytes.Equal(i.RemotePeerID, b.PeerID) {
		t.Fatal("remote peer ids not learned from the certificates")
	}
	return si, sr
}

func TestReplayTamperAndShortFramesAreRefused(t *testing.T) {
	x, y := handshake(t)
	f0, _ := x.Send.Seal(nil, []byte("zero"))
	f1, _ := x.Send.Seal(nil, []byte("one"))
	if _, err := y.Recv.Open(nil, f1); err != nil {
		t.Fatal(err)
	}
	if _, err := y.Recv.Open(nil, f1); !errors.Is(err, ErrReplay) {
		t.Fatalf("replayed frame: %v", err)
	}
	f2, _ := x.Send.Seal(nil, []byte("two"))
	for i := range f2 {
		bad := bytes.Clone(f2)
		bad[i] ^= 0x01
		if _, err := y.Recv.Open(nil, bad); err == nil {
			t.Fatalf("flipped byte %d accepted", i)
		}
	}
	if _, err := y.Recv.Open(nil, f2); err != nil {
		t.Fatalf("tampering must not move the window: %v", err)
	}
	if _, err := y.Recv.Open(nil, f0); err != nil {
		t.Fatalf("an older frame inside the window is accepted once: %v", err)
	}
	if _, err := y.Recv.Open(nil, f0); !errors.Is(err, ErrReplay) {
		t.Fatalf("then refused: %v", err)
	}
	if _, err := y.Recv.Open(nil, f2[:FrameOverhead-1]); !errors.Is(err, ErrShortFrame) {
		t.Fatalf("short: %v", err)
	}
}

// Datagrams reordered within the window all open, once each; below the window they are refused.
func TestReorderedFramesWithinTheWindowAreAccepted(t *testing.T) {
	x, y := handshake(t)
	const n = 1500
	frames := make([][]byte, n)
	for i := range frames {
		frames[i], _ = x.Send.Seal(nil, []byte{byte(i)})
	}
	// Newest first: every frame is up to n-1 < WindowSize behind the highest.
	for i := n - 1; i >= 0; i-- {
		if _, err := y.Recv.Open(nil, frames[i]); err != nil {
			t.Fatalf("frame %d of %d (reordered by %d): %v", i, n, n-1-i, err)
		}
	}
	for i := range frames {
		if _, err := y.Recv.Open(nil, frames[i]); !errors.Is(err, ErrReplay) {
			t.Fatalf("frame %d opened twice: %v", i, err)
		}
	}
	var late [][]byte
	for range WindowSize + 10 {
		f, _ := x.Send.Seal(nil, []byte("x"))
		late = append(late, f)
	}
	if _, err := y.Recv.Open(nil, late[len(late)-1]); err != nil {
		t.Fatal(err)
	}
	if _, err := y.Recv.Open(nil, late[0]); !errors.Is(err, ErrReplay) {
		t.Fatalf("a frame below the window: %v", err)
	}
	if _, err := y.Recv.Open(nil, late[11]); err != nil {
		t.Fatalf("the oldest frame inside the window: %v", err)
	}
}

// Each direction rekeys on its own; the receiver ratchets on the first frame of the next
// epoch and still opens reordered frames of the previous one.
func TestRekeyRatchetsAndKeepsThePreviousEpochForReorderedFrames(t *testing.T) {
	x, y := handshake(t)
	old, _ := x.Send.Seal(nil, []byte("epoch 0"))
	x.Send.Rekey()
	next, _ := x.Send.Seal(nil, []byte("epoch 1"))
	if x.Send.Epoch() != 1 {
		t.Fatalf("send epoch %d", x.Send.Epoch())
	}
	if p, err := y.Recv.Open(nil, next); err != nil || string(p) != "epoch 1" || y.Recv.Epoch() != 1 {
		t.Fatalf("first frame of epoch 1: %q %v", p, err)
	}
	if p, err := y.Recv.Open(nil, old); err != nil || string(p) != "epoch 0" {
		t.Fatalf("reordered frame of epoch 0: %q %v", p, err)
	}
	// Two epochs ahead is refused.
	x.Send.Rekey()
	_, _ = x.Send.Seal(nil, []byte("epoch 2, lost"))
	x.Send.Rekey()
	far, _ := x.Send.Seal(nil, []byte("epoch 3"))
	if _, err := y.Recv.Open(nil, far); !errors.Is(err, ErrEpoch) {
		t.Fatalf("epoch +2: %v", err)
	}
	// The reverse direction is unaffected.
	back, _ := y.Send.Seal(nil, []byte("back"))
	if _, err := x.Recv.Open(nil, back); err != nil {
		t.Fatal(err)
	}
}

func TestTheLastCounterIsNeverUsed(t *testing.T) {
	x, y := handshake(t)
	x.Send.counter = math.MaxUint64 - 1
	f, err := x.Send.Seal(nil, []byte("last"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := y.Recv.Open(nil, f); err != nil {
		t.Fatal(err)
	}
	if _, err := x.Send.Seal(nil, []byte("one more")); !errors.Is(err, ErrExhausted) {
		t.Fatalf("counter 2^64-1: %v", err)
	}
	// A frame claiming counter 2^64-1 is refused before any key is tried.
	forged := bytes.Clone(f)
	copy(forged[8:16], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	if _, err := y.Recv.Open(nil, forged); !errors.Is(err, ErrReplay) {
		t.Fatalf("counter 2^64-1 received: %v", err)
	}
}

// Seal and open into the caller's buffers allocate nothing.
func TestSealAndOpenInPlaceDoNotAllocate(t *testing.T) {
	x, y := handshake(t)
	msg := make([]byte, 1024)
	buf := make([]byte, 0, len(msg)+FrameOverhead)
	out := make([]byte, 0, len(msg))
	allocs := testing.AllocsPerRun(100, func() {
		frame, err := x.Send.Seal(buf[:0], msg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := y.Recv.Open(out[:0], frame); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per seal+open", allocs)
	}
}

func TestForgedHandshakesAreRefused(t *testing.T) {
	a, _ := GenerateIdentity(rand.Reader)
	b, _ := GenerateIdentity(rand.Reader)
	mitm, _ := GenerateIdentity(rand.Reader)
	ak, _ := NewStaticKey(a, rand.Reader)
	bk, _ := NewStaticKey(b, rand.Reader)
	mk, _ := NewStaticKey(mitm, rand.Reader)
	pro := Prologue(nil, b.PeerID, []byte("p"), [32]byte{})
	run := func(rk *StaticKey, rpro []byte) error {
		i, _ := NewHandshake(HandshakeConfig{Initiator: true, Static: ak, Prologue: pro, RemotePeerID: b.PeerID, Ephemeral: rand.Reader})
		r, _ := NewHandshake(HandshakeConfig{Static: rk, Prologue: rpro, Ephemeral: rand.Reader})
		m1, _, _ := i.WriteMessage(nil)
		if _, err := r.ReadMessage(m1); err != nil {
			return err
		}
		m2, _, _ := r.WriteMessage(nil)
		_, err := i.ReadMessage(m2)
		return err
	}
	// A responder certified by another identity than the PeerId dialled.
	if err := run(mk, pro); !errors.Is(err, ErrCertificateIdentity) {
		t.Fatalf("mitm: %v", err)
	}
	// Another prologue (protocol, peer ids or genesis): message 2 does not authenticate.
	if err := run(bk, Prologue(nil, b.PeerID, []byte("q"), [32]byte{})); !errors.Is(err, ErrHandshakeMessage) {
		t.Fatalf("prologue: %v", err)
	}
	// A certificate over another static key.
	stolen := *bk
	copy(stolen.certificate[:], mk.certificate[:])
	if err := run(&stolen, pro); !errors.Is(err, ErrCertificateIdentity) {
		t.Fatalf("certificate of another identity: %v", err)
	}
	forged := *bk
	forged.certificate[40] ^= 1
	if err := run(&forged, pro); !errors.Is(err, ErrCertificateSignature) {
		t.Fatalf("broken signature: %v", err)
	}
	if err := run(bk, pro); err != nil {
		t.Fatalf("honest: %v", err)
	}
	// Messages out of turn or of the wrong size.
	i, _ := NewHandshake(HandshakeConfig{Initiator: true, Static: ak, Prologue: pro, Ephemeral: rand.Reader})
	if _, err := i.ReadMessage(make([]byte, Msg2Size)); !errors.Is(err, ErrHandshakeOrder) {
		t.Fatalf("read first: %v", err)
	}
	r, _ := NewHandshake(HandshakeConfig{Static: bk, Prologue: pro, Ephemeral: rand.Reader})
	if _, err := r.ReadMessage(make([]byte, Msg1Size+1)); !errors.Is(err, ErrHandshakePayload) {
		t.Fatalf("long message 1: %v", err)
	}
}

func FuzzOpen(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, FrameOverhead))
	_, y := handshake(f)
	f.Fuzz(func(t *testing.T, frame []byte) {
		if _, err := y.Recv.Open(nil, frame); err == nil {
			t.Fatal("a random frame opened")
		}
	})
}
