package simulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ngic/ngic/controller/simulator/internal/mmsg"
)

// blockWait is how long a worker's read waits in the kernel before it
// returns to see whether Serve is stopping.
const blockWait = 20 * time.Millisecond

// yieldEvery is how often a worker yields its processor, looks whether
// conn was closed and answers what conn still holds. A goroutine that
// never yields looks stuck to the runtime after 10 ms, which then takes
// its processor away during each read and wakes its monitor thread every
// 20 µs; yielding wakes another thread to look for work, so not much more
// often than needed.
const yieldEvery = 2 * time.Millisecond

// clockEvery is how many batches a worker reads between looking at the
// clock for yieldEvery.
const clockEvery = 8

// serveGroup is Serve on g's sockets, one worker each, until ctx ends or
// conn is closed; it closes g.
func (s *Simulator) serveGroup(ctx context.Context, conn net.PacketConn, g *mmsg.Group) error {
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			stop.Store(true)
		case <-done:
		}
	}()
	errc := make(chan error, g.Len())
	started := 0
	var first error
	for i := range g.Len() {
		w, err := s.newBatchWorker(func(n, size int) (*mmsg.Batch, error) { return g.Batch(i, n, size) })
		var drain *batchWorker
		if err == nil && i == 0 {
			// Requests conn held before the group took over.
			drain, err = s.newBatchWorker(func(n, size int) (*mmsg.Batch, error) { return mmsg.New(conn, n, size) })
		}
		if err != nil {
			first = err
			stop.Store(true)
			break
		}
		started++
		go func() { errc <- w.serveGroup(&stop, g, drain) }()
	}
	for range started {
		if err := <-errc; err != nil && first == nil {
			first = err
			stop.Store(true)
		}
	}
	close(done)
	if err := g.Close(); err != nil && first == nil {
		first = err
	}
	if ctx.Err() != nil {
		return nil
	}
	return first
}

// serveGroup serves one socket of g until stop or an error, answering
// what drain's socket holds too if drain is not nil.
func (w *batchWorker) serveGroup(stop *atomic.Bool, g *mmsg.Group, drain *batchWorker) error {
	var yielded time.Time
	for batches := 0; ; batches++ {
		if batches%clockEvery == 0 {
			if now := time.Now(); now.Sub(yielded) >= yieldEvery {
				yielded = now
				runtime.Gosched()
				if err := g.Alive(); err != nil {
					return fmt.Errorf("simulator: read: %w", err)
				}
				for n := 1; drain != nil && n > 0; {
					n, _ = drain.step(drain.in.RecvWait) // does not wait on conn
				}
			}
		}
		if stop.Load() {
			return nil
		}
		n, err := w.step(w.in.RecvWait)
		switch {
		case errors.Is(err, syscall.EBADF), errors.Is(err, syscall.ENOTSOCK), errors.Is(err, syscall.EFAULT):
			return fmt.Errorf("simulator: read: %w", err)
		case n == 0:
			batches = clockEvery - 1 // idle: look at the clock now
		}
	}
}
