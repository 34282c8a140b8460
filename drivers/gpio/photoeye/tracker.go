package photoeye

import "time"

// tracker is the pure debounce and held-open state machine behind a Sensor.
// It sees level readings with their times (observe) and the passing of time
// (tick), and appends the events that follow. It does no I/O and reads no
// clock, so its timing is tested without sleeping.
type tracker struct {
	name      string
	debounce  time.Duration
	heldAfter time.Duration

	blocked bool      // the committed (debounced) state
	since   time.Time // when the committed state began
	held    bool      // Held already raised for this blocked period

	pending   bool      // a change to !blocked is waiting to be confirmed
	pendingAt time.Time // first edge of the uninterrupted run at the new level
	lastEdge  time.Time // last edge seen while pending; the hold starts here
}

// start sets the state read when the sensor starts. A beam blocked at start
// raises Blocked at once: there is no earlier level to debounce against.
func (t *tracker) start(blocked bool, now time.Time, out []Event) []Event {
	t.blocked = blocked
	t.since = now
	t.held = false
	t.pending = false
	if blocked {
		out = append(out, Event{Sensor: t.name, Kind: Blocked, At: now})
	}
	return out
}

// observe records the level read after an edge at time at.
func (t *tracker) observe(blocked bool, at time.Time) {
	switch {
	case blocked == t.blocked:
		// Back to the committed level before the change held: a bounce.
		t.pending = false
	case !t.pending:
		t.pending = true
		t.pendingAt = at
		t.lastEdge = at
	default:
		// Another edge while the new level was pending (a glitch the read
		// missed): the level has not held still, start the hold again.
		t.lastEdge = at
	}
}

// tick commits a pending change that has held for the debounce time and
// raises Held when due. It appends the resulting events to out.
func (t *tracker) tick(now time.Time, out []Event) []Event {
	if t.pending && now.Sub(t.lastEdge) >= t.debounce {
		t.pending = false
		if !t.blocked {
			t.blocked = true
			t.since = t.pendingAt
			t.held = false
			out = append(out, Event{Sensor: t.name, Kind: Blocked, At: t.pendingAt})
		} else {
			t.blocked = false
			out = append(out, Event{Sensor: t.name, Kind: Cleared, At: t.pendingAt, Duration: t.pendingAt.Sub(t.since)})
			t.since = t.pendingAt
		}
	}
	if t.blocked && t.heldAfter > 0 && !t.held && now.Sub(t.since) >= t.heldAfter {
		// A pending clear that began before the threshold means the beam was
		// blocked for less than HeldAfter: wait for it to commit or bounce.
		if !t.pending || t.pendingAt.Sub(t.since) >= t.heldAfter {
			t.held = true
			out = append(out, Event{Sensor: t.name, Kind: Held, At: now, Duration: now.Sub(t.since)})
		}
	}
	return out
}

// deadline returns the next instant at which tick has something to do, and
// false when nothing is due without a new edge.
func (t *tracker) deadline() (time.Time, bool) {
	var d time.Time
	ok := false
	if t.pending {
		d, ok = t.lastEdge.Add(t.debounce), true
	}
	if t.blocked && t.heldAfter > 0 && !t.held {
		h := t.since.Add(t.heldAfter)
		if t.pending && t.pendingAt.Sub(t.since) < t.heldAfter {
			// Held waits on the pending clear; its deadline is the one above.
			return d, ok
		}
		if !ok || h.Before(d) {
			d, ok = h, true
		}
	}
	return d, ok
}
