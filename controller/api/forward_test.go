package api_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/ngic/ngic/controller/api"
)

// recordForwarder answers every request it is given with 503, and
// records the paths and token names.
type recordForwarder struct {
	mu     sync.Mutex
	paths  []string
	tokens []string
}

func (f *recordForwarder) Forward(w http.ResponseWriter, r *http.Request, token string) bool {
	f.mu.Lock()
	f.paths, f.tokens = append(f.paths, r.URL.Path), append(f.tokens, token)
	f.mu.Unlock()
	w.Header().Set("Retry-After", "1")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusServiceUnavailable)
	w.Write([]byte(`{"error":"forwarded"}` + "\n"))
	return true
}

// TestForwarder: the coverage's routes go to the Forwarder once the
// caller is authenticated, with the caller's token name; the other
// routes, and a request without a valid token, never do.
func TestForwarder(t *testing.T) {
	f := &recordForwarder{}
	_, c := serve(t, newFake(t), api.Options{Forwarder: f}, readToken)
	for _, p := range []string{"/api/v1/summary", "/api/v1/coverage", "/api/v1/regions", "/api/v1/villages?limit=5",
		"/api/v1/gaps", "/api/v1/map", "/api/v1/convergence", "/api/v1/reports/coverage.csv", "/api/v1/regions/x",
		"/api/v1/villages/x"} {
		r := c.Get(p)
		if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") != "1" {
			t.Errorf("%s: %d %s, want the forwarder's 503", p, r.Status, r.Body)
		}
	}
	if len(f.paths) != 10 {
		t.Fatalf("forwarded %v, want the 10 coverage routes", f.paths)
	}
	for _, tok := range f.tokens {
		if tok != "viewer" {
			t.Fatalf("forwarded with token names %v, want viewer", f.tokens)
		}
	}
	for _, p := range []string{"/api/v1/devices", "/api/v1/alerts", "/api/v1/sites", "/api/v1/gateways"} {
		if r := c.Get(p); r.Status != http.StatusOK {
			t.Errorf("%s: %d %s", p, r.Status, r.Body)
		}
	}
	if r := as(c, "").Get("/api/v1/coverage"); r.Status != http.StatusUnauthorized {
		t.Errorf("without a token: %d, want 401", r.Status)
	}
	if r := c.Get("/api/v1/villages?bogus=1"); r.Status != http.StatusBadRequest {
		t.Errorf("an unknown parameter: %d, want 400 before any forwarding", r.Status)
	}
	if len(f.paths) != 10 {
		t.Fatalf("forwarded %v beyond the coverage routes", f.paths[10:])
	}
}
