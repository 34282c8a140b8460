// Package scale measures the controller's SNMP poller at the scale of a
// real network: a farm of simulated devices (many communities sharing a few
// recordings, served by the project's simulator on the loopback address)
// polled by the snmp.Scheduler with device.Collect, the path the
// controller runs in production.
package scale

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/ngic/ngic/controller/device"
	"github.com/ngic/ngic/controller/simulator"
	"github.com/ngic/ngic/controller/snmp"
	"github.com/ngic/ngic/controller/snmprec"
)

// IFMIBRecordings are recordings with a full IF-MIB (ifTable and ifXTable)
// of a few to a few dozen interfaces, one per class of device.
var IFMIBRecordings = []string{"motorola_sb5101e", "mikrotik_rb750gr3", "cisco_c3560-ios", "huawei_ma5603t", "zyxel_ies-5106"}

// LoadViews parses the named recordings (file names without ".snmprec")
// from dir.
func LoadViews(dir string, names []string) (map[string]*snmprec.View, error) {
	views := make(map[string]*snmprec.View, len(names))
	for _, n := range names {
		v, _, err := snmprec.ParseFile(filepath.Join(dir, n+".snmprec"))
		if err != nil {
			return nil, fmt.Errorf("scale: recording %s: %w", n, err)
		}
		views[n] = v
	}
	return views, nil
}

// Community is the community of the i-th simulated device playing
// recording rec.
func Community(rec string, i int) string { return fmt.Sprintf("%s~%06d", rec, i) }

// RecordingOf returns the recording a farm community plays.
func RecordingOf(community string) string {
	rec, _, _ := strings.Cut(community, "~")
	return rec
}

// Farm spreads n devices round-robin over the views (sorted by name) and
// returns the community of each, in order, and the simulator's device map.
func Farm(views map[string]*snmprec.View, n int) ([]string, map[string]*snmprec.View) {
	names := make([]string, 0, len(views))
	for k := range views {
		names = append(names, k)
	}
	slices.Sort(names)
	comms := make([]string, 0, n)
	devs := make(map[string]*snmprec.View, n)
	for i := 0; i < n && len(names) > 0; i++ {
		rec := names[i%len(names)]
		c := Community(rec, i)
		comms = append(comms, c)
		devs[c] = views[rec]
	}
	return comms, devs
}

// Serve starts a simulator for devs on listen (such as "127.0.0.1:0") and
// returns its address and a stop function that waits for it to end.
func Serve(listen string, devs map[string]*snmprec.View) (addr string, stop func(), err error) {
	sim, err := simulator.New(devs, simulator.Options{})
	if err != nil {
		return "", nil, fmt.Errorf("scale: simulator: %w", err)
	}
	conn, err := net.ListenPacket("udp", listen)
	if err != nil {
		return "", nil, fmt.Errorf("scale: listen %s: %w", listen, err)
	}
	// A farm of thousands of devices answers in bursts: give the socket
	// room (the kernel caps it at net.core.rmem_max).
	if uc, ok := conn.(*net.UDPConn); ok {
		_ = uc.SetReadBuffer(8 << 20)
		_ = uc.SetWriteBuffer(8 << 20)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = sim.Serve(ctx, conn); close(done) }()
	return conn.LocalAddr().String(), func() { cancel(); <-done; conn.Close() }, nil
}

// Options configure a Harness.
type Options struct {
	// Interval is every device's polling interval (default 60s).
	Interval time.Duration
	// Deadline bounds one device's poll (default 80 % of Interval).
	Deadline time.Duration
	// MaxConcurrent bounds the polls in flight (default snmp's default).
	MaxConcurrent int
	// Timeout and Retries are every session's (default 2s and 1).
	Timeout time.Duration
	Retries int
	// Profiles classify devices (default device.DefaultProfiles).
	Profiles *device.ProfileSet
	// KeepSockets keeps each session's socket and receive buffer between
	// cycles instead of releasing them after each poll (for comparison).
	KeepSockets bool
}

// Result is what the harness keeps of a device's last poll: small, so that
// it does not dominate the memory per device being measured.
type Result struct {
	// Class is the class of the last document (empty after a failure).
	Class device.Class
	// Interfaces is the number of interfaces of the last document.
	Interfaces int
	// Polls counts the successful polls.
	Polls int
	// Err is the last poll's error, nil after a success.
	Err error
}

// Harness polls a farm with an snmp.Scheduler and device.Collect and counts
// the varbinds received. Its methods are safe for concurrent use.
type Harness struct {
	opts     Options
	sched    *snmp.Scheduler
	varbinds atomic.Uint64

	mu      sync.Mutex
	results map[string]*Result
}

// NewHarness returns an empty harness.
func NewHarness(opts Options) (*Harness, error) {
	if opts.Interval == 0 {
		opts.Interval = time.Minute
	}
	if opts.Profiles == nil {
		p, err := device.DefaultProfiles()
		if err != nil {
			return nil, fmt.Errorf("scale: profiles: %w", err)
		}
		opts.Profiles = p
	}
	sc := snmp.SchedulerConfig{MaxConcurrent: opts.MaxConcurrent}
	if opts.KeepSockets {
		sc.Dial = func(c snmp.Config) (snmp.SessionClient, error) {
			s, err := snmp.Dial(c)
			if err != nil {
				return nil, err
			}
			return keptSession{s}, nil
		}
	}
	sched, err := snmp.NewScheduler(sc)
	if err != nil {
		return nil, fmt.Errorf("scale: %w", err)
	}
	return &Harness{opts: opts, sched: sched, results: map[string]*Result{}}, nil
}

// Scheduler returns the scheduler, for its Stats and Run.
func (h *Harness) Scheduler() *snmp.Scheduler { return h.sched }

// Add schedules a v2c device at target with the given community, its ID
// being the community.
func (h *Harness) Add(target, community string) error {
	return h.AddConfig(community, snmp.Config{Target: target, Version: "2c", Community: community,
		Timeout: h.opts.Timeout, Retries: h.opts.Retries})
}

// AddConfig schedules a device with its own configuration.
func (h *Harness) AddConfig(id string, cfg snmp.Config) error {
	r := &Result{}
	h.mu.Lock()
	if _, ok := h.results[id]; ok {
		h.mu.Unlock()
		return fmt.Errorf("scale: device %s: already added", id)
	}
	h.results[id] = r
	h.mu.Unlock()
	err := h.sched.AddDevice(snmp.Device{ID: id, Config: cfg, Interval: h.opts.Interval, Deadline: h.opts.Deadline,
		Poll: func(ctx context.Context, c snmp.Client) error {
			cc := &snmp.CountingClient{Client: c}
			doc, _, err := device.Collect(ctx, cc, h.opts.Profiles)
			h.varbinds.Add(cc.Varbinds)
			h.mu.Lock()
			defer h.mu.Unlock()
			if err != nil {
				r.Class, r.Interfaces, r.Err = "", 0, err
				return err
			}
			r.Class, r.Interfaces, r.Err = doc.Class, len(doc.Interfaces), nil
			r.Polls++
			return nil
		}})
	if err != nil {
		h.mu.Lock()
		delete(h.results, id)
		h.mu.Unlock()
		return fmt.Errorf("scale: %w", err)
	}
	return nil
}

// RunCycle polls every device once and returns when all polls ended.
func (h *Harness) RunCycle(ctx context.Context) error { return h.sched.RunCycle(ctx) }

// Varbinds counts the varbinds received so far.
func (h *Harness) Varbinds() uint64 { return h.varbinds.Load() }

// Results returns a copy of every device's last result, keyed by ID.
func (h *Harness) Results() map[string]Result {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]Result, len(h.results))
	for k, v := range h.results {
		out[k] = *v
	}
	return out
}

// keptSession hides Session.Release from the Scheduler.
type keptSession struct{ s *snmp.Session }

// Get implements snmp.Client.
func (k keptSession) Get(ctx context.Context, oids []string) ([]gosnmp.SnmpPDU, error) {
	return k.s.Get(ctx, oids)
}

// Walk implements snmp.Client.
func (k keptSession) Walk(ctx context.Context, roots []string) (map[string][]gosnmp.SnmpPDU, []error, error) {
	return k.s.Walk(ctx, roots)
}

// Target implements snmp.Client.
func (k keptSession) Target() string { return k.s.Target() }

// Close implements snmp.SessionClient.
func (k keptSession) Close() error { return k.s.Close() }
