package api_test

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/api"
)

// FuzzCursor: any cursor decodes or is refused, never panics, and every
// cursor made decodes to its offset and key.
func FuzzCursor(f *testing.F) {
	for _, s := range []string{"", api.EncodeCursor(1, "630101001000"), api.EncodeCursor(100, "a:b"), "bzE6LTE", "o1:5",
		"%%%", "bzE6OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "YzI6MDp4", "YzI6LTE6eA", "YzI6NTo"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, key, err := api.DecodeCursor(s)
		if err == nil && (n < 1 || key == "") {
			t.Fatalf("%q decodes to %d %q", s, n, key)
		}
		if err == nil {
			if m, k, err := api.DecodeCursor(api.EncodeCursor(n, key)); err != nil || m != n || k != key {
				t.Fatalf("round trip of %d %q: %d %q %v", n, key, m, k, err)
			}
		}
	})
}

// FuzzRequest: whatever the query and body of a request, the API answers
// without a server error, with a JSON body when it says so.
func FuzzRequest(f *testing.F) {
	for _, s := range []struct{ method, target, body string }{
		{"GET", "/api/v1/villages?limit=3&cursor=" + api.EncodeCursor(2, "630101002000"), ""},
		{"GET", "/api/v1/villages?region=630200000000&class=served&evidence=none&priority=true", ""},
		{"GET", "/api/v1/map?region=630101000000", ""},
		{"GET", "/api/v1/gaps?limit=1001", ""},
		{"GET", "/api/v1/devices?state=down&class=olt&site=so-hekou", ""},
		{"GET", "/api/v1/reports/coverage.csv?region=630100000000", ""},
		{"POST", "/api/v1/session", `{"token":"x"}`},
		{"POST", "/api/v1/maintenance", `{"subject":"site:so-hekou","start":"2026-12-01T00:00:00Z","end":"2026-12-02T00:00:00Z"}`},
		{"POST", "/api/v1/alerts/a0/ack", `{"note":"n"}`},
		{"DELETE", "/api/v1/maintenance/cfg-1", ""},
		{"GET", "/api/v1/convergence?region=%00", ""},
	} {
		f.Add(s.method, s.target, s.body)
	}
	src := newFake(f)
	s, err := api.New(src, api.Options{Tokens: testTokens})
	if err != nil {
		f.Fatal(err)
	}
	h := s.Handler()
	f.Fuzz(func(t *testing.T, method, target, body string) {
		if method != "GET" && method != "POST" && method != "DELETE" {
			return
		}
		if !strings.HasPrefix(target, "/api/v1/") || strings.Contains(target, "/events") {
			return
		}
		req, err := http.NewRequest(method, "http://127.0.0.1"+target, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Authorization", "Bearer "+adminToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", method, target, body, rec.Code, rec.Body)
		}
		if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") &&
			!json.Valid(bytes.TrimSpace(rec.Body.Bytes())) {
			t.Fatalf("%s %s: not JSON: %s", method, target, rec.Body)
		}
	})
}

// FuzzHostFilter: any Host header is judged without panicking, and one a
// loopback-only filter accepts is a loopback address, localhost or a name
// it was given.
func FuzzHostFilter(f *testing.F) {
	for _, s := range []string{"127.0.0.1:9480", "[::1]", "localhost", "a.localhost:1", "ngic.example.org", "evil.com",
		"[::1", "]:80", "127.0.0.1.nip.io", ":", "", "[fe80::1%eth0]:80", "LOCALHOST."} {
		f.Add(s)
	}
	lo := api.HostFilter{Hosts: []string{"ngic.example.org"}, LoopbackOnly: true}
	f.Fuzz(func(t *testing.T, host string) {
		if !lo.Allowed(host) {
			return
		}
		h := strings.ToLower(host)
		if hh, _, err := net.SplitHostPort(h); err == nil {
			h = hh
		}
		h = strings.TrimSuffix(strings.Trim(h, "[]"), ".")
		ip := net.ParseIP(h)
		if !(ip != nil && ip.IsLoopback() || h == "" || h == "localhost" || strings.HasSuffix(h, ".localhost") ||
			h == "ngic.example.org") {
			t.Fatalf("Host %q accepted by a loopback-only filter", host)
		}
	})
}

// FuzzRestoreSessions: whatever the sessions file holds, restoring it
// never panics and restores only live sessions of configured tokens.
func FuzzRestoreSessions(f *testing.F) {
	f.Add([]byte(`{"version":1,"sessions":[{"id_sha256":"` + strings.Repeat("ab", 32) +
		`","token":"ops","csrf":"c","made":"2026-11-29T11:00:00Z","expires":"2026-11-29T13:00:00Z"}]}`))
	f.Add([]byte(`{"version":1,"sessions":[{"id_sha256":"zz","token":"nobody"}]}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`not json`))
	now := func() time.Time { return time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC) }
	f.Fuzz(func(t *testing.T, b []byte) {
		file := filepath.Join(t.TempDir(), "sessions.json")
		if err := os.WriteFile(file, b, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := api.New(newFake(t), api.Options{Tokens: testTokens, SessionFile: file, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		n, err := s.RestoreSessions()
		if err != nil && n != 0 || n != s.Stats().Sessions || n > len(b)/64 {
			t.Fatalf("restored %d (%v), %d held, from %d bytes", n, err, s.Stats().Sessions, len(b))
		}
	})
}
