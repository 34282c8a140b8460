package labpin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// MaxPulse is the longest pulse the control accepts.
const MaxPulse = time.Minute

// Handler returns the lab control of b, an HTTP API:
//
//	GET  /pins                       every opened pin: [{"pin":"lab:door-1","level":"high","changes":0}]
//	GET  /pins/{name}                one pin's state
//	POST /pins/{name}?level=low|high drive the pin to the level; answers the new state
//	POST /pins/{name}/pulse?ms=N     drive the pin to the other level for N ms (1..60000), then
//	                                 back; answers once it is back
//
// {name} is the pin's name with or without Prefix ("door-1" or "lab:door-1").
// An unknown pin is 404, a bad level or duration 400; errors are plain text.
func Handler(b *Bank) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /pins", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, b.States())
	})
	mux.HandleFunc("GET /pins/{name}", func(w http.ResponseWriter, r *http.Request) {
		if p := pinOf(b, w, r); p != nil {
			writeJSON(w, p.State())
		}
	})
	mux.HandleFunc("POST /pins/{name}", func(w http.ResponseWriter, r *http.Request) {
		p := pinOf(b, w, r)
		if p == nil {
			return
		}
		l, err := ParseLevel(r.URL.Query().Get("level"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		p.Set(l)
		writeJSON(w, p.State())
	})
	mux.HandleFunc("POST /pins/{name}/pulse", func(w http.ResponseWriter, r *http.Request) {
		p := pinOf(b, w, r)
		if p == nil {
			return
		}
		d, err := ParsePulse(r.URL.Query().Get("ms"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := p.Pulse(r.Context(), d); err != nil {
			http.Error(w, fmt.Sprintf("labpin: %s: pulse cut short: %v", p.Name(), err), http.StatusServiceUnavailable)
			return
		}
		writeJSON(w, p.State())
	})
	return mux
}

// ParsePulse parses a pulse length in whole milliseconds, 1 to MaxPulse.
func ParsePulse(ms string) (time.Duration, error) {
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil || n < 1 || n > MaxPulse.Milliseconds() {
		return 0, fmt.Errorf("labpin: ms %q is not a whole number of milliseconds within 1..%d", ms, MaxPulse.Milliseconds())
	}
	return time.Duration(n) * time.Millisecond, nil
}

// pinOf returns the pin the request names, or answers 404 and returns nil.
func pinOf(b *Bank, w http.ResponseWriter, r *http.Request) *Pin {
	name := r.PathValue("name")
	if p := b.Pin(name); p != nil {
		return p
	}
	var names []string
	for _, s := range b.States() {
		names = append(names, s.Pin)
	}
	http.Error(w, fmt.Sprintf("labpin: no lab pin %q is open; open: [%s]", name, strings.Join(names, " ")), http.StatusNotFound)
	return nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// Listen opens the control's listener at addr: "unix:/path/of/socket" (a
// socket left there by a killed process is replaced; one in use is not), or
// host:port with a loopback host (127.0.0.1, [::1], localhost). Any other
// host, 0.0.0.0 included, is refused: the control lets whoever reaches it
// fake sensor events.
func Listen(addr string) (net.Listener, error) {
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		if path == "" {
			return nil, errors.New("labpin: control address unix: names no socket path")
		}
		l, err := net.Listen("unix", path)
		if errors.Is(err, syscall.EADDRINUSE) && staleSocket(path) {
			_ = os.Remove(path)
			l, err = net.Listen("unix", path)
		}
		if err != nil {
			return nil, fmt.Errorf("labpin: control: %w", err)
		}
		return l, nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("labpin: control address %q: %w (want 127.0.0.1:PORT or unix:/path)", addr, err)
	}
	refuse := fmt.Errorf("labpin: control address %q is not loopback: the lab control listens only on 127.0.0.1, [::1], localhost or a unix socket", addr)
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, refuse
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("labpin: control: %w", err)
	}
	if a, ok := l.Addr().(*net.TCPAddr); !ok || !a.IP.IsLoopback() {
		l.Close()
		return nil, refuse
	}
	return l, nil
}

// staleSocket reports whether path is a unix socket nobody listens on (left
// by a process that was killed).
func staleSocket(path string) bool {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode().Type() != os.ModeSocket {
		return false
	}
	c, err := net.Dial("unix", path)
	if err == nil {
		c.Close()
		return false
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// Serve serves Handler(b) on l until ctx ends, then closes l and returns
// nil; a pulse in progress goes back at once. It returns the error that
// stopped it otherwise.
func Serve(ctx context.Context, l net.Listener, b *Bank) error {
	srv := &http.Server{
		Handler:           Handler(b),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	stopped := context.AfterFunc(ctx, func() { _ = srv.Close() })
	defer stopped()
	err := srv.Serve(l)
	if ctx.Err() != nil || errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("labpin: control: %w", err)
}
