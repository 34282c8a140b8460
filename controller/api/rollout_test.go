package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/api"
	"github.com/ngic/ngic/controller/rollout"
)

// fakeRollouts keeps rollouts in memory and serves one bundle file.
type fakeRollouts struct {
	mu     sync.Mutex
	specs  []rollout.Spec
	by     []string
	states map[string]string
	bundle string // path of the bundle file
	sum    string
	// notLeader is the error of a replica that does not run rollouts.
	notLeader error
}

const fakeID = "ro-20261130T010000Z-a1b2c3"

func (f *fakeRollouts) rollout(id string) (*rollout.Rollout, error) {
	st, ok := f.states[id]
	if !ok {
		return nil, fmt.Errorf("%w: no rollout %q", rollout.ErrNotFound, id)
	}
	now := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	return &rollout.Rollout{ID: id, State: st, Spec: f.specs[0], Bundle: rollout.Bundle{File: "b.ngb", Version: "1.1.0"},
		URL: "https://c.example/api/v1/bundles/x", Created: now, Changed: now, Waves: []rollout.Wave{{Size: 1}},
		Gateways: []rollout.Gateway{{Name: "gw-1", State: rollout.GatewayWaiting}}, Wave: -1}, nil
}

func (f *fakeRollouts) StartRollout(spec rollout.Spec, by string) (*rollout.Rollout, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if spec.Bundle == "bad.ngb" {
		return nil, fmt.Errorf("%w: bundle bad.ngb refused: signature", rollout.ErrInvalid)
	}
	f.specs, f.by = append(f.specs, spec), append(f.by, by)
	f.states[fakeID] = rollout.StateRunning
	return f.rollout(fakeID)
}

func (f *fakeRollouts) Rollouts() ([]rollout.Summary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.notLeader != nil {
		return nil, f.notLeader
	}
	var out []rollout.Summary
	for id := range f.states {
		r, _ := f.rollout(id)
		out = append(out, r.Summary())
	}
	return out, nil
}

func (f *fakeRollouts) Rollout(id string) (*rollout.Rollout, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rollout(id)
}

func (f *fakeRollouts) set(id, from, to string) (*rollout.Rollout, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.states[id]
	if !ok {
		return nil, fmt.Errorf("%w: no rollout %q", rollout.ErrNotFound, id)
	}
	if from != "" && st != from {
		return nil, fmt.Errorf("%w: rollout %s is %s", rollout.ErrConflict, id, st)
	}
	f.states[id] = to
	return f.rollout(id)
}

func (f *fakeRollouts) PauseRollout(id, _ string) (*rollout.Rollout, error) {
	return f.set(id, rollout.StateRunning, rollout.StatePaused)
}

func (f *fakeRollouts) ResumeRollout(id, _ string) (*rollout.Rollout, error) {
	return f.set(id, rollout.StatePaused, rollout.StateRunning)
}

func (f *fakeRollouts) AbortRollout(id, _ string) (*rollout.Rollout, error) {
	return f.set(id, "", rollout.StateAborted)
}

func (f *fakeRollouts) Bundle(sum string) (*os.File, error) {
	if sum != f.sum {
		return nil, fmt.Errorf("%w: no bundle of SHA-256 %s", rollout.ErrNotFound, sum)
	}
	return os.Open(f.bundle)
}

func newFakeRollouts(t *testing.T) *fakeRollouts {
	p := filepath.Join(t.TempDir(), "b.ngb")
	content := bytes.Repeat([]byte("0123456789"), 10_000)
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return &fakeRollouts{states: map[string]string{}, bundle: p, sum: strings.Repeat("ab", 32)}
}

// An admin token starts, lists, reads, pauses, resumes and aborts a
// rollout; every answer is as openapi.yaml says (the client checks).
func TestRolloutRoutes(t *testing.T) {
	s, c := serve(t, newFake(t), api.Options{}, adminToken)
	expect(t, c.Get("/api/v1/rollouts"), http.StatusServiceUnavailable) // no rollout section
	ro := newFakeRollouts(t)
	s.SetRollouts(ro)
	var list struct{ Items []rollout.Summary }
	c.GetJSON("/api/v1/rollouts", &list)
	if len(list.Items) != 0 {
		t.Fatalf("list %+v", list)
	}
	r := c.Do("POST", "/api/v1/rollouts", map[string]any{"bundle": "b.ngb", "region": "east", "canary_percent": 10,
		"timeout": "30m"})
	expect(t, r, http.StatusCreated)
	if got := ro.specs[0]; got.CanaryPercent != 10 || got.Timeout != rollout.Duration(30*time.Minute) || ro.by[0] != "ops" {
		t.Fatalf("spec %+v by %v", got, ro.by)
	}
	c.GetJSON("/api/v1/rollouts", &list)
	if len(list.Items) != 1 || list.Items[0].ID != fakeID {
		t.Fatalf("list %+v", list)
	}
	expect(t, c.Get("/api/v1/rollouts/"+fakeID), http.StatusOK)
	expect(t, c.Get("/api/v1/rollouts/ro-nope"), http.StatusNotFound)
	expect(t, c.Do("POST", "/api/v1/rollouts/"+fakeID+"/pause", nil), http.StatusOK)
	expect(t, c.Do("POST", "/api/v1/rollouts/"+fakeID+"/pause", nil), http.StatusConflict)
	expect(t, c.Do("POST", "/api/v1/rollouts/"+fakeID+"/resume", map[string]any{}), http.StatusOK)
	expect(t, c.Do("POST", "/api/v1/rollouts/"+fakeID+"/abort", nil), http.StatusOK)
	if ro.states[fakeID] != rollout.StateAborted {
		t.Fatal("not aborted")
	}
	// Refused requests: a bad bundle, unknown fields, a bad duration, a body to an action.
	for _, body := range []any{map[string]any{"bundle": "bad.ngb", "region": "east"},
		map[string]any{"bundle": "b.ngb", "region": "east", "waves": 3},
		map[string]any{"bundle": "b.ngb", "region": "east", "timeout": "soon"},
		map[string]any{"bundle": "b.ngb", "region": "east", "timeout": 30}} {
		expect(t, c.Do("POST", "/api/v1/rollouts", body), http.StatusBadRequest)
	}
	expect(t, c.Do("POST", "/api/v1/rollouts/"+fakeID+"/abort", map[string]any{"force": true}), http.StatusBadRequest)
	// A replica that does not run rollouts says which does.
	ro.notLeader = fmt.Errorf("%w: replica 0 runs them", rollout.ErrNotLeader)
	r = c.Get("/api/v1/rollouts")
	expect(t, r, http.StatusConflict)
	if !strings.Contains(string(r.Body), "replica 0 runs them") {
		t.Fatalf("not the leader: %s", r.Body)
	}
}

// Read-only and region-limited tokens may not touch rollouts.
func TestRolloutRoutesNeedAdminOfEveryRegion(t *testing.T) {
	s, c := serve(t, newFake(t), api.Options{}, readToken)
	ro := newFakeRollouts(t)
	s.SetRollouts(ro)
	for _, cl := range []string{readToken, regionToken} {
		expect(t, as(c, cl).Get("/api/v1/rollouts"), http.StatusForbidden)
		expect(t, as(c, cl).Do("POST", "/api/v1/rollouts", map[string]any{"bundle": "b.ngb", "region": "east"}), http.StatusForbidden)
	}
	if len(ro.specs) != 0 {
		t.Fatal("a rollout was started")
	}
}

// Bundles are downloaded without a token, in ranges, by their SHA-256
// only; there is no listing.
func TestBundleDownload(t *testing.T) {
	s, c := serve(t, newFake(t), api.Options{}, "")
	ro := newFakeRollouts(t)
	s.SetRollouts(ro)
	want, _ := os.ReadFile(ro.bundle)
	get := func(path, rng string) (*http.Response, []byte) {
		req, _ := http.NewRequest("GET", c.Base+path, nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := c.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	resp, b := get("/api/v1/bundles/"+ro.sum, "")
	if resp.StatusCode != http.StatusOK || !bytes.Equal(b, want) || resp.Header.Get("ETag") != `"`+ro.sum+`"` {
		t.Fatalf("whole: %s, %d bytes", resp.Status, len(b))
	}
	resp, b = get("/api/v1/bundles/"+ro.sum, "bytes=50000-")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(b, want[50000:]) {
		t.Fatalf("resumed: %s, %d bytes", resp.Status, len(b))
	}
	for _, p := range []string{"/api/v1/bundles/", "/api/v1/bundles/" + strings.Repeat("cd", 32), "/api/v1/bundles/..%2fb.ngb",
		"/api/v1/bundles/b.ngb"} {
		if resp, _ := get(p, ""); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %s, want 404", p, resp.Status)
		}
	}
	if resp, _ := get("/api/v1/bundles/"+ro.sum+"?x=1", ""); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a query parameter: %s", resp.Status)
	}
}

// The rollout request's decoding never panics and answers 201 or 400
// (JSON) to any body.
func FuzzRolloutRequest(f *testing.F) {
	for _, s := range []string{`{"bundle":"b.ngb","region":"east"}`, `{"bundle":"b.ngb","gateways":["a","b"],"timeout":"1h"}`,
		`{"bundle":"b.ngb","site":"s","canary_percent":1e400}`, `{"timeout":"-5m"}`, `[]`, `{"bundle":"b.ngb"}{}`, `nul`} {
		f.Add([]byte(s))
	}
	s, err := api.New(newFake(f), api.Options{Tokens: []api.Token{{Name: "ops", Secret: adminToken, Role: api.RoleAdmin}}})
	if err != nil {
		f.Fatal(err)
	}
	ro := &fakeRollouts{states: map[string]string{}}
	s.SetRollouts(ro)
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/api/v1/rollouts", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusCreated && w.Code != http.StatusBadRequest {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("not JSON: %s", w.Body)
		}
	})
}
