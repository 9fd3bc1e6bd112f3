package transport

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"net/netip"
	"sync"
	"time"
)

// CookieRotation is how often the cookie secret changes; a cookie is valid under the current
// and the previous secret, so for one to two rotations (WireGuard rotates every 2 minutes).
const CookieRotation = 2 * time.Minute

// cookies makes and checks stateless cookies: HMAC-SHA256(secret, address) truncated to 16
// bytes. Only a host that receives at the address can echo it.
type cookies struct {
	mu        sync.Mutex
	cur, prev [32]byte
	rotated   time.Time
}

func newCookies() *cookies {
	c := &cookies{rotated: time.Now()}
	_, _ = rand.Read(c.cur[:])
	_, _ = rand.Read(c.prev[:])
	return c
}

func mac(secret *[32]byte, addr netip.AddrPort) (out [CookieSize]byte) {
	m := hmac.New(sha256.New, secret[:])
	b, _ := addr.MarshalBinary()
	m.Write(b)
	copy(out[:], m.Sum(nil))
	return out
}

func (c *cookies) rotate(now time.Time) {
	if now.Sub(c.rotated) >= CookieRotation {
		c.prev = c.cur
		_, _ = rand.Read(c.cur[:])
		c.rotated = now
	}
}

// make is the cookie of addr now.
func (c *cookies) make(addr netip.AddrPort) [CookieSize]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rotate(time.Now())
	return mac(&c.cur, addr)
}

// valid reports whether cookie is addr's under the current or the previous secret.
func (c *cookies) valid(addr netip.AddrPort, cookie [CookieSize]byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rotate(time.Now())
	cur, prev := mac(&c.cur, addr), mac(&c.prev, addr)
	return hmac.Equal(cookie[:], cur[:]) || hmac.Equal(cookie[:], prev[:])
}
