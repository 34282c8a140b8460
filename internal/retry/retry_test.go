package retry

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestLoopBacksOffAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var starts []time.Time
	var errs []error
	boom := errors.New("boom")
	err := Loop(ctx, time.Millisecond, 8*time.Millisecond, time.Hour, func(context.Context) error {
		starts = append(starts, time.Now())
		if len(starts) == 6 {
			cancel()
		}
		return boom
	}, func(err error) { errs = append(errs, err) })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Loop returned %v", err)
	}
	if len(starts) != 6 || len(errs) != 5 {
		t.Fatalf("%d runs, %d failures reported", len(starts), len(errs))
	}
	// Each wait is at least the backoff of its turn: 1, 2, 4, 8, 8 ms.
	for i, min := range []time.Duration{1, 2, 4, 8, 8} {
		if gap := starts[i+1].Sub(starts[i]); gap < min*time.Millisecond {
			t.Errorf("wait %d was %v, want at least %v", i, gap, min*time.Millisecond)
		}
	}
}
