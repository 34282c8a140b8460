package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/ngic/ngic/controller/simulator"
)

// simulateControl is simulate's lab control, an HTTP API:
//
//	GET  /agents                    every agent and its state: [{"community":"zte_c320","state":"up"}]
//	POST /agents/{community}/down   the agent answers nothing from now on (requests time out)
//	POST /agents/{community}/up     the agent answers again
//
// A POST answers the agent's new state; an unknown community is 404.
func simulateControl(sim *simulator.Simulator) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /agents", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(sim.Agents())
	})
	for state, down := range map[string]bool{simulator.StateDown: true, simulator.StateUp: false} {
		mux.HandleFunc("POST /agents/{community}/"+state, func(w http.ResponseWriter, r *http.Request) {
			name := r.PathValue("community")
			if err := sim.SetDown(name, down); err != nil {
				http.Error(w, err.Error(), http.StatusNotFound)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(simulator.AgentState{Community: name, State: state})
		})
	}
	return mux
}

// errControlNotLoopback refuses a control address beyond loopback: whoever
// reaches the control can silence agents.
var errControlNotLoopback = errors.New("not a loopback address: the control listens only on 127.0.0.1, [::1] or localhost")

// listenControl listens on addr, a host:port whose host is loopback.
func listenControl(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--control %s: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("--control %s: %w", addr, errControlNotLoopback)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--control: %w", err)
	}
	if a, ok := l.Addr().(*net.TCPAddr); !ok || !a.IP.IsLoopback() {
		l.Close()
		return nil, fmt.Errorf("--control %s: %w", addr, errControlNotLoopback)
	}
	return l, nil
}

// serveControl serves the control on l until ctx ends, then closes l.
func serveControl(ctx context.Context, l net.Listener, sim *simulator.Simulator) {
	srv := &http.Server{Handler: simulateControl(sim), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	_ = srv.Serve(l)
}
