// Package retry runs a connection-like function again and again with
// exponential backoff, as the edge does for serial links and brokers.
package retry

import (
	"context"
	"time"
)

// Loop calls run until ctx ends. After each return it calls failed with
// run's error (which may be nil), waits the current backoff, and doubles it
// up to max; a run that lasted longer than healthy resets the backoff to
// min. Loop returns ctx.Err().
func Loop(ctx context.Context, min, max, healthy time.Duration, run func(context.Context) error, failed func(error)) error {
	backoff := min
	for {
		started := time.Now()
		err := run(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if failed != nil {
			failed(err)
		}
		if time.Since(started) > healthy {
			backoff = min
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		backoff = backoff * 2
		if backoff > max {
			backoff = max
		}
	}
}
