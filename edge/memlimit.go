package main

import (
	"context"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/ngic/ngic/edge/gateway"
	"github.com/ngic/ngic/internal/memlimit"
)

// memoryLimit is the Go runtime's soft memory limit in the daemon, unless
// GOMEMLIMIT says otherwise. The daemon's heap keeps little (the tags
// present, the publisher's window, the spool's pages in the heap while a
// transaction runs), but at 5,000 events a second it allocates fast, and
// with Go's default (GOGC=100, no limit) the heap and the memory the
// runtime holds grow with the work in hand: 17-22 MB outside the files it
// maps while a backlog of 36,000 events drained, against 12 MB in the
// steady flow. With the binary's pages and the spool's (some 12 MB more)
// that passed the 30 MB the gateway allows itself. Under the limit the
// collector runs earlier and the runtime returns freed memory to the
// system sooner.
const memoryLimit = 16 << 20

// applyMemoryLimit sets the soft memory limit to memoryLimit, unless
// GOMEMLIMIT is set, and returns the limit set (0 when GOMEMLIMIT rules).
func applyMemoryLimit() int64 {
	if memlimit.Overridden() {
		return 0
	}
	debug.SetMemoryLimit(memoryLimit)
	return memoryLimit
}

// limitFor is the limit for a heap of live bytes: memoryLimit, or half as
// much again as the heap holds live when that is more. A gateway that
// keeps more (many tags present, a large configuration) must not sit at
// its limit, where the collector would run without end.
func limitFor(live uint64) int64 {
	return max(memoryLimit, int64(live+live/2))
}

// followHeapEvery is how often followHeap looks at the live heap.
const followHeapEvery = 10 * time.Second

// followHeap keeps the memory limit set by applyMemoryLimit above the
// live heap (limitFor) until ctx ends, changing it when it is off by more
// than a tenth. It does nothing when GOMEMLIMIT rules. It returns one of
// runGateway's alongside.
func followHeap(log *slog.Logger) func(context.Context, *gateway.Gateway) error {
	return func(ctx context.Context, _ *gateway.Gateway) error {
		memlimit.Follow(ctx, followHeapEvery, limitFor, func(limit int64) {
			log.Info("memory limit follows the live heap", "memory_limit_bytes", limit)
		})
		return nil
	}
}

// follow sets the memory limit for a heap of live bytes (limitFor) when
// the limit in force is off by more than a tenth, and returns the limit
// then in force and whether it changed it.
func follow(live uint64) (int64, bool) { return memlimit.Set(limitFor(live)) }
