package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/config"
	"github.com/ngic/ngic/controller/coverage"
	"github.com/ngic/ngic/controller/inventory/inventorytest"
	"github.com/ngic/ngic/internal/memlimit"
	"github.com/ngic/ngic/internal/testenv"
)

// BenchmarkComputeCoverageNational is the daemon's recompute of a national
// inventory (inventorytest.WriteNational: 700,000 villages, 200,000
// devices, none polled yet) after a poll cycle: the devices' statuses,
// the computation, the result made the latest while the one before it
// is let go (no reader holds it). The first two computations, before the
// timer, store the one snapshot and fill the pool (the memory of a
// released result) as in a running daemon, whose memory limit then
// follows the live heap (runGCTuning). It reports the process's CPU time
// (cpu-s/op, garbage collection included) and its peak resident set over
// the recomputes (peak-RSS-MiB).
func BenchmarkComputeCoverageNational(b *testing.B) {
	benchComputeCoverage(b, nil)
}

// BenchmarkComputeCoverageNationalPolled is BenchmarkComputeCoverageNational
// with the evidence of every device kept, as after a restart whose poller
// snapshot held every device's document (pollEvidence).
func BenchmarkComputeCoverageNationalPolled(b *testing.B) {
	benchComputeCoverage(b, pollEvidence)
}

// pollEvidence is the evidence of a device of a generated national
// inventory, after its recording's kind (its community), as if it had
// been polled at: an OLT's 16 PON ports with 0..63 ONTs online, a CMTS's
// 0..399 modems, a DSLAM's 48 lines (70 % in showtime, attainable 5..104
// Mbit/s down; the first 16 named as PON ports are), a TV source up (one
// in twenty down).
func pollEvidence(i int, community string) *coverage.Evidence {
	x := uint64(i)*0x9e3779b97f4a7c15 ^ 0xabcdef
	ports := func(n int, tech coverage.Tech, kind coverage.PortKind, port func(p int, y uint64) coverage.Port) *coverage.Evidence {
		ev := &coverage.Evidence{Ports: make([]coverage.Port, n)}
		for p := range ev.Ports {
			y := x>>(p%32) + uint64(p)*0x2545f491
			ev.Ports[p] = port(p, y)
			ev.Ports[p].Technology, ev.Ports[p].Kind, ev.Ports[p].IfIndex = tech, kind, uint32(p+1)
		}
		return ev
	}
	pon := func(p int, y uint64) coverage.Port {
		return coverage.Port{Name: "gpon0/1/" + strconv.Itoa(p), Online: int32(y % 64)}
	}
	dsl := func(p int, y uint64) coverage.Port {
		line := coverage.Port{DownKbps: uint32(5000 + y%100_000), UpKbps: uint32(500 + y%20_000)}
		if p < 16 {
			line.Name = "gpon0/1/" + strconv.Itoa(p)
		}
		if y%10 < 7 {
			line.Online = 1
		}
		return line
	}
	switch community {
	case "huawei_ma5603t", "zte_c320":
		return ports(16, coverage.TechGPON, coverage.KindPON, pon)
	case "vsol_v1600d":
		return ports(16, coverage.TechEPON, coverage.KindPON, pon)
	case "arris_c4-cmts":
		return &coverage.Evidence{Ports: []coverage.Port{{Technology: coverage.TechDOCSIS30, Online: int32(x % 400),
			Kind: coverage.KindCable}}}
	case "zyxel_ies-5106":
		return ports(48, coverage.TechVDSL2, coverage.KindDSL, dsl)
	case "teldat_tv-base-vdsl2-adsl":
		return ports(48, coverage.TechADSL, coverage.KindDSL, dsl)
	}
	return &coverage.Evidence{TV: &coverage.TVSource{Known: true, Up: x%20 != 0, Why: "on air"}}
}

// benchComputeCoverage is BenchmarkComputeCoverageNational, with the
// evidence of each device that evidence gives (nil: none).
func benchComputeCoverage(b *testing.B, evidence func(i int, community string) *coverage.Evidence) {
	dir := b.TempDir()
	inv := filepath.Join(dir, "inventory")
	if err := os.Mkdir(inv, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := inventorytest.WriteNational(inv, 700_000); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "controller.yaml")
	yaml := fmt.Sprintf("inventory: inventory\nmqtt:\n  embedded: true\n  listen: 127.0.0.1:%d\n"+
		"http:\n  listen: 127.0.0.1:0\ncoverage:\n  snapshot_every: 8760h\nstate_dir: %s\n", testenv.FreePort(b), filepath.Join(dir, "state"))
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	d, err := New(cfg, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	if evidence != nil {
		at := time.Now().Add(-time.Minute)
		for i, dv := range cfg.LoadedInventory().Devices {
			d.cov.evidence[dv.ID] = polledEvidence{ev: evidence(i, dv.Community()), at: at}
		}
	}
	ctx := context.Background()
	for range 2 { // the second lets the first go to the pool, for the first timed one
		if err := d.computeCoverage(ctx, false); err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	// The memory limit New set for the inventory, before any result, is
	// below the heap a national one keeps with its results (the collector
	// would run without end): as runGCTuning does at its first tick, it
	// follows the live heap.
	if os.Getenv("GOMEMLIMIT") == "" {
		prev := debug.SetMemoryLimit(memoryLimit(len(cfg.LoadedInventory().Devices), memlimit.LiveHeap()))
		b.Cleanup(func() { debug.SetMemoryLimit(prev) })
	}
	// The garbage of writing and loading the inventory goes back to the
	// kernel, as the runtime's scavenger returns it in the minutes after a
	// start: left, it counts towards the limit, and a collection would
	// start with the first timed recompute.
	debug.FreeOSMemory()
	// The peak of the recomputes only, not of writing and loading the
	// inventory: 5 resets VmHWM to the resident set now.
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := benchCPU()
	for b.Loop() {
		if err := d.computeCoverage(ctx, false); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((benchCPU()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(peakRSS(b), "peak-RSS-MiB")
}

// peakRSS is the process's peak resident set (VmHWM), in MiB.
func peakRSS(b *testing.B) float64 {
	kb, err := testenv.StatusKB("VmHWM")
	if err != nil {
		b.Fatal(err)
	}
	return kb / 1024
}

// benchCPU is the process's CPU time, user and system.
func benchCPU() time.Duration {
	u, sys := testenv.CPUTime()
	return u + sys
}
