package scale

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/ngic/ngic/controller/device"
	"github.com/ngic/ngic/controller/snmp"
	"github.com/ngic/ngic/internal/testenv"
)

// cpuTime is this process's user+system CPU time.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rss is this process's resident memory in bytes.
func rss(tb testing.TB) int64 {
	s, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		tb.Fatal(err)
	}
	f := strings.Fields(string(s))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// startFarm builds farmsim and runs it in its own process serving n
// devices, so that the simulator's CPU and memory are not the poller's. It
// returns the farm's address and the communities.
func startFarm(tb testing.TB, n int) (string, []string) {
	tb.Helper()
	return startFarmOf(tb, n, IFMIBRecordings)
}

// startFarmOf is startFarm serving the named recordings.
func startFarmOf(tb testing.TB, n int, names []string) (string, []string) {
	tb.Helper()
	dir := testenv.Recordings(tb)
	bin := filepath.Join(tb.TempDir(), "farmsim")
	build := exec.Command("go", "build", "-o", bin, "./internal/farmsim")
	if out, err := build.CombinedOutput(); err != nil {
		tb.Fatalf("build farmsim: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-recordings", dir, "-n", strconv.Itoa(n), "-names", strings.Join(names, ","))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		tb.Fatalf("farmsim: %v", err)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	views, err := LoadViews(dir, names)
	if err != nil {
		tb.Fatal(err)
	}
	comms, _ := Farm(views, n)
	return strings.TrimSpace(line), comms
}

// newFarmHarness schedules every community of the farm at addr. Timeouts
// and deadlines are generous: a figure is only taken from a cycle in which
// every poll succeeded.
func newFarmHarness(tb testing.TB, addr string, comms []string, keep bool) *Harness {
	tb.Helper()
	h, err := NewHarness(Options{Interval: 10 * time.Minute, MaxConcurrent: 256, Timeout: 10 * time.Second, KeepSockets: keep})
	if err != nil {
		tb.Fatal(err)
	}
	for _, c := range comms {
		if err := h.Add(addr, c); err != nil {
			tb.Fatal(err)
		}
	}
	return h
}

// removeAll removes every device of h from its scheduler, closing the
// sockets of kept sessions.
func removeAll(h *Harness, comms []string) {
	for _, c := range comms {
		h.Scheduler().RemoveDevice(c)
	}
}

// cycle polls every device once and fails tb if any poll failed.
func cycle(tb testing.TB, h *Harness) {
	tb.Helper()
	if err := h.RunCycle(context.Background()); err != nil {
		tb.Fatal(err)
	}
	for id, r := range h.Results() {
		if r.Err != nil {
			tb.Fatalf("%s: %v", id, r.Err)
		}
	}
}

// idleMemory is the heap and resident memory held by a harness of n
// devices after its cycles, per device.
type idleMemory struct{ heap, rss float64 }

// measureIdle adds the farm's devices at addr to a new harness, runs cycles
// cycles, and returns the memory the devices hold afterwards, per device:
// live heap (runtime.MemStats.HeapAlloc after a forced GC, the harness
// alive) and resident memory, each as the growth over the same measurement
// taken before the harness existed. run, when not nil, runs the cycles
// instead of plain cycle calls (a benchmark times them).
func measureIdle(tb testing.TB, addr string, comms []string, cycles int, run func(h *Harness)) (idleMemory, *Harness) {
	tb.Helper()
	var before, after runtime.MemStats
	// Two collections: the first moves what sync.Pools (the SNMP
	// sessions' receive buffers, bounded by the polls in flight, not by
	// the devices) hold to their victim caches, the second frees it.
	runtime.GC()
	debug.FreeOSMemory()
	runtime.ReadMemStats(&before)
	rss0 := rss(tb)
	h := newFarmHarness(tb, addr, comms, false)
	if run != nil {
		run(h)
	} else {
		for range cycles {
			cycle(tb, h)
		}
	}
	runtime.GC()
	debug.FreeOSMemory()
	runtime.ReadMemStats(&after)
	rss1 := rss(tb)
	n := float64(len(comms))
	m := idleMemory{heap: (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / n, rss: float64(rss1-rss0) / n}
	runtime.KeepAlive(h)
	return m, h
}

// BenchmarkPollCPUPerVarbind polls a farm of 2,000 devices (in another
// process) through the Scheduler and device.Collect, b.N cycles after a
// warm-up cycle, and reports the controller's CPU time per varbind
// received and the mean wall time of a cycle: with sessions released
// between cycles (a socket and receive buffer per cycle, as the Scheduler
// does) and, for comparison, kept.
func BenchmarkPollCPUPerVarbind(b *testing.B) {
	const n = 2000
	addr, comms := startFarm(b, n)
	for _, keep := range []bool{false, true} {
		name := "released"
		if keep {
			name = "kept"
		}
		b.Run(name, func(b *testing.B) { pollCPU(b, addr, comms, keep) })
	}
}

func pollCPU(b *testing.B, addr string, comms []string, keep bool) {
	n := len(comms)
	h := newFarmHarness(b, addr, comms, keep)
	defer removeAll(h, comms)
	cycle(b, h) // first cycle: dials and classification warm-up
	v0, c0, t0 := h.Varbinds(), cpuTime(b), time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cycle(b, h)
	}
	b.StopTimer()
	cpu, wall, vb := cpuTime(b)-c0, time.Since(t0), h.Varbinds()-v0
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(vb), "cpu-ns/varbind")
	b.ReportMetric(float64(vb)/float64(b.N)/float64(n), "varbinds/device")
	b.ReportMetric(wall.Seconds()/float64(b.N), "wall-s/cycle")
}

// BenchmarkWholePoll polls one large device (sideBySideRecording, served
// by the project's simulator in another process) b.N times, each poll
// what BenchmarkSideBySide's whole poll is (Dial, device.Collect, Close),
// and reports the controller's CPU per varbind and per poll: the poll
// alone, without the other contenders of BenchmarkSideBySide in the same
// process, for a profile (-cpuprofile, -memprofile) or a comparison of
// two builds.
func BenchmarkWholePoll(b *testing.B) {
	addr, comms := startFarmOf(b, 1, []string{sideBySideRecording})
	profiles, err := device.DefaultProfiles()
	if err != nil {
		b.Fatal(err)
	}
	cfg := snmp.Config{Target: addr, Version: "2c", Community: comms[0], Timeout: 5 * time.Second}
	poll := func() int {
		s, err := snmp.Dial(cfg)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		cc := &snmp.CountingClient{Client: s}
		if _, _, err := device.Collect(context.Background(), cc, profiles); err != nil {
			b.Fatal(err)
		}
		return int(cc.Varbinds)
	}
	poll() // warm-up: profiles, pools
	b.ReportAllocs()
	vb := 0
	c0 := cpuTime(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		vb += poll()
	}
	b.StopTimer()
	cpu := cpuTime(b) - c0
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(vb), "cpu-ns/varbind")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/poll")
	b.ReportMetric(float64(vb)/float64(b.N), "varbinds/poll")
}

// scaleSizes are the farm sizes BenchmarkScale polls: NGIC_SCALE_DEVICES
// (comma-separated, such as "1000,10000,100000") or 1,000 and 10,000. A
// farm of 100,000 devices takes some minutes a cycle, too long for every
// make bench.
func scaleSizes(tb testing.TB) []int {
	env := os.Getenv("NGIC_SCALE_DEVICES")
	if env == "" {
		return []int{1000, 10000}
	}
	var sizes []int
	for _, f := range strings.Split(env, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			tb.Fatalf("NGIC_SCALE_DEVICES %q: %q is not a number of devices", env, f)
		}
		sizes = append(sizes, n)
	}
	return sizes
}

// BenchmarkScale polls farms of devices (in another process) with their
// IF-MIB, one farm size per sub-benchmark (scaleSizes): a warm-up cycle,
// then b.N timed cycles. It reports the mean wall time and controller CPU
// time of a cycle, the CPU per device and per varbind, and the heap and
// resident memory the devices hold when idle after the cycles
// (heap-bytes/device: live heap after a GC, per device, the harness's own
// small result per device included; TestIdleHeapPerDevice bounds it), and
// logs whether the farm fits a 5-minute cycle with at most one core of
// controller CPU.
func BenchmarkScale(b *testing.B) {
	for _, n := range scaleSizes(b) {
		b.Run(fmt.Sprintf("devices=%d", n), func(b *testing.B) { scaleCycles(b, n) })
	}
}

func scaleCycles(b *testing.B, n int) {
	addr, comms := startFarm(b, n)
	var cpu, wall time.Duration
	var vb uint64
	mem, h := measureIdle(b, addr, comms, 0, func(h *Harness) {
		cycle(b, h) // dials and classification
		v0 := h.Varbinds()
		b.ResetTimer()
		c0, t0 := cpuTime(b), time.Now()
		for i := 0; i < b.N; i++ {
			cycle(b, h)
		}
		cpu, wall, vb = cpuTime(b)-c0, time.Since(t0), h.Varbinds()-v0
		b.StopTimer()
	})
	defer removeAll(h, comms)
	perCycle := func(d time.Duration) float64 { return d.Seconds() / float64(b.N) }
	b.ReportMetric(float64(n), "devices")
	b.ReportMetric(perCycle(wall), "wall-s/cycle")
	b.ReportMetric(perCycle(cpu), "cpu-s/cycle")
	b.ReportMetric(perCycle(cpu)*1e6/float64(n), "cpu-us/device")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(vb), "cpu-ns/varbind")
	b.ReportMetric(mem.heap, "heap-bytes/device")
	b.ReportMetric(mem.rss, "rss-bytes/device")
	const budget = 5 * 60 // s: the cycle, and one core's CPU over it
	b.Logf("%d devices: cycle wall %.1f s, controller CPU %.1f s (%.0f us per device, %.0f ns per varbind), %d varbinds per cycle, "+
		"%.0f B of heap per idle device; fits a 5-minute cycle with at most one core (CPU <= %d s, wall <= %d s): %v",
		n, perCycle(wall), perCycle(cpu), perCycle(cpu)*1e6/float64(n), float64(cpu.Nanoseconds())/float64(vb), vb/uint64(b.N),
		mem.heap, budget, budget, perCycle(cpu) <= budget && perCycle(wall) <= budget)
}

// startRecorder relays each datagram to upstream and its answer back,
// keeping every answer until take is called, which returns them and
// starts anew.
func startRecorder(tb testing.TB, upstream string) (addr string, take func() [][]byte) {
	tb.Helper()
	var mu sync.Mutex
	var answers [][]byte
	addr = startRelay(tb, upstream, func(resp []byte) {
		mu.Lock()
		answers = append(answers, resp)
		mu.Unlock()
	})
	return addr, func() [][]byte {
		mu.Lock()
		defer mu.Unlock()
		a := answers
		answers = nil
		return a
	}
}

// BenchmarkAllocsPerVarbind compares the allocations of whole polls
// (Scheduler, Session, device.Collect: everything the harness runs), per
// varbind kept, with gosnmp's own floor: the allocations of
// GoSNMP.SnmpDecodePacket alone (testing.AllocsPerRun) decoding the very
// answers of a cycle of the same farm (recorded through a relay), per
// varbind they hold. kept-over-floor is the difference (the target: at
// most 1); sent/kept says how many varbinds the agent sent per varbind
// kept (GETBULK rows past the end of a column, which the session leaves
// out before gosnmp decodes the answer), and poll-allocs/sent-varbind is
// the poll's allocations per varbind sent.
func BenchmarkAllocsPerVarbind(b *testing.B) {
	const n = 500
	addr, comms := startFarm(b, n)

	relay, take := startRecorder(b, addr)
	hr := newFarmHarness(b, relay, comms, false)
	cycle(b, hr) // dials and classification
	take()
	v0 := hr.Varbinds()
	cycle(b, hr)
	kept := hr.Varbinds() - v0
	answers := take()
	removeAll(hr, comms)
	dec := &gosnmp.GoSNMP{Version: gosnmp.Version2c}
	decoded := 0
	for _, a := range answers {
		pkt, err := dec.SnmpDecodePacket(a)
		if err != nil {
			b.Fatalf("recorded answer: %v", err)
		}
		decoded += len(pkt.Variables)
	}
	if decoded == 0 || kept == 0 {
		b.Fatalf("%d varbinds decoded, %d kept", decoded, kept)
	}
	floor := testing.AllocsPerRun(3, func() {
		for _, a := range answers {
			_, _ = dec.SnmpDecodePacket(a)
		}
	}) / float64(decoded)

	h := newFarmHarness(b, addr, comms, false)
	defer removeAll(h, comms)
	cycle(b, h)
	var m0, m1 runtime.MemStats
	v0 = h.Varbinds()
	runtime.ReadMemStats(&m0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cycle(b, h)
	}
	b.StopTimer()
	runtime.ReadMemStats(&m1)
	vb := float64(h.Varbinds() - v0)
	ours := float64(m1.Mallocs-m0.Mallocs) / vb
	b.ReportMetric(floor, "floor-allocs/varbind")
	b.ReportMetric(ours, "poll-allocs/varbind")
	b.ReportMetric(ours-floor, "kept-over-floor")
	b.ReportMetric(ours*float64(kept)/float64(decoded), "poll-allocs/sent-varbind")
	b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/vb, "poll-B/varbind")
	b.ReportMetric(float64(decoded)/float64(kept), "sent/kept")
}

// sideBySideRecording is the device BenchmarkSideBySide polls: a CMTS
// with 197 interfaces, whose IF-MIB alone is some 4,000 varbinds.
const sideBySideRecording = "arris_c4-cmts"

// ifMIBRoots are the IF-MIB tables both sides of BenchmarkSideBySide walk.
var ifMIBRoots = []string{"1.3.6.1.2.1.2.2", "1.3.6.1.2.1.31.1.1"}

// BenchmarkSideBySide polls one large device (sideBySideRecording, served
// by the project's simulator in another process) several ways, interleaved
// in each iteration, and reports CPU per varbind and per device poll: the
// project's whole poll (Dial, device.Collect of every table its profile
// reads, the document built, Close: everything the controller does for a
// device), the project's Session walking IF-MIB (ifTable and ifXTable),
// and net-snmp's snmpbulkwalk -Cr50 walking the same two tables, and
// walking the very columns the whole poll walks, one run per column (it
// walks one subtree a run). snmpbulkwalk is a process: its start-up (MIB
// loading off, library init) is measured on its own as empty runs (a walk
// of an OID with no objects) and subtracted, so the net figures compare
// the walking itself; raw figures are reported too. Our CPU is the whole
// process's (getrusage), garbage collection included; each of ours runs
// several times in a row an iteration.
//
// The fair comparison is per varbind: both sides ask GETBULK for rows of
// some columns and get answers of the same size (the agent's message
// size), and the whole poll's figure includes everything done with them;
// against IF-MIB (bulkwalk-), the yardstick, the walk is the same.
// The poll's own columns (cols-) are the same objects, but through
// snmpbulkwalk they take a process each: their net CPU per varbind is what
// is left of some 27 start-ups subtracted, within their noise, so the
// figure to read is per device poll, start-up included:
// poll/cols-bulkwalk-raw-per-poll says what a poller built on the bare tool
// would spend against ngic's.
func BenchmarkSideBySide(b *testing.B) {
	bulkwalk := testenv.Program(b, "snmpbulkwalk", "snmp")
	addr, comms := startFarmOf(b, 1, []string{sideBySideRecording})
	comm := comms[0]
	profiles, err := device.DefaultProfiles()
	if err != nil {
		b.Fatal(err)
	}
	cfg := snmp.Config{Target: addr, Version: "2c", Community: comm, Timeout: 5 * time.Second}
	poll := func(record *rootsClient) int {
		s, err := snmp.Dial(cfg)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		cc := &snmp.CountingClient{Client: s}
		var c snmp.Client = cc
		if record != nil {
			record.Client = cc
			c = record
		}
		if _, _, err := device.Collect(context.Background(), c, profiles); err != nil {
			b.Fatal(err)
		}
		return int(cc.Varbinds)
	}
	ourPoll := func() int { return poll(nil) }
	ourWalk := func() int {
		s, err := snmp.Dial(cfg)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		objs, _, err := s.Walk(context.Background(), ifMIBRoots)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, o := range objs {
			n += len(o)
		}
		return n
	}
	const empty = "1.3.6.1.2.1.9999" // no recording holds objects under it
	theirWalk := func(oids ...string) (time.Duration, int) {
		var cpu time.Duration
		n := 0
		for _, oid := range oids {
			cmd := exec.Command(bulkwalk, "-v2c", "-c", comm, "-Cr50", "-On", "-Cc", addr, oid)
			cmd.Env = append(os.Environ(), "MIBS=")
			out, err := cmd.Output()
			if err != nil {
				b.Fatalf("snmpbulkwalk %s: %v", oid, err)
			}
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
				cpu += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			}
			for _, l := range strings.Split(string(out), "\n") {
				if strings.HasPrefix(l, "."+oid+".") {
					n++
				}
			}
		}
		return cpu, n
	}
	// Ours run ourReps times back to back in one window: the garbage
	// collections the pacer starts then mostly fall in the window of the
	// contender whose garbage they collect, rather than in the next one's
	// or between windows.
	const ourReps = 10
	measure := func(f func() int) (time.Duration, int) {
		c0 := cpuTime(b)
		n := 0
		for range ourReps {
			n += f()
		}
		return cpuTime(b) - c0, n
	}
	// Warm-up (profiles, pools), recording the columns the poll walks.
	rec := &rootsClient{}
	poll(rec)
	cols := rec.walked()
	const emptyRuns = 8 // a run's start-up is their mean
	empties := make([]string, emptyRuns)
	for i := range empties {
		empties[i] = empty
	}
	var pollCPU, walkCPU, theirCPU, colsCPU, emptyCPU time.Duration
	var pollVB, walkVB, theirVB, colsVB int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cpu, n := measure(ourPoll)
		pollCPU, pollVB = pollCPU+cpu, pollVB+n
		cpu, n = measure(ourWalk)
		walkCPU, walkVB = walkCPU+cpu, walkVB+n
		cpu, n = theirWalk(ifMIBRoots...)
		theirCPU, theirVB = theirCPU+cpu, theirVB+n
		cpu, n = theirWalk(cols...)
		colsCPU, colsVB = colsCPU+cpu, colsVB+n
		cpu, n = theirWalk(empties...)
		if n != 0 {
			b.Fatalf("the empty runs returned %d varbinds", n)
		}
		emptyCPU += cpu
	}
	b.StopTimer()
	if walkVB == 0 || theirVB*ourReps != walkVB {
		b.Fatalf("our IF-MIB walk returned %d varbinds, snmpbulkwalk %d", walkVB/ourReps, theirVB)
	}
	ns := func(d time.Duration, n int) float64 { return float64(d.Nanoseconds()) / float64(n) }
	startup := ns(emptyCPU, emptyRuns*b.N) // CPU ns of one run's start-up
	net := (ns(theirCPU, b.N) - float64(len(ifMIBRoots))*startup) / float64(theirVB/b.N)
	colsNet := (ns(colsCPU, b.N) - float64(len(cols))*startup) / float64(colsVB/b.N)
	perVB := ns(pollCPU, pollVB)
	perPoll := ns(pollCPU, ourReps*b.N) / 1e3 // µs
	colsRawPerPoll := ns(colsCPU, b.N) / 1e3
	b.ReportMetric(float64(pollVB/b.N/ourReps), "poll-varbinds")
	b.ReportMetric(float64(walkVB/b.N/ourReps), "ifmib-varbinds")
	b.ReportMetric(float64(colsVB/b.N), "cols-varbinds")
	b.ReportMetric(float64(len(cols)), "cols-runs")
	b.ReportMetric(perVB, "poll-cpu-ns/varbind")
	b.ReportMetric(perPoll, "poll-cpu-us/poll")
	b.ReportMetric(ns(walkCPU, walkVB), "walk-cpu-ns/varbind")
	b.ReportMetric(ns(theirCPU, theirVB), "bulkwalk-raw-cpu-ns/varbind")
	b.ReportMetric(net, "bulkwalk-net-cpu-ns/varbind")
	b.ReportMetric(colsNet, "cols-bulkwalk-net-cpu-ns/varbind")
	b.ReportMetric(colsRawPerPoll, "cols-bulkwalk-raw-cpu-us/poll")
	b.ReportMetric(startup/1e3, "bulkwalk-empty-cpu-us/run")
	b.ReportMetric(perVB/net, "poll/bulkwalk-net")
	b.ReportMetric(ns(walkCPU, walkVB)/net, "walk/bulkwalk-net")
	b.ReportMetric(perVB/colsNet, "poll/cols-bulkwalk-net")
	b.ReportMetric(perPoll/colsRawPerPoll, "poll/cols-bulkwalk-raw-per-poll")
	b.Logf("%s: CPU per varbind: our whole poll %.0f ns (%d varbinds, %.0f us a poll), our IF-MIB walk %.0f ns (%d varbinds); "+
		"snmpbulkwalk -Cr50 of IF-MIB %.0f ns raw, %.0f ns net of its start-up (%.0f us a run), of the poll's %d columns %.0f ns net "+
		"(%d varbinds, %.0f us raw a poll); ratios: poll/IF-MIB net %.2f, walk/IF-MIB net %.2f, poll/columns net %.2f, poll/columns raw per poll %.3f",
		sideBySideRecording, perVB, pollVB/b.N/ourReps, perPoll, ns(walkCPU, walkVB), walkVB/b.N/ourReps, ns(theirCPU, theirVB), net, startup/1e3,
		len(cols), colsNet, colsVB/b.N, colsRawPerPoll, perVB/net, ns(walkCPU, walkVB)/net, perVB/colsNet, perPoll/colsRawPerPoll)
}

// rootsClient records the roots its Client is asked to walk.
type rootsClient struct {
	snmp.Client
	roots []string
}

// Walk implements snmp.Client.
func (c *rootsClient) Walk(ctx context.Context, roots []string) (map[string][]gosnmp.SnmpPDU, []error, error) {
	c.roots = append(c.roots, roots...)
	return c.Client.Walk(ctx, roots)
}

// walked returns the roots walked, each once, in the order first asked.
func (c *rootsClient) walked() []string {
	var out []string
	for _, r := range c.roots {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}
