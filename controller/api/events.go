package api

import (
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ngic/ngic/controller/alerts"
	"github.com/ngic/ngic/telemetry"
)

// Event kinds of the event stream.
const (
	EventAlert    = "alert"
	EventDevice   = "device"
	EventGateway  = "gateway"
	EventCoverage = "coverage"
)

// event is one framed event and the site it concerns ("" for all).
type event struct {
	site  string
	frame []byte
}

// client is one event-stream connection.
type client struct {
	ch   chan event
	gone chan struct{} // closed when the hub drops the client
	vis  visibility
}

// hub fans events out to the connected clients; a client whose queue is
// full is dropped, so that no client ever holds up the others.
type hub struct {
	mu      sync.Mutex
	clients map[*client]struct{}
	dropped atomic.Uint64
	sent    atomic.Uint64
}

func newHub() *hub { return &hub{clients: map[*client]struct{}{}} }

func (h *hub) add(c *client) {
	h.mu.Lock()
	h.clients[c] = struct{}{}
	h.mu.Unlock()
}

func (h *hub) remove(c *client) {
	h.mu.Lock()
	if _, ok := h.clients[c]; ok {
		delete(h.clients, c)
		close(c.gone)
	}
	h.mu.Unlock()
}

// publish queues ev to every client that may see it, dropping those that
// are full.
func (h *hub) publish(ev event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		if ev.site != "" && !c.vis.site(ev.site) {
			continue
		}
		select {
		case c.ch <- ev:
			h.sent.Add(1)
		default:
			delete(h.clients, c)
			close(c.gone)
			h.dropped.Add(1)
		}
	}
}

// frame makes the text of one event.
func frame(kind string, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	out := make([]byte, 0, len(b)+len(kind)+16)
	out = append(out, "event: "...)
	out = append(out, kind...)
	out = append(out, "\ndata: "...)
	out = append(out, b...)
	return append(out, "\n\n"...)
}

// Stats are the server's figures.
type Stats struct {
	// Clients are the event streams connected now; Sent counts events
	// queued to them; Dropped counts streams dropped for reading too
	// slowly.
	Clients       int
	Sent, Dropped uint64
	// Sessions are the browser sessions held.
	Sessions int
}

// Stats returns the server's figures.
func (s *Server) Stats() Stats {
	s.hub.mu.Lock()
	n := len(s.hub.clients)
	s.hub.mu.Unlock()
	s.sess.mu.Lock()
	m := len(s.sess.m)
	s.sess.mu.Unlock()
	return Stats{Clients: n, Sent: s.hub.sent.Load(), Dropped: s.hub.dropped.Load(), Sessions: m}
}

// PublishAlert sends an alert change to the event streams that may see
// its subject.
func (s *Server) PublishAlert(a telemetry.Alert) {
	site := a.Subject.Site
	if a.Subject.Type == alerts.SubjectSite {
		site = a.Subject.ID
	}
	s.hub.publish(event{site: orNoSite(site), frame: frame(EventAlert, a)})
}

// stateEvent is the data of a device or gateway event.
type stateEvent struct {
	ID    string    `json:"id,omitempty"`
	Name  string    `json:"name,omitempty"`
	State string    `json:"state"`
	Since time.Time `json:"since"`
}

// PublishDevice sends a device's new state to the event streams that may
// see its site.
func (s *Server) PublishDevice(id, site, state string, since time.Time) {
	s.hub.publish(event{site: orNoSite(site), frame: frame(EventDevice, stateEvent{ID: id, State: state, Since: since})})
}

// PublishGateway sends a gateway's new state to the event streams that may
// see its site.
func (s *Server) PublishGateway(name, site, state string, since time.Time) {
	s.hub.publish(event{site: orNoSite(site), frame: frame(EventGateway, stateEvent{Name: name, State: state, Since: since})})
}

// orNoSite marks an empty site as one only tokens seeing all may see.
func orNoSite(site string) string {
	if site == "" {
		return "\x00"
	}
	return site
}

// PublishCoverage tells every event stream that coverage was computed
// again, once the index of the new result is built (so that the clients'
// requests do not wait for it).
func (s *Server) PublishCoverage(computed time.Time) {
	s.indexOf() // built before the clients ask
	s.hub.publish(event{frame: frame(EventCoverage, struct {
		Computed time.Time `json:"computed"`
	}{computed})})
}

// writeTimeout bounds one write to an event stream.
const writeTimeout = 10 * time.Second

func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	c := &client{ch: make(chan event, s.o.ClientBuffer), gone: make(chan struct{}), vis: s.visibility(r, s.indexOf())}
	s.hub.add(c)
	defer s.hub.remove(c)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	write := func(b []byte) bool {
		rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write([]byte(": connected\n\n")) {
		return
	}
	ping := time.NewTicker(s.o.PingEvery)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-c.gone:
			return
		case <-ping.C:
			if !write([]byte(": ping\n\n")) {
				return
			}
		case ev := <-c.ch:
			if ev.frame != nil && !write(ev.frame) {
				return
			}
		}
	}
}
