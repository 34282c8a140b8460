// Package retry runs a connection-like function again and again with
// exponential backoff and jitter, as the edge does for serial links and
// brokers.
package retry

import (
	"context"
	"math/rand/v2"
	"time"
)

// Loop calls run until ctx ends. run calls healthy once its connection is
// up (the serial port opened, the broker accepted the session): the backoff
// then starts again from min. After each return of run, Loop calls failed
// with run's error (which may be nil), waits the current backoff with ±20 %
// jitter (so a fleet of gateways does not reconnect in lockstep), and
// doubles it up to max. Loop returns ctx.Err().
func Loop(ctx context.Context, min, max time.Duration, run func(ctx context.Context, healthy func()) error, failed func(error)) error {
	backoff := min
	for {
		err := run(ctx, func() { backoff = min })
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if failed != nil {
			failed(err)
		}
		t := time.NewTimer(Jitter(backoff))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		backoff *= 2
		if backoff > max {
			backoff = max
		}
	}
}

// Jitter returns d spread uniformly over ±20 %.
func Jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	return d - d/5 + time.Duration(rand.Int64N(int64(d)*2/5+1))
}
