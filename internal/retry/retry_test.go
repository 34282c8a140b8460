package retry

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestLoopBacksOffResetsAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var starts []time.Time
	var errs []error
	boom := errors.New("boom")
	err := Loop(ctx, 2*time.Millisecond, 16*time.Millisecond, func(_ context.Context, healthy func()) error {
		starts = append(starts, time.Now())
		switch len(starts) {
		case 5:
			healthy() // connected: the next wait starts from min again
		case 7:
			cancel()
		}
		return boom
	}, func(err error) { errs = append(errs, err) })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Loop returned %v", err)
	}
	if len(starts) != 7 || len(errs) != 6 {
		t.Fatalf("%d runs, %d failures reported", len(starts), len(errs))
	}
	// Each wait is at least 80 % of its backoff: 2, 4, 8, 16, then 2 after
	// the healthy run, then 4 (ms).
	for i, b := range []time.Duration{2, 4, 8, 16, 2, 4} {
		min := b * time.Millisecond * 4 / 5
		if gap := starts[i+1].Sub(starts[i]); gap < min {
			t.Errorf("wait %d was %v, want at least %v", i, gap, min)
		}
	}
}

func TestJitterStaysWithinBounds(t *testing.T) {
	seen := map[time.Duration]bool{}
	for i := 0; i < 1000; i++ {
		j := Jitter(time.Second)
		if j < 800*time.Millisecond || j > 1200*time.Millisecond {
			t.Fatalf("Jitter(1s) = %v", j)
		}
		seen[j] = true
	}
	if len(seen) < 100 {
		t.Fatalf("only %d distinct values: not spread", len(seen))
	}
	if Jitter(0) != 0 {
		t.Fatal("Jitter(0) != 0")
	}
}
