package spool

import (
	"sync"
	"time"
)

// AckDelay is how long an acknowledged record (Acknowledge) waits at most
// for a write transaction to delete it before the spool runs one of its
// own.
const AckDelay = 100 * time.Millisecond

// acks are the records acknowledged and not yet deleted, in the order
// given. Lock order: wmu, then nmu, then mu.
type acks struct {
	mu    sync.Mutex
	seqs  []uint64
	set   map[uint64]struct{}
	top   uint64      // no waiting seq is above it
	timer *time.Timer // runs commitAcks AckDelay after the first ack waits
	armed bool
	off   bool // stopped (Close)
	err   error
}

// Acknowledge marks records as acknowledged by the far end: they are
// deleted by the next transaction that writes the spool (an AppendEvents,
// typically; 1,024 at most a transaction, the rest by the next), and at
// the latest AckDelay later by one of the spool's own,
// so that deletions ride with appends instead of costing a commit and its
// fsync each. Next never returns them again. Until they are deleted they
// are counted in Stats.Records (and in Stats.Acknowledged); a crash
// before that brings them back (they are then published again: delivery
// is at least once, never less). Unknown or repeated sequence numbers are
// ignored. A failure to delete them is in Stats.AckError, and retried.
//
// Delete is the durable form: deleted when it returns.
func (s *Spool) Acknowledge(seqs ...uint64) {
	if len(seqs) == 0 {
		return
	}
	a := &s.acks
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.off {
		return
	}
	if a.set == nil {
		a.set = make(map[uint64]struct{})
	}
	for _, q := range seqs {
		if _, ok := a.set[q]; !ok {
			a.set[q] = struct{}{}
			a.seqs = append(a.seqs, q)
			a.top = max(a.top, q)
		}
	}
	a.arm(s)
}

// arm starts the timer unless it runs. The caller holds a.mu.
func (a *acks) arm(s *Spool) {
	if a.armed || len(a.seqs) == 0 {
		return
	}
	a.armed = true
	if a.timer == nil {
		a.timer = time.AfterFunc(AckDelay, s.ackTimer)
	} else {
		a.timer.Reset(AckDelay)
	}
}

// ackTimer deletes the acknowledged records still waiting.
func (s *Spool) ackTimer() {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.acks.mu.Lock()
	s.acks.armed = false
	s.acks.mu.Unlock()
	if s.isClosed() {
		return
	}
	_ = s.commitAcks() // kept in Stats.AckError
	s.publishStats()
	s.acks.mu.Lock()
	s.acks.arm(s) // what came meanwhile, or a retry after a failure
	s.acks.mu.Unlock()
}

// commitAcks deletes the acknowledged records (as Delete does, with its
// reserve for a full disk). The caller holds wmu.
func (s *Spool) commitAcks() error {
	seqs := s.acks.snapshot()
	if len(seqs) == 0 {
		return nil
	}
	err := s.deleteLocked(seqs)
	s.acks.committed(len(seqs), err)
	return err
}

// snapshot returns the sequence numbers waiting now, for the holder of
// wmu only: only it removes any (committed), and others only append, so
// the slice stays as it is until then.
func (a *acks) snapshot() []uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.seqs[:len(a.seqs):len(a.seqs)]
}

// committed records the outcome of deleting the first n waiting; they are
// forgotten when err is nil. The caller holds wmu.
func (a *acks) committed(n int, err error) {
	if n == 0 && err == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.err = err
	if err != nil {
		return
	}
	for _, q := range a.seqs[:n] {
		delete(a.set, q)
	}
	// In place: the only reader of a snapshot is the holder of wmu, done
	// with it by now.
	a.seqs = a.seqs[:copy(a.seqs, a.seqs[n:])]
	if len(a.seqs) == 0 && cap(a.seqs) > ackKeep {
		// A map never shrinks: after a burst (a backlog drained) the
		// memory of its peak would stay. The next burst starts small.
		a.seqs, a.set = nil, nil
	}
}

// ackKeep is how many waiting records' room the acknowledged set keeps
// once empty; beyond, it is freed.
const ackKeep = 4096

// skipper tells whether a record is acknowledged, for Next.
type skipper struct{ a *acks }

// lookup holds the acknowledged set for a Next of records above after
// (until done), or returns a skipper that skips nothing when none of them
// waits: the usual case, a publisher's cursor being past what it had
// acknowledged.
func (a *acks) lookup(after uint64) skipper {
	a.mu.Lock()
	if len(a.set) == 0 || after >= a.top {
		a.mu.Unlock()
		return skipper{}
	}
	return skipper{a}
}

func (k skipper) has(seq uint64) bool {
	if k.a == nil {
		return false
	}
	_, ok := k.a.set[seq]
	return ok
}

func (k skipper) done() {
	if k.a != nil {
		k.a.mu.Unlock()
	}
}

// stats returns the number waiting and the last failure to delete them.
func (a *acks) stats() (int, string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return len(a.seqs), a.err.Error()
	}
	return len(a.seqs), ""
}

// stop stops the timer for good (Close).
func (a *acks) stop() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.off = true
	if a.timer != nil {
		a.timer.Stop()
	}
	a.armed = false
}
