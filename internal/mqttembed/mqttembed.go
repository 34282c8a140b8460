// Package mqttembed runs mochi-mqtt as an embedded broker for the edge and
// the controller: limits raised so that a lagging subscriber loses nothing,
// and a Close that never hangs the stop.
package mqttembed

import (
	"fmt"
	"log/slog"
	"time"

	mqttserver "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
)

// Broker is a running embedded broker.
type Broker struct {
	srv *mqttserver.Server
	tcp *listeners.TCP
	log *slog.Logger
}

// Hook is a mochi-mqtt hook added to the broker, with its configuration
// (nil when it takes none).
type Hook struct {
	Hook   mqttserver.Hook
	Config any
}

// Start serves MQTT on addr (host:port; port 0 picks a free one), with
// every client allowed, after the given hooks. log receives the broker's
// own messages.
func Start(addr string, log *slog.Logger, hooks ...Hook) (*Broker, error) {
	s := mqttserver.New(&mqttserver.Options{InlineClient: true, Capabilities: capabilities(), Logger: log})
	for _, h := range hooks {
		if err := s.AddHook(h.Hook, h.Config); err != nil {
			return nil, fmt.Errorf("mqttembed: hook %s: %w", h.Hook.ID(), err)
		}
	}
	if err := s.AddHook(new(auth.AllowHook), nil); err != nil {
		return nil, fmt.Errorf("mqttembed: %w", err)
	}
	tcp := listeners.NewTCP(listeners.Config{ID: "tcp", Address: addr})
	if err := s.AddListener(tcp); err != nil {
		return nil, fmt.Errorf("mqttembed: listen on %s: %w", addr, err)
	}
	if err := s.Serve(); err != nil {
		return nil, fmt.Errorf("mqttembed: %w", err)
	}
	return &Broker{srv: s, tcp: tcp, log: log}, nil
}

// Addr is the address the broker listens on (with the port picked when
// Start was given port 0).
func (b *Broker) Addr() string { return b.tcp.Address() }

// Server is the mochi-mqtt server, for inline publishes and subscriptions.
func (b *Broker) Server() *mqttserver.Server { return b.srv }

// Close closes the broker without ever hanging the stop. mochi-mqtt's
// Server.Close can deadlock when a client leaves at the same moment
// (Clients.GetByListener read-locks twice while the leaving client's
// Clients.Delete waits to write), so it waits a moment for network clients
// to leave first, and gives Close a bounded time.
func (b *Broker) Close() {
	idle := time.Now().Add(2 * time.Second)
	for time.Now().Before(idle) && b.hasNetClients() {
		time.Sleep(10 * time.Millisecond)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.srv.Close()
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		b.log.Warn("embedded broker did not close within 5s; leaving it to the process exit")
	}
}

// hasNetClients tells whether a client connected over the network is
// still on the broker.
func (b *Broker) hasNetClients() bool {
	for _, cl := range b.srv.Clients.GetAll() {
		if !cl.Net.Inline && !cl.Closed() {
			return true
		}
	}
	return false
}

// capabilities raises mochi-mqtt's defaults, which drop QoS 0 and 1
// messages for a subscriber that lags (MaximumClientWritesPending and
// MaximumInflight of 8192).
func capabilities() *mqttserver.Capabilities {
	c := mqttserver.NewDefaultServerCapabilities()
	c.MaximumClientWritesPending = 1 << 20
	c.MaximumInflight = 65535
	return c
}
