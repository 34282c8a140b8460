package snmp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"
)

// Session is a Client for one device, never shared. A Session is for one
// goroutine at a time.
//
// Between polling cycles a Session holds only small per-device state: the
// configuration and, for v3, the discovered engine (ID, boots, time and the
// keys localised to it). The gosnmp.GoSNMP with its socket and its 64 KB
// receive buffer exists only while requests run: the first request opens
// it and Release drops it, so the next cycle's fresh GoSNMP starts with the
// remembered engine and needs no new discovery.
type Session struct {
	// cfg is the validated configuration: the Scheduler's own copy of its
	// device's, or Dial's.
	cfg  *Config
	host string
	port uint16
	// While requests run, a v1/v2c session holds a link (exchange.go) and
	// a v3 session a gosnmp.GoSNMP; both are nil while idle.
	l *link
	g *gosnmp.GoSNMP
	// closed: Close was called; requests fail.
	closed bool
	// engine is the v3 engine last seen (nil or id == "" before
	// discovery): a pointer, so that a v1/v2c session does not carry it.
	engine *engineState
	// engineKnown: a v3 request succeeded since the last engine discovery,
	// so a later timeout or time-window failure may mean the agent rebooted.
	engineKnown bool
	// rediscoveries counts v3 engine re-discoveries (for tests and stats).
	rediscoveries int
}

// engineState is what a v3 session keeps of the agent's engine between
// cycles: its ID, boots and time (time as observed at the instant at), the
// context engine ID, and the user's keys localised to the engine.
type engineState struct {
	id, contextID    string
	boots, time      uint32
	at               time.Time
	authKey, privKey []byte
}

var _ Client = (*Session)(nil)

// Dial validates cfg (filling defaults) and returns an idle session. No
// socket is opened and no packet is sent: the first request opens the
// socket, so an unreachable or unresolvable device shows up there.
func Dial(cfg Config) (*Session, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return dialValid(&cfg)
}

// dialValid returns an idle session using cfg, which Validate accepted,
// without copying it: the Scheduler's sessions share their device's
// configuration, which the Scheduler never changes.
func dialValid(cfg *Config) (*Session, error) {
	host, port, err := splitTarget(cfg.Target)
	if err != nil {
		return nil, fmt.Errorf("snmp: config: Target %q: %w", cfg.Target, err)
	}
	return &Session{cfg: cfg, host: host, port: port}, nil
}

// connect builds a fresh gosnmp.GoSNMP and opens its socket. For v3 it is
// preset with the remembered engine (its time advanced by the time elapsed
// since it was seen), unless forget is set or no engine is known yet, in
// which case gosnmp discovers the engine at the first request.
func (s *Session) connect(forget bool) error {
	c := s.cfg
	if c.Version != "3" {
		l, err := openLink(c, s.host, s.port)
		if err != nil {
			return err
		}
		s.l = l
		return nil
	}
	g := &gosnmp.GoSNMP{
		Target:    s.host,
		Port:      s.port,
		Transport: "udp",
		Community: c.Community,
		Timeout:   c.Timeout,
		Retries:   c.Retries,
		MaxOids:   max(c.MaxOIDsPerRequest, gosnmp.MaxOids),
		Context:   context.Background(),
	}
	switch c.Version {
	case "3":
		g.Version = gosnmp.Version3
		g.SecurityModel = gosnmp.UserSecurityModel
		g.ContextName = c.V3.ContextName
		a := authProtos[normProto(c.V3.AuthProto)]
		p := privProtos[normProto(c.V3.PrivProto)]
		usm := &gosnmp.UsmSecurityParameters{UserName: c.V3.User, AuthenticationProtocol: a, PrivacyProtocol: p}
		switch {
		case a == gosnmp.NoAuth:
			g.MsgFlags = gosnmp.NoAuthNoPriv
		case p == gosnmp.NoPriv:
			g.MsgFlags = gosnmp.AuthNoPriv
			usm.AuthenticationPassphrase = c.V3.AuthPass
		default:
			g.MsgFlags = gosnmp.AuthPriv
			usm.AuthenticationPassphrase = c.V3.AuthPass
			usm.PrivacyPassphrase = c.V3.PrivPass
		}
		if forget {
			s.engine = nil
			s.engineKnown = false
		}
		if e := s.engine; e != nil && e.id != "" {
			now := time.Now()
			e.time += uint32(now.Sub(e.at) / time.Second)
			e.at = e.at.Add(now.Sub(e.at).Truncate(time.Second))
			usm.AuthoritativeEngineID = e.id
			usm.AuthoritativeEngineBoots = e.boots
			usm.AuthoritativeEngineTime = e.time
			usm.SecretKey = e.authKey
			usm.PrivacyKey = e.privKey
			g.ContextEngineID = e.contextID
		}
		g.SecurityParameters = usm
	}
	if err := g.Connect(); err != nil {
		return fmt.Errorf("snmp: open socket: %w", err)
	}
	g.Conn = &saneConn{Conn: g.Conn, v3: true}
	s.g = g
	return nil
}

// remember copies the engine gosnmp holds now into s.engine, noting when
// its time was seen if it changed.
func (s *Session) remember() {
	if s.g == nil {
		return
	}
	usm, ok := s.g.SecurityParameters.(*gosnmp.UsmSecurityParameters)
	if !ok || usm.AuthoritativeEngineID == "" {
		return
	}
	if s.engine == nil {
		s.engine = &engineState{}
	}
	e := s.engine
	if usm.AuthoritativeEngineID != e.id || usm.AuthoritativeEngineBoots != e.boots || usm.AuthoritativeEngineTime != e.time {
		e.id, e.boots, e.time, e.at = usm.AuthoritativeEngineID, usm.AuthoritativeEngineBoots, usm.AuthoritativeEngineTime, time.Now()
	}
	e.contextID = s.g.ContextEngineID
	e.authKey, e.privKey = usm.SecretKey, usm.PrivacyKey
}

// Target names the device ("host:port" as configured).
func (s *Session) Target() string { return s.cfg.Target }

// Config returns the validated configuration, defaults filled in.
func (s *Session) Config() Config { return *s.cfg }

// Rediscoveries counts how often the session reset its v3 engine state
// (engine ID, boots, time) after a failure and discovered it again.
func (s *Session) Rediscoveries() int { return s.rediscoveries }

// Release closes the socket and drops its receive buffer (a v1 or v2c
// session's link goes to a small pool that later connects of any session
// reuse, exchange.go; a v3 session's gosnmp.GoSNMP is dropped), keeping
// the configuration and the v3 engine: the session stays usable and its
// next request opens a new socket. The Scheduler releases a
// session after each successful poll. Calling it on an idle session is
// harmless.
func (s *Session) Release() error {
	var err error
	switch {
	case s.l != nil:
		err = s.l.close()
		s.l = nil
	case s.g != nil:
		s.remember()
		err = s.g.Close()
		s.g = nil
	}
	if err != nil {
		return fmt.Errorf("snmp: close: %w", err)
	}
	return nil
}

// Close closes the socket; later requests fail. Calling it again is
// harmless.
func (s *Session) Close() error {
	s.closed = true
	return s.Release()
}

// do runs one gosnmp request under ctx, opening the socket if the session
// is idle: cancelling ctx interrupts a pending read, and a v3 failure that
// a rebooted agent would cause (not in time window, unknown engine, or a
// timeout or digest failure after earlier success) resets the engine state
// and retries once.
func (s *Session) do(ctx context.Context, op string, r request) (*gosnmp.SnmpPacket, error) {
	if s.closed {
		return nil, fmt.Errorf("snmp: %s: session is closed", op)
	}
	if err := ctx.Err(); err != nil {
		return nil, classify(ctx, op, err)
	}
	if s.g == nil && s.l == nil {
		if err := s.connect(false); err != nil {
			return nil, err
		}
	}
	hadEngine := s.engineID() != ""
	pkt, err := s.once(ctx, r)
	if err != nil && s.cfg.Version == "3" && ctx.Err() == nil && engineStale(err) &&
		(s.engineKnown || !isTimeout(err)) {
		s.rediscoveries++
		_ = s.g.Close()
		s.g = nil
		if cerr := s.connect(true); cerr != nil {
			return nil, cerr
		}
		hadEngine = false
		pkt, err = s.once(ctx, r)
	}
	if err != nil {
		if s.cfg.Version == "3" && ctx.Err() == nil {
			if derr := s.diagnoseV3(ctx, op, err, hadEngine); derr != nil {
				return nil, derr
			}
		}
		return nil, classify(ctx, op, err)
	}
	if pkt == nil {
		return nil, fmt.Errorf("snmp: %s: no packet returned", op)
	}
	s.engineKnown = true
	return pkt, nil
}

// once sends r with ctx wired into the socket: over the link (v1, v2c)
// or through gosnmp (v3).
func (s *Session) once(ctx context.Context, r request) (*gosnmp.SnmpPacket, error) {
	if s.l != nil && s.l.unwatch != nil { // the walk watches ctx
		return s.l.exchange(ctx, s.cfg, r)
	}
	conn := s.conn()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	if s.l != nil {
		return s.l.exchange(ctx, s.cfg, r)
	}
	g := s.g
	g.Context = ctx
	switch r.typ {
	case gosnmp.GetNextRequest:
		return g.GetNext(r.oids)
	case gosnmp.GetBulkRequest:
		return g.GetBulk(r.oids, 0, r.rep)
	}
	return g.Get(r.oids)
}

// conn is the socket of a connected session, nil while idle.
// watch has ctx's end abort the requests of a v1 or v2c session, which
// keeps its socket while it holds its link, once for a whole walk rather
// than once per request, and returns what stops watching. The session
// connects here if it is not connected; a failure to connect is left
// for the first request to report.
func (s *Session) watch(ctx context.Context) (unwatch func()) {
	if s.closed || s.cfg.Version == "3" || ctx.Done() == nil {
		return func() {}
	}
	if s.l == nil {
		if s.connect(false) != nil {
			return func() {}
		}
	}
	l := s.l
	conn := l.conn
	l.unwatch = context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	return func() {
		l.unwatch()
		l.unwatch = nil
	}
}

func (s *Session) conn() net.Conn {
	switch {
	case s.l != nil:
		return s.l.conn
	case s.g != nil:
		return s.g.Conn
	}
	return nil
}

// Get fetches oids in batches of MaxOIDsPerRequest, in the order asked. A
// missing object comes back with type NoSuchObject or NoSuchInstance (for
// v1, whose agents answer noSuchName, the offending varbind is dropped from
// the request, the rest asked again, and the missing one returned as
// NoSuchObject). An agent answering tooBig gets smaller batches. A request
// whose answer cannot be used (ErrBadAnswer) is sent once more.
func (s *Session) Get(ctx context.Context, oids []string) ([]gosnmp.SnmpPDU, error) {
	out := make([]gosnmp.SnmpPDU, len(oids))
	for start := 0; start < len(oids); start += s.cfg.MaxOIDsPerRequest {
		end := min(start+s.cfg.MaxOIDsPerRequest, len(oids))
		idx := make([]int, 0, end-start)
		for i := start; i < end; i++ {
			idx = append(idx, i)
		}
		if err := s.getBatch(ctx, oids, idx, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// getBatch fetches oids[idx...] into out[idx...].
func (s *Session) getBatch(ctx context.Context, oids []string, idx []int, out []gosnmp.SnmpPDU) error {
	for len(idx) > 0 {
		req := make([]string, len(idx))
		for j, i := range idx {
			req[j] = normOID(oids[i])
		}
		get := request{typ: gosnmp.GetRequest, oids: req}
		pkt, err := s.do(ctx, "get", get)
		if errors.Is(err, ErrBadAnswer) {
			// A stray datagram may have taken the answer's place: one
			// more try.
			s.drain()
			pkt, err = s.do(ctx, "get", get)
		}
		if err != nil {
			return err
		}
		switch pkt.Error {
		case gosnmp.NoError:
			if len(pkt.Variables) != len(idx) {
				// Not an answer to this request: the caller may ask
				// again, fewer OIDs at a time, as for an undecodable one.
				return failure("get", fmt.Sprintf("%d varbinds for %d OIDs", len(pkt.Variables), len(idx)), ErrBadAnswer)
			}
			for j, i := range idx {
				out[i] = pkt.Variables[j]
			}
			return nil
		case gosnmp.NoSuchName:
			k := int(pkt.ErrorIndex) - 1
			if k < 0 || k >= len(idx) {
				return fmt.Errorf("snmp: get: agent answered noSuchName with error index %d out of 1..%d", pkt.ErrorIndex, len(idx))
			}
			out[idx[k]] = gosnmp.SnmpPDU{Name: req[k], Type: gosnmp.NoSuchObject}
			idx = append(idx[:k:k], idx[k+1:]...)
		case gosnmp.TooBig:
			if len(idx) == 1 {
				return fmt.Errorf("snmp: get %s: agent answered tooBig for a single OID", req[0])
			}
			h := len(idx) / 2
			if err := s.getBatch(ctx, oids, idx[:h:h], out); err != nil {
				return err
			}
			idx = idx[h:]
		default:
			at := ""
			if k := int(pkt.ErrorIndex) - 1; k >= 0 && k < len(req) {
				at = " at " + req[k]
			}
			return fmt.Errorf("snmp: get: agent answered %s%s", pkt.Error, at)
		}
	}
	return nil
}

// Walk fetches every object under each root, several roots per GETBULK
// (GETNEXT for v1) request; see Client.Walk. tooBig answers halve
// max-repetitions. An answer that cannot be used (a garbage datagram, an
// undecodable value) narrows the next requests until the root behind it is
// found and cut with a warning; the other roots go on. A request left
// unanswered makes the rest of the walk ask for less per request; a second
// one in a row cuts every unfinished root with a warning and the error
// wraps ErrTimeout. When ctx ends, every unfinished root is cut with a
// warning and the error wraps ctx's; the objects fetched so far are
// returned either way.
func (s *Session) Walk(ctx context.Context, roots []string) (map[string][]gosnmp.SnmpPDU, []error, error) {
	lim := walkLimits{maxOIDs: s.cfg.MaxOIDsPerRequest, maxCalls: s.cfg.MaxCallsPerWalk,
		maxRows: s.cfg.MaxRowsPerRoot, maxBytes: s.cfg.MaxBytesPerWalk, maxRep: s.cfg.MaxRepetitions}
	if s.cfg.Version == "1" {
		lim.maxRep = 1
	}
	w := newWalker(s.cfg.Target, roots, lim)
	w.reuseBufs()
	defer w.recycle()
	defer s.watch(ctx)()
	if s.cfg.Version == "2c" {
		w.prune()
	}
	for {
		oids := w.next()
		if oids == nil {
			break
		}
		var pkt *gosnmp.SnmpPacket
		var err error
		if s.cfg.Version == "1" {
			pkt, err = s.do(ctx, "walk", request{typ: gosnmp.GetNextRequest, oids: oids})
		} else {
			pkt, err = s.do(ctx, "walk", request{typ: gosnmp.GetBulkRequest, oids: oids, rep: w.rep, roots: w.cols})
		}
		switch {
		case err == nil:
			w.silent = 0
		case errors.Is(err, ErrBadAnswer):
			w.badAnswer(strings.TrimPrefix(errDetail(err), strings.TrimPrefix(ErrBadAnswer.Error(), "snmp: ")+": "))
			s.drain()
			continue
		case errors.Is(err, ErrTimeout) && ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded):
			// No answer (or a refused port): smaller requests, then,
			// if the agent stays silent, the unfinished roots are cut.
			if w.noAnswer(errDetail(err)) {
				continue
			}
			return w.result(), w.warnings, err
		case err != nil:
			// gosnmp's socket deadline is ctx's, and may fire before ctx
			// itself reports it.
			switch {
			case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
				w.stop("deadline reached before the table ended")
			case ctx.Err() != nil:
				w.stop("poll cancelled before the table ended")
			}
			return w.result(), w.warnings, err
		}
		if pkt.Error == gosnmp.TooBig && w.tooBig() {
			continue
		}
		if pkt.Error != gosnmp.NoError {
			w.agentError(pkt.Error, pkt.ErrorIndex)
			continue
		}
		if s.l != nil && s.l.planned {
			w.feedPlan(pkt.Variables, s.l.plan)
		} else {
			w.feed(pkt.Variables)
		}
	}
	return w.result(), w.warnings, nil
}

// drain discards the datagrams already waiting on the socket. After an
// answer that could not be used they are strays (garbage, late or
// duplicate answers to the failed request) which the next request would
// otherwise read first: an undecodable one would fail it too.
func (s *Session) drain() {
	c := s.conn()
	if c == nil {
		return
	}
	if c.SetReadDeadline(time.Now()) != nil {
		return
	}
	var buf [512]byte // a longer datagram is cut short, and still consumed
	for i := 0; i < 1000; i++ {
		if _, err := c.Read(buf[:]); err != nil {
			break
		}
	}
	_ = c.SetReadDeadline(time.Time{}) // gosnmp sets its own per request
}

// errDetail is a request error's text without its "snmp: OP: " prefix.
func errDetail(err error) string {
	msg := err.Error()
	for _, op := range []string{"snmp: walk: ", "snmp: get: "} {
		msg = strings.TrimPrefix(msg, op)
	}
	return msg
}

// engineID is the agent's engine ID as discovered, "" before discovery.
func (s *Session) engineID() string {
	if s.g == nil {
		return ""
	}
	if usm, ok := s.g.SecurityParameters.(*gosnmp.UsmSecurityParameters); ok {
		return usm.AuthoritativeEngineID
	}
	return ""
}

// diagnoseV3 explains v3 failures that gosnmp reports vaguely, or returns
// nil. An agent that answered engine discovery and then ignored the
// encrypted request almost always has another privacy password or protocol
// (net-snmp drops what it cannot decrypt). An answer gosnmp finds not
// authentic is checked with one unauthenticated probe, which tells an
// unknown user from a wrong authentication password.
func (s *Session) diagnoseV3(ctx context.Context, op string, err error, hadEngine bool) error {
	switch {
	case isTimeout(err) && !hadEngine && s.engineID() != "" && s.g.MsgFlags&gosnmp.AuthPriv == gosnmp.AuthPriv:
		return failure(op, fmt.Sprintf("the agent answered engine discovery but not the encrypted request: wrong privacy password or protocol (%s)",
			s.cfg.V3.PrivProto), ErrPriv, ErrAuth)
	case isAuthText(err) && !errors.Is(err, gosnmp.ErrDecryption):
		probe := &gosnmp.GoSNMP{Target: s.host, Port: s.port, Transport: "udp", Version: gosnmp.Version3,
			Timeout: s.cfg.Timeout, Retries: 0, Context: ctx, SecurityModel: gosnmp.UserSecurityModel,
			MsgFlags: gosnmp.NoAuthNoPriv, ContextName: s.cfg.V3.ContextName,
			SecurityParameters: &gosnmp.UsmSecurityParameters{UserName: s.cfg.V3.User,
				AuthenticationProtocol: gosnmp.NoAuth, PrivacyProtocol: gosnmp.NoPriv}}
		if cerr := probe.Connect(); cerr != nil {
			return nil
		}
		defer probe.Close()
		_, perr := probe.Get([]string{".1.3.6.1.2.1.1.3.0"})
		if errors.Is(perr, gosnmp.ErrUnknownUsername) {
			return failure(op, fmt.Sprintf("%q", s.cfg.V3.User), ErrUnknownUser, ErrAuth)
		}
		return failure(op, fmt.Sprintf("answer not authentic: wrong authentication password or protocol (%s)",
			s.cfg.V3.AuthProto), ErrAuth)
	}
	return nil
}
