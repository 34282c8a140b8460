package labpin

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"periph.io/x/conn/v3/gpio"
)

// do sends one request to h and returns the status and body.
func do(t *testing.T, h http.Handler, method, target string) (int, string) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, target, nil))
	return w.Code, w.Body.String()
}

func TestHandler(t *testing.T) {
	b := NewBank()
	p, _ := b.Open("lab:door-1")
	if err := p.In(gpio.PullUp, gpio.BothEdges); err != nil {
		t.Fatal(err)
	}
	h := Handler(b)
	state := func(body string) State {
		t.Helper()
		var s State
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		return s
	}
	if code, body := do(t, h, "POST", "/pins/door-1?level=low"); code != 200 || state(body) != (State{"lab:door-1", "low", 1}) {
		t.Fatalf("set low: %d %s", code, body)
	}
	if !p.WaitForEdge(0) || p.Read() != gpio.Low {
		t.Fatal("the pin did not see the edge")
	}
	if code, body := do(t, h, "POST", "/pins/lab:door-1?level=high"); code != 200 || state(body).Level != "high" {
		t.Fatalf("set high by full name: %d %s", code, body)
	}
	if code, body := do(t, h, "POST", "/pins/door-1/pulse?ms=1"); code != 200 || state(body) != (State{"lab:door-1", "high", 4}) {
		t.Fatalf("pulse: %d %s", code, body)
	}
	if code, body := do(t, h, "GET", "/pins/door-1"); code != 200 || state(body).Changes != 4 {
		t.Fatalf("get: %d %s", code, body)
	}
	code, body := do(t, h, "GET", "/pins")
	var all []State
	if err := json.Unmarshal([]byte(body), &all); code != 200 || err != nil || len(all) != 1 || all[0].Pin != "lab:door-1" {
		t.Fatalf("list: %d %s %v", code, body, err)
	}
	for _, c := range []struct {
		method, target string
		code           int
		says           string
	}{
		{"POST", "/pins/door-2?level=low", 404, `"door-2"`},
		{"POST", "/pins/door-2?level=low", 404, "lab:door-1"}, // lists the open pins
		{"POST", "/pins/door-1?level=up", 400, `"up"`},
		{"POST", "/pins/door-1", 400, "neither low nor high"},
		{"POST", "/pins/door-1/pulse?ms=0", 400, "1..60000"},
		{"POST", "/pins/door-1/pulse?ms=60001", 400, "60001"},
		{"POST", "/pins/door-1/pulse", 400, "ms"},
		{"DELETE", "/pins/door-1", 405, ""},
		{"GET", "/other", 404, ""},
	} {
		code, body := do(t, h, c.method, c.target)
		if code != c.code || !strings.Contains(body, c.says) {
			t.Errorf("%s %s: %d %q; want %d saying %q", c.method, c.target, code, body, c.code, c.says)
		}
	}
	if p.Read() != gpio.High || p.State().Changes != 4 {
		t.Errorf("refused requests changed the pin: %+v", p.State())
	}
}

// TestPulseCutShort: a pulse whose request has ended changes nothing and
// answers 503.
func TestPulseCutShort(t *testing.T) {
	b := NewBank()
	p, _ := b.Open("lab:x")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := httptest.NewRecorder()
	Handler(b).ServeHTTP(w, httptest.NewRequest("POST", "/pins/x/pulse?ms=60000", nil).WithContext(ctx))
	if w.Code != http.StatusServiceUnavailable || p.Read() != gpio.High || p.State().Changes != 0 {
		t.Fatalf("%d %q, pin %+v", w.Code, w.Body, p.State())
	}
}

func TestListenRefusesBeyondLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:0", "example.com:0", "nohostport", "unix:"} {
		l, err := Listen(addr)
		if err == nil {
			l.Close()
			t.Errorf("Listen(%q) accepted", addr)
			continue
		}
		if !strings.HasPrefix(err.Error(), "labpin: control") {
			t.Errorf("Listen(%q): %v", addr, err)
		}
	}
	if _, err := Listen("0.0.0.0:0"); err == nil || !strings.Contains(err.Error(), "not loopback") {
		t.Errorf("Listen(0.0.0.0:0): %v; want it to say not loopback", err)
	}
}

// TestServe serves the control on TCP loopback and on a unix socket, then
// stops it.
func TestServe(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "lab.sock")
	for _, addr := range []string{"127.0.0.1:0", "localhost:0", "unix:" + sock} {
		t.Run(addr, func(t *testing.T) {
			l, err := Listen(addr)
			if err != nil {
				t.Fatal(err)
			}
			b := NewBank()
			b.Open("lab:a")
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- Serve(ctx, l, b) }()
			c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, l.Addr().Network(), l.Addr().String())
			}}}
			resp, err := c.Post("http://lab/pins/a?level=low", "", nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || b.Pin("a").Read() != gpio.Low {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if _, err := c.Get("http://lab/pins"); err == nil {
				t.Fatal("control still answers after Serve returned")
			}
		})
	}
}

// FuzzHandler sends arbitrary requests to the control: it never panics,
// answers one of its statuses, and changes the pin only on a 200.
func FuzzHandler(f *testing.F) {
	for _, s := range [][2]string{
		{"POST", "/pins/a?level=low"}, {"POST", "/pins/lab:a/pulse?ms=5"}, {"GET", "/pins"}, {"GET", "/pins/a"},
		{"POST", "/pins/a?level=%ff"}, {"POST", "/pins/a/pulse?ms=-1"}, {"POST", "/pins/%2e%2e/pulse"}, {"PUT", "/"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, method, target string) {
		b := NewBank()
		p, _ := b.Open("lab:a")
		req, err := http.NewRequest(method, "http://lab"+target, nil)
		if err != nil || req.URL.Path == "" || req.URL.Host != "lab" {
			return
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // pulses end at once
		w := httptest.NewRecorder()
		Handler(b).ServeHTTP(w, req.WithContext(ctx))
		switch w.Code {
		case 200, 301, 307, 308, 400, 404, 405, 503:
		default:
			t.Fatalf("%s %s: status %d", method, target, w.Code)
		}
		if w.Code != 200 && w.Code != 503 && p.State().Changes != 0 {
			t.Fatalf("%s %s: %d but the pin changed", method, target, w.Code)
		}
	})
}

// TestListenReplacesStaleSocket: a socket file nobody listens on is
// replaced; one in use is not.
func TestListenReplacesStaleSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "lab.sock")
	ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Listen("unix:" + sock); err == nil {
		t.Fatal("a socket in use was taken over")
	}
	ul.SetUnlinkOnClose(false)
	ul.Close() // leaves the file, as a killed process does
	l, err := Listen("unix:" + sock)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	l.Close()
}
