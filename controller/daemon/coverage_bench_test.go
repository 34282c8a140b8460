package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/config"
	"github.com/ngic/ngic/controller/inventory/inventorytest"
	"github.com/ngic/ngic/internal/testenv"
)

// BenchmarkComputeCoverageNational is the daemon's recompute of a national
// inventory (inventorytest.WriteNational: 700,000 villages, 200,000
// devices, none polled yet) after a poll cycle: the devices' statuses,
// the computation, the result made the latest while the one before it
// is let go (no reader holds it). The first computation, before the
// timer, stores the one snapshot. It reports the process's CPU time
// (cpu-s/op, garbage collection included) and its peak resident set over
// the recomputes (peak-RSS-MiB).
func BenchmarkComputeCoverageNational(b *testing.B) {
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
		"coverage:\n  snapshot_every: 8760h\nstate_dir: %s\n", testenv.FreePort(b), filepath.Join(dir, "state"))
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
	ctx := context.Background()
	if err := d.computeCoverage(ctx, false); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
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
