package snmp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/ngic/ngic/controller/simulator"
	"github.com/ngic/ngic/controller/snmprec"
	"github.com/ngic/ngic/internal/testenv"
)

// pollIfTable is a typical callback: one Get and one Walk.
func pollIfTable(ctx context.Context, c Client) error {
	if _, err := c.Get(ctx, []string{"1.3.6.1.2.1.1.3.0"}); err != nil {
		return err
	}
	objs, _, err := c.Walk(ctx, []string{"1.3.6.1.2.1.2.2.1.2", "1.3.6.1.2.1.2.2.1.10"})
	if err != nil {
		return err
	}
	if len(objs["1.3.6.1.2.1.2.2.1.2"]) == 0 {
		return fmt.Errorf("no ifDescr")
	}
	return nil
}

// startProjectSim serves the named recordings from the project's
// in-process simulator (fast and steady even on a loaded machine) and
// returns its address.
func startProjectSim(t *testing.T, names ...string) string {
	t.Helper()
	views := map[string]*snmprec.View{}
	for _, n := range names {
		v, _, err := snmprec.ParseFile(filepath.Join(testenv.Recordings(t), n+".snmprec"))
		if err != nil {
			t.Fatal(err)
		}
		views[n] = v
	}
	sim, err := simulator.New(views, simulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sim.Serve(ctx, conn) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("simulator: %v", err)
		}
		conn.Close()
	})
	return conn.LocalAddr().String()
}

func TestSchedulerDeadAndSlowAmongLive(t *testing.T) {
	// 20 live devices on the in-process simulator, two more through
	// snmpsimd with generous deadlines: the outcome must not hinge on how
	// fast a loaded machine runs Python.
	live := startProjectSim(t, walkRecordings...)
	snmpsim := testenv.StartSnmpsim(t, testenv.Recordings(t), walkRecordings[:2]...)
	slow := startFakeAgent(t, time.Minute, func(oid string) gosnmp.SnmpPDU {
		return gosnmp.SnmpPDU{Name: oid + ".1", Type: gosnmp.Integer, Value: 1}
	})
	deadPort := testenv.FreeUDPPort(t)
	s, err := NewScheduler(SchedulerConfig{MaxConcurrent: 4})
	if err != nil {
		t.Fatal(err)
	}
	add := func(id, target, community string, timeout, deadline time.Duration) {
		t.Helper()
		err := s.AddDevice(Device{ID: id, Interval: time.Minute, Deadline: deadline, Poll: pollIfTable,
			Config: Config{Target: target, Version: "2c", Community: community, Timeout: timeout, Retries: 1}})
		if err != nil {
			t.Fatal(err)
		}
	}
	// IDs sort the slow and dead devices first, so they take slots before
	// the live ones.
	add("0-slow", slow.Addr, "public", 300*time.Millisecond, 30*time.Second)
	add("0-dead", fmt.Sprintf("127.0.0.1:%d", deadPort), "public", 300*time.Millisecond, 30*time.Second)
	for i := 0; i < 20; i++ {
		add(fmt.Sprintf("live-%02d", i), live, walkRecordings[i%len(walkRecordings)], 5*time.Second, 50*time.Second)
	}
	for i := 0; i < 2; i++ {
		add(fmt.Sprintf("snmpsimd-%d", i), snmpsim.Addr, walkRecordings[i], 5*time.Second, 50*time.Second)
	}
	if err := s.AddDevice(Device{ID: "live-00", Interval: time.Second, Poll: pollIfTable, Config: Config{Target: live, Version: "2c", Community: "x"}}); err == nil {
		t.Fatal("duplicate ID accepted")
	}
	if err := s.RunCycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := s.Statuses()
	if len(st) != 24 {
		t.Fatalf("%d statuses", len(st))
	}
	byID := map[string]DeviceStatus{}
	for _, d := range st {
		byID[d.ID] = d
	}
	slowSt, deadSt := byID["0-slow"], byID["0-dead"]
	for _, d := range []DeviceStatus{slowSt, deadSt} {
		if d.LastError == nil || d.ConsecutiveFailures != 1 || d.Polls != 1 || !d.LastSuccess.IsZero() {
			t.Fatalf("%s: %+v, want one failure", d.ID, d)
		}
	}
	if !errors.Is(slowSt.LastError, ErrTimeout) {
		t.Fatalf("slow device error %v", slowSt.LastError)
	}
	if !errors.Is(deadSt.LastError, ErrTimeout) && !errors.Is(deadSt.LastError, ErrRefused) {
		t.Fatalf("dead device error %v", deadSt.LastError)
	}
	for id, d := range byID {
		if id[0] == '0' {
			continue
		}
		if d.LastError != nil || d.Polls != 1 || d.ConsecutiveFailures != 0 {
			t.Fatalf("%s: %+v", d.ID, d)
		}
	}
	stats := s.Stats()
	if stats.Polls != 24 || stats.Failures != 2 || stats.Devices != 24 || stats.InFlight != 0 || stats.Skipped != 0 {
		t.Fatalf("stats %+v", stats)
	}
	if slow.Requests() == 0 {
		t.Fatal("slow agent never asked")
	}
}

// TestSchedulerSlotHeldUntilCallbackReturns: a poll abandoned at its
// deadline keeps its concurrency slot until its callback really returns,
// so the callbacks alive at once never exceed MaxConcurrent; devices that
// get no slot before their deadline are skipped and counted.
func TestSchedulerSlotHeldUntilCallbackReturns(t *testing.T) {
	var dialer fakeDialer
	const slots = 2
	s, _ := NewScheduler(SchedulerConfig{MaxConcurrent: slots, Dial: dialer.dial})
	release := make(chan struct{})
	var alive, most atomic.Int64
	stuck := func(ctx context.Context, c Client) error { // ignores ctx
		n := alive.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		<-release
		alive.Add(-1)
		return nil
	}
	const devices = 6
	for i := 0; i < devices; i++ {
		if err := s.AddDevice(Device{ID: fmt.Sprintf("d%d", i), Interval: time.Hour, Deadline: 30 * time.Millisecond, Poll: stuck,
			Config: Config{Target: fmt.Sprintf("10.0.0.%d", i), Version: "2c", Community: "public"}}); err != nil {
			t.Fatal(err)
		}
	}
	for cycle := 1; cycle <= 3; cycle++ {
		_ = s.RunCycle(context.Background())
		st := s.Stats()
		if st.Polls+st.Skipped != uint64(cycle*devices) {
			t.Fatalf("cycle %d: %d polls + %d skips, want every device accounted for", cycle, st.Polls, st.Skipped)
		}
		if st.InFlight != slots {
			t.Fatalf("cycle %d: InFlight %d, want the %d abandoned callbacks still running", cycle, st.InFlight, slots)
		}
	}
	if m := most.Load(); m != slots {
		t.Fatalf("%d callbacks alive at once, want exactly MaxConcurrent (%d)", m, slots)
	}
	if st := s.Stats(); st.Polls != slots || st.Deadlines != slots {
		t.Fatalf("stats %+v: want only the first %d devices polled and abandoned", st, slots)
	}
	close(release)
	waitFor(t, "the stuck callbacks returning", func() bool { return s.Stats().InFlight == 0 })
	// The slots are free again: a cycle now polls the devices whose
	// previous callbacks have returned.
	before := s.Stats().Polls
	_ = s.RunCycle(context.Background())
	if s.Stats().Polls == before {
		t.Fatal("no poll after the stuck callbacks returned")
	}
}

// TestSchedulerDispatchNeverBlocks: with the only slot held by a stuck
// callback, Run keeps dispatching the other devices' cycles (each skipped
// for want of a slot, counted) and stops promptly on cancel.
func TestSchedulerDispatchNeverBlocks(t *testing.T) {
	var dialer fakeDialer
	s, _ := NewScheduler(SchedulerConfig{MaxConcurrent: 1, Dial: dialer.dial})
	release := make(chan struct{})
	var stuckCalls, fastCalls atomic.Int64
	stuck := func(ctx context.Context, c Client) error { stuckCalls.Add(1); <-release; return nil }
	fast := func(ctx context.Context, c Client) error { fastCalls.Add(1); return nil }
	if err := s.AddDevice(Device{ID: "stuck", Interval: 20 * time.Millisecond, Deadline: 10 * time.Millisecond, Poll: stuck,
		Config: Config{Target: "10.0.0.1", Version: "2c", Community: "public"}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	waitFor(t, "the stuck device's first poll", func() bool { return stuckCalls.Load() != 0 })
	for i := 0; i < 3; i++ {
		if err := s.AddDevice(Device{ID: fmt.Sprintf("fast%d", i), Interval: 20 * time.Millisecond, Deadline: 10 * time.Millisecond, Poll: fast,
			Config: Config{Target: fmt.Sprintf("10.0.1.%d", i), Version: "2c", Community: "public"}}); err != nil {
			t.Fatal(err)
		}
	}
	// Every fast device's cycles are dispatched and skipped while the slot
	// is held; a dispatcher blocked on the slot would count none.
	waitFor(t, "12 skipped cycles", func() bool { return s.Stats().Skipped >= 12 })
	if n := fastCalls.Load(); n != 0 {
		t.Fatalf("%d fast polls ran while the only slot was held", n)
	}
	if n := stuckCalls.Load(); n != 1 {
		t.Fatalf("stuck device polled %d times while its callback still ran", n)
	}
	close(release)
	waitFor(t, "3 fast polls once the slot is free", func() bool { return fastCalls.Load() >= 3 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
}

func TestJitter(t *testing.T) {
	const interval = time.Minute
	seen := map[time.Duration]bool{}
	for i := 0; i < 1000; i++ {
		j := Jitter(interval)
		if j < 0 || j >= interval/JitterFraction {
			t.Fatalf("jitter %v outside [0, %v)", j, interval/JitterFraction)
		}
		seen[j] = true
	}
	if len(seen) < 900 {
		t.Fatalf("only %d distinct jitters in 1000 draws", len(seen))
	}
	if Jitter(10*time.Nanosecond) != 0 || Jitter(0) != 0 {
		t.Fatal("jitter of a tiny interval must be 0")
	}
}

// fakeSession is a SessionClient whose behaviour the test scripts.
type fakeSession struct {
	target string
	closed atomic.Bool
}

func (f *fakeSession) Get(context.Context, []string) ([]gosnmp.SnmpPDU, error) { return nil, nil }
func (f *fakeSession) Walk(context.Context, []string) (map[string][]gosnmp.SnmpPDU, []error, error) {
	return nil, nil, nil
}
func (f *fakeSession) Target() string { return f.target }
func (f *fakeSession) Close() error   { f.closed.Store(true); return nil }

type fakeDialer struct {
	mu       sync.Mutex
	sessions map[string][]*fakeSession
}

func (d *fakeDialer) dial(cfg Config) (SessionClient, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f := &fakeSession{target: cfg.Target}
	if d.sessions == nil {
		d.sessions = map[string][]*fakeSession{}
	}
	d.sessions[cfg.Target] = append(d.sessions[cfg.Target], f)
	return f, nil
}

func (d *fakeDialer) count(target string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.sessions[target])
}

func (d *fakeDialer) firstClosed(target string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.sessions[target]) > 0 && d.sessions[target][0].closed.Load()
}

func TestSchedulerRunKeepsAndRedialsSessions(t *testing.T) {
	var dialer fakeDialer
	s, err := NewScheduler(SchedulerConfig{Dial: dialer.dial})
	if err != nil {
		t.Fatal(err)
	}
	var failing atomic.Int64
	for _, target := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
		poll := func(ctx context.Context, c Client) error { return nil }
		if target == "10.0.0.3" {
			poll = func(ctx context.Context, c Client) error { failing.Add(1); return errors.New("boom") }
		}
		if err := s.AddDevice(Device{Interval: 50 * time.Millisecond, Poll: poll,
			Config: Config{Target: target, Version: "2c", Community: "public"}}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	waitFor(t, "three polls of every device", func() bool {
		for _, st := range s.Statuses() {
			if st.Polls < 3 {
				return false
			}
		}
		return true
	})
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
	if n := dialer.count("10.0.0.1"); n != 1 {
		t.Fatalf("healthy device dialled %d times, want 1 (session kept between cycles)", n)
	}
	st, _ := s.Status("10.0.0.3")
	if n := dialer.count("10.0.0.3"); n < 3 || uint64(n) < st.Polls {
		t.Fatalf("failing device dialled %d times for %d polls, want a redial per failure", n, st.Polls)
	}
	if st.ConsecutiveFailures < 3 || st.LastError == nil {
		t.Fatalf("failing device status %+v", st)
	}
	for _, f := range dialer.sessions["10.0.0.1"] {
		if !f.closed.Load() {
			t.Fatal("session left open after Run ended")
		}
	}
	if !s.RemoveDevice("10.0.0.1") || s.RemoveDevice("10.0.0.1") {
		t.Fatal("RemoveDevice does not report membership")
	}
	if s.Stats().Devices != 2 {
		t.Fatalf("stats after removal: %+v", s.Stats())
	}
}

func TestSchedulerAbandonsStuckCallback(t *testing.T) {
	var dialer fakeDialer
	s, _ := NewScheduler(SchedulerConfig{Dial: dialer.dial})
	release := make(chan struct{})
	var calls atomic.Int64
	stuck := func(ctx context.Context, c Client) error { calls.Add(1); <-release; return nil } // ignores ctx
	if err := s.AddDevice(Device{ID: "stuck", Interval: time.Second, Deadline: 50 * time.Millisecond, Poll: stuck,
		Config: Config{Target: "10.0.0.9", Version: "2c", Community: "public"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.RunCycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, _ := s.Status("stuck")
	if !errors.Is(st.LastError, ErrDeadline) {
		t.Fatalf("status error %v, want ErrDeadline", st.LastError)
	}
	// The callback still holds the session: the next cycle must skip it.
	_ = s.RunCycle(context.Background())
	if calls.Load() != 1 || s.Stats().Skipped != 1 || s.Stats().Deadlines != 1 {
		t.Fatalf("calls %d stats %+v", calls.Load(), s.Stats())
	}
	close(release)
	waitFor(t, "the abandoned session closed", func() bool { return dialer.firstClosed("10.0.0.9") })
	// The session closes just before the device is marked idle: a cycle may
	// still find it busy, so cycle until one polls it.
	waitFor(t, "a second poll after the stuck callback returned", func() bool {
		_ = s.RunCycle(context.Background())
		return calls.Load() == 2
	})
}

func TestStartOffsetSpread(t *testing.T) {
	const interval = time.Minute
	buckets := make([]int, 6)
	for i := 0; i < 6000; i++ {
		id := fmt.Sprintf("10.%d.%d.%d:161", i/65536, i/256%256, i%256)
		o := StartOffset(id, interval)
		if o < 0 || o >= interval {
			t.Fatalf("offset %v outside the interval", o)
		}
		if o != StartOffset(id, interval) {
			t.Fatal("offset not deterministic")
		}
		buckets[o*6/interval]++
	}
	for i, n := range buckets {
		if n < 700 || n > 1300 { // 1000 expected per tenth of the interval
			t.Fatalf("bucket %d holds %d of 6000 devices: offsets not spread (%v)", i, n, buckets)
		}
	}
}

func TestDeviceValidation(t *testing.T) {
	s, _ := NewScheduler(SchedulerConfig{})
	ok := Config{Target: "10.0.0.1", Version: "2c", Community: "public"}
	poll := func(context.Context, Client) error { return nil }
	cases := []struct {
		d    Device
		want string
	}{
		{Device{Config: ok, Poll: poll}, "Interval"},
		{Device{Config: ok, Interval: time.Second, Deadline: 2 * time.Second, Poll: poll}, "Deadline"},
		{Device{Config: ok, Interval: time.Second}, "Poll"},
		{Device{Config: ok, Interval: time.Second, Retries: -1, Poll: poll}, "Retries"},
		{Device{Config: Config{Target: "10.0.0.1", Version: "4"}, Interval: time.Second, Poll: poll}, "Version"},
	}
	for _, c := range cases {
		err := s.AddDevice(c.d)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("AddDevice(%+v) = %v, want an error naming %s", c.d, err, c.want)
		}
	}
}
