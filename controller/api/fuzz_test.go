package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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
