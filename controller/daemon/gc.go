package daemon

import (
	"os"
	"runtime/debug"
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
// bounds the peak without making the collector run all the time.
const (
	gcPercent       = 400
	memoryBase      = 64 << 20
	memoryPerDevice = 9 << 10
)

// tuneGC applies gcPercent and the memory limit for an inventory of n
// devices, each unless its environment variable is set. It returns the
// limit set (0 when GOMEMLIMIT rules).
func tuneGC(n int) int64 {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") != "" {
		return 0
	}
	limit := int64(memoryBase) + int64(n)*memoryPerDevice
	debug.SetMemoryLimit(limit)
	return limit
}
