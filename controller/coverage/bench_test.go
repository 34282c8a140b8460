package coverage

import (
	"flag"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/inventory"
	"github.com/ngic/ngic/controller/inventory/inventorytest"
	"github.com/ngic/ngic/internal/testenv"
)

// portNames are the PON port names the generated service areas use
// (gpon0/1/0..15), shared by every synthesised OLT.
var portNames = func() []string {
	n := make([]string, 48)
	for i := range n {
		n[i] = "gpon0/1/" + strconv.Itoa(i)
		if i >= 16 {
			n[i] = "line-" + strconv.Itoa(i)
		}
	}
	return n
}()

// synthesise gives each device of inv a status and evidence after its
// recording's kind (its community): OLTs 16 PON ports with 0..63 ONTs
// online, a CMTS 0..399 modems, DSLAMs 48 VDSL2 or ADSL lines (70 % in
// showtime, attainable 5..104 Mbit/s down), TV devices a source up. 2 % of
// the devices are down (half of them past down_after), 1 % auth-failed, 1 %
// polled more than stale_after ago.
func synthesise(inv *inventory.Inventory, now time.Time) []DeviceStatus {
	st := make([]DeviceStatus, len(inv.Devices))
	for i := range inv.Devices {
		rng := rand.New(rand.NewPCG(uint64(i), 8)) // the same figures at every run
		x := rng.Uint64()
		ev := &Evidence{}
		switch inv.Devices[i].Community() {
		case "huawei_ma5603t", "zte_c320", "vsol_v1600d":
			tech := TechGPON
			if inv.Devices[i].Community() == "vsol_v1600d" {
				tech = TechEPON
			}
			ev.Ports = make([]Port, 16)
			for p := range ev.Ports {
				ev.Ports[p] = Port{Name: portNames[p], Technology: tech, IfIndex: uint32(p + 1),
					Online: int32(rng.Uint64N(64)), Kind: KindPON}
			}
		case "arris_c4-cmts":
			ev.Ports = []Port{{Technology: TechDOCSIS30, Online: int32(x % 400), Kind: KindCable}}
		case "zyxel_ies-5106", "teldat_tv-base-vdsl2-adsl":
			tech := TechVDSL2
			if inv.Devices[i].Community() == "teldat_tv-base-vdsl2-adsl" {
				tech = TechADSL
			}
			ev.Ports = make([]Port, 48)
			for p := range ev.Ports {
				y := rng.Uint64()
				line := Port{Name: portNames[p], Technology: tech, IfIndex: uint32(p + 1), Kind: KindDSL,
					DownKbps: uint32(5000 + y%100_000), UpKbps: uint32(500 + y%20_000)}
				if y%10 < 7 {
					line.Online = 1
				}
				ev.Ports[p] = line
			}
		default:
			ev.TV = &TVSource{Known: true, Up: x%20 != 0, Why: "on air"}
		}
		s := DeviceStatus{State: StateUp, Since: now.Add(-72 * time.Hour), PolledAt: now.Add(-time.Minute), Evidence: ev}
		switch x % 100 {
		case 0:
			s.State, s.Since = StateDown, now.Add(-time.Hour)
		case 1:
			s.State, s.Since = StateDown, now.Add(-12*time.Hour)
		case 2:
			s.State = StateAuthFailed
		case 3:
			s.PolledAt = now.Add(-30 * time.Hour)
		}
		st[i] = s
	}
	return st
}

// collect makes the benchmarks of recomputes collect garbage between two
// recomputes, as the runtime does in a daemon whose poll cycle is longer
// than two minutes; without it they recompute back to back, the worst
// case for the peak resident set.
var collect = flag.Bool("coverage.collect", false, "collect garbage between two recomputes")

// loaded is the inventory national loaded last, kept for the benchmark's
// next run (the testing package runs a benchmark once with b.N = 1 before
// its real run): the process loads it once, as the daemon does.
var loaded struct {
	villages int
	inv      *inventory.Inventory
	devs     []DeviceStatus
	loadPeak float64
}

// national loads the generated national inventory of n villages (written
// once per process) and synthesises its devices' statuses; loadPeak is
// the peak resident set once it is loaded.
func national(b testing.TB, villages int) (inv *inventory.Inventory, devs []DeviceStatus, loadPeak float64) {
	b.Helper()
	if loaded.villages == villages {
		return loaded.inv, loaded.devs, loaded.loadPeak
	}
	loaded.inv, loaded.devs = nil, nil
	dir, err := os.MkdirTemp("", "coverage-national")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := inventorytest.WriteNational(dir, villages); err != nil {
		b.Fatal(err)
	}
	inv, err = inventory.Load(dir, inventory.Options{})
	if err != nil {
		b.Fatal(err)
	}
	devs = synthesise(inv, now)
	loadPeak, _ = peakRSS()
	loaded.villages, loaded.inv, loaded.devs, loaded.loadPeak = villages, inv, devs, loadPeak
	return inv, devs, loadPeak
}

// BenchmarkComputeNational recomputes a national inventory with Compute:
// 700,000 villages, 50,000 sites, 200,000 devices with synthesised
// evidence, loaded once, then each recompute while the previous result is
// still held (the daemon serves it until the next is ready). It reports
// the CPU time of a recompute (cpu-s/op), the heap in use after a recompute
// with the inventory, the evidence and both results (heap-MB), one
// result's share (result-MB), the peak resident set after loading
// (load-peak-rss-MB) and after the recomputes (peak-rss-MB).
// BenchmarkRecomputeNational (daemon_bench_test.go) adds what the daemon
// does around ComputeCompact.
func BenchmarkComputeNational(b *testing.B) {
	benchCompute(b, 700_000, Compute)
}

// BenchmarkComputeCompactNational is BenchmarkComputeNational with
// ComputeCompact, as the daemon computes.
func BenchmarkComputeCompactNational(b *testing.B) {
	benchCompute(b, 700_000, ComputeCompact)
}

// BenchmarkComputeRegion is the same for 20,000 villages.
func BenchmarkComputeRegion(b *testing.B) {
	benchCompute(b, 20_000, Compute)
}

func benchCompute(b *testing.B, villages int, compute func(*inventory.Inventory, []DeviceStatus, *Config, time.Time) *Result) {
	inv, devs, _ := national(b, villages)
	cfg := DefaultConfig()
	benchRecompute(b, inv, func() *Result { return compute(inv, devs, &cfg, now) })
	runtime.KeepAlive(devs)
}

// benchRecompute runs recompute b.N times on the inventory national
// loaded last (inv), each while the previous result is still held, after
// two untimed ones (a Pool's has then released memory to compute into),
// and reports the figures BenchmarkComputeNational describes and the
// bytes and objects allocated per recompute.
func benchRecompute(b *testing.B, inv *inventory.Inventory, recompute func() *Result) {
	b.Logf("%d villages, %d sites, %d devices, %d service areas", len(inv.Villages()), len(inv.Sites), len(inv.Devices), len(inv.ServiceAreas))
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	prev := recompute() // the result the daemon serves
	runtime.GC()
	runtime.ReadMemStats(&ms)
	one := ms.HeapAlloc - before
	// A second one, served in its place: a Pool's recompute releases the
	// first at the next, whose memory the timed ones then take turns with.
	prev = recompute()
	runtime.KeepAlive(prev)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, sys0 := cpuTime(), sysTime()
	var cpu, sys time.Duration
	for i := 0; i < b.N; i++ {
		r := recompute()
		if i == b.N-1 {
			b.StopTimer()
			cpu, sys = cpuTime()-cpu0, sysTime()-sys0 // not the collection for the heap figure
			runtime.GC()
			runtime.ReadMemStats(&ms) // both results held
		}
		runtime.KeepAlive(prev) // held while r was computed
		prev = r
		if *collect && i < b.N-1 {
			// Between two recomputes the daemon polls for a cycle, minutes
			// in which the runtime collects at least every two minutes.
			b.StopTimer()
			c, s := cpuTime(), sysTime()
			runtime.GC()
			cpu0, sys0 = cpu0+cpuTime()-c, sys0+sysTime()-s
			b.StartTimer()
		}
	}
	// CPU seconds per recompute, which other work on the machine does not
	// inflate as it does the wall clock.
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	// Of which the kernel's (faulting in the pages of new results).
	b.ReportMetric(sys.Seconds()/float64(b.N), "sys-s/op")
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MB")
	b.ReportMetric(float64(one)/(1<<20), "result-MB")
	b.ReportMetric(float64(len(prev.Gaps)), "gaps")
	if mb, ok := peakRSS(); ok {
		b.ReportMetric(loaded.loadPeak, "load-peak-rss-MB")
		b.ReportMetric(mb, "peak-rss-MB")
	}
	runtime.KeepAlive(prev)
	runtime.KeepAlive(inv)
}

// cpuTime returns the CPU time the process has used (user and system).
func cpuTime() time.Duration {
	u, sys := testenv.CPUTime()
	return u + sys
}

// sysTime returns the CPU time the kernel has spent for the process.
func sysTime() time.Duration {
	_, sys := testenv.CPUTime()
	return sys
}

// peakRSS returns the process's peak resident set (VmHWM) in MiB.
func peakRSS() (float64, bool) {
	kb, err := testenv.StatusKB("VmHWM")
	return kb / 1024, err == nil
}
