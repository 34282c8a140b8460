// Package memlimit keeps the Go runtime's soft memory limit where a daemon
// wants it: set once at start-up, then following the live heap, unless the
// GOMEMLIMIT environment variable rules.
package memlimit

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Overridden tells whether GOMEMLIMIT is set, in which case the daemon
// leaves the limit to it.
func Overridden() bool { return os.Getenv("GOMEMLIMIT") != "" }

// LiveHeap is the heap the last collection found live (0 before the
// first).
func LiveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// Set makes want the memory limit when the limit in force is off by more
// than a tenth of itself, and returns the limit then in force and whether
// it changed it.
func Set(want int64) (int64, bool) {
	if cur := debug.SetMemoryLimit(-1); want <= cur+cur/10 && want >= cur-cur/10 {
		return cur, false
	}
	debug.SetMemoryLimit(want)
	return want, true
}

// Follow sets, every period until ctx ends, the limit want gives for the
// live heap (Set), calling changed with each new limit. It returns at once
// when GOMEMLIMIT is set. It is meant to run beside the daemon's work.
func Follow(ctx context.Context, every time.Duration, want func(live uint64) int64, changed func(limit int64)) {
	if Overridden() {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if limit, ok := Set(want(LiveHeap())); ok {
			changed(limit)
		}
	}
}
