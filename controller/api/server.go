package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Options.
const (
	DefaultSessionTTL   = 12 * time.Hour
	DefaultPingEvery    = 15 * time.Second
	DefaultClientBuffer = 256
	DefaultMaxBody      = 64 << 10
	// DefaultLimit and MaxLimit bound a page of a list.
	DefaultLimit = 100
	MaxLimit     = 1000
	// MaxSessions bounds the sessions held at once, and
	// MaxSessionsPerToken those of one token (the oldest go first).
	MaxSessions         = 10_000
	MaxSessionsPerToken = 1_000
)

// Roles of a Token.
const (
	RoleRead  = "read"
	RoleAdmin = "admin"
)

// Token is one bearer token the API accepts.
type Token struct {
	// Name names the token (in acknowledgements, never the secret).
	Name string
	// Secret is the token itself (at least 16 characters).
	Secret string
	// Role is RoleRead or RoleAdmin.
	Role string
	// Region limits the token to a region's subtree ("" sees everything).
	Region string
}

// Options configure a Server.
type Options struct {
	// Tokens are the tokens accepted; without any, every request that
	// needs one is answered 401.
	Tokens []Token
	// SessionTTL is a browser session's life (default DefaultSessionTTL).
	SessionTTL time.Duration
	// SecureCookies marks the session cookie Secure (set it when the
	// server speaks TLS; a request over TLS gets it anyway).
	SecureCookies bool
	// PingEvery is the time between two comment pings on an event stream
	// (default DefaultPingEvery).
	PingEvery time.Duration
	// ClientBuffer is the events queued for one event-stream client; a
	// client that falls that far behind is disconnected (default
	// DefaultClientBuffer).
	ClientBuffer int
	// MaxBody bounds a request body (default DefaultMaxBody).
	MaxBody int64
	// FailLimit bounds failed authentications (zero fields take the
	// defaults).
	FailLimit FailLimit
	// MaxStreams bounds the event streams open at once, and
	// MaxStreamsPerClient those of one client address (defaults
	// DefaultMaxStreams and DefaultMaxStreamsPerClient).
	MaxStreams, MaxStreamsPerClient int
	// SessionFile, when set, keeps the sessions (their ids hashed) in this
	// file, so that they survive a restart.
	SessionFile string
	// Forwarder, when set, answers the coverage's requests for the
	// replica that computes it (a cluster's lease holder).
	Forwarder Forwarder
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Server is the API: its handler, sessions and event hub.
type Server struct {
	src    Source
	o      Options
	tokens []tokenEntry
	sess   *sessions
	hub    *hub
	index  atomic.Pointer[index]
	conv   *convergence
	mux    *http.ServeMux
	routes []string
	params map[string][]string // the query parameters of each route
	fails  *failLimiter
	// rollouts holds the Rollouts of update bundles (rollout.go); empty
	// without the rollout section.
	rollouts atomic.Value
	// The sessions file: saveMu guards lastSave and savePending (a write
	// waiting for saveEvery to pass); writeMu makes one write at a time.
	saveMu        sync.Mutex
	lastSave      time.Time
	savePending   bool
	writeMu       sync.Mutex
	sessionWrites atomic.Uint64
}

// New checks the options and returns a server reading src.
func New(src Source, o Options) (*Server, error) {
	if src == nil {
		return nil, errors.New("api: no source")
	}
	o.SessionTTL = or(o.SessionTTL, DefaultSessionTTL)
	o.PingEvery = or(o.PingEvery, DefaultPingEvery)
	o.ClientBuffer = or(o.ClientBuffer, DefaultClientBuffer)
	o.MaxBody = or(o.MaxBody, DefaultMaxBody)
	o.MaxStreams = or(o.MaxStreams, DefaultMaxStreams)
	o.MaxStreamsPerClient = or(o.MaxStreamsPerClient, DefaultMaxStreamsPerClient)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SessionTTL < 0 || o.PingEvery < 0 || o.ClientBuffer < 0 || o.MaxBody < 0 ||
		o.MaxStreams < 0 || o.MaxStreamsPerClient < 0 || o.FailLimit.ClientBurst < 0 || o.FailLimit.ClientEvery < 0 ||
		o.FailLimit.GlobalBurst < 0 || o.FailLimit.GlobalEvery < 0 {
		return nil, errors.New("api: negative option")
	}
	s := &Server{src: src, o: o, sess: newSessions(), hub: newHub(), conv: newConvergence(),
		fails: newFailLimiter(o.FailLimit, o.Now)}
	for i, t := range o.Tokens {
		if err := s.addToken(t); err != nil {
			return nil, fmt.Errorf("api: token %d (%s): %w", i, t.Name, err)
		}
	}
	s.routeAll()
	return s, nil
}

// or returns v, or def when v is the zero value.
func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Handler returns the API's handler: every route under /api/v1/, with the
// security headers on every answer, cross-origin changes refused and a
// method no route of a path takes answered 405 with Allow.
func (s *Server) Handler() http.Handler { return SecurityHeaders(crossOrigin(s.methods(s.mux))) }

// Routes lists the mux's patterns ("GET /api/v1/summary", ...).
func (s *Server) Routes() []string { return append([]string(nil), s.routes...) }

// Params returns the query parameters a route (one of Routes) takes.
func (s *Server) Params(route string) []string { return append([]string(nil), s.params[route]...) }

// access is who may call a route.
type access int

const (
	open access = iota
	reader
	admin
)

// handle registers a route with its access and the query parameters it
// takes (any other is refused).
func (s *Server) handle(pattern string, a access, h http.HandlerFunc, params ...string) {
	s.routes = append(s.routes, pattern)
	s.params[pattern] = params
	s.mux.Handle(pattern, s.guard(a, checkQuery(params, s.forwarded(pattern, h))))
}

// routeAll registers every route.
func (s *Server) routeAll() {
	s.mux = http.NewServeMux()
	s.params = map[string][]string{}
	s.handle("GET /api/v1/openapi.yaml", open, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		w.Write(OpenAPI)
	})
	s.handle("GET /api/v1/session", open, s.getSession)
	s.handle("POST /api/v1/session", open, s.signIn)
	s.handle("DELETE /api/v1/session", reader, s.signOut)
	s.handle("GET /api/v1/summary", reader, s.summary)
	s.handle("GET /api/v1/coverage", reader, s.coverageHeader)
	s.handle("GET /api/v1/regions", reader, s.regions, "parent")
	s.handle("GET /api/v1/regions/{code}", reader, s.region)
	s.handle("GET /api/v1/villages", reader, s.villages, "region", "class", "evidence", "priority", "limit", "cursor")
	s.handle("GET /api/v1/villages/{code}", reader, s.village)
	s.handle("GET /api/v1/map", reader, s.mapPoints, "region")
	s.handle("GET /api/v1/boundaries", reader, s.boundaries)
	s.handle("GET /api/v1/gaps", reader, s.gaps, "region", "limit", "cursor")
	s.handle("GET /api/v1/convergence", reader, s.convergence, "region")
	s.handle("GET /api/v1/reports/{file}", reader, s.report, "region")
	s.handle("GET /api/v1/sites", reader, s.sites, "region", "limit", "cursor")
	s.handle("GET /api/v1/sites/{id}", reader, s.site)
	s.handle("GET /api/v1/devices", reader, s.devices, "site", "state", "class", "limit", "cursor")
	s.handle("GET /api/v1/devices/{id}", reader, s.device)
	s.handle("GET /api/v1/gateways", reader, s.gateways, "site", "state", "limit", "cursor")
	s.handle("GET /api/v1/gateways/{name}", reader, s.gateway)
	s.handle("GET /api/v1/alerts", reader, s.alerts, "state", "limit", "cursor")
	s.handle("POST /api/v1/alerts/{id}/ack", admin, s.ack)
	s.handle("GET /api/v1/maintenance", reader, s.maintenance)
	s.handle("POST /api/v1/maintenance", admin, s.addWindow)
	s.handle("DELETE /api/v1/maintenance/{id}", admin, s.removeWindow)
	s.handle("POST /api/v1/inventory/reload", admin, s.reload)
	s.handle("GET /api/v1/events", reader, s.events)
	s.routeRollouts()
	s.mux.Handle("/api/", s.guard(open, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path)
	}))
}

// SecurityHeaders sets the headers every answer carries: a
// Content-Security-Policy allowing only the server's own resources and no
// framing, no MIME sniffing, no referrer, and over TLS
// Strict-Transport-Security.
func SecurityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		if r.TLS != nil { // over TLS, never again without it
			hd.Set("Strict-Transport-Security", "max-age=31536000")
		}
		h.ServeHTTP(w, r)
	})
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "encoding the answer: %v", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// apiError is the body of an error answer.
type apiError struct {
	Error string `json:"error"`
}

// writeError answers {"error": message} with status.
func writeError(w http.ResponseWriter, status int, format string, args ...any) {
	b, _ := json.Marshal(apiError{Error: fmt.Sprintf(format, args...)})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// writeSourceError answers err of the source with the status it wraps.
func writeSourceError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, "%v", err)
	case errors.Is(err, ErrInvalid):
		writeError(w, http.StatusBadRequest, "%v", err)
	case errors.Is(err, ErrConflict):
		writeError(w, http.StatusConflict, "%v", err)
	default:
		writeError(w, http.StatusServiceUnavailable, "%v", err)
	}
}

// decodeBody decodes the JSON body of r into v, strictly and bounded. A
// body must say it is application/json (a cross-site form cannot, so no
// other site can post one); an optional body may be empty.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, v any, optional bool) bool {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.o.MaxBody))
	if mb := (*http.MaxBytesError)(nil); errors.As(err, &mb) {
		writeError(w, http.StatusBadRequest, "the body is larger than %d bytes", mb.Limit)
		return false
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "reading the body: %v", err)
		return false
	}
	if optional && len(bytes.TrimSpace(b)) == 0 {
		return true
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeError(w, http.StatusBadRequest, "the body must be application/json")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON value")
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "the body is not the JSON expected: %v", err)
		return false
	}
	return true
}
