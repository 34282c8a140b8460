package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/coverage"
	"github.com/ngic/ngic/controller/device"
	"github.com/ngic/ngic/controller/inventory"
	"github.com/ngic/ngic/controller/inventory/inventorytest"
)

// nationalResult computes the coverage of inventorytest's generated
// inventory of n villages, each device up with the evidence of its
// recording's golden document (controller/testdata/golden), with compact
// trails as `report coverage` computes it.
func nationalResult(b *testing.B, n int) *coverage.Result {
	b.Helper()
	dir := b.TempDir()
	if err := inventorytest.WriteNational(dir, n); err != nil {
		b.Fatal(err)
	}
	inv, err := inventory.Load(dir, inventory.Options{})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
	evidence := map[string]*coverage.Evidence{}
	devs := make([]coverage.DeviceStatus, len(inv.Devices))
	for i := range inv.Devices {
		c := inv.Devices[i].Community()
		ev, ok := evidence[c]
		if !ok {
			raw, err := os.ReadFile(filepath.Join("..", "testdata", "golden", c+".json"))
			if err != nil {
				b.Fatal(err)
			}
			var doc device.Document
			if err := json.Unmarshal(raw, &doc); err != nil {
				b.Fatal(err)
			}
			ev = coverage.Summarize(&doc)
			evidence[c] = ev
		}
		devs[i] = coverage.DeviceStatus{State: coverage.StateUp, Since: now.Add(-time.Hour), PolledAt: now.Add(-time.Minute), Evidence: ev}
	}
	cfg := coverage.DefaultConfig()
	return coverage.ComputeCompact(inv, devs, &cfg, now)
}

// counter counts what is written to it.
type counter int64

func (c *counter) Write(p []byte) (int, error) { *c += counter(len(p)); return len(p), nil }

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchFormats writes the result of n villages in every format, reporting
// the bytes written (MB) and the CPU seconds per report (cpu-s/op).
func benchFormats(b *testing.B, n int, res func(b *testing.B) *coverage.Result) {
	r := res(b)
	b.Logf("%d villages, %d regions, %d gaps", len(r.Villages), len(r.Regions), len(r.Gaps))
	for _, f := range Formats {
		b.Run(string(f), func(b *testing.B) {
			var size counter
			cpu0 := cpuTime()
			for b.Loop() {
				size = 0
				if err := Write(&size, f, r, Options{Source: "synthesised"}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(size)/1e6, "MB")
			b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
			runtime.KeepAlive(r)
		})
	}
}

var (
	nationalOnce sync.Once
	national     *coverage.Result
)

// BenchmarkWriteNational writes the report of a national inventory of
// 700,000 villages in each format.
func BenchmarkWriteNational(b *testing.B) {
	benchFormats(b, 700_000, func(b *testing.B) *coverage.Result {
		nationalOnce.Do(func() { national = nationalResult(b, 700_000) })
		return national
	})
}

// BenchmarkWriteRegion is the same for 20,000 villages.
func BenchmarkWriteRegion(b *testing.B) {
	benchFormats(b, 20_000, func(b *testing.B) *coverage.Result { return nationalResult(b, 20_000) })
}
