package rollout

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ngic/ngic/internal/bundle"
	"github.com/ngic/ngic/telemetry"
)

// DownloadPath is the path, under the controller's base URL, a gateway
// downloads a bundle from: DownloadPath + its SHA-256.
const DownloadPath = "/api/v1/bundles/"

// Defaults of Options.
const (
	DefaultTick = time.Second
	// MaxActive bounds the rollouts running or paused at once.
	MaxActive = 100
	// MaxKept bounds the rollouts kept; the oldest ended ones go first.
	MaxKept = 1000
	// MaxQueued bounds the update reports waiting for a Step.
	MaxQueued = 1 << 20
)

// Publisher publishes on the broker at QoS 1 and returns once the broker
// took the message (controller/broker.Publisher).
type Publisher interface {
	Publish(ctx context.Context, topic string, payload []byte, retained bool) error
}

// Options configure a Manager.
type Options struct {
	// Dir is the folder of the rollouts' state files (created if absent).
	Dir string
	// Bundles is the bundles folder.
	Bundles *Bundles
	// BaseURL is the controller's URL as gateways reach it: https, or
	// http to a loopback address.
	BaseURL string
	// Publisher publishes the commands.
	Publisher Publisher
	// Targets returns the gateways of the inventory in a region's subtree
	// or at a site (both empty: every gateway); an unknown region or site
	// is an error wrapping ErrInvalid.
	Targets func(region, site string) ([]string, error)
	// Versions returns the version each gateway's latest status says it
	// runs ("" or absent when unknown).
	Versions func() map[string]string
	// Leader, when set, returns nil when this controller runs rollouts,
	// else an error saying which does (ErrNotLeader is wrapped).
	Leader func() error
	// Timeout is the per-gateway timeout of a Spec without one (default
	// DefaultTimeout).
	Timeout time.Duration
	// Tick is how often Run moves the rollouts on (default DefaultTick).
	Tick time.Duration
	// Errors receives Run's errors (publishing, saving); nil drops them.
	Errors func(error)
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Manager runs the rollouts. It is safe for concurrent use.
type Manager struct {
	o     Options
	store store
	kick  chan struct{}

	mu       sync.Mutex
	rollouts map[string]*Rollout
	dirty    map[string]bool
	lastErr  string

	// qmu guards the reports Observe queued for the next Step, and the
	// count of those dropped.
	qmu     sync.Mutex
	queue   []queued
	dropped uint64
}

// Open checks the options and reads the rollouts of o.Dir. Commands of
// the active rollouts are published again by the next Step.
func Open(o Options) (*Manager, error) {
	switch {
	case o.Dir == "":
		return nil, errors.New("rollout: no state folder")
	case o.Bundles == nil || o.Publisher == nil || o.Targets == nil || o.Versions == nil:
		return nil, errors.New("rollout: bundles, publisher, targets and versions are needed")
	}
	if err := CheckBaseURL(o.BaseURL); err != nil {
		return nil, err
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Tick == 0 {
		o.Tick = DefaultTick
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Timeout < MinTimeout || o.Timeout > MaxTimeout || o.Tick < 0 {
		return nil, fmt.Errorf("rollout: timeout %v not within %v..%v", o.Timeout, MinTimeout, MaxTimeout)
	}
	m := &Manager{o: o, store: store{o.Dir}, kick: make(chan struct{}, 1), rollouts: map[string]*Rollout{},
		dirty: map[string]bool{}}
	rs, err := m.store.load()
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		for i := range r.Gateways {
			r.Gateways[i].Published = false // published again at start
		}
		m.rollouts[r.ID] = r
	}
	return m, nil
}

// CheckBaseURL checks a base URL for the commands: https with a host, or
// http to a loopback address, without credentials, query or fragment.
func CheckBaseURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("rollout: base URL: %w", err)
	}
	host := u.Hostname()
	switch {
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return errors.New("rollout: base URL: no credentials, query or fragment")
	case u.Scheme == "https" && host != "":
	case u.Scheme == "http" && isLoopback(host):
	default:
		return fmt.Errorf("rollout: base URL %q is neither https nor http to a loopback address", s)
	}
	return nil
}

// Leader reports nil when this controller runs rollouts.
func (m *Manager) leader() error {
	if m.o.Leader == nil {
		return nil
	}
	return m.o.Leader()
}

// Create makes a rollout of spec by the token by: the bundle is verified
// against the trusted keys, the targets chosen (those running an older
// version than the bundle's), and the waves planned. Its first wave
// starts at the next Step.
func (m *Manager) Create(spec Spec, by string) (*Rollout, error) {
	if err := m.leader(); err != nil {
		return nil, err
	}
	spec.fill(m.o.Timeout)
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	b, err := m.o.Bundles.Verify(spec.Bundle)
	if err != nil {
		return nil, err
	}
	want, err := bundle.ParseVersion(b.Version)
	if err != nil {
		return nil, fmt.Errorf("%w: bundle %s: version: %v", ErrInvalid, b.File, err)
	}
	names, err := m.targets(&spec)
	if err != nil {
		return nil, err
	}
	now := m.o.Now().UTC()
	var random [3]byte
	rand.Read(random[:])
	r := &Rollout{ID: newID(now, random[:]), By: by, State: StateRunning, Spec: spec, Bundle: b, Created: now,
		Changed: now, URL: strings.TrimRight(m.o.BaseURL, "/") + DownloadPath + b.SHA256}
	versions := m.o.Versions()
	var targets []Gateway
	for _, n := range names {
		v := versions[n]
		have, err := bundle.ParseVersion(v)
		switch {
		case v == "":
			r.Skipped = append(r.Skipped, Skipped{Name: n, Reason: "no status tells its version yet"})
		case err != nil:
			r.Skipped = append(r.Skipped, Skipped{Name: n, Reason: fmt.Sprintf("runs %q, not a semantic version", v)})
		case have.Compare(want) >= 0:
			r.Skipped = append(r.Skipped, Skipped{Name: n, Reason: "runs " + v + " already"})
		default:
			targets = append(targets, Gateway{Name: n, From: v})
		}
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("%w: none of the %d gateways targeted runs a version older than %s", ErrInvalid,
			len(names), b.Version)
	}
	if len(targets) > MaxTargets {
		return nil, fmt.Errorf("%w: %d gateways targeted, more than %d: split the rollout", ErrInvalid, len(targets), MaxTargets)
	}
	plan(r, targets)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.drain()
	if err := m.checkFree(r); err != nil {
		return nil, err
	}
	if _, ok := m.rollouts[r.ID]; ok { // the same second and random bits
		return nil, fmt.Errorf("%w: rollout ID %s taken: try again", ErrConflict, r.ID)
	}
	if err := m.store.save(r); err != nil {
		return nil, err
	}
	m.rollouts[r.ID] = r
	m.prune()
	m.wake()
	return r.clone(), nil
}

// targets returns the gateway names spec targets.
func (m *Manager) targets(spec *Spec) ([]string, error) {
	names, err := m.o.Targets(spec.Region, spec.Site)
	if err != nil {
		return nil, err
	}
	if len(spec.Gateways) == 0 {
		if len(names) == 0 {
			return nil, fmt.Errorf("%w: no gateway in the inventory there", ErrInvalid)
		}
		return names, nil
	}
	known := make(map[string]bool, len(names))
	for _, n := range names {
		known[n] = true
	}
	for _, g := range spec.Gateways {
		if !known[g] {
			return nil, fmt.Errorf("%w: gateway %s is not in the inventory", ErrInvalid, g)
		}
	}
	return spec.Gateways, nil
}

// checkFree refuses a rollout when too many are active, or when one of
// its gateways is in an active rollout or has a withdrawal not yet
// published. Called with m.mu.
func (m *Manager) checkFree(r *Rollout) error {
	active := 0
	busy := map[string]string{}
	for _, o := range m.rollouts {
		if o.Active() {
			active++
		}
		for _, g := range o.Gateways {
			// Its gateways still to update, and the withdrawals not yet
			// published (one would erase the new command).
			if (o.Active() && !final(g.State)) || (g.State == GatewayWithdrawn && !g.Published) {
				busy[g.Name] = o.ID
			}
		}
	}
	if active >= MaxActive {
		return fmt.Errorf("%w: %d rollouts are active already", ErrConflict, active)
	}
	for _, g := range r.Gateways {
		if id, ok := busy[g.Name]; ok {
			return fmt.Errorf("%w: gateway %s is in rollout %s", ErrConflict, g.Name, id)
		}
	}
	return nil
}

// prune forgets the oldest ended rollouts beyond MaxKept. Called with
// m.mu.
func (m *Manager) prune() {
	if len(m.rollouts) <= MaxKept {
		return
	}
	var ended []*Rollout
	for _, r := range m.rollouts {
		if !r.Active() && !r.pendingWithdrawals() {
			ended = append(ended, r)
		}
	}
	sort.Slice(ended, func(i, j int) bool { return ended[i].Changed.Before(ended[j].Changed) })
	for _, r := range ended[:max(0, min(len(ended), len(m.rollouts)-MaxKept))] {
		delete(m.rollouts, r.ID)
		removeFile(m.store.path(r.ID))
	}
}

// pendingWithdrawals reports whether a withdrawal is not yet published.
func (r *Rollout) pendingWithdrawals() bool {
	for _, g := range r.Gateways {
		if g.State == GatewayWithdrawn && !g.Published {
			return true
		}
	}
	return false
}

// List returns the rollouts' summaries, newest first.
func (m *Manager) List() ([]Summary, error) {
	if err := m.leader(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.drain()
	out := make([]Summary, 0, len(m.rollouts))
	for _, r := range m.rollouts {
		out = append(out, r.Summary())
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Created.After(out[j].Created) || out[i].Created.Equal(out[j].Created) && out[i].ID > out[j].ID
	})
	return out, nil
}

// Get returns the rollout id, with each wave's and gateway's state.
func (m *Manager) Get(id string) (*Rollout, error) {
	if err := m.leader(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.find(id)
	if err != nil {
		return nil, err
	}
	return r.clone(), nil
}

// find returns the rollout id, the queued reports applied. Called with
// m.mu.
func (m *Manager) find(id string) (*Rollout, error) {
	m.drain()
	r, ok := m.rollouts[id]
	if !ok {
		return nil, fmt.Errorf("%w: no rollout %q", ErrNotFound, id)
	}
	return r, nil
}

// Pause stops the rollout id from starting waves.
func (m *Manager) Pause(id, by string) (*Rollout, error) {
	return m.change(id, func(r *Rollout, now time.Time) error { return r.pause(now, by) })
}

// Resume lets the paused rollout id start waves again.
func (m *Manager) Resume(id, by string) (*Rollout, error) {
	return m.change(id, func(r *Rollout, now time.Time) error { return r.resume(now, by) })
}

// Abort ends the rollout id, withdrawing the commands no gateway acted on
// (published empty by the next Step).
func (m *Manager) Abort(id, by string) (*Rollout, error) {
	return m.change(id, func(r *Rollout, now time.Time) error { return r.abort(now, by) })
}

// change applies an operator's request to the rollout id and saves it.
func (m *Manager) change(id string, f func(*Rollout, time.Time) error) (*Rollout, error) {
	if err := m.leader(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.find(id)
	if err != nil {
		return nil, err
	}
	before := r.clone()
	if err := f(r, m.o.Now().UTC()); err != nil {
		return nil, err
	}
	if err := m.store.save(r); err != nil {
		*r = *before // not applied: the file says otherwise
		return nil, err
	}
	delete(m.dirty, id)
	m.wake()
	return r.clone(), nil
}

// Observe takes a gateway's status: its update report, when it is of a
// rollout's command, moves that rollout on. It only queues the report
// (at most MaxQueued; more are dropped and counted), so that the caller,
// the ingest, never waits for a rollout's file to be written; the next
// Step, or any request, applies it.
func (m *Manager) Observe(st *telemetry.Status) {
	if st == nil || st.Update == nil || st.Update.Rollout == "" {
		return
	}
	m.qmu.Lock()
	if len(m.queue) < MaxQueued {
		m.queue = append(m.queue, queued{gateway: st.Gateway, rep: *st.Update})
	} else {
		m.dropped++
	}
	m.qmu.Unlock()
	m.wake()
}

// queued is an update report waiting to be applied.
type queued struct {
	gateway string
	rep     telemetry.UpdateReport
}

// drain applies the queued reports. Called with m.mu.
func (m *Manager) drain() {
	m.qmu.Lock()
	q := m.queue
	m.queue = nil
	m.qmu.Unlock()
	now := m.o.Now().UTC()
	for i := range q {
		r, ok := m.rollouts[q[i].rep.Rollout]
		if ok && r.observe(q[i].gateway, &q[i].rep, now) {
			m.dirty[r.ID] = true
		}
	}
}

// Dropped returns the reports dropped because too many were queued.
func (m *Manager) Dropped() uint64 {
	m.qmu.Lock()
	defer m.qmu.Unlock()
	return m.dropped
}

// wake makes Run step now.
func (m *Manager) wake() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// message is a command or a withdrawal to publish.
type message struct {
	rollout, gateway string
	payload          []byte
}

// Step moves every rollout on at the clock's time: timeouts, halts, next
// waves, and saves what changed; then it publishes the commands and
// withdrawals not yet published. A replica that does not run rollouts
// does nothing.
func (m *Manager) Step(ctx context.Context) error {
	if m.leader() != nil {
		return nil
	}
	now := m.o.Now().UTC()
	var errs []error
	var out []message
	m.mu.Lock()
	m.drain()
	for id, r := range m.rollouts {
		if r.advance(now) {
			m.dirty[id] = true
		}
	}
	for id := range m.dirty {
		if err := m.store.save(m.rollouts[id]); err != nil {
			errs = append(errs, err)
			continue
		}
		delete(m.dirty, id)
	}
	for id, r := range m.rollouts {
		if m.dirty[id] {
			continue // what is not saved is not published
		}
		for _, g := range r.Gateways {
			if g.Published || (g.State != GatewaySent && g.State != GatewayWithdrawn) {
				continue
			}
			msg := message{rollout: id, gateway: g.Name}
			if g.State == GatewaySent {
				b, err := telemetry.EncodeUpdateCommand(&telemetry.UpdateCommand{V: telemetry.SchemaVersion,
					ID: r.CommandID(g.Name), Rollout: id, URL: r.URL, SHA256: r.Bundle.SHA256, Size: r.Bundle.Size,
					Version: r.Bundle.Version, Time: g.Sent})
				if err != nil {
					errs = append(errs, fmt.Errorf("rollout %s: command to %s: %w", id, g.Name, err))
					continue
				}
				msg.payload = b
			}
			out = append(out, msg)
		}
	}
	m.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].gateway < out[j].gateway })
	var done []message
	for _, msg := range out {
		if err := m.o.Publisher.Publish(ctx, telemetry.CommandTopic(msg.gateway, telemetry.CommandUpdate), msg.payload, true); err != nil {
			errs = append(errs, fmt.Errorf("rollout %s: publishing to %s: %w", msg.rollout, msg.gateway, err))
			break // the broker is away: the next step tries again
		}
		done = append(done, msg)
	}
	m.mu.Lock()
	for _, msg := range done {
		r := m.rollouts[msg.rollout]
		if g := r.gateway(msg.gateway); g != nil && (g.State == GatewaySent) == (msg.payload != nil) {
			g.Published = true
		}
	}
	m.mu.Unlock()
	err := errors.Join(errs...)
	m.mu.Lock()
	if err != nil {
		m.lastErr = err.Error()
	} else {
		m.lastErr = ""
	}
	m.mu.Unlock()
	return err
}

// Run steps every Tick, and at once after a change, until ctx ends.
func (m *Manager) Run(ctx context.Context) error {
	t := time.NewTicker(m.o.Tick)
	defer t.Stop()
	last := ""
	for {
		// An error is told once, not at every tick while it lasts.
		if err := m.Step(ctx); err != nil && m.o.Errors != nil && ctx.Err() == nil && err.Error() != last {
			m.o.Errors(err)
			last = err.Error()
		} else if err == nil {
			last = ""
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-m.kick:
		}
	}
}

// Bundle opens the bundle file whose SHA-256 is sum (64 lower-case hex
// digits), for a download; ErrNotFound when there is none. The file is
// public: it is signed, and a gateway checks it.
func (m *Manager) Bundle(sum string) (*os.File, error) { return m.o.Bundles.Open(sum) }

// Err returns the last Step's error, "" when it went well.
func (m *Manager) Err() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lastErr
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// removeFile removes a forgotten rollout's file; one left behind is read
// again at the next start, which does no harm.
func removeFile(path string) { os.Remove(path) }
