package daemon

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"strings"
	"sync"
	"testing"
)

// holderStub is the lease holder's API as the forwarder reaches it: it
// records each request and answers status with the body it was asked.
type holderStub struct {
	mu     sync.Mutex
	got    []*http.Request
	bodies []string
	status int
}

func (h *holderStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.got = append(h.got, r.Clone(r.Context()))
	h.bodies = append(h.bodies, string(body))
	status := h.status
	h.mu.Unlock()
	w.Header().Set("Content-Security-Policy", "default-src 'self'")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, `{"computed":"2026-01-02T03:04:05Z","path":"`+r.URL.RequestURI()+`"}`+"\n")
}

func (h *holderStub) last() *http.Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.got) == 0 {
		return nil
	}
	return h.got[len(h.got)-1]
}

// forwardTo answers a request through f as the API would, with the
// caller's token name token (a rollout's request is not the coverage's);
// false when f left it to this replica.
func forwardTo(f *coverageForwarder, r *http.Request, token string) (*httptest.ResponseRecorder, bool) {
	w := httptest.NewRecorder()
	return w, f.Forward(w, r, token, !strings.HasPrefix(r.URL.Path, "/api/v1/rollouts"))
}

// TestCoverageForwarder: a replica without the lease hands the request
// to the holder's advertised API with the caller's token as a bearer
// (also when it came with this replica's session cookie, which does not
// go), the query kept, marked as forwarded, the holder named by its
// address; the answer comes back with the holder's status and body. A
// holder that does not answer, a forwarded request reaching a replica
// without the lease, a holder advertising no API, and the holder without
// a result yet are answered 503 with Retry-After and a JSON error; the
// holder with a result answers itself.
func TestCoverageForwarder(t *testing.T) {
	stub := &holderStub{status: http.StatusOK}
	srv := httptest.NewServer(stub)
	defer srv.Close()
	base := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) // a name, resolved to an address
	holder, advertised, computed := 0, base, false
	f := &coverageForwarder{self: 1, secrets: map[string]string{"noc": "noc-secret-0123456789"},
		proxies: map[string]*httputil.ReverseProxy{},
		holder:  func() (int, string) { return holder, advertised }, computed: func() bool { return computed }}

	r := httptest.NewRequest("GET", "/api/v1/villages?region=r1&limit=5", nil)
	r.Header.Set("Cookie", "ngic_session=this-replicas-own")
	r.Header.Set("X-CSRF-Token", "csrf")
	w, answered := forwardTo(f, r, "noc")
	if !answered || w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"path":"/api/v1/villages?region=r1&limit=5"`) {
		t.Fatalf("forwarded: %v %d %s", answered, w.Code, w.Body)
	}
	got := stub.last()
	if got.Header.Get("Authorization") != "Bearer noc-secret-0123456789" || got.Header.Get("Cookie") != "" ||
		got.Header.Get("X-CSRF-Token") != "" || got.Header.Get(forwardedBy) != "1" {
		t.Errorf("the holder got headers %v", got.Header)
	}
	if host := got.Host; strings.HasPrefix(host, "localhost") || !strings.HasPrefix(host, "127.0.0.1:") && !strings.HasPrefix(host, "[::1]:") {
		t.Errorf("the holder was named %q, want its address", host)
	}
	if n := len(w.Header().Values("Content-Security-Policy")); n != 0 {
		t.Errorf("the holder's security headers came back (%d): this replica sets its own", n)
	}
	// A rollout's request goes with its body.
	spec := `{"bundle":"ngic-edge_1.4.0_linux-arm.bdl","region":"r1"}`
	w, answered = forwardTo(f, httptest.NewRequest("POST", "/api/v1/rollouts", strings.NewReader(spec)), "noc")
	stub.mu.Lock()
	gotBody := stub.bodies[len(stub.bodies)-1]
	stub.mu.Unlock()
	if got := stub.last(); !answered || w.Code != http.StatusOK || got.Method != "POST" || got.URL.Path != "/api/v1/rollouts" || gotBody != spec {
		t.Errorf("a rollout forwarded: %v %d, the holder got %s %s %q", answered, w.Code, got.Method, got.URL.Path, gotBody)
	}

	// The holder without a result yet: its 503 passes, with Retry-After.
	stub.mu.Lock()
	stub.status = http.StatusServiceUnavailable
	stub.mu.Unlock()
	w, _ = forwardTo(f, httptest.NewRequest("GET", "/api/v1/coverage", nil), "noc")
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("the holder's 503: %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}

	want503 := func(what string, w *httptest.ResponseRecorder, answered bool, says string) {
		t.Helper()
		var e struct {
			Error string `json:"error"`
		}
		if !answered || w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" ||
			json.Unmarshal(w.Body.Bytes(), &e) != nil || !strings.Contains(e.Error, says) {
			t.Errorf("%s: %v %d Retry-After %q %s, want 503 saying %q", what, answered, w.Code, w.Header().Get("Retry-After"), w.Body, says)
		}
	}
	srv.Close()
	w, answered = forwardTo(f, httptest.NewRequest("GET", "/api/v1/gaps", nil), "noc")
	want503("holder away", w, answered, "replica 0, which holds the coverage lease, did not answer")
	fw := httptest.NewRequest("GET", "/api/v1/gaps", nil)
	fw.Header.Set(forwardedBy, "2")
	w, answered = forwardTo(f, fw, "noc")
	want503("forwarded twice", w, answered, "replica 2 forwarded this request")
	advertised = ""
	w, answered = forwardTo(f, httptest.NewRequest("GET", "/api/v1/gaps", nil), "noc")
	want503("no API", w, answered, "advertised no API")

	holder = 1
	w, answered = forwardTo(f, httptest.NewRequest("GET", "/api/v1/gaps", nil), "noc")
	want503("the holder without a result", w, answered, "has not computed the coverage yet")
	if _, answered = forwardTo(f, httptest.NewRequest("GET", "/api/v1/rollouts", nil), "noc"); answered {
		t.Error("the holder without a coverage result did not answer a rollout's request itself")
	}
	computed = true
	if _, answered = forwardTo(f, httptest.NewRequest("GET", "/api/v1/gaps", nil), "noc"); answered {
		t.Error("the holder with a result did not answer itself")
	}
}
