package daemon

import (
	"context"
	"os"
	"runtime/debug"
	"time"

	"github.com/ngic/ngic/internal/memlimit"
)

// The garbage collector's settings, unless GOGC or GOMEMLIMIT say
// otherwise. What the controller keeps grows with its inventory (device
// documents, rates, history: some 8 KiB a device), while every message it
// ingests allocates and drops a few KiB (paho's packet, the decoded event,
// the lines). Go's default (GOGC=100) collects each time the heap doubles:
// with a small inventory that is a collection every few thousand events
// (some 15 % of the CPU of the ingest benchmark in a profile; 2-3 % at
// 400), and with a large one the heap peaks at twice what it keeps and
// the resident memory above that (233 MB for 10,000 devices). So the
// collector runs when the heap has grown by gcPercent, and earlier when
// the process' memory would pass a limit of memoryBase plus
// memoryPerDevice a device: about twice what the inventory keeps, which
// bounds the peak without making the collector run all the time. The
// devices' part stops at memoryCeiling: a national inventory (200,000
// devices, 1.9 GB by the count) would otherwise let the heap grow to
// near 2 GB before the first collection, with nothing polled.
const (
	gcPercent       = 400
	memoryBase      = 64 << 20
	memoryPerDevice = 9 << 10
	memoryCeiling   = 1280 << 20
)

// tuneGC applies gcPercent and the memory limit for an inventory of n
// devices, each unless its environment variable is set. It returns the
// limit set (0 when GOMEMLIMIT rules).
func tuneGC(n int) int64 {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if memlimit.Overridden() {
		return 0
	}
	limit := memoryLimit(n, memlimit.LiveHeap())
	debug.SetMemoryLimit(limit)
	return limit
}

// memoryLimit is the limit for n devices and a live heap of live bytes:
// what the devices keep plus memoryBase, at most memoryCeiling, and never
// less than a quarter more than what the heap holds live, plus memoryBase. An inventory of many villages and few devices
// (coverage from declared rows, hundreds of MB of regions and results)
// would otherwise sit above a limit counted in devices, and a heap live
// above its limit makes the collector run without end.
func memoryLimit(n int, live uint64) int64 {
	limit := min(int64(memoryBase)+int64(n)*memoryPerDevice, memoryCeiling)
	return max(limit, int64(live+live/4)+memoryBase)
}

// Every gcTuneEvery the limit follows the live heap (the inventory
// reloaded, coverage results grown).
const gcTuneEvery = 10 * time.Second

// runGCTuning keeps the memory limit above the live heap until ctx ends.
func (d *Daemon) runGCTuning(ctx context.Context) error {
	memlimit.Follow(ctx, gcTuneEvery, func(live uint64) int64 {
		d.mu.Lock()
		n := len(d.cfg.LoadedInventory().Devices)
		d.mu.Unlock()
		return memoryLimit(n, live)
	}, func(limit int64) { d.log.Debug("garbage collector", "memory_limit_bytes", limit) })
	return nil
}
