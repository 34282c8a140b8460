package emulate

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/ngic/ngic/drivers/rfid/magicrf"
)

// sink is a host that takes everything the reader sends and writes
// nothing until it is closed.
type sink struct{ closed chan struct{} }

func (s sink) Read([]byte) (int, error)    { <-s.closed; return 0, io.EOF }
func (s sink) Write(b []byte) (int, error) { return len(b), nil }

// waitStats waits until cond holds for r's counters, or fails after a
// hang guard.
func waitStats(t *testing.T, r *Runner, what string, cond func(Stats) bool) Stats {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		st := r.Stats()
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("not yet %s: %+v", what, st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStatsMissed: rounds the runner could not make while it was stalled
// are counted as missed, not as dropped; rounds a host that reads
// everything takes are counted as sent.
func TestStatsMissed(t *testing.T) {
	r := mustNew(t, mustLookup(t, magicrf.Name), magicrfTags(1, 3))
	r.handle(magicrf.AppendMultiPoll(nil, magicrf.MultiPollCount), 0)
	host := sink{closed: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Serve(ctx, host) }()
	defer func() {
		cancel()
		close(host.closed)
		if err := <-done; err != nil && !errors.Is(err, io.EOF) { // the host closed as it ended
			t.Error(err)
		}
	}()
	waitStats(t, r, "a round sent", func(st Stats) bool { return st.Sent > 0 })

	// A stall of ten rounds: the runner cannot reach its emulator.
	r.mu.Lock()
	time.Sleep(10 * magicrf.TickInterval)
	r.mu.Unlock()
	st := waitStats(t, r, "a round missed", func(st Stats) bool { return st.Missed > 0 })
	if st.Dropped != 0 {
		t.Fatalf("%+v: rounds dropped, though the host read them all", st)
	}
}
