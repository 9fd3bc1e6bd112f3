package crypto

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"testing"
)

type vectorSide struct {
	IdentitySeed    string `json:"identity_seed"`
	IdentityPublic  string `json:"identity_public"`
	PeerID          string `json:"peer_id"`
	EphemeralSecret string `json:"ephemeral_secret"`
	EphemeralPublic string `json:"ephemeral_public"`
	Handshake       string `json:"handshake"`
}

type vectors struct {
	Construction string     `json:"construction"`
	Protocol     string     `json:"protocol"`
	Genesis      string     `json:"genesis"`
	Generation   uint64     `json:"generation"`
	A            vectorSide `json:"a"`
	B            vectorSide `json:"b"`
	KeyAB        string     `json:"key_ab"`
	KeyBA        string     `json:"key_ba"`
	Frames       []struct {
		From      string `json:"from"`
		Counter   uint64 `json:"counter"`
		Plaintext string `json:"plaintext"`
		Sealed    string `json:"sealed"`
	} `json:"frames"`
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("vector hex %q: %v", s, err)
	}
	return b
}

func loadVectors(t *testing.T) vectors {
	t.Helper()
	raw, err := os.ReadFile("../../tests/vectors/aecomms.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if v.Construction != "detr-aecomms/v1" {
		t.Fatalf("construction %q", v.Construction)
	}
	return v
}

// The Rust vectors, byte for byte: identities, handshakes, keys and every sealed frame.
func TestRustVectors(t *testing.T) {
	v := loadVectors(t)
	var genesis [32]byte
	copy(genesis[:], unhex(t, v.Genesis))
	sides := map[string]*Pending{}
	for name, s := range map[string]vectorSide{"a": v.A, "b": v.B} {
		id, err := NewIdentity(unhex(t, s.IdentitySeed))
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(id.Public()); got != s.IdentityPublic {
			t.Fatalf("%s identity %s, want %s", name, got, s.IdentityPublic)
		}
		if got := hex.EncodeToString(id.PeerID); got != s.PeerID {
			t.Fatalf("%s peer id %s, want %s", name, got, s.PeerID)
		}
		remote := v.B.PeerID
		if name == "b" {
			remote = v.A.PeerID
		}
		binding := Binding{Remote: unhex(t, remote), Protocol: []byte(v.Protocol), Genesis: genesis}
		p, err := StartHandshakeWithSecret(id, binding, v.Generation, unhex(t, s.EphemeralSecret))
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(p.Message.Ephemeral[:]); got != s.EphemeralPublic {
			t.Fatalf("%s ephemeral %s, want %s", name, got, s.EphemeralPublic)
		}
		if got := hex.EncodeToString(p.Message.Encode()); got != s.Handshake {
			t.Fatalf("%s handshake\n got %s\nwant %s", name, got, s.Handshake)
		}
		sides[name] = p
	}
	a, err := sides["a"].Complete(&sides["b"].Message)
	if err != nil {
		t.Fatal(err)
	}
	b, err := sides["b"].Complete(&sides["a"].Message)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(a.sendKey[:]) != v.KeyAB || hex.EncodeToString(b.sendKey[:]) != v.KeyBA {
		t.Fatal("derived keys differ from the vectors")
	}
	for i, f := range v.Frames {
		from, to := a, b
		if f.From == "b" {
			from, to = b, a
		}
		if from.Sent() != f.Counter {
			t.Fatalf("frame %d: counter %d, want %d", i, from.Sent(), f.Counter)
		}
		sealed, err := from.Seal(unhex(t, f.Plaintext))
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(sealed); got != f.Sealed {
			t.Fatalf("frame %d sealed\n got %s\nwant %s", i, got, f.Sealed)
		}
		plain, err := to.Open(sealed)
		if err != nil || !bytes.Equal(plain, unhex(t, f.Plaintext)) {
			t.Fatalf("frame %d: open: %v", i, err)
		}
	}
}

func pair(t testing.TB) (*Session, *Session) {
	t.Helper()
	x, _ := GenerateIdentity(rand.Reader)
	y, _ := GenerateIdentity(rand.Reader)
	proto := []byte("/detr/discovery/1")
	px, _ := StartHandshake(x, Binding{Remote: y.PeerID, Protocol: proto}, 0, rand.Reader)
	py, _ := StartHandshake(y, Binding{Remote: x.PeerID, Protocol: proto}, 0, rand.Reader)
	sx, err := px.Complete(&py.Message)
	if err != nil {
		t.Fatal(err)
	}
	sy, err := py.Complete(&px.Message)
	if err != nil {
		t.Fatal(err)
	}
	return sx, sy
}

func TestReplayReorderAndTamperAreRefused(t *testing.T) {
	x, y := pair(t)
	f0, _ := x.Seal([]byte("zero"))
	f1, _ := x.Seal([]byte("one"))
	if _, err := y.Open(f1); err != nil {
		t.Fatal(err)
	}
	if _, err := y.Open(f0); !errors.Is(err, ErrReplay) {
		t.Fatalf("older frame: %v", err)
	}
	if _, err := y.Open(f1); !errors.Is(err, ErrReplay) {
		t.Fatalf("replayed frame: %v", err)
	}
	f2, _ := x.Seal([]byte("two"))
	for i := range f2 {
		bad := bytes.Clone(f2)
		bad[i] ^= 0x01
		if _, err := y.Open(bad); err == nil {
			t.Fatalf("flipped byte %d accepted", i)
		}
	}
	if _, err := y.Open(f2); err != nil {
		t.Fatalf("tampering must not advance the counter: %v", err)
	}
	if _, err := y.Open(f2[:FrameOverhead-1]); !errors.Is(err, ErrShortFrame) {
		t.Fatalf("short: %v", err)
	}
}

func TestForgedHandshakesAreRefused(t *testing.T) {
	x, _ := GenerateIdentity(rand.Reader)
	y, _ := GenerateIdentity(rand.Reader)
	mitm, _ := GenerateIdentity(rand.Reader)
	proto := []byte("p")
	px, _ := StartHandshake(x, Binding{Remote: y.PeerID, Protocol: proto}, 0, rand.Reader)
	// The MITM signs with its own key: its identity does not match y's PeerId.
	pm, _ := StartHandshake(mitm, Binding{Remote: x.PeerID, Protocol: proto}, 0, rand.Reader)
	if _, err := px.Complete(&pm.Message); !errors.Is(err, ErrWrongIdentity) {
		t.Fatalf("mitm: %v", err)
	}
	// y's handshake for another protocol does not verify here.
	py, _ := StartHandshake(y, Binding{Remote: x.PeerID, Protocol: []byte("q")}, 0, rand.Reader)
	if _, err := px.Complete(&py.Message); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("wrong binding: %v", err)
	}
	py1, _ := StartHandshake(y, Binding{Remote: x.PeerID, Protocol: proto}, 1, rand.Reader)
	if _, err := px.Complete(&py1.Message); !errors.Is(err, ErrWrongGeneration) {
		t.Fatalf("generation: %v", err)
	}
	// A low-order ephemeral key (all zero) is refused even with a valid signature.
	py0, _ := StartHandshake(y, Binding{Remote: x.PeerID, Protocol: proto}, 0, rand.Reader)
	py0.Message.Ephemeral = [32]byte{}
	st := statement(&py0.binding, y.PeerID, x.PeerID, 0, py0.Message.Ephemeral[:], py0.Message.Identity[:])
	copy(py0.Message.Signature[:], y.Sign(st))
	if _, err := px.Complete(&py0.Message); err == nil {
		t.Fatal("all-zero ephemeral accepted")
	}
	if _, err := DecodeHandshake(make([]byte, 135)); !errors.Is(err, ErrHandshakeSize) {
		t.Fatalf("short handshake: %v", err)
	}
}

func FuzzOpen(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, FrameOverhead))
	f.Fuzz(func(t *testing.T, frame []byte) {
		_, y := pair(t)
		if _, err := y.Open(frame); err == nil {
			t.Fatal("a random frame opened")
		}
	})
}
