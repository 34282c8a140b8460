package scale

import (
	"context"
	"errors"
	"net"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/device"
	"github.com/ngic/ngic/controller/snmp"
	"github.com/ngic/ngic/internal/testenv"
)

// wantClass is each IF-MIB recording's class (its device type in the
// recordings' manifest).
var wantClass = map[string]device.Class{
	"motorola_sb5101e":  device.ClassCableModem,
	"mikrotik_rb750gr3": device.ClassRouter,
	"cisco_c3560-ios":   device.ClassSwitch,
	"huawei_ma5603t":    device.ClassOLT,
	"zyxel_ies-5106":    device.ClassDSLAM,
}

// startSlowAgent relays each request to upstream and holds its answer
// until release is called, like an agent that answers only after the poller
// gave up: the answer comes late whatever the machine's speed, so the
// poller's timeout is met by construction, not by a race of two durations.
func startSlowAgent(t *testing.T, upstream string) (addr string, release func()) {
	t.Helper()
	held := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(held) }) }
	t.Cleanup(release)
	return startRelay(t, upstream, func([]byte) { <-held }), release
}

// startRelay relays each datagram to upstream, from a socket of its own,
// and its answer back after passing it to answer (which may block).
func startRelay(tb testing.TB, upstream string, answer func(resp []byte)) string {
	tb.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 65535)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			req := append([]byte(nil), buf[:n]...)
			go func() {
				up, err := net.Dial("udp", upstream)
				if err != nil {
					return
				}
				defer up.Close()
				if _, err := up.Write(req); err != nil {
					return
				}
				_ = up.SetReadDeadline(time.Now().Add(10 * time.Second))
				resp := make([]byte, 65535)
				m, err := up.Read(resp)
				if err != nil {
					return
				}
				answer(resp[:m:m])
				_, _ = conn.WriteTo(resp[:m], from)
			}()
		}
	}()
	return conn.LocalAddr().String()
}

func TestHarnessPollsFarmWithDeadAndSlowAgents(t *testing.T) {
	views, err := LoadViews(testenv.Recordings(t), IFMIBRecordings)
	if err != nil {
		t.Fatal(err)
	}
	comms, devs := Farm(views, 200)
	addr, stop, err := Serve("127.0.0.1:0", devs)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	// Live devices get a generous timeout and deadline: the test asserts
	// what every poll brings back, not how fast it comes under -race on a
	// busy machine. The dead and slow agents fail whatever the timeout.
	h, err := NewHarness(Options{Interval: 10 * time.Minute, MaxConcurrent: 64, Timeout: 20 * time.Second, Retries: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range comms {
		if err := h.Add(addr, c); err != nil {
			t.Fatal(err)
		}
	}
	dead := "127.0.0.1:" + strconv.Itoa(testenv.FreeUDPPort(t))
	if err := h.AddConfig("dead", snmp.Config{Target: dead, Version: "2c", Community: comms[0], Timeout: 300 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	slow, release := startSlowAgent(t, addr)
	if err := h.AddConfig("slow", snmp.Config{Target: slow, Version: "2c", Community: comms[1], Timeout: 300 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if err := h.AddConfig("dead", snmp.Config{Target: dead, Version: "2c", Community: "x"}); err == nil {
		t.Fatal("a device ID added twice was accepted")
	}
	const cycles = 2
	for range cycles {
		if err := h.RunCycle(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	release() // the slow agent's late answers reach closed sockets
	res := h.Results()
	if len(res) != len(comms)+2 {
		t.Fatalf("%d results for %d devices", len(res), len(comms)+2)
	}
	perRec := map[string]int{}
	for _, c := range comms {
		r := res[c]
		rec := RecordingOf(c)
		if r.Err != nil {
			t.Fatalf("%s: %v", c, r.Err)
		}
		if r.Class != wantClass[rec] {
			t.Fatalf("%s: class %q, want %q", c, r.Class, wantClass[rec])
		}
		if r.Interfaces == 0 || r.Polls != cycles {
			t.Fatalf("%s: %d interfaces, %d successful polls of %d", c, r.Interfaces, r.Polls, cycles)
		}
		perRec[rec]++
	}
	if len(perRec) != len(IFMIBRecordings) {
		t.Fatalf("farm played %d recordings, want %d", len(perRec), len(IFMIBRecordings))
	}
	for _, id := range []string{"dead", "slow"} {
		if !errors.Is(res[id].Err, snmp.ErrTimeout) || res[id].Class != "" {
			t.Fatalf("%s agent: class %q, err %v, want a timeout", id, res[id].Class, res[id].Err)
		}
	}
	if h.Varbinds() == 0 {
		t.Fatal("no varbinds counted")
	}
	// Live devices keep their session between cycles; the failing two are
	// redialled each cycle.
	st := h.Scheduler().Stats()
	if want := uint64(len(comms) + 2*cycles); st.Dials != want {
		t.Fatalf("%d sessions dialled, want %d", st.Dials, want)
	}
	if st.Failures != 2*cycles {
		t.Fatalf("%d failed polls, want %d", st.Failures, 2*cycles)
	}
}

func TestFarmAndCommunities(t *testing.T) {
	if got := RecordingOf(Community("zte_c320", 42)); got != "zte_c320" {
		t.Fatalf("RecordingOf(Community(zte_c320, 42)) = %q", got)
	}
	if Community("a", 1) == Community("a", 2) {
		t.Fatal("two devices share a community")
	}
	if _, err := LoadViews(t.TempDir(), []string{"missing"}); err == nil {
		t.Fatal("a missing recording loaded")
	}
}

// maxIdleHeap bounds the live heap a polled device holds between cycles:
// its scheduler state, its released session and the harness's small
// result (about 120 B). It measures about 760 B since a released session
// shares its device's configuration with the scheduler and keeps a v3
// engine only for v3 (it was 1,040-1,065 B before, and about 1.5 KB
// while the scheduler parked every device waiting for a concurrency slot
// in a goroutine of its own, whose descriptor the runtime never frees).
// The bound is the 1 KB the controller is sized for, with room for
// run-to-run variation (a few bytes per device).
const maxIdleHeap = 1000

// TestIdleHeapPerDevice polls 10,000 devices (a farm in its own process)
// once through the Scheduler and device.Collect, with fewer concurrency
// slots than devices so that most wait for one, and bounds the live heap
// they hold afterwards, per device, measured with runtime.ReadMemStats
// after a forced GC. A warm-up harness runs first, so the runtime's
// one-off structures (the goroutines of the slots, pools) exist before the
// measurement. Heap after a GC is not a timing: at this number of devices
// it varies by a few bytes per device from run to run.
func TestIdleHeapPerDevice(t *testing.T) {
	if testing.Short() {
		t.Skip("polls 10,000 devices; not in -short")
	}
	const n = 10000
	addr, comms := startFarm(t, n)
	warm := comms[:600]
	wh := newFarmHarness(t, addr, warm, false)
	cycle(t, wh)
	removeAll(wh, warm)
	mem, h := measureIdle(t, addr, comms, 1, nil)
	defer removeAll(h, comms)
	st := h.Scheduler().Stats()
	if st.Polls != n || st.Failures != 0 || st.Skipped != 0 {
		t.Fatalf("scheduler after the cycle: %+v, want %d polls, none failed or skipped", st, n)
	}
	t.Logf("%d devices idle after a cycle: %.0f B of heap and %.0f B resident per device", n, mem.heap, mem.rss)
	if mem.heap > maxIdleHeap {
		t.Fatalf("%.0f B of live heap per idle device after a cycle, want at most %d", mem.heap, maxIdleHeap)
	}
}

// idleSession is a SessionClient that is never asked anything: the polls
// of TestWaitingDevicesHoldNoGoroutine do not use their client.
type idleSession struct{ snmp.Client }

func (idleSession) Close() error { return nil }

// TestWaitingDevicesHoldNoGoroutine dispatches a cycle of 2,000 devices
// over 4 concurrency slots whose polls block, and counts the goroutines
// while 1,996 devices wait for a slot: waiting must not cost a goroutine
// per device (the runtime keeps every goroutine descriptor it ever made,
// so a cycle of 10,000 waiting goroutines leaves about 0.4 KB of heap per
// device behind for good). A count, not a timing.
func TestWaitingDevicesHoldNoGoroutine(t *testing.T) {
	const n, slots = 2000, 4
	sched, err := snmp.NewScheduler(snmp.SchedulerConfig{MaxConcurrent: slots,
		Dial: func(snmp.Config) (snmp.SessionClient, error) { return idleSession{}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	var polled sync.WaitGroup
	polled.Add(n)
	for i := range n {
		err := sched.AddDevice(snmp.Device{ID: strconv.Itoa(i), Interval: time.Hour,
			Config: snmp.Config{Target: "127.0.0.1:161", Version: "2c", Community: "public"},
			Poll:   func(ctx context.Context, _ snmp.Client) error { defer polled.Done(); <-release; return nil }})
		if err != nil {
			t.Fatal(err)
		}
	}
	base := runtime.NumGoroutine()
	done := make(chan error, 1)
	go func() { done <- sched.RunCycle(context.Background()) }()
	for deadline := time.Now().Add(30 * time.Second); sched.Stats().InFlight < slots; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) { // a hang guard
			t.Fatalf("the slots never filled: %+v", sched.Stats())
		}
	}
	// Each poll in a slot has its goroutine and its callback's; the cycle
	// has one more. The waiting devices must add none. The most seen while
	// the dispatcher gets the processor a few hundred times more counts.
	extra := 0
	for range 500 {
		extra = max(extra, runtime.NumGoroutine()-base)
		runtime.Gosched()
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	polled.Wait()
	if st := sched.Stats(); st.Polls != n || st.Failures != 0 || st.Skipped != 0 {
		t.Fatalf("after the cycle: %+v, want %d polls, none failed or skipped", st, n)
	}
	if extra > 4*slots {
		t.Fatalf("%d goroutines while %d devices waited for %d slots, want at most %d", extra, n-slots, slots, 4*slots)
	}
}
