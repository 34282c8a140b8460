// Package alertstest has test helpers for the users of package alerts.
package alertstest

import (
	"sync"

	"github.com/ngic/ngic/controller/alerts"
)

// Recorder is an alerts.Sink that keeps the signals it is given. Its
// methods are safe for concurrent use.
type Recorder struct {
	mu   sync.Mutex
	sigs []alerts.Signal
}

var _ alerts.Sink = (*Recorder)(nil)

// Signal implements alerts.Sink.
func (r *Recorder) Signal(s alerts.Signal) {
	r.mu.Lock()
	r.sigs = append(r.sigs, s)
	r.mu.Unlock()
}

// Take returns the signals received since the last call, in order.
func (r *Recorder) Take() []alerts.Signal {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.sigs
	r.sigs = nil
	return out
}
