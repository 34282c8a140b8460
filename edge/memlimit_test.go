package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
	"time"

	"github.com/ngic/ngic/internal/testenv"
)

// TestMemoryLimitAtStart runs the daemon and reads the Go memory limit
// it runs with from its metrics (go_gc_gomemlimit_bytes): memoryLimit
// when GOMEMLIMIT is unset or empty, and GOMEMLIMIT's when set.
func TestMemoryLimitAtStart(t *testing.T) {
	bin := buildEdge(t)
	for _, tc := range []struct {
		env  string
		want float64
	}{
		{"", memoryLimit},
		{"64MiB", 64 << 20},
	} {
		t.Run("GOMEMLIMIT="+tc.env, func(t *testing.T) {
			t.Setenv("GOMEMLIMIT", tc.env) // the daemon inherits it
			dir := t.TempDir()
			port := testenv.FreePort(t)
			conf := filepath.Join(dir, "edge.yaml")
			// No broker listens: the limit is set before anything connects.
			y := fmt.Sprintf("gateway: gw-memlimit\nspool:\n  path: %s/spool.db\nmqtt:\n  broker: tcp://127.0.0.1:%d\nhttp:\n  listen: 127.0.0.1:%d\n",
				dir, testenv.FreePort(t), port)
			if err := os.WriteFile(conf, []byte(y), 0o644); err != nil {
				t.Fatal(err)
			}
			startEdge(t, bin, conf)
			var got float64
			waitMetrics(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", port), 60*time.Second, "serving its metrics",
				func(m map[string]float64) bool {
					got = m["go_gc_gomemlimit_bytes"]
					return got > 0
				})
			if got != tc.want {
				t.Errorf("memory limit %v bytes, want %v", got, tc.want)
			}
		})
	}
}

// TestLimitFor: the limit is memoryLimit until the live heap needs more,
// then half as much again as the live heap.
func TestLimitFor(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int64
	}{
		{0, memoryLimit},
		{8 << 20, memoryLimit},
		{memoryLimit * 2 / 3, memoryLimit},
		{20 << 20, 30 << 20},
	} {
		if got := limitFor(tc.live); got != tc.want {
			t.Errorf("limitFor(%d) = %d, want %d", tc.live, got, tc.want)
		}
	}
}

// TestFollow: the limit in force follows the live heap, and is left alone
// while it is within a tenth of what the heap asks.
func TestFollow(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(memoryLimit))
	for _, tc := range []struct {
		live    uint64
		want    int64
		changed bool
	}{
		{4 << 20, memoryLimit, false},
		{20 << 20, 30 << 20, true},
		{21 << 20, 30 << 20, false}, // 31.5 MiB asked: within a tenth
		{24 << 20, 36 << 20, true},
		{0, memoryLimit, true},
	} {
		got, changed := follow(tc.live)
		if got != tc.want || changed != tc.changed {
			t.Errorf("follow(%d) = %d, %v; want %d, %v", tc.live, got, changed, tc.want, tc.changed)
		}
		if inForce := debug.SetMemoryLimit(-1); inForce != tc.want {
			t.Errorf("after follow(%d): limit in force %d, want %d", tc.live, inForce, tc.want)
		}
	}
}
