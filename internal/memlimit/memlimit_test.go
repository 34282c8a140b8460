package memlimit

import (
	"context"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// TestSet: the limit changes only when it is off by more than a tenth.
func TestSet(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(100 << 20))
	for _, tc := range []struct {
		want, inForce int64
		changed       bool
	}{
		{105 << 20, 100 << 20, false},
		{95 << 20, 100 << 20, false},
		{111 << 20, 111 << 20, true},
		{99 << 20, 99 << 20, true},
	} {
		got, changed := Set(tc.want)
		if got != tc.inForce || changed != tc.changed {
			t.Errorf("Set(%d) = %d, %v; want %d, %v", tc.want, got, changed, tc.inForce, tc.changed)
		}
		if cur := debug.SetMemoryLimit(-1); cur != tc.inForce {
			t.Errorf("after Set(%d): limit in force %d, want %d", tc.want, cur, tc.inForce)
		}
	}
}

// TestLiveHeap: after a collection the live heap holds at least what is
// kept.
func TestLiveHeap(t *testing.T) {
	keep := make([]byte, 8<<20)
	runtime.GC()
	if live := LiveHeap(); live < uint64(len(keep)) {
		t.Errorf("LiveHeap() = %d with %d bytes kept", live, len(keep))
	}
	runtime.KeepAlive(keep)
}

// TestFollow: Follow sets the limit want gives the live heap and tells
// changed, until ctx ends; with GOMEMLIMIT set it does nothing.
func TestFollow(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(100 << 20))
	t.Setenv("GOMEMLIMIT", "")
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan int64, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		Follow(ctx, time.Millisecond, func(uint64) int64 { return 300 << 20 }, func(l int64) {
			select {
			case got <- l:
			default:
			}
		})
	}()
	select {
	case l := <-got:
		if l != 300<<20 || debug.SetMemoryLimit(-1) != 300<<20 {
			t.Errorf("changed(%d), limit in force %d; want %d", l, debug.SetMemoryLimit(-1), 300<<20)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Follow never set the limit")
	}
	cancel()
	<-done

	t.Setenv("GOMEMLIMIT", "64MiB")
	debug.SetMemoryLimit(100 << 20)
	Follow(context.Background(), time.Millisecond, func(uint64) int64 { return 300 << 20 }, func(int64) {
		t.Error("Follow changed the limit with GOMEMLIMIT set")
	})
	if cur := debug.SetMemoryLimit(-1); cur != 100<<20 {
		t.Errorf("limit in force %d with GOMEMLIMIT set, want it left at %d", cur, 100<<20)
	}
}
