package alerts

import (
	"maps"

	"github.com/ngic/ngic/telemetry"
)

// DefaultSubscribeBuffer is the buffer of a subscription asked with none.
const DefaultSubscribeBuffer = 64

// subscriber is one Subscribe channel.
type subscriber struct {
	ch chan telemetry.Alert
}

// Subscribe returns a channel that receives every alert change from now
// on: raised (firing or silenced), suppressed, silenced or un-silenced by
// a maintenance window, marked flapping, acknowledged and resolved, in the
// order the engine made them. The engine never waits for a subscriber: a
// change that finds the channel's buffer (buf, DefaultSubscribeBuffer when
// buf < 1) full is dropped for that subscriber and counted
// (ngic_controller_alerts_subscriber_dropped_total), so a reader that
// falls behind should read Open again. Call the returned function to end
// the subscription (it closes the channel; calling it again does
// nothing). Close ends every subscription; after Close the channel is
// returned closed.
func (e *Engine) Subscribe(buf int) (<-chan telemetry.Alert, func()) {
	if buf < 1 {
		buf = DefaultSubscribeBuffer
	}
	s := &subscriber{ch: make(chan telemetry.Alert, buf)}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		close(s.ch)
		return s.ch, func() {}
	}
	e.subs[s] = struct{}{}
	return s.ch, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if _, ok := e.subs[s]; ok {
			delete(e.subs, s)
			close(s.ch)
		}
	}
}

// publishLocal hands an alert change to every subscriber without
// waiting. Called with mu held, which keeps the order of the changes and
// makes the send and the close of a channel exclusive.
func (e *Engine) publishLocal(a telemetry.Alert) {
	for s := range e.subs {
		select {
		case s.ch <- cloneAlert(a):
		default:
			e.subsDropped.Add(1)
		}
	}
}

// closeSubscribers ends every subscription. Called with mu held.
func (e *Engine) closeSubscribers() {
	for s := range e.subs {
		close(s.ch)
	}
	clear(e.subs)
}

// cloneAlert copies an alert with its own attributes, resolve time and
// acknowledgement, so that a receiver may change it.
func cloneAlert(a telemetry.Alert) telemetry.Alert {
	a.Attrs = maps.Clone(a.Attrs)
	if a.Resolved != nil {
		t := *a.Resolved
		a.Resolved = &t
	}
	if a.Ack != nil {
		k := *a.Ack
		a.Ack = &k
	}
	return a
}
