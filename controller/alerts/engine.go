package alerts

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/ngic/ngic/telemetry"
)

// Publisher publishes MQTT messages; the controller's broker client is
// one. Publish returns once the broker has the message (QoS 1) or ctx ends.
// An empty retained payload clears the topic's retained message.
type Publisher interface {
	Publish(ctx context.Context, topic string, payload []byte, retained bool) error
}

// ErrDamaged is wrapped by New's error when the state file cannot be
// read: move it aside to start afresh (open alerts are then raised again
// as their conditions are seen).
var ErrDamaged = errors.New("alerts: state file damaged")

// Options are the engine's parts and knobs.
type Options struct {
	// StatePath is the JSON file holding the open alerts and the flap
	// history, rewritten atomically on every change ("": kept in memory
	// only).
	StatePath string
	// QueueDir holds the delivery queues (one spool file per webhook, one
	// for MQTT). Required when there is a webhook or a Publisher.
	QueueDir string
	// Publisher, when not nil, receives every alert on telemetry.AlertTopic.
	Publisher Publisher
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Tick is how often Run checks the timers (default DefaultTick).
	Tick time.Duration
	// RetryMin and RetryMax bound the backoff between delivery attempts
	// (default DefaultRetryMin, DefaultRetryMax).
	RetryMin, RetryMax time.Duration
	// Recent is how many alert changes Recent keeps (default DefaultRecent).
	Recent int
	// HTTPClient sends the webhooks (default: a client with no timeout of
	// its own; each webhook's Timeout bounds its POST).
	HTTPClient *http.Client
}

// Defaults of Options.
const (
	DefaultTick     = time.Second
	DefaultRetryMin = time.Second
	DefaultRetryMax = time.Minute
	DefaultRecent   = 1000
)

// DeviceRef names a polled device for Document.
type DeviceRef struct {
	// ID is the inventory device ID; Site its site.
	ID, Site string
	// Parent, when not empty, is the device it sits behind (see
	// SetTopology); it updates the topology for this device.
	Parent string
}

var _ Sink = (*Engine)(nil)

// Engine turns Signals into alerts and delivers them. Create it with New,
// run it with Run, and Close it when Run has returned.
type Engine struct {
	cfg    Config
	o      Options
	byKind map[string][]*Rule
	rules  map[string]*Rule
	sinks  []*sink
	wake   chan struct{}
	// invalid counts signals whose subject or key cannot make an alert.
	invalid atomic.Uint64

	mu      sync.Mutex
	conds   map[string]*cond
	parents map[string]string
	// cfgWindows come from the configuration (or SetMaintenance),
	// apiWindows from AddMaintenance, ordered by start.
	cfgWindows, apiWindows []Window
	subs                   map[*subscriber]struct{}
	subsDropped            atomic.Uint64
	recent                 []telemetry.Alert // ring, next at recentAt
	recentAt               int
	outbox                 []transition
	dirty                  bool
	stats                  counters
	stateErr               error
	closed                 bool
}

// cond is one condition (rule, subject, key) the engine tracks: pending,
// raised, held by flap damping, or only remembered for its flap history.
// Its Alert and Attrs are never changed in place (a new value replaces
// them), so that a copy of the cond can be saved outside the lock.
type cond struct {
	Rule    string            `json:"rule"`
	Subject Subject           `json:"subject"`
	Key     string            `json:"key,omitempty"`
	Active  bool              `json:"active,omitempty"`
	Since   time.Time         `json:"since"`
	Last    time.Time         `json:"last"`
	Summary string            `json:"summary,omitempty"`
	Attrs   map[string]string `json:"attrs,omitempty"`
	// Alert is the raised occurrence (firing or silenced), nil if none.
	Alert *telemetry.Alert `json:"alert,omitempty"`
	// Notified says whether webhooks were told the alert fired.
	Notified bool `json:"notified,omitempty"`
	// Suppressed says the alert is held back behind a down device.
	Suppressed bool `json:"suppressed,omitempty"`
	// Flaps are the times of the recent resolves.
	Flaps []time.Time `json:"flaps,omitempty"`
	// HoldUntil is when a flapping alert whose condition cleared resolves.
	HoldUntil time.Time `json:"hold_until,omitempty"`

	rule *Rule
}

// transition is an alert change waiting for delivery.
type transition struct {
	alert   telemetry.Alert
	webhook bool
}

type counters struct {
	raised, resolved, suppressed map[string]uint64 // by kind
	stateErrors, queueErrors     uint64
}

// New builds an engine from a configuration (validated again here, so a
// Config built in code gets its defaults) and opens its state and queues.
func New(cfg Config, o Options) (*Engine, error) {
	cfg.Rules = slices.Clone(cfg.Rules)
	cfg.Webhooks = slices.Clone(cfg.Webhooks)
	cfg.Maintenance = slices.Clone(cfg.Maintenance)
	if err := cfg.Validate(nil, "alerts"); err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Tick <= 0 {
		o.Tick = DefaultTick
	}
	if o.RetryMin <= 0 {
		o.RetryMin = DefaultRetryMin
	}
	if o.RetryMax < o.RetryMin {
		o.RetryMax = max(DefaultRetryMax, o.RetryMin)
	}
	if o.Recent <= 0 {
		o.Recent = DefaultRecent
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	e := &Engine{
		cfg: cfg, o: o,
		byKind:     map[string][]*Rule{},
		rules:      map[string]*Rule{},
		wake:       make(chan struct{}, 1),
		conds:      map[string]*cond{},
		parents:    map[string]string{},
		cfgWindows: configWindows(cfg.Maintenance),
		subs:       map[*subscriber]struct{}{},
		stats: counters{raised: map[string]uint64{}, resolved: map[string]uint64{},
			suppressed: map[string]uint64{}},
	}
	for i := range e.cfg.Rules {
		r := &e.cfg.Rules[i]
		e.byKind[r.Kind] = append(e.byKind[r.Kind], r)
		e.rules[r.Name] = r
	}
	if err := e.openSinks(); err != nil {
		return nil, err
	}
	if err := e.loadState(); err != nil {
		e.closeSinks()
		return nil, err
	}
	return e, nil
}

// condKey identifies a condition.
func condKey(rule string, s Subject, key string) string {
	return rule + "\x00" + s.Type + "\x00" + s.ID + "\x00" + key
}

// Signal takes one observation. It never blocks on disk or network: it
// drops signals no rule takes without locking, and leaves persistence and
// delivery to Run.
func (e *Engine) Signal(s Signal) {
	rules := e.byKind[s.Kind]
	if len(rules) == 0 {
		return
	}
	if !telemetry.ValidAlertSubject(s.Subject.Type, s.Subject.ID, s.Subject.Site) || len(s.Key) > telemetry.MaxAlertText {
		e.invalid.Add(1)
		return
	}
	locked, changed := false, false
	var now time.Time
	for _, r := range rules {
		if !r.matches(&s) {
			continue
		}
		if !locked {
			e.mu.Lock()
			locked = true
			now = e.o.Now()
		}
		changed = e.observe(r, &s, now) || changed
	}
	if locked {
		e.mu.Unlock()
	}
	if changed {
		e.notify()
	}
}

func (e *Engine) notify() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// observe applies a signal to the rule's condition; it reports whether an
// alert changed. Called with mu held.
func (e *Engine) observe(r *Rule, s *Signal, now time.Time) bool {
	t := s.Time
	if t.Year() < 1970 || t.After(now) {
		t = now
	}
	k := condKey(r.Name, s.Subject, s.Key)
	c := e.conds[k]
	if !s.Active {
		if c == nil || !c.Active {
			return false
		}
		return e.clear(c, now)
	}
	if c == nil {
		c = &cond{Rule: r.Name, Subject: s.Subject, Key: s.Key, rule: r}
		e.conds[k] = c
	}
	if s.Summary != "" {
		c.Summary = truncate(s.Summary, telemetry.MaxAlertText)
	}
	if s.Attrs != nil {
		c.Attrs = boundAttrs(s.Attrs)
	}
	if !c.Active {
		c.Active, c.Since, c.HoldUntil = true, t, time.Time{}
	}
	if t.After(c.Last) {
		c.Last = t
	}
	return e.evaluate(c, now)
}

// evaluate raises the condition's alert if it has held long enough.
func (e *Engine) evaluate(c *cond, now time.Time) bool {
	if !c.Active || c.Alert != nil || now.Sub(c.Since) < c.rule.After {
		return false
	}
	return e.raise(c, now)
}

// raise makes the condition's alert: suppressed behind a down device
// (recorded once, not delivered), silenced by a maintenance window, or
// firing.
func (e *Engine) raise(c *cond, now time.Time) bool {
	a := telemetry.Alert{
		V:        telemetry.SchemaVersion,
		ID:       telemetry.AlertID(c.Rule, c.Subject.Type, c.Subject.ID, c.Key, c.Since),
		Rule:     c.Rule,
		Kind:     c.rule.Kind,
		Severity: c.rule.Severity,
		State:    telemetry.AlertFiring,
		Subject:  telemetry.AlertSubject{Type: c.Subject.Type, ID: c.Subject.ID, Site: c.Subject.Site},
		Key:      c.Key,
		Summary:  c.Summary,
		Attrs:    maps.Clone(c.Attrs),
		Started:  c.Since,
		Updated:  now,
	}
	if parent, down := e.behindDown(c.Subject); down {
		if !c.Suppressed {
			c.Suppressed = true
			a.State, a.Reason = telemetry.AlertSuppressed, "behind device "+parent+", which is down"
			e.stats.suppressed[a.Kind]++
			e.remember(a)
		}
		return false
	}
	c.Suppressed = false
	if w, ok := e.window(c.Subject, now); ok {
		a.State, a.Reason = telemetry.AlertSilenced, windowReason(w)
	}
	c.Alert = &a
	c.Notified = a.State == telemetry.AlertFiring
	e.stats.raised[a.Kind]++
	e.emit(a, c.Notified)
	return true
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// boundAttrs copies attrs within the bounds of an alert's: names too long
// are left out, values cut, and beyond MaxAlertAttrs the names last in
// order are left out.
func boundAttrs(attrs map[string]string) map[string]string {
	out := make(map[string]string, min(len(attrs), telemetry.MaxAlertAttrs))
	keys := slices.Sorted(maps.Keys(attrs))
	for _, k := range keys {
		if len(out) == telemetry.MaxAlertAttrs {
			break
		}
		if k != "" && len(k) <= telemetry.MaxAlertName {
			out[k] = truncate(attrs[k], telemetry.MaxAlertText)
		}
	}
	return out
}

// clear ends the condition: its alert resolves, or stays firing if it
// flaps.
func (e *Engine) clear(c *cond, now time.Time) bool {
	c.Active = false
	if c.Alert == nil {
		c.Suppressed = false
		e.forget(c, now)
		return false
	}
	f := e.cfg.Flap
	if !f.Disabled {
		c.Flaps = recentTimes(c.Flaps, now.Add(-f.Window))
		if len(c.Flaps) >= f.Count {
			c.HoldUntil = now.Add(f.Hold)
			if !c.Alert.Flapping {
				a := *c.Alert // copied on write: a saved snapshot may hold the old one
				a.Flapping, a.Updated = true, now
				c.Alert = &a
				e.emit(a, false)
				return true
			}
			e.dirty = true
			return false
		}
	}
	e.resolve(c, now)
	return true
}

// recentTimes drops the times before since.
func recentTimes(ts []time.Time, since time.Time) []time.Time {
	i := 0
	for i < len(ts) && ts[i].Before(since) {
		i++
	}
	return ts[i:]
}

// resolve resolves the condition's alert.
func (e *Engine) resolve(c *cond, now time.Time) {
	a := *c.Alert
	a.State, a.Reason, a.Flapping = telemetry.AlertResolved, "", false
	if now.Before(a.Started) {
		now = a.Started
	}
	a.Resolved, a.Updated = &now, now
	e.stats.resolved[a.Kind]++
	e.emit(a, c.Notified)
	c.Alert, c.Notified, c.HoldUntil = nil, false, time.Time{}
	c.Flaps = append(c.Flaps, now)
	e.forget(c, now)
}

// forget drops a condition that neither holds nor has an alert nor a
// flap history within the window.
func (e *Engine) forget(c *cond, now time.Time) {
	if c.Active || c.Alert != nil {
		return
	}
	c.Flaps = recentTimes(c.Flaps, now.Add(-e.cfg.Flap.Window))
	if len(c.Flaps) == 0 || e.cfg.Flap.Disabled {
		delete(e.conds, condKey(c.Rule, c.Subject, c.Key))
	}
	e.dirty = true
}

// emit queues an alert change for delivery and remembers it.
func (e *Engine) emit(a telemetry.Alert, webhook bool) {
	e.outbox = append(e.outbox, transition{alert: a, webhook: webhook})
	e.dirty = true
	e.remember(a)
}

// remember adds an alert change to the recent ones and hands it to the
// subscribers.
func (e *Engine) remember(a telemetry.Alert) {
	e.publishLocal(a)
	e.dirty = true // the recent changes are saved too
	if len(e.recent) < e.o.Recent {
		e.recent = append(e.recent, a)
		return
	}
	e.recent[e.recentAt] = a
	e.recentAt = (e.recentAt + 1) % len(e.recent)
}

// behindDown returns the nearest device above s (in the topology) whose
// device-down condition holds.
func (e *Engine) behindDown(s Subject) (string, bool) {
	if s.Type != SubjectDevice {
		return "", false
	}
	p := e.parents[s.ID]
	for hops := 0; p != "" && hops < 64; hops++ {
		for _, r := range e.byKind[KindDeviceDown] {
			if c := e.conds[condKey(r.Name, Subject{Type: SubjectDevice, ID: p}, "")]; c != nil && c.Active {
				return p, true
			}
		}
		p = e.parents[p]
	}
	return "", false
}

// advance runs the timers at now: one-shot conditions whose clear_after
// passed clear, pending ones whose after passed raise, suppressed ones
// whose parent came back raise, flapping alerts quiet for the hold
// resolve, open alerts whose subject a window now covers are silenced,
// silenced alerts whose window ended fire, and run-time windows that
// ended are dropped.
func (e *Engine) advance(now time.Time) {
	e.mu.Lock()
	changed := false
	ix := e.windowsAt(now)
	for _, c := range e.conds {
		if c.Active && oneShot[c.rule.Kind] && !now.Before(c.Last.Add(c.rule.ClearAfter)) {
			changed = e.clear(c, now) || changed
		}
		switch {
		case c.Active && c.Alert == nil:
			changed = e.evaluate(c, now) || changed
		case c.Alert != nil && !c.Active && !c.HoldUntil.IsZero() && !now.Before(c.HoldUntil):
			e.resolve(c, now)
			changed = true
		case !c.Active && c.Alert == nil:
			e.forget(c, now)
		}
		if c.Alert != nil {
			changed = e.rewindow(c, ix, now) || changed
		}
	}
	e.pruneWindows(now)
	e.mu.Unlock()
	if changed {
		e.notify()
	}
}

// SetTopology replaces the topology: parents maps a device ID to the ID of
// the device it sits behind. An alert of a device behind one whose
// device-down condition holds is suppressed.
func (e *Engine) SetTopology(parents map[string]string) {
	e.mu.Lock()
	e.parents = maps.Clone(parents)
	if e.parents == nil {
		e.parents = map[string]string{}
	}
	e.mu.Unlock()
}

// Open returns the open alerts (firing or silenced), oldest first.
func (e *Engine) Open() []telemetry.Alert {
	e.mu.Lock()
	var out []telemetry.Alert
	for _, c := range e.conds {
		if c.Alert != nil {
			out = append(out, cloneAlert(*c.Alert))
		}
	}
	e.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Started.Equal(out[j].Started) {
			return out[i].Started.Before(out[j].Started)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Recent returns up to n of the latest alert changes (raised, silenced,
// suppressed, resolved), newest first.
func (e *Engine) Recent(n int) []telemetry.Alert {
	e.mu.Lock()
	defer e.mu.Unlock()
	n = min(n, len(e.recent))
	out := make([]telemetry.Alert, 0, n)
	for i := 0; i < n; i++ {
		j := (e.recentAt - 1 - i + 2*len(e.recent)) % len(e.recent)
		out = append(out, cloneAlert(e.recent[j]))
	}
	return out
}

// Run drives the timers and the delivery until ctx ends, then returns
// ctx.Err(). Call it once.
func (e *Engine) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for _, s := range e.sinks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.run(ctx, e.o.RetryMin, e.o.RetryMax)
		}()
	}
	t := time.NewTicker(e.o.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			e.flush()
			return ctx.Err()
		case <-t.C:
			e.advance(e.o.Now())
			e.flush()
		case <-e.wake:
			e.flush()
		}
	}
}

// flush saves the state if it changed and queues the alert changes for
// delivery.
func (e *Engine) flush() {
	e.mu.Lock()
	out := e.outbox
	e.outbox = nil
	var snap *stateFile
	if e.dirty {
		snap = e.snapshotState()
		e.dirty = false
	}
	e.mu.Unlock()
	var err error
	if snap != nil {
		err = e.saveState(snap)
	}
	if err != nil {
		e.mu.Lock()
		e.stats.stateErrors++
		e.stateErr = err
		e.dirty = true
		e.mu.Unlock()
	}
	if len(out) > 0 {
		e.enqueue(out)
	}
}

// StateError returns the last failure to save the state, or nil.
func (e *Engine) StateError() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stateErr
}

// Close saves the state, closes the queues and ends the subscriptions
// (their channels close). Call it after Run returned.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.closeSubscribers()
	e.mu.Unlock()
	e.flush()
	err := e.StateError()
	return errors.Join(err, e.closeSinks())
}
