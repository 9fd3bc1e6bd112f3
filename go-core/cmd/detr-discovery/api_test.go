package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/flarechain/detr-p2p/go-core/crypto"
	"github.com/flarechain/detr-p2p/go-core/discovery"
)

func server(t *testing.T) *httptest.Server {
	t.Helper()
	id, _ := crypto.GenerateIdentity(rand.Reader)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	node, err := discovery.New(id, discovery.Config{Logger: quiet, AllowLocal: true, Liveness: func(*discovery.Record) bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(node.Close)
	srv := httptest.NewServer(newAPI(node, "").routes())
	t.Cleanup(srv.Close)
	return srv
}

func record(t *testing.T, seq uint64) string {
	t.Helper()
	id, _ := crypto.GenerateIdentity(rand.Reader)
	r := &discovery.Record{Genesis: [32]byte{9}, Seq: uint64(time.Now().UnixMilli()) + seq, Addrs: []string{"/ip4/127.0.0.1/tcp/30333"}}
	_ = r.Sign(id)
	raw, _ := r.Encode()
	return hex.EncodeToString(raw)
}

func post(t *testing.T, srv *httptest.Server, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(srv.URL+"/v1/records", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestBadRequestsGetA4xxWithAMessageAndTheAPIKeepsServing(t *testing.T) {
	srv := server(t)
	good := record(t, 1)
	forged := []byte(good)
	forged[len(forged)-1] ^= 1 // still hex, signature broken
	for _, c := range []struct {
		body   string
		status int
		says   string
	}{
		{`{"record":`, 400, "malformed JSON"},
		{`{"record":"zz"}`, 400, "not hex"},
		{`{"rec":"00"}`, 400, "unknown field"},
		{`{"record":"` + strings.Repeat("00", 3000) + `"}`, 413, "body over"},
		{`{"record":"` + string(forged) + `"}`, 400, "record:"},
	} {
		status, body := post(t, srv, c.body)
		if status != c.status || !strings.Contains(body, c.says) {
			t.Errorf("%.40s: %d %s", c.body, status, body)
		}
	}
	if status, body := post(t, srv, `{"record":"`+good+`"}`); status != 201 {
		t.Fatalf("good record: %d %s", status, body)
	}
	if status, body := post(t, srv, `{"record":"`+good+`"}`); status != 409 || !strings.Contains(body, "stale") {
		t.Fatalf("same record again: %d %s", status, body)
	}
	resp, err := http.Get(srv.URL + "/v1/peers?genesis=nothex")
	if err != nil || resp.StatusCode != 400 {
		t.Fatalf("bad genesis: %v %v", err, resp.StatusCode)
	}
	resp, err = http.Get(srv.URL + "/v1/health")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("health after bad requests: %v", err)
	}
	var health map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&health)
	if health["records"] != float64(1) {
		t.Fatalf("health: %v", health)
	}
}

func TestFlagsAndConfigFile(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/d.json"
	_ = writeFile(path, `{"listen":"127.0.0.1:1","refresh":"2s"}`)
	s, err := parse([]string{"-config", path, "-refresh", "3s"})
	if err != nil || s.Listen != "127.0.0.1:1" || s.Refresh != "3s" {
		t.Fatalf("%+v %v", s, err)
	}
	_ = writeFile(path, `{"listn":"x"}`)
	if _, err := parse([]string{"-config", path}); err == nil || !strings.Contains(err.Error(), "listn") {
		t.Fatalf("unknown key: %v", err)
	}
	if err := run([]string{"-http", "0.0.0.0:1"}); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("public http: %v", err)
	}
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }

// Finding: the API checked neither Host nor Content-Type, so a web page in the operator's
// browser could drive it (DNS rebinding, a text/plain POST). Now both are refused, and a client
// past its budget waits.
func TestForeignHostTextPlainAndFloodsAreRefused(t *testing.T) {
	srv := server(t)
	do := func(method, host, ctype, body string) int {
		req, _ := http.NewRequest(method, srv.URL+"/v1/records", strings.NewReader(body))
		if method == http.MethodGet {
			req, _ = http.NewRequest(method, srv.URL+"/v1/health", nil)
		}
		if host != "" {
			req.Host = host
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	good := `{"record":"` + record(t, 1) + `"}`
	if got := do(http.MethodGet, "attacker.example", "", ""); got != http.StatusForbidden {
		t.Fatalf("Host: attacker.example: %d", got)
	}
	if got := do(http.MethodPost, "attacker.example:30401", "application/json", good); got != http.StatusForbidden {
		t.Fatalf("POST with Host: attacker.example: %d", got)
	}
	if got := do(http.MethodPost, "", "text/plain", good); got != http.StatusUnsupportedMediaType {
		t.Fatalf("text/plain POST: %d", got)
	}
	if got := do(http.MethodPost, "localhost:30401", "application/json; charset=utf-8", good); got != http.StatusCreated {
		t.Fatalf("a good POST: %d", got)
	}
	limited := 0
	for range 2 * clientBurst {
		if do(http.MethodGet, "", "", "") == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 {
		t.Fatalf("%d requests at once were all served", 2*clientBurst)
	}
}

// A record posted while the daemon shuts down is not stored, and the answer says so (503), not
// that the record was bad.
func TestARecordPostedToAClosingDaemonGets503(t *testing.T) {
	id, _ := crypto.GenerateIdentity(rand.Reader)
	node, err := discovery.New(id, discovery.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), AllowLocal: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newAPI(node, "").routes())
	t.Cleanup(srv.Close)
	node.Close()
	if status, body := post(t, srv, `{"record":"`+record(t, 1)+`"}`); status != 503 || !strings.Contains(body, "closed") {
		t.Fatalf("%d %s", status, body)
	}
}
