// Package poller is the controller's polling of its inventory: every device
// of devices.csv on the SNMP scheduler, each device's latest document, its
// state (up, down, or refusing the credentials) with the time of the last
// change, and a bounded history of its rates, all kept in memory so that
// the controller works (and serves its API) without InfluxDB, and saved to
// a snapshot on disk so that a restart does not start from zero. The
// inventory may change while it runs (SetDevices): the devices that stay
// keep their state.
package poller

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ngic/ngic/controller/config"
	"github.com/ngic/ngic/controller/device"
	"github.com/ngic/ngic/controller/snmp"
)

// State is what the controller knows of a device's reachability.
type State string

// Device states.
const (
	// StateUnknown: not polled yet.
	StateUnknown State = "unknown"
	// StateUp: the last poll got a document.
	StateUp State = "up"
	// StateDown: the last poll got no answer (or one that could not be used).
	StateDown State = "down"
	// StateAuthFailed: the device answers but refuses the SNMPv3
	// credentials (authentication or privacy): a configuration matter, not
	// an outage.
	StateAuthFailed State = "auth-failed"
)

// States lists every state, in the order metrics show them.
var States = []State{StateUnknown, StateUp, StateDown, StateAuthFailed}

// Defaults of Options.
const (
	DefaultHistory       = 120
	DefaultSnapshotEvery = time.Minute
)

// Options configures a Poller.
type Options struct {
	// Concurrency bounds the devices polled at once (default
	// snmp.DefaultMaxConcurrent).
	Concurrency int
	// Profiles are the device profiles (default device.DefaultProfiles).
	Profiles *device.ProfileSet
	// History is the number of samples of rates kept per device (default
	// DefaultHistory).
	History int
	// SnapshotPath is the file the state is saved to and read back from at
	// New; empty keeps no snapshot.
	SnapshotPath string
	// SnapshotEvery is how often Run saves the snapshot (default
	// DefaultSnapshotEvery); Close saves it too.
	SnapshotEvery time.Duration
	// Observer is told of every finished poll (may be nil). It runs on the
	// poll's goroutine and must not block for long.
	Observer func(p *Poll)
	// Dial opens SNMP sessions (default snmp.Dial), for tests.
	Dial snmp.DialFunc
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Poll is one finished poll, as Options.Observer sees it.
type Poll struct {
	// Device is the device's configuration.
	Device config.DeviceConfig
	// State is the state after this poll, Previous the one before.
	State, Previous State
	// Start and Duration time the poll.
	Start    time.Time
	Duration time.Duration
	// Varbinds counts the objects the agent returned.
	Varbinds int
	// Err is the poll's error (nil when State is StateUp).
	Err error
	// Warnings are what a broken agent left out.
	Warnings []error
	// Document is the new document (nil unless State is StateUp).
	Document *device.Document
	// PrevDocument is what is kept of the device's previous document (nil
	// before the first, and after a restart): its class and access
	// figures (PON ports, DSL summary, cable totals, TV), without its
	// interfaces and DSL lines.
	PrevDocument *device.Document
}

// Sample is one point of a device's rate history: totals over its
// interfaces and its access figures, at one poll. A figure the device did
// not tell is absent.
type Sample struct {
	// Time is the poll's time.
	Time time.Time `json:"time"`
	// InBps and OutBps sum the interfaces' rates (bits per second).
	InBps  *float64 `json:"in_bps,omitempty"`
	OutBps *float64 `json:"out_bps,omitempty"`
	// IfUp and IfTotal count interfaces up and all.
	IfUp    int `json:"if_up"`
	IfTotal int `json:"if_total"`
	// ONTsOnline, ModemsOnline and DSLShowtime are access totals.
	ONTsOnline   *int `json:"onts_online,omitempty"`
	ModemsOnline *int `json:"modems_online,omitempty"`
	DSLShowtime  *int `json:"dsl_showtime,omitempty"`
}

// DeviceState is what the poller knows of one device.
type DeviceState struct {
	// ID, Site, Parent and Target identify the device.
	ID     string `json:"id"`
	Site   string `json:"site"`
	Parent string `json:"parent,omitempty"`
	Target string `json:"target"`
	// State and Since: the state and when it last changed.
	State State     `json:"state"`
	Since time.Time `json:"since"`
	// LastPoll is when the last poll started, LastSuccess when the last
	// successful one did.
	LastPoll    time.Time `json:"last_poll"`
	LastSuccess time.Time `json:"last_success"`
	// LastError is the last failed poll's error text ("" after a success).
	LastError string `json:"last_error,omitempty"`
	// LastDuration and Varbinds describe the last poll.
	LastDuration time.Duration `json:"last_duration_ns"`
	Varbinds     int           `json:"varbinds"`
	// Polls and Failures count the polls since the state was first kept.
	Polls    uint64 `json:"polls"`
	Failures uint64 `json:"failures"`
	// Document is the latest document (nil before the first success; nil
	// too in what Devices returns: Device gives it).
	Document *device.Document `json:"document,omitempty"`
	// History is the rate history, oldest first.
	History []Sample `json:"history,omitempty"`
}

// Poller polls the inventory's devices. Its methods are safe for
// concurrent use.
type Poller struct {
	opts  Options
	sched *snmp.Scheduler
	rates *device.Rates
	m     *metrics

	mu      sync.RWMutex
	devices map[string]*entry
	// order is devices' entries in the order SetDevices was given them
	// (EachState's).
	order []*entry
	// saved holds the snapshot's states of devices not (yet) in the
	// inventory, so a device that comes back keeps its history.
	saved map[string]*savedState

	snapMu    sync.Mutex // one snapshot at a time
	snapshots atomic.Uint64
	snapErr   atomic.Pointer[string]
}

// entry is one device: its configuration and state.
type entry struct {
	cfg config.DeviceConfig
	mu  sync.Mutex
	st  DeviceState
	// frozen is the latest document, frozen; skel what is kept of it for
	// the next poll's comparison; class its class.
	frozen []byte
	skel   *device.Document
	// hist is a ring of at most max samples, grown as they come; next is
	// where the next one goes once it is full.
	hist []sample
	max  int
	next int
}

// sample is a Sample as the ring keeps it: 32 bytes without pointers, so
// that 10,000 devices with two hours of history hold under 40 MB and
// give the garbage collector nothing to scan. Absent figures are NaN or -1.
type sample struct {
	unix                int64
	in, out             float32
	ifUp, ifTotal       uint16
	onts, modems, dslUp int32
}

// absent marks a count the device did not tell.
const absent = -1

func packSample(s Sample) sample {
	p := sample{unix: s.Time.Unix(), in: float32(math.NaN()), out: float32(math.NaN()),
		ifUp: clamp16(s.IfUp), ifTotal: clamp16(s.IfTotal), onts: absent, modems: absent, dslUp: absent}
	if s.InBps != nil {
		p.in = float32(*s.InBps)
	}
	if s.OutBps != nil {
		p.out = float32(*s.OutBps)
	}
	if s.ONTsOnline != nil {
		p.onts = int32(min(*s.ONTsOnline, math.MaxInt32))
	}
	if s.ModemsOnline != nil {
		p.modems = int32(min(*s.ModemsOnline, math.MaxInt32))
	}
	if s.DSLShowtime != nil {
		p.dslUp = int32(min(*s.DSLShowtime, math.MaxInt32))
	}
	return p
}

func (p sample) unpack() Sample {
	s := Sample{Time: time.Unix(p.unix, 0).UTC(), IfUp: int(p.ifUp), IfTotal: int(p.ifTotal)}
	if !math.IsNaN(float64(p.in)) {
		v := float64(p.in)
		s.InBps = &v
	}
	if !math.IsNaN(float64(p.out)) {
		v := float64(p.out)
		s.OutBps = &v
	}
	for _, c := range []struct {
		v   int32
		dst **int
	}{{p.onts, &s.ONTsOnline}, {p.modems, &s.ModemsOnline}, {p.dslUp, &s.DSLShowtime}} {
		if c.v != absent {
			n := int(c.v)
			*c.dst = &n
		}
	}
	return s
}

func clamp16(n int) uint16 { return uint16(min(max(n, 0), math.MaxUint16)) }

// New returns a Poller with no device, reading the snapshot if there is
// one (a snapshot that cannot be read is an error naming the file: move
// it aside to start afresh).
func New(o Options) (*Poller, error) {
	if o.Profiles == nil {
		set, err := device.DefaultProfiles()
		if err != nil {
			return nil, fmt.Errorf("poller: %w", err)
		}
		o.Profiles = set
	}
	if o.History < 0 {
		return nil, fmt.Errorf("poller: History %d is negative", o.History)
	}
	if o.History == 0 {
		o.History = DefaultHistory
	}
	if o.SnapshotEvery <= 0 {
		o.SnapshotEvery = DefaultSnapshotEvery
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	sched, err := snmp.NewScheduler(snmp.SchedulerConfig{MaxConcurrent: o.Concurrency, Dial: o.Dial})
	if err != nil {
		return nil, fmt.Errorf("poller: %w", err)
	}
	p := &Poller{opts: o, sched: sched, rates: device.NewRates(), devices: map[string]*entry{},
		saved: map[string]*savedState{}}
	p.m = newMetrics(p)
	if o.SnapshotPath != "" {
		// A snapshot being written when the process died left its
		// temporary file: the previous snapshot is whole, the file is not.
		if stale, _ := filepath.Glob(o.SnapshotPath + ".tmp-*"); len(stale) > 0 {
			for _, f := range stale {
				os.Remove(f)
			}
		}
		saved, err := readSnapshot(o.SnapshotPath)
		if err != nil {
			return nil, err
		}
		for _, st := range saved {
			p.saved[st.ID] = st
		}
	}
	return p, nil
}

// Change says what SetDevices did.
type Change struct {
	// Added, Removed and Changed are device IDs.
	Added, Removed, Changed []string
}

// SetDevices makes devs the devices polled: new ones are scheduled (with
// the state a snapshot kept of them), removed ones stop, changed ones
// (address, credentials, interval...) are rescheduled keeping their state,
// and the others go on untouched.
func (p *Poller) SetDevices(devs []config.DeviceConfig) (Change, error) {
	var ch Change
	// devs sorted by ID (a copy of the slice's pointers, not of the
	// devices), so that duplicates sit side by side and the scheduler
	// gets them in order; every step below is linear in devs after it.
	order := make([]*config.DeviceConfig, len(devs))
	for i := range devs {
		order[i] = &devs[i]
	}
	slices.SortFunc(order, func(a, b *config.DeviceConfig) int { return strings.Compare(a.ID, b.ID) })
	for i := 1; i < len(order); i++ {
		if order[i].ID == order[i-1].ID {
			return ch, fmt.Errorf("poller: device %s given twice", order[i].ID)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	defer p.setOrder(devs)
	keep := make(map[string]struct{}, len(order))
	for _, d := range order {
		keep[d.ID] = struct{}{}
	}
	for id := range p.devices {
		if _, ok := keep[id]; !ok {
			p.sched.RemoveDevice(id)
			p.rates.Forget(id)
			delete(p.devices, id)
			ch.Removed = append(ch.Removed, id)
		}
	}
	keep = nil
	for _, d := range order {
		id := d.ID
		e, ok := p.devices[id]
		switch {
		case ok && e.cfg == *d:
			continue
		case ok:
			p.sched.RemoveDevice(id)
			if e.cfg.SNMP.Target != d.SNMP.Target {
				p.rates.Forget(id) // another agent: its counters start afresh
			}
			e.mu.Lock()
			e.cfg = *d
			e.st.Site, e.st.Parent, e.st.Target = d.Site, d.Parent, d.SNMP.Target
			e.mu.Unlock()
			ch.Changed = append(ch.Changed, id)
		default:
			e = p.newEntry(*d)
			p.devices[id] = e
			ch.Added = append(ch.Added, id)
		}
		if err := p.sched.AddDevice(snmp.Device{ID: id, Config: d.SNMP, Interval: d.Interval,
			Poll: p.pollFunc(e)}); err != nil {
			return ch, fmt.Errorf("poller: device %s: %w", id, err)
		}
	}
	sort.Strings(ch.Removed)
	p.saved = map[string]*savedState{} // the snapshot's devices no longer in the inventory
	return ch, nil
}

// setOrder makes the order of devs EachState's, leaving out the devices
// SetDevices did not keep (under p.mu).
func (p *Poller) setOrder(devs []config.DeviceConfig) {
	p.order = p.order[:0]
	for i := range devs {
		if e, ok := p.devices[devs[i].ID]; ok {
			p.order = append(p.order, e)
		}
	}
	clear(p.order[len(p.order):cap(p.order)]) // no removed entry kept alive
}

// newEntry makes a device's entry, with its saved state if any.
func (p *Poller) newEntry(d config.DeviceConfig) *entry {
	e := &entry{cfg: d, max: p.opts.History}
	if s, ok := p.saved[d.ID]; ok {
		e.st = s.DeviceState
		for _, h := range s.History {
			e.push(h)
		}
		e.st.History, e.st.Document = nil, nil
		e.frozen = s.frozen
		delete(p.saved, d.ID)
	} else {
		e.st = DeviceState{ID: d.ID, State: StateUnknown, Since: p.opts.Now()}
	}
	e.st.Site, e.st.Parent, e.st.Target = d.Site, d.Parent, d.SNMP.Target
	return e
}

func (e *entry) push(s Sample) {
	if len(e.hist) < e.max {
		e.hist = append(e.hist, packSample(s))
		return
	}
	e.hist[e.next] = packSample(s)
	e.next = (e.next + 1) % len(e.hist)
}

// history returns the ring's samples, oldest first (under e.mu).
func (e *entry) history() []Sample {
	out := make([]Sample, 0, len(e.hist))
	for i := range e.hist {
		out = append(out, e.hist[(e.next+i)%len(e.hist)].unpack())
	}
	return out
}

// pollFunc is the scheduler's work for one device.
func (p *Poller) pollFunc(e *entry) snmp.PollFunc {
	return func(ctx context.Context, c snmp.Client) error {
		start := p.opts.Now()
		cc := &snmp.CountingClient{Client: c}
		doc, warns, err := device.Collect(ctx, cc, p.opts.Profiles)
		dur := p.opts.Now().Sub(start)
		state := StateUp
		switch {
		case err == nil:
			p.rates.Apply(e.cfg.ID, doc)
		case errors.Is(err, snmp.ErrAuth):
			state = StateAuthFailed
		default:
			state = StateDown
		}
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return err // the controller stops: not the device's doing
		}
		p.record(e, state, start, dur, int(cc.Varbinds), doc, warns, err)
		return err
	}
}

// record keeps a poll's outcome and tells the observer.
func (p *Poller) record(e *entry, state State, start time.Time, dur time.Duration, varbinds int,
	doc *device.Document, warns []error, err error) {
	e.mu.Lock()
	prevState, prevDoc := e.st.State, e.skel
	if state != prevState {
		e.st.Since = start.Add(dur)
	}
	e.st.State = state
	e.st.LastPoll, e.st.LastDuration, e.st.Varbinds = start, dur, varbinds
	e.st.Polls++
	if err != nil {
		e.st.Failures++
		e.st.LastError = err.Error()
	} else {
		e.st.LastError = ""
		e.st.LastSuccess = start
		e.skel = skeleton(doc)
		if f, ferr := freeze(doc); ferr == nil {
			e.frozen = f
		}
		e.push(sampleOf(doc, start))
	}
	cfg := e.cfg
	e.mu.Unlock()
	p.m.observe(state, dur, varbinds)
	if p.opts.Observer != nil {
		p.opts.Observer(&Poll{Device: cfg, State: state, Previous: prevState, Start: start, Duration: dur,
			Varbinds: varbinds, Err: err, Warnings: warns, Document: doc, PrevDocument: prevDoc})
	}
}

// sampleOf sums a document's figures into a history sample.
func sampleOf(d *device.Document, t time.Time) Sample {
	s := Sample{Time: t, IfTotal: len(d.Interfaces)}
	var in, out float64
	var haveIn, haveOut bool
	for i := range d.Interfaces {
		it := &d.Interfaces[i]
		if it.OperStatus == "up" {
			s.IfUp++
		}
		if it.InBps != nil {
			in += *it.InBps
			haveIn = true
		}
		if it.OutBps != nil {
			out += *it.OutBps
			haveOut = true
		}
	}
	if haveIn {
		s.InBps = &in
	}
	if haveOut {
		s.OutBps = &out
	}
	if a := d.Access; a != nil {
		if a.PON != nil && a.PON.ONTsOnline != nil {
			n := *a.PON.ONTsOnline
			s.ONTsOnline = &n
		}
		if a.Cable != nil && a.Cable.ModemsOnline != nil {
			n := *a.Cable.ModemsOnline
			s.ModemsOnline = &n
		}
		if a.DSL != nil && len(a.DSL.Summary) > 0 {
			n := 0
			for _, sum := range a.DSL.Summary {
				n += sum.Showtime
			}
			s.DSLShowtime = &n
		}
	}
	return s
}

// Run polls until ctx ends, saving the snapshot every SnapshotEvery, and
// saves it once more at the end.
func (p *Poller) Run(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(p.opts.SnapshotEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				p.Snapshot() // its error is kept for Health
			}
		}
	}()
	err := p.sched.Run(ctx)
	<-done
	if serr := p.Snapshot(); serr != nil && (err == nil || errors.Is(err, context.Canceled)) {
		return serr
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// Devices returns every device's state, sorted by ID, with its history
// but without its document (Device gives it).
func (p *Poller) Devices() []DeviceState {
	p.mu.RLock()
	out := make([]DeviceState, 0, len(p.devices))
	for _, e := range p.devices {
		out = append(out, e.state())
	}
	p.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Device returns one device's state.
func (p *Poller) Device(id string) (DeviceState, bool) {
	p.mu.RLock()
	e, ok := p.devices[id]
	p.mu.RUnlock()
	if !ok {
		return DeviceState{}, false
	}
	st := e.state()
	e.mu.Lock()
	f := e.frozen
	e.mu.Unlock()
	if doc, err := thaw(f); err == nil {
		st.Document = doc
	}
	return st, true
}

// States returns every device's state without its history and document,
// in no order: what coverage needs of each device, at a few hundred
// bytes a device where Devices unpacks every history.
func (p *Poller) States() []DeviceState {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]DeviceState, 0, len(p.devices))
	for _, e := range p.devices {
		e.mu.Lock()
		out = append(out, e.st)
		e.mu.Unlock()
	}
	return out
}

// EachState calls fn with the state of each device, without its history
// and document, in the order of the devices given to the last SetDevices
// (i counts from 0): what coverage reads of every device at each
// recompute, without a copy of every state. fn runs under the poller's
// lock and the device's: it must not keep st (nor anything it points to
// that a poll may change, which is none of its strings) and must not call
// the Poller.
func (p *Poller) EachState(fn func(i int, st *DeviceState)) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	for i, e := range p.order {
		e.mu.Lock()
		fn(i, &e.st)
		e.mu.Unlock()
	}
}

func (e *entry) state() DeviceState {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.st
	s.History = e.history()
	return s
}

// Counts returns the number of devices in each state.
func (p *Poller) Counts() map[State]int {
	out := make(map[State]int, len(States))
	for _, s := range States {
		out[s] = 0
	}
	p.mu.RLock()
	for _, e := range p.devices {
		e.mu.Lock()
		out[e.st.State]++
		e.mu.Unlock()
	}
	p.mu.RUnlock()
	return out
}

// SchedulerStats are the scheduler's counters.
func (p *Poller) SchedulerStats() snmp.Stats { return p.sched.Stats() }
