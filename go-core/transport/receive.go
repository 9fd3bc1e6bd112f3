package transport

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/flarechain/detr-p2p/go-core/crypto"
)

func (t *Transport) readLoop() {
	defer t.wg.Done()
	buf := make([]byte, MaxPacketSize+1)
	for {
		n, from, err := t.conn.ReadFrom(buf)
		if err != nil {
			select {
			case <-t.done:
				return
			default:
				continue
			}
		}
		t.handle(from, buf[:n])
	}
}

// handle processes one datagram. pkt is only valid during the call.
func (t *Transport) handle(from netip.AddrPort, pkt []byte) {
	t.mu.Lock()
	t.stats.PacketsIn++
	t.stats.BytesIn += uint64(len(pkt))
	limited := !t.limiter.allow(from, time.Now())
	if limited {
		t.stats.RateLimited++
	}
	bad := len(pkt) == 0 || len(pkt) > MaxPacketSize
	if bad {
		t.stats.Dropped++
	}
	t.mu.Unlock()
	if limited || bad {
		return
	}
	switch pkt[0] {
	case typeHello:
		t.onHello(from, pkt)
	case typeCookie:
		t.onCookie(from, pkt)
	case typeResponse:
		t.onResponse(from, pkt)
	case typeFinish:
		t.onFinish(from, pkt)
	case typeData:
		t.onData(from, pkt)
	default:
		t.drop()
	}
}

func (t *Transport) drop() {
	t.mu.Lock()
	t.stats.Dropped++
	t.mu.Unlock()
}

// onHello answers a hello: with a cookie reply (smaller than the hello, no state, no crypto)
// unless it echoes a valid cookie for its address; then message 2 is made in the pool.
func (t *Transport) onHello(from netip.AddrPort, pkt []byte) {
	h, err := parseHello(pkt)
	if err != nil {
		t.drop()
		return
	}
	if !t.cookies.valid(from, h.cookie) {
		reply := encodeCookie(h.index, h.msg1, t.cookies.make(from))
		t.mu.Lock()
		t.stats.CookiesSent++
		t.writeLocked(from, reply)
		t.mu.Unlock()
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	hk := halfKey{from, h.index}
	if idx, ok := t.halfByHello[hk]; ok {
		// The same hello again (a retransmission or a replay): the same answer, no new work.
		if ho := t.halfOpen[idx]; ho != nil && bytes.Equal(ho.msg1[:], h.msg1) && ho.response != nil {
			t.writeLocked(from, ho.response)
		}
		return
	}
	if p := t.pendingByAddr[from]; p != nil {
		// Our hello and theirs crossed: the smaller PeerId's handshake goes on.
		if bytes.Compare(t.id.PeerID, []byte(p.key.id)) < 0 {
			return
		}
		t.abandonLocked(p)
		p.yielded = time.Now()
	}
	if len(t.halfOpen) >= maxHalfOpen {
		t.stats.HandshakesShed++
		return
	}
	idx := t.newIndexLocked()
	ho := &halfOpen{addr: from, remoteIndex: h.index, created: time.Now(), busy: true}
	copy(ho.msg1[:], h.msg1)
	t.halfOpen[idx] = ho
	t.halfByHello[hk] = idx
	ok := t.pool.submit(func() {
		hs, err := crypto.NewHandshake(crypto.HandshakeConfig{Static: t.static, Prologue: t.prologue(t.id.PeerID), Ephemeral: rand.Reader})
		var msg2 []byte
		if err == nil {
			if _, err = hs.ReadMessage(ho.msg1[:]); err == nil {
				msg2, _, err = hs.WriteMessage(nil)
			}
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.halfOpen[idx] != ho || err != nil {
			if hs != nil {
				hs.Close()
			}
			if err != nil {
				t.stats.HandshakeFailures++
				t.forgetHalfLocked(idx)
			}
			return
		}
		ho.hs, ho.busy = hs, false
		ho.response = encodeResponse(idx, ho.remoteIndex, msg2)
		t.writeLocked(from, ho.response)
	})
	if !ok {
		t.stats.HandshakesShed++
		t.forgetHalfLocked(idx)
	}
}

func (t *Transport) forgetHalfLocked(idx uint32) {
	if ho := t.halfOpen[idx]; ho != nil {
		if ho.hs != nil && !ho.busy {
			ho.hs.Close()
		}
		delete(t.halfByHello, halfKey{ho.addr, ho.remoteIndex})
		delete(t.halfOpen, idx)
	}
}

// onCookie resends our hello with the cookie, if the reply answers a hello of ours from the
// address it went to.
func (t *Transport) onCookie(from netip.AddrPort, pkt []byte) {
	if len(pkt) != cookieLen {
		t.drop()
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.pendingByIdx[binary.LittleEndian.Uint32(pkt[1:])]
	if p == nil || p.key.addr != from || p.pending.busy || !bytes.Equal(pkt[5:21], p.pending.msg1[:16]) ||
		p.pending.cookies >= maxCookieReplies {
		t.stats.Dropped++
		return
	}
	pd := p.pending
	pd.cookies++
	copy(p.cookie[:], pkt[21:])
	p.cookieAt = time.Now()
	pd.hello = encodeHello(pd.index, &p.cookie, pd.msg1)
	t.helloLocked(from, pd)
}

// onResponse reads message 2 (the responder's certificate must be the PeerId we dialled) and
// completes with message 3 in the pool; the session replaces the current one only then.
func (t *Transport) onResponse(from netip.AddrPort, pkt []byte) {
	if len(pkt) != responseLen {
		t.drop()
		return
	}
	sender := binary.LittleEndian.Uint32(pkt[1:])
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.pendingByIdx[binary.LittleEndian.Uint32(pkt[5:])]
	if p == nil || p.key.addr != from || p.pending.busy {
		t.stats.Dropped++
		return
	}
	pd := p.pending
	pd.busy = true
	msg2 := bytes.Clone(pkt[9:])
	ok := t.pool.submit(func() {
		_, err := pd.hs.ReadMessage(msg2)
		var msg3 []byte
		var keys *crypto.Session
		if err == nil {
			msg3, keys, err = pd.hs.WriteMessage(nil)
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		pd.busy = false
		if p.pending != pd {
			pd.hs.Close()
		}
		if p.pending != pd || err != nil {
			if keys != nil {
				keys.Close()
			}
			if err != nil && p.pending == pd {
				t.stats.HandshakeFailures++
				t.cfg.Logger.Debug("handshake refused", "to", from, "err", err)
				t.abandonLocked(p)
			}
			return
		}
		t.abandonLocked(p)
		s := &session{local: pd.index, remote: sender, key: p.key, keys: keys, finish: finishPrefix(sender, msg3)}
		t.installLocked(p, s)
	})
	if !ok {
		pd.busy = false
		t.stats.HandshakesShed++
	}
}

// onFinish completes a half-open handshake with message 3 (the initiator's certificate names
// its identity) and opens the frame behind it; for a session already complete, message 3 is
// a repeat and only the frame counts.
func (t *Transport) onFinish(from netip.AddrPort, pkt []byte) {
	if len(pkt) < minFinishLen {
		t.drop()
		return
	}
	idx := binary.LittleEndian.Uint32(pkt[1:])
	t.mu.Lock()
	if s := t.sessions[idx]; s != nil {
		t.mu.Unlock()
		t.onFrame(from, idx, pkt[finishHead:])
		return
	}
	ho := t.halfOpen[idx]
	if ho == nil || ho.addr != from || ho.hs == nil {
		t.stats.Dropped++
		t.mu.Unlock()
		return
	}
	frame := bytes.Clone(pkt[finishHead:])
	if ho.busy {
		// Message 3 is being read: the frames behind its repeats wait for the session.
		if len(ho.frames) < maxQueued {
			ho.frames = append(ho.frames, frame)
		} else {
			t.stats.Dropped++
		}
		t.mu.Unlock()
		return
	}
	ho.busy = true
	ho.frames = append(ho.frames, frame)
	msg3 := bytes.Clone(pkt[1+4 : finishHead])
	ok := t.pool.submit(func() {
		keys, err := ho.hs.ReadMessage(msg3)
		t.mu.Lock()
		ho.busy = false
		if t.halfOpen[idx] != ho {
			t.mu.Unlock()
			if keys != nil {
				keys.Close()
			}
			return
		}
		t.forgetHalfLocked(idx)
		if err != nil {
			t.stats.HandshakeFailures++
			t.mu.Unlock()
			t.cfg.Logger.Debug("handshake refused", "from", from, "err", err)
			return
		}
		k := peerKey{string(ho.hs.RemotePeerID), from}
		p := t.peers[k]
		if p == nil {
			if len(t.peers) >= maxPeers {
				t.stats.HandshakesShed++
				t.mu.Unlock()
				keys.Close()
				return
			}
			p = &peer{key: k}
			t.peers[k] = p
		}
		// Their handshake completed: ours towards the same identity there is redundant.
		t.abandonLocked(p)
		s := &session{local: idx, remote: ho.remoteIndex, key: k, keys: keys}
		t.installLocked(p, s)
		frames := ho.frames
		t.mu.Unlock()
		for _, f := range frames {
			t.onFrame(from, idx, f)
		}
		t.confirm(s)
	})
	if !ok {
		ho.busy = false
		t.stats.HandshakesShed++
	}
	t.mu.Unlock()
}

func (t *Transport) onData(from netip.AddrPort, pkt []byte) {
	if len(pkt) < dataHead+crypto.FrameOverhead {
		t.drop()
		return
	}
	t.onFrame(from, binary.LittleEndian.Uint32(pkt[1:]), pkt[dataHead:])
}

// onFrame opens a frame of session idx, which must be bound to the sender's address, and
// hands the message to the handler.
func (t *Transport) onFrame(from netip.AddrPort, idx uint32, frame []byte) {
	t.mu.Lock()
	s := t.sessions[idx]
	if s == nil || s.key.addr != from {
		t.stats.Dropped++
		t.mu.Unlock()
		return
	}
	msg, err := s.keys.Recv.Open(nil, frame)
	if err != nil {
		t.stats.AuthFailures++
		t.mu.Unlock()
		return
	}
	s.lastRecv = time.Now()
	s.finish = nil // the responder has message 3: it sealed this frame
	peerID := []byte(s.key.id)
	t.mu.Unlock()
	if t.handler != nil && len(msg) > 0 { // an empty frame confirms a session
		t.handler(from, peerID, msg)
	}
}

func (t *Transport) sweepLoop() {
	defer t.wg.Done()
	tick := time.NewTicker(max(t.cfg.HandshakeTimeout/4, 10*time.Millisecond))
	defer tick.Stop()
	for ticks := 0; ; ticks++ {
		select {
		case <-t.done:
			return
		case now := <-tick.C:
			t.sweep(now, ticks%sessionSweepTicks == 0)
		}
	}
}

// sessionSweepTicks: sessions (which expire after retiredGrace or SessionLifetime, tens of
// seconds to minutes) are swept every 8th sweep, handshakes (HandshakeTimeout) at every one:
// the sweep, which visited every session 4 times per handshake timeout, was 3% of the CPU of
// 1,000 daemons.
const sessionSweepTicks = 8

// sweep expires handshakes, and with sessions set retired and idle sessions, and peers with
// nothing left.
func (t *Transport) sweep(now time.Time, sessions bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for idx, ho := range t.halfOpen {
		if now.Sub(ho.created) > t.cfg.HandshakeTimeout && !ho.busy {
			t.forgetHalfLocked(idx)
		}
	}
	if sessions {
		for _, s := range t.sessions {
			idle := now.Sub(s.lastRecv) > t.cfg.SessionLifetime
			if (!s.retired.IsZero() && now.Sub(s.retired) > retiredGrace) || idle {
				t.dropSessionLocked(s)
			}
		}
	}
	for k, p := range t.peers {
		if s := p.current; s != nil && s.finish != nil && now.Sub(s.established) > t.cfg.HandshakeTimeout {
			// The responder never confirmed our session (its half-open handshake expired
			// before message 3 arrived): the next message makes a new one.
			t.stats.Timeouts++
			t.dropSessionLocked(s)
		}
		if pd := p.pending; pd != nil && !pd.busy {
			switch {
			case now.Sub(pd.started) > t.cfg.HandshakeTimeout:
				t.stats.Timeouts++
				t.abandonLocked(p)
			case pd.hello != nil && !pd.resent && now.Sub(pd.helloAt) >= t.cfg.HandshakeTimeout/2:
				// No answer for half the timeout: the hello, its cookie reply or message 2 may
				// be lost. The same hello again costs the responder no new work (it repeats
				// its answer), where the timeout would cost the messages waiting and a new
				// handshake. Once only, and late: under load a late answer is likelier than a
				// lost one, and a repeat arriving after the handshake completed is answered
				// again (in a 1,000-daemon network, up to three resends a quarter of the
				// timeout apart sent 1.5 times the datagrams dropped by full queues, for no
				// gain).
				pd.resent = true
				t.helloLocked(k.addr, pd)
			}
		}
		if !p.yielded.IsZero() && now.Sub(p.yielded) > t.cfg.HandshakeTimeout {
			p.yielded = time.Time{}
		}
		if p.current == nil && p.pending == nil && p.yielded.IsZero() {
			t.stats.Dropped += uint64(len(p.queue))
			p.queue = nil
			if now.Sub(p.cookieAt) > CookieRotation {
				delete(t.peers, k)
			}
		}
	}
}

// dropSessionLocked forgets session s and zeroizes its keys; its peer sends under it no more.
func (t *Transport) dropSessionLocked(s *session) {
	s.keys.Close()
	delete(t.sessions, s.local)
	if p := t.peers[s.key]; p != nil && p.current == s {
		p.current = nil
	}
}
