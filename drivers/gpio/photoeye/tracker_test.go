package photoeye

import (
	"testing"
	"time"
)

// TestTrackerHeldWaitsForPendingClear checks the pure state machine where a
// clear edge comes shortly before HeldAfter: if the clear holds, the beam was
// blocked for less than HeldAfter and Held must not be raised; if it was a
// bounce, Held is raised.
func TestTrackerHeldWaitsForPendingClear(t *testing.T) {
	t0 := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	for _, c := range []struct {
		name   string
		bounce bool
		want   []Kind
	}{
		{"clear holds", false, []Kind{Cleared}},
		{"clear bounces", true, []Kind{Held}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := tracker{name: "door", debounce: 20 * ms, heldAfter: time.Second}
			evs := tr.start(true, t0, nil)
			if len(evs) != 1 || evs[0].Kind != Blocked {
				t.Fatalf("start: %v", evs)
			}
			tr.observe(false, t0.Add(990*ms))
			if evs := tr.tick(t0.Add(1000*ms), nil); len(evs) != 0 {
				t.Fatalf("Held raised while a clear was pending: %v", evs)
			}
			if d, ok := tr.deadline(); !ok || !d.Equal(t0.Add(1010*ms)) {
				t.Fatalf("deadline = %v, %v; want the pending clear's", d, ok)
			}
			if c.bounce {
				tr.observe(true, t0.Add(1005*ms))
			}
			evs = tr.tick(t0.Add(1010*ms), nil)
			if len(evs) != len(c.want) {
				t.Fatalf("got %v; want kinds %v", evs, c.want)
			}
			for i, k := range c.want {
				if evs[i].Kind != k {
					t.Fatalf("got %v; want kinds %v", evs, c.want)
				}
			}
			if evs[0].Kind == Cleared && evs[0].Duration != 990*ms {
				t.Errorf("Cleared lasted %v; want 990ms", evs[0].Duration)
			}
			if evs[0].Kind == Held && evs[0].Duration != 1010*ms {
				t.Errorf("Held after %v; want 1.01s", evs[0].Duration)
			}
		})
	}
}

func TestTrackerNoDebounce(t *testing.T) {
	t0 := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	tr := tracker{name: "door"}
	if evs := tr.start(false, t0, nil); len(evs) != 0 {
		t.Fatalf("start clear raised %v", evs)
	}
	if _, ok := tr.deadline(); ok {
		t.Fatal("deadline set with nothing pending")
	}
	tr.observe(true, t0.Add(time.Millisecond))
	evs := tr.tick(t0.Add(time.Millisecond), nil)
	if len(evs) != 1 || evs[0].Kind != Blocked {
		t.Fatalf("Debounce 0: got %v; want Blocked at once", evs)
	}
}
