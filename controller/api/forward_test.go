package api_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ngic/ngic/controller/api"
)

// recordForwarder answers every request it is given with 503, and
// records the paths and token names.
type recordForwarder struct {
	mu       sync.Mutex
	paths    []string
	tokens   []string
	rollouts []string // the requests forwarded as not the coverage's
}

func (f *recordForwarder) Forward(w http.ResponseWriter, r *http.Request, token string, coverage bool) bool {
	f.mu.Lock()
	f.paths, f.tokens = append(f.paths, r.URL.Path), append(f.tokens, token)
	if !coverage {
		f.rollouts = append(f.rollouts, r.Method+" "+r.URL.Path)
	}
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

	// The rollouts' routes go too, for an admin token, as not the
	// coverage's; the bundles' download never does.
	ad := as(c, adminToken)
	for _, r := range []struct{ method, path string }{{"GET", "/api/v1/rollouts"}, {"POST", "/api/v1/rollouts"},
		{"GET", "/api/v1/rollouts/r1"}, {"POST", "/api/v1/rollouts/r1/pause"}, {"POST", "/api/v1/rollouts/r1/resume"},
		{"POST", "/api/v1/rollouts/r1/abort"}} {
		if got := ad.Do(r.method, r.path, map[string]string{}); got.Status != http.StatusServiceUnavailable {
			t.Errorf("%s %s: %d %s, want the forwarder's 503", r.method, r.path, got.Status, got.Body)
		}
	}
	if len(f.rollouts) != 6 || f.rollouts[1] != "POST /api/v1/rollouts" {
		t.Fatalf("forwarded as rollouts %v, want the 6 rollout routes", f.rollouts)
	}
	if resp, err := c.HTTP.Get(c.Base + "/api/v1/bundles/" + strings.Repeat("0", 64)); err == nil {
		resp.Body.Close()
	}
	if len(f.paths) != 16 {
		t.Fatalf("forwarded %v beyond the coverage and rollout routes", f.paths[16:])
	}
}
