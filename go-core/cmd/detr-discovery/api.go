package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/flarechain/detr-p2p/go-core/discovery"
)

const (
	// maxBody bounds a request body: a record is at most discovery.MaxRecordSize bytes, hex-encoded.
	maxBody = 4 * 1024
	// clientRate and clientBurst are each client's request budget (per source IP; the local
	// node polls every 5 s and registers every 30 s, far below it).
	clientRate  = 20
	clientBurst = 40
	// maxClients bounds the budgets kept; past it the least recently seen is forgotten.
	maxClients = 256
)

type api struct {
	node *discovery.Node
	// hosts are the Host header values accepted: loopback names (with any port) and the
	// configured one. Anything else is a browser tricked by DNS rebinding, or a mistake.
	hosts   map[string]bool
	mu      sync.Mutex
	clients map[string]*client
}

type client struct {
	budget *rate.Limiter
	seen   time.Time
}

func newAPI(node *discovery.Node, host string) *api {
	a := &api{node: node, hosts: map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true}, clients: map[string]*client{}}
	if host != "" {
		a.hosts[strings.ToLower(host)] = true
	}
	return a
}

// guard refuses a request whose Host is not ours (403), a POST that is not JSON (415), and a
// client over its budget (429).
func (a *api) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.Trim(strings.ToLower(host), "[]")
		if !a.hosts[host] {
			fail(w, http.StatusForbidden, "host %q: the API answers loopback names only", r.Host)
			return
		}
		if r.Method == http.MethodPost {
			if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
				fail(w, http.StatusUnsupportedMediaType, "content-type: want application/json")
				return
			}
		}
		client, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			client = r.RemoteAddr
		}
		if !a.allow(client, time.Now()) {
			fail(w, http.StatusTooManyRequests, "over %d requests/s", clientRate)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (a *api) allow(remote string, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.clients[remote]
	if c == nil {
		if len(a.clients) >= maxClients {
			var oldest string
			for k, o := range a.clients {
				if oldest == "" || o.seen.Before(a.clients[oldest].seen) {
					oldest = k
				}
			}
			delete(a.clients, oldest)
		}
		c = &client{budget: rate.NewLimiter(clientRate, clientBurst)}
		a.clients[remote] = c
	}
	c.seen = now
	return c.budget.AllowN(now, 1)
}

type registerRequest struct {
	// Record is the node's signed record, hex (0x optional).
	Record string `json:"record"`
}

type peerJSON struct {
	PeerID string   `json:"peerId"` // hex of the PeerId bytes
	Addrs  []string `json:"addrs"`
	Roles  uint8    `json:"roles"`
	Seq    uint64   `json:"seq"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, map[string]string{"error": fmt.Sprintf(format, args...)})
}

func (a *api) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/health", a.health)
	mux.HandleFunc("POST /v1/records", a.register)
	mux.HandleFunc("GET /v1/peers", a.peers)
	mux.HandleFunc("GET /metrics", a.metrics)
	return a.guard(mux)
}

func (a *api) health(w http.ResponseWriter, _ *http.Request) {
	s, _ := a.node.Stats()
	writeJSON(w, http.StatusOK, map[string]any{
		"status": "ok", "contact": a.node.Self().String(), "contacts": s.Contacts, "records": s.Records,
	})
}

func (a *api) register(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	var req registerRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			fail(w, http.StatusRequestEntityTooLarge, "body over %d bytes", maxBody)
			return
		}
		fail(w, http.StatusBadRequest, "malformed JSON: %v", err)
		return
	}
	raw, err := hex.DecodeString(strings.TrimPrefix(req.Record, "0x"))
	if err != nil || len(raw) == 0 {
		fail(w, http.StatusBadRequest, "record: not hex")
		return
	}
	rec, err := a.node.Register(raw)
	switch {
	case errors.Is(err, discovery.ErrQuota):
		fail(w, http.StatusTooManyRequests, "%v", err)
	case errors.Is(err, discovery.ErrStale):
		fail(w, http.StatusConflict, "%v", err)
	case errors.Is(err, discovery.ErrRecordTooLarge):
		fail(w, http.StatusRequestEntityTooLarge, "%v", err)
	case errors.Is(err, discovery.ErrClosed):
		fail(w, http.StatusServiceUnavailable, "%v", err)
	case err != nil:
		fail(w, http.StatusBadRequest, "%v", err)
	default:
		writeJSON(w, http.StatusCreated, map[string]any{"peerId": hex.EncodeToString(rec.PeerID), "seq": rec.Seq})
	}
}

func (a *api) peers(w http.ResponseWriter, r *http.Request) {
	g, err := hex.DecodeString(strings.TrimPrefix(r.URL.Query().Get("genesis"), "0x"))
	if err != nil || len(g) != 32 {
		fail(w, http.StatusBadRequest, "genesis: want 32 bytes of hex")
		return
	}
	var genesis [32]byte
	copy(genesis[:], g)
	out := []peerJSON{}
	for _, rec := range a.node.Peers(genesis) {
		out = append(out, peerJSON{PeerID: hex.EncodeToString(rec.PeerID), Addrs: rec.Addrs, Roles: rec.Roles, Seq: rec.Seq})
	}
	writeJSON(w, http.StatusOK, map[string]any{"peers": out})
}

func (a *api) metrics(w http.ResponseWriter, _ *http.Request) {
	s, t := a.node.Stats()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	for _, m := range []struct {
		name, help string
		value      uint64
	}{
		{"detr_discovery_contacts", "Daemons in the routing table", uint64(s.Contacts)},
		{"detr_discovery_records", "Records held", uint64(s.Records)},
		{"detr_discovery_records_alive", "Records whose node passed the liveness check", uint64(s.AliveRecords)},
		{"detr_discovery_records_accepted_total", "Records accepted", s.Accepted},
		{"detr_discovery_records_rejected_total", "Malformed or forged messages and records", s.Rejected},
		{"detr_discovery_packets_in_total", "UDP packets received", t.PacketsIn},
		{"detr_discovery_packets_out_total", "UDP packets sent", t.PacketsOut},
		{"detr_discovery_bytes_in_total", "UDP bytes received", t.BytesIn},
		{"detr_discovery_bytes_out_total", "UDP bytes sent", t.BytesOut},
		{"detr_discovery_auth_failures_total", "Frames failing authentication or replayed", t.AuthFailures},
		{"detr_discovery_rate_limited_total", "Packets over the per-IP limit", t.RateLimited},
		{"detr_discovery_handshakes_total", "Sessions established", t.Handshakes},
		{"detr_discovery_cookies_sent_total", "Hellos answered with a cookie reply", t.CookiesSent},
		{"detr_discovery_handshakes_shed_total", "Handshakes dropped by a full pool or table", t.HandshakesShed},
		{"detr_discovery_records_quota_refused_total", "Records refused by a quota", s.QuotaRefused},
		{"detr_discovery_unsolicited_total", "Replies nobody asked for, dropped", s.Unsolicited},
		{"detr_discovery_liveness_dials_total", "Liveness dials", s.Dials},
		{"detr_discovery_lookups_total", "FINDNODE requests sent", s.Lookups},
	} {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s %d\n", m.name, m.help, m.name, m.name, m.value)
	}
}
