// Command detr-discovery is the FlareChain discovery daemon: it finds other daemons over sealed
// UDP, exchanges signed node records with them, and serves the records of a chain to the local
// FlareChain node over HTTP/JSON on 127.0.0.1.
//
//	detr-discovery -listen 127.0.0.1:30400 -http 127.0.0.1:30401 -key-file detr-discovery.key \
//	    -bootstrap <peer-id-hex>@127.0.0.1:30500
//
// HTTP API (loopback only):
//
//	GET  /v1/health                 status, this daemon's contact string, counts
//	POST /v1/records {"record":hex} register a node's signed record (201; 400/409/413 with a message)
//	GET  /v1/peers?genesis=<hex>    live, unexpired records of a chain
//	GET  /metrics                   Prometheus text
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/flarechain/detr-p2p/go-core/crypto"
	"github.com/flarechain/detr-p2p/go-core/discovery"
)

// settings are the flags, also readable from a JSON file (-config) whose keys are the flag names.
type settings struct {
	Listen    string `json:"listen"`
	HTTP      string `json:"http"`
	KeyFile   string `json:"key-file"`
	Bootstrap string `json:"bootstrap"`
	Refresh   string `json:"refresh"`
	RecordTTL string `json:"record-ttl"`
	LogLevel  string `json:"log-level"`
	// AllowLocal: "auto" (on when -listen is a loopback or private address), "true" or "false".
	AllowLocal string `json:"allow-local"`
	// HTTPHost is a Host header accepted besides the loopback names (behind a proxy).
	HTTPHost string `json:"http-host"`
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "detr-discovery:", err)
		os.Exit(1)
	}
}

func parse(args []string) (settings, error) {
	s := settings{Listen: "127.0.0.1:30400", HTTP: "127.0.0.1:30401", Refresh: "1s", RecordTTL: "5m", LogLevel: "info", AllowLocal: "auto"}
	fs := flag.NewFlagSet("detr-discovery", flag.ContinueOnError)
	config := fs.String("config", "", "JSON file with any of the settings below (flags win)")
	fs.StringVar(&s.Listen, "listen", s.Listen, "UDP address for other daemons")
	fs.StringVar(&s.HTTP, "http", s.HTTP, "HTTP API address (loopback only)")
	fs.StringVar(&s.KeyFile, "key-file", "", "file holding the daemon's Ed25519 seed (hex); created if missing; empty: a fresh key per run")
	fs.StringVar(&s.Bootstrap, "bootstrap", "", "comma-separated <peer-id-hex>@<ip:port> of daemons to join")
	fs.StringVar(&s.Refresh, "refresh", s.Refresh, "period of lookups, record exchange and liveness rounds")
	fs.StringVar(&s.RecordTTL, "record-ttl", s.RecordTTL, "a record not renewed for this long expires")
	fs.StringVar(&s.LogLevel, "log-level", s.LogLevel, "debug, info, warn or error")
	fs.StringVar(&s.AllowLocal, "allow-local", s.AllowLocal, "serve loopback and private addresses (records, contacts, dials): auto (when -listen is one), true or false")
	fs.StringVar(&s.HTTPHost, "http-host", "", "a Host name the HTTP API accepts besides localhost, 127.0.0.1 and [::1]")
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	if *config != "" {
		raw, err := os.ReadFile(*config)
		if err != nil {
			return s, err
		}
		var file settings
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&file); err != nil {
			return s, fmt.Errorf("%s: %v", *config, err)
		}
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		merge := func(name string, dst *string, v string) {
			if v != "" && !set[name] {
				*dst = v
			}
		}
		merge("listen", &s.Listen, file.Listen)
		merge("http", &s.HTTP, file.HTTP)
		merge("key-file", &s.KeyFile, file.KeyFile)
		merge("bootstrap", &s.Bootstrap, file.Bootstrap)
		merge("refresh", &s.Refresh, file.Refresh)
		merge("record-ttl", &s.RecordTTL, file.RecordTTL)
		merge("log-level", &s.LogLevel, file.LogLevel)
		merge("allow-local", &s.AllowLocal, file.AllowLocal)
		merge("http-host", &s.HTTPHost, file.HTTPHost)
	}
	return s, nil
}

func identity(path string) (*crypto.Identity, error) {
	if path == "" {
		return crypto.GenerateIdentity(rand.Reader)
	}
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		seed := make([]byte, 32)
		if _, err := rand.Read(seed); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, []byte(hex.EncodeToString(seed)+"\n"), 0o600); err != nil {
			return nil, err
		}
		return crypto.NewIdentity(seed)
	}
	if err != nil {
		return nil, err
	}
	seed, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil {
		return nil, fmt.Errorf("%s: not a hex seed", path)
	}
	return crypto.NewIdentity(seed)
}

// localAllowed reads -allow-local; "auto" is on for a loopback or private -listen address.
func localAllowed(v, listen string) (bool, error) {
	switch v {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "auto":
		ap, err := netip.ParseAddrPort(listen)
		return err == nil && (ap.Addr().IsLoopback() || ap.Addr().IsPrivate()), nil
	}
	return false, fmt.Errorf("allow-local: %q is not auto, true or false", v)
}

func run(args []string) error {
	s, err := parse(args)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(s.LogLevel)); err != nil {
		return fmt.Errorf("log-level: %v", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	refresh, err := time.ParseDuration(s.Refresh)
	if err != nil || refresh <= 0 {
		return fmt.Errorf("refresh: %q is not a positive duration", s.Refresh)
	}
	ttl, err := time.ParseDuration(s.RecordTTL)
	if err != nil || ttl <= 0 {
		return fmt.Errorf("record-ttl: %q is not a positive duration", s.RecordTTL)
	}
	host, _, err := net.SplitHostPort(s.HTTP)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("http: %q must be a loopback address (the API is for the local node)", s.HTTP)
	}
	var boot []discovery.Contact
	for _, b := range strings.Split(s.Bootstrap, ",") {
		if b = strings.TrimSpace(b); b != "" {
			c, err := discovery.ParseContact(b)
			if err != nil {
				return fmt.Errorf("bootstrap: %v", err)
			}
			boot = append(boot, c)
		}
	}
	allowLocal, err := localAllowed(s.AllowLocal, s.Listen)
	if err != nil {
		return err
	}
	id, err := identity(s.KeyFile)
	if err != nil {
		return fmt.Errorf("key-file: %v", err)
	}
	node, err := discovery.New(id, discovery.Config{Listen: s.Listen, Bootstrap: boot, Refresh: refresh, RecordTTL: ttl, AllowLocal: allowLocal, Logger: log})
	if err != nil {
		return fmt.Errorf("listen: %v", err)
	}
	defer node.Close()
	ln, err := net.Listen("tcp", s.HTTP)
	if err != nil {
		return fmt.Errorf("http: %v", err)
	}
	srv := &http.Server{Handler: newAPI(node, s.HTTPHost).routes(), ReadHeaderTimeout: 5 * time.Second}
	log.Info("detr-discovery started", "contact", node.Self().String(), "http", ln.Addr().String(), "bootstrap", len(boot))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-errc:
		return err
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
