package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/ngic/ngic/controller/simulator"
	"github.com/ngic/ngic/controller/snmprec"
)

// twoAgents is a simulator serving agents "a" and "b".
func twoAgents(t testing.TB) *simulator.Simulator {
	t.Helper()
	v, _ := snmprec.Parse("dev", []byte("1.3.6.1.2.1.1.1.0|4|lab\n"))
	sim, err := simulator.New(map[string]*snmprec.View{"a": v, "b": v}, simulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return sim
}

func TestSimulateControl(t *testing.T) {
	sim := twoAgents(t)
	h := simulateControl(sim)
	do := func(method, target string) (int, string) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(method, target, nil))
		return w.Code, w.Body.String()
	}
	agents := func() []simulator.AgentState {
		code, body := do("GET", "/agents")
		var st []simulator.AgentState
		if err := json.Unmarshal([]byte(body), &st); code != 200 || err != nil {
			t.Fatalf("GET /agents: %d %s", code, body)
		}
		return st
	}
	if code, body := do("POST", "/agents/a/down"); code != 200 || !strings.Contains(body, `{"community":"a","state":"down"}`) {
		t.Fatalf("down: %d %s", code, body)
	}
	if got, want := agents(), []simulator.AgentState{{Community: "a", State: "down"}, {Community: "b", State: "up"}}; !slices.Equal(got, want) {
		t.Fatalf("agents %v; want %v", got, want)
	}
	if code, body := do("POST", "/agents/a/up"); code != 200 || !strings.Contains(body, `"state":"up"`) {
		t.Fatalf("up: %d %s", code, body)
	}
	if got := agents(); got[0].State != "up" {
		t.Fatalf("agents %v after up", got)
	}
	for _, c := range []struct {
		method, target string
		code           int
		says           string
	}{
		{"POST", "/agents/zz/down", 404, `"zz"`},
		{"POST", "/agents/a/sideways", 404, ""},
		{"GET", "/agents/a/down", 405, ""},
		{"DELETE", "/agents", 405, ""},
	} {
		if code, body := do(c.method, c.target); code != c.code || !strings.Contains(body, c.says) {
			t.Errorf("%s %s: %d %q; want %d saying %q", c.method, c.target, code, body, c.code, c.says)
		}
	}
	if got := agents(); got[0].State != "up" || got[1].State != "up" {
		t.Fatalf("refused requests changed states: %v", got)
	}
}

func TestListenControlRefusesBeyondLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:0", "example.com:0", "noport"} {
		l, err := listenControl(addr)
		if err == nil {
			l.Close()
			t.Errorf("listenControl(%q) accepted", addr)
		} else if !strings.HasPrefix(err.Error(), "--control") {
			t.Errorf("listenControl(%q): %v; want it to name --control", addr, err)
		}
	}
	if _, err := listenControl("0.0.0.0:0"); !errors.Is(err, errControlNotLoopback) {
		t.Errorf("0.0.0.0: %v", err)
	}
	for _, addr := range []string{"127.0.0.1:0", "localhost:0"} {
		l, err := listenControl(addr)
		if err != nil {
			t.Errorf("listenControl(%q): %v", addr, err)
			continue
		}
		l.Close()
	}
}

// FuzzSimulateControl sends arbitrary requests to the control: no panic,
// one of its statuses, and a state changed only by a 200.
func FuzzSimulateControl(f *testing.F) {
	for _, s := range [][2]string{
		{"POST", "/agents/a/down"}, {"POST", "/agents/b/up"}, {"GET", "/agents"}, {"POST", "/agents/%2e%2e/down"},
		{"POST", "/agents//down"}, {"GET", "/agents/a"}, {"PUT", "/"},
	} {
		f.Add(s[0], s[1])
	}
	sim := twoAgents(f)
	h := simulateControl(sim)
	f.Fuzz(func(t *testing.T, method, target string) {
		req, err := http.NewRequest(method, "http://lab"+target, nil)
		if err != nil || req.URL.Host != "lab" {
			return
		}
		for _, n := range []string{"a", "b"} {
			_ = sim.SetDown(n, false)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		switch w.Code {
		case 200, 301, 307, 308, 400, 404, 405:
		default:
			t.Fatalf("%s %s: status %d", method, target, w.Code)
		}
		if w.Code != 200 {
			for _, a := range sim.Agents() {
				if a.State != simulator.StateUp {
					t.Fatalf("%s %s: %d but %s went %s", method, target, w.Code, a.Community, a.State)
				}
			}
		}
	})
}
