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

// Defaults of Options.MaxStreams and MaxStreamsPerClient.
const (
	DefaultMaxStreams          = 512
	DefaultMaxStreamsPerClient = 64
)

// client is one event-stream connection.
type client struct {
	ch   chan event
	gone chan struct{} // closed when the hub drops the client
	vis  visibility
	key  string // the client address (clientKey)
	seq  uint64 // order of arrival
}

// hub fans events out to the connected clients; a client whose queue is
// full is dropped, so that no client ever holds up the others.
type hub struct {
	mu      sync.Mutex
	clients map[*client]struct{}
	perKey  map[string]int
	seq     uint64
	dropped atomic.Uint64
	sent    atomic.Uint64
	refused atomic.Uint64
}

func newHub() *hub { return &hub{clients: map[*client]struct{}{}, perKey: map[string]int{}} }

// add admits c unless its address holds perClient streams already. When
// total streams are open, the oldest stream of the address holding the
// most is closed to make room, provided that address holds at least two
// more than c's: no address can keep the others out by opening many.
func (h *hub) add(c *client, total, perClient int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	mine := h.perKey[c.key]
	if mine >= perClient {
		h.refused.Add(1)
		return false
	}
	if len(h.clients) >= total {
		big, n := "", 0
		for k, v := range h.perKey {
			if v > n {
				big, n = k, v
			}
		}
		if n < mine+2 {
			h.refused.Add(1)
			return false
		}
		var oldest *client
		for o := range h.clients {
			if o.key == big && (oldest == nil || o.seq < oldest.seq) {
				oldest = o
			}
		}
		h.drop(oldest)
		h.dropped.Add(1)
	}
	h.seq++
	c.seq = h.seq
	h.clients[c] = struct{}{}
	h.perKey[c.key]++
	return true
}

// drop removes c (h.mu held).
func (h *hub) drop(c *client) {
	if _, ok := h.clients[c]; !ok {
		return
	}
	delete(h.clients, c)
	close(c.gone)
	if h.perKey[c.key]--; h.perKey[c.key] <= 0 {
		delete(h.perKey, c.key)
	}
}

func (h *hub) remove(c *client) {
	h.mu.Lock()
	h.drop(c)
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
			h.drop(c)
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
	// Sessions are the browser sessions held; SessionSaveError is the
	// last failure to keep them in Options.SessionFile ("" when the last
	// save worked).
	Sessions         int
	SessionSaveError string
	// SessionWrites counts the writes of the sessions file.
	SessionWrites uint64
	// StreamsRefused counts event streams refused for too many open;
	// AuthLimited counts requests answered 429 for too many failed
	// authentications.
	StreamsRefused, AuthLimited uint64
}

// Stats returns the server's figures.
func (s *Server) Stats() Stats {
	s.hub.mu.Lock()
	n := len(s.hub.clients)
	s.hub.mu.Unlock()
	s.sess.mu.Lock()
	m, saveErr := len(s.sess.m), s.sess.saveErr
	s.sess.mu.Unlock()
	s.fails.mu.Lock()
	limited := s.fails.limited
	s.fails.mu.Unlock()
	return Stats{Clients: n, Sent: s.hub.sent.Load(), Dropped: s.hub.dropped.Load(), Sessions: m,
		SessionSaveError: saveErr, SessionWrites: s.sessionWrites.Load(), StreamsRefused: s.hub.refused.Load(), AuthLimited: limited}
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
	s.acquireIndex().release() // built before the clients ask
	s.hub.publish(event{frame: frame(EventCoverage, struct {
		Computed time.Time `json:"computed"`
	}{computed})})
}

// streamRetry is the Retry-After of a stream refused for too many.
const streamRetry = 30 * time.Second

func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	c := &client{ch: make(chan event, s.o.ClientBuffer), gone: make(chan struct{}), vis: s.visible(r),
		key: clientKey(r)}
	if !s.hub.add(c, s.o.MaxStreams, s.o.MaxStreamsPerClient) {
		writeTooMany(w, streamRetry, "too many event streams open")
		return
	}
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
