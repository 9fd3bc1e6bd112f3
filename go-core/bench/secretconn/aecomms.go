package secretconn

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net"

	"github.com/flarechain/detr-p2p/go-core/crypto"
)

// readBuffer matches SecretConnection's read buffer (65 KiB).
const readBuffer = 65 * 1024

var prologueProtocol = []byte("/detr/bench/1")

// party is one side's long-term keys (made once, as a node's are).
type party struct {
	id     *crypto.Identity
	static *crypto.StaticKey
}

func newParty() (*party, error) {
	id, err := crypto.GenerateIdentity(rand.Reader)
	if err != nil {
		return nil, err
	}
	static, err := crypto.NewStaticKey(id, rand.Reader)
	if err != nil {
		return nil, err
	}
	return &party{id: id, static: static}, nil
}

// stream is an AEComms session over a byte stream: each message is u32le(frame length) ‖ frame,
// sealed into and opened in one reused buffer per direction.
type stream struct {
	conn    net.Conn
	r       *bufio.Reader
	keys    *crypto.Session
	sendBuf []byte
	recvBuf []byte
}

func writeMsg(w io.Writer, msg []byte) error {
	out := binary.LittleEndian.AppendUint32(make([]byte, 0, 4+len(msg)), uint32(len(msg)))
	_, err := w.Write(append(out, msg...))
	return err
}

func readMsg(r io.Reader, want int) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	if n := int(binary.LittleEndian.Uint32(hdr[:])); n != want {
		return nil, errors.New("aecomms bench: unexpected handshake message size")
	}
	msg := make([]byte, want)
	_, err := io.ReadFull(r, msg)
	return msg, err
}

// handshake runs Noise XX over conn; the initiator knows the responder's PeerId.
func handshake(conn net.Conn, local, remote *party, initiator bool) (*stream, error) {
	i, r := local, remote
	if !initiator {
		i, r = remote, local
	}
	hs, err := crypto.NewHandshake(crypto.HandshakeConfig{
		Initiator: initiator, Static: local.static, RemotePeerID: remote.id.PeerID,
		Prologue:  crypto.Prologue(i.id.PeerID, r.id.PeerID, prologueProtocol, [32]byte{}),
		Ephemeral: rand.Reader,
	})
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(conn, readBuffer)
	var keys *crypto.Session
	sizes := []int{crypto.Msg1Size, crypto.Msg2Size, crypto.Msg3Size}
	for step := range 3 {
		if (step%2 == 0) == initiator {
			var msg []byte
			if msg, keys, err = hs.WriteMessage(nil); err == nil {
				err = writeMsg(conn, msg)
			}
		} else {
			var msg []byte
			if msg, err = readMsg(br, sizes[step]); err == nil {
				keys, err = hs.ReadMessage(msg)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return &stream{conn: conn, r: br, keys: keys}, nil
}

// Write seals msg as one frame (one write to the connection, as SecretConnection flushes once
// per Write).
func (s *stream) Write(msg []byte) error {
	need := 4 + len(msg) + crypto.FrameOverhead
	if cap(s.sendBuf) < need {
		s.sendBuf = make([]byte, 0, need)
	}
	buf := binary.LittleEndian.AppendUint32(s.sendBuf[:0], uint32(len(msg)+crypto.FrameOverhead))
	buf, err := s.keys.Send.Seal(buf, msg)
	if err != nil {
		return err
	}
	_, err = s.conn.Write(buf)
	return err
}

// Read opens the next frame in place and returns its plaintext (valid until the next Read).
func (s *stream) Read() ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(s.r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(binary.LittleEndian.Uint32(hdr[:]))
	if cap(s.recvBuf) < n {
		s.recvBuf = make([]byte, n)
	}
	frame := s.recvBuf[:n]
	if _, err := io.ReadFull(s.r, frame); err != nil {
		return nil, err
	}
	return s.keys.Recv.Open(frame[crypto.HeaderSize:crypto.HeaderSize], frame)
}
