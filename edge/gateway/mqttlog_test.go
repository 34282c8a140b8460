package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ngic/ngic/edge/config"
	"github.com/ngic/ngic/internal/testenv"
)

// TestBrokerFailuresLoggedOnce runs the gateway against the real mosquitto
// TLS setup with a wrong CA, a wrong server name and a wrong password: each
// failure is logged exactly once, at WARN, with its cause, however many
// attempts fail the same way, and the password is never logged.
func TestBrokerFailuresLoggedOnce(t *testing.T) {
	acl, err := filepath.Abs("../../deploy/mosquitto/ngic.acl")
	if err != nil {
		t.Fatal(err)
	}
	const password = "gw-log-s3cret"
	broker := testenv.StartMosquittoTLS(t, map[string]string{"gw-log": password}, acl)
	other := testenv.NewPKI(t) // a CA the broker's certificate is not from
	cert, key := broker.PKI.Issue(t, "gw-log", false)
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "password")
	wrongPwFile := filepath.Join(dir, "wrong-password")
	os.WriteFile(pwFile, []byte(password+"\n"), 0o600)
	os.WriteFile(wrongPwFile, []byte("not-"+password+"\n"), 0o600)
	for _, tc := range []struct {
		name, ca, serverName, pwFile, cause string
	}{
		{"unknown CA", other.CAFile, "", pwFile, "certificate signed by unknown authority"},
		{"name mismatch", broker.PKI.CAFile, "broker.example.net", pwFile, "not broker.example.net"},
		{"not authorised", broker.PKI.CAFile, "", wrongPwFile, "not authorized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxy := startCountingProxy(t, broker.Addr)
			y := fmt.Sprintf(`gateway: gw-log
spool:
  path: %s
mqtt:
  broker: ssl://%s
  username: gw-log
  password_file: %s
  min_backoff: 5ms
  max_backoff: 10ms
  tls:
    ca_file: %s
    cert_file: %s
    key_file: %s
    server_name: %q
http:
  listen: "off"
`, filepath.Join(t.TempDir(), "spool.db"), proxy.addr, tc.pwFile, tc.ca, cert, key, tc.serverName)
			cfg, err := config.Parse("test.yaml", []byte(y))
			if err != nil {
				t.Fatal(err)
			}
			var logs lockedBuffer
			g, err := New(cfg, Opts{Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- g.Run(ctx) }()
			deadline := time.Now().Add(20 * time.Second)
			for proxy.accepted.Load() < 5 {
				if time.Now().After(deadline) {
					cancel()
					t.Fatalf("%d connection attempts after 20s", proxy.accepted.Load())
				}
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			out := logs.String()
			if strings.Contains(out, password) {
				t.Fatalf("the password is in the log:\n%s", out)
			}
			var lines []map[string]any
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Fatalf("log line %q: %v", l, err)
				}
				if msg, _ := m["msg"].(string); strings.HasPrefix(msg, "broker ") {
					lines = append(lines, m)
				}
			}
			if len(lines) != 1 || lines[0]["level"] != "WARN" || lines[0]["msg"] != "broker unavailable" ||
				!strings.Contains(strings.ToLower(fmt.Sprint(lines[0]["err"])), tc.cause) {
				t.Fatalf("after %d failed attempts, broker log lines %v, want one WARN naming %q; whole log:\n%s",
					proxy.accepted.Load(), lines, tc.cause, out)
			}
		})
	}
}

// lockedBuffer is a bytes.Buffer safe for a logger and a test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// countingProxy forwards TCP connections to a peer and counts them.
type countingProxy struct {
	addr     string
	accepted atomic.Int64
}

func startCountingProxy(t *testing.T, to string) *countingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			down, err := ln.Accept()
			if err != nil {
				return
			}
			p.accepted.Add(1)
			up, err := net.Dial("tcp", to)
			if err != nil {
				down.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, down, up)
			mu.Unlock()
			wg.Add(2)
			go func() { defer wg.Done(); io.Copy(up, down); up.Close() }()
			go func() { defer wg.Done(); io.Copy(down, up); down.Close() }()
		}
	}()
	return p
}
