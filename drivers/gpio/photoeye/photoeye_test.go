package photoeye

import (
	"context"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// startSensor builds a Sensor on a fake pin at level idle, runs it, and waits
// until it has read its initial state. The returned stop cancels Run and
// checks that it returned nil.
func startSensor(t *testing.T, idle gpio.Level, o Opts) (*Sensor, *fakePin, *fakeClock, func()) {
	t.Helper()
	clk := newFakeClock()
	pin := newFakePin("GPIO17", idle, clk)
	o.Now = clk.Now
	s, err := New(pin, &o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	pin.settle(t, 0)
	stop := func() {
		cancel()
		clk.Advance(0) // wake the pin so Run sees ctx at once
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return after cancel")
		}
	}
	return s, pin, clk, stop
}

func TestNewRejectsBadOpts(t *testing.T) {
	pin := newFakePin("GPIO4", gpio.High, nil)
	cases := []struct {
		name string
		pin  gpio.PinIn
		opts Opts
		want string
	}{
		{"nil pin", nil, DefaultOpts, "photoeye: nil pin"},
		{"bad pull", pin, Opts{Name: "door", Pull: gpio.Pull(9), Debounce: time.Millisecond}, `photoeye: sensor "door": Pull 9`},
		{"negative debounce", pin, Opts{Name: "door", Pull: gpio.PullUp, Debounce: -time.Millisecond}, `photoeye: sensor "door": Debounce -1ms is negative`},
		{"negative held", pin, Opts{Name: "door", Pull: gpio.PullUp, HeldAfter: -time.Second}, `photoeye: sensor "door": HeldAfter -1s is negative`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := New(c.pin, &c.opts)
			if s != nil || err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("New = %v, %v; want nil and an error starting %q", s, err, c.want)
			}
		})
	}
}

func TestNewConfiguresPin(t *testing.T) {
	pin := newFakePin("GPIO22", gpio.High, nil)
	o := DefaultOpts
	o.Pull = gpio.PullDown
	s, err := New(pin, &o)
	if err != nil {
		t.Fatal(err)
	}
	if pin.P != gpio.PullDown || pin.E != gpio.BothEdges {
		t.Errorf("pin configured with %s, %s; want PullDown, BothEdges", pin.P, pin.E)
	}
	if s.Name() != "GPIO22" {
		t.Errorf("Name() = %q; want the pin's name when Opts.Name is empty", s.Name())
	}
	if s2, err := New(newFakePin("GPIO23", gpio.High, nil), nil); err != nil || s2.opts.Debounce != DefaultOpts.Debounce {
		t.Errorf("New(pin, nil) = %v, %v; want DefaultOpts", s2, err)
	}
}

// TestLevels drives a block and a clear through both wirings.
func TestLevels(t *testing.T) {
	for _, c := range []struct {
		name          string
		active        gpio.Level
		pull          gpio.Pull
		idle, blocked gpio.Level
	}{
		{"active low (NPN dark-on)", gpio.Low, gpio.PullUp, gpio.High, gpio.Low},
		{"active high (PNP dark-on)", gpio.High, gpio.PullDown, gpio.Low, gpio.High},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, pin, clk, stop := startSensor(t, c.idle, Opts{Name: "door", ActiveLevel: c.active, Pull: c.pull, Debounce: 20 * time.Millisecond})
			defer stop()
			if evs := drain(s); len(evs) != 0 {
				t.Fatalf("events at start with a clear beam: %v", evs)
			}
			blockedAt := clk.Now()
			pin.edge(t, c.blocked)
			pin.advance(t, 19*time.Millisecond)
			if evs := drain(s); len(evs) != 0 {
				t.Fatalf("events before Debounce elapsed: %v", evs)
			}
			pin.advance(t, time.Millisecond)
			evs := drain(s)
			if len(evs) != 1 || evs[0].Kind != Blocked || evs[0].Sensor != "door" || !evs[0].At.Equal(blockedAt) {
				t.Fatalf("after Debounce got %v; want one Blocked at the edge time %v", evs, blockedAt)
			}
			pin.advance(t, 3*time.Second)
			clearedAt := clk.Now()
			pin.edge(t, c.idle)
			pin.advance(t, 25*time.Millisecond)
			evs = drain(s)
			want := clearedAt.Sub(blockedAt)
			if len(evs) != 1 || evs[0].Kind != Cleared || !evs[0].At.Equal(clearedAt) || evs[0].Duration != want {
				t.Fatalf("after clearing got %v; want one Cleared at %v lasting %v", evs, clearedAt, want)
			}
		})
	}
}

func TestBounceShorterThanDebounceIgnored(t *testing.T) {
	s, pin, clk, stop := startSensor(t, gpio.High, Opts{Name: "door", ActiveLevel: gpio.Low, Pull: gpio.PullUp, Debounce: 20 * time.Millisecond})
	defer stop()
	// A 5 ms flicker of the beam, then quiet.
	pin.edge(t, gpio.Low)
	pin.advance(t, 5*time.Millisecond)
	pin.edge(t, gpio.High)
	pin.advance(t, time.Second)
	if evs := drain(s); len(evs) != 0 {
		t.Fatalf("a bounce shorter than Debounce raised %v", evs)
	}
	// Blocked, a 3 ms gap after 10 ms, then blocked for good: the hold
	// restarts at the last edge and the event carries that edge's time.
	pin.edge(t, gpio.Low)
	pin.advance(t, 10*time.Millisecond)
	pin.edge(t, gpio.High)
	pin.advance(t, 3*time.Millisecond)
	settledAt := clk.Now()
	pin.edge(t, gpio.Low)
	pin.advance(t, 15*time.Millisecond)
	if evs := drain(s); len(evs) != 0 {
		t.Fatalf("raised %v before the level held for Debounce", evs)
	}
	pin.advance(t, 5*time.Millisecond)
	evs := drain(s)
	if len(evs) != 1 || evs[0].Kind != Blocked || !evs[0].At.Equal(settledAt) {
		t.Fatalf("got %v; want one Blocked at %v", evs, settledAt)
	}
	// A repeated edge at the pending level (the read missed the dip) also
	// restarts the hold.
	pin.edge(t, gpio.High)
	pin.advance(t, 15*time.Millisecond)
	pin.edge(t, gpio.High)
	pin.advance(t, 15*time.Millisecond)
	if evs := drain(s); len(evs) != 0 {
		t.Fatalf("raised %v though the level did not hold still for Debounce", evs)
	}
	pin.advance(t, 5*time.Millisecond)
	if evs := drain(s); len(evs) != 1 || evs[0].Kind != Cleared {
		t.Fatalf("got %v; want one Cleared", evs)
	}
}

func TestHeldRaisedOnceThenCleared(t *testing.T) {
	s, pin, clk, stop := startSensor(t, gpio.High, Opts{Name: "cabinet", ActiveLevel: gpio.Low, Pull: gpio.PullUp, Debounce: 20 * time.Millisecond, HeldAfter: time.Minute})
	defer stop()
	for round := 0; round < 2; round++ {
		blockedAt := clk.Now()
		pin.edge(t, gpio.Low)
		pin.advance(t, 20*time.Millisecond)
		if evs := drain(s); len(evs) != 1 || evs[0].Kind != Blocked {
			t.Fatalf("round %d: got %v; want Blocked", round, evs)
		}
		pin.advance(t, 59*time.Second)
		if evs := drain(s); len(evs) != 0 {
			t.Fatalf("round %d: raised %v before HeldAfter", round, evs)
		}
		pin.advance(t, 2*time.Second)
		evs := drain(s)
		want := clk.Now().Sub(blockedAt)
		if len(evs) != 1 || evs[0].Kind != Held || evs[0].Duration != want || !evs[0].At.Equal(clk.Now()) {
			t.Fatalf("round %d: got %v; want one Held now lasting %v", round, evs, want)
		}
		for i := 0; i < 5; i++ {
			pin.advance(t, time.Minute)
		}
		if evs := drain(s); len(evs) != 0 {
			t.Fatalf("round %d: Held raised again: %v", round, evs)
		}
		clearedAt := clk.Now()
		pin.edge(t, gpio.High)
		pin.advance(t, 20*time.Millisecond)
		evs = drain(s)
		if len(evs) != 1 || evs[0].Kind != Cleared || evs[0].Duration != clearedAt.Sub(blockedAt) {
			t.Fatalf("round %d: got %v; want Cleared lasting the whole %v", round, evs, clearedAt.Sub(blockedAt))
		}
	}
}

func TestBlockedAtStart(t *testing.T) {
	s, pin, clk, stop := startSensor(t, gpio.Low, Opts{Name: "door", ActiveLevel: gpio.Low, Pull: gpio.PullNoChange, Debounce: 20 * time.Millisecond})
	defer stop()
	start := clk.Now()
	evs := drain(s)
	if len(evs) != 1 || evs[0].Kind != Blocked || !evs[0].At.Equal(start) {
		t.Fatalf("got %v; want Blocked at start %v", evs, start)
	}
	pin.advance(t, time.Second)
	pin.edge(t, gpio.High)
	pin.advance(t, 20*time.Millisecond)
	evs = drain(s)
	if len(evs) != 1 || evs[0].Kind != Cleared || evs[0].Duration != time.Second {
		t.Fatalf("got %v; want Cleared after 1s", evs)
	}
}

// TestRunCancel uses real timeouts: Run must notice cancellation although no
// edge ever comes.
func TestRunCancel(t *testing.T) {
	pin := newFakePin("GPIO5", gpio.High, nil)
	s, err := New(pin, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	pin.settle(t, 0)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run returned %v; want nil on cancel", err)
		}
	case <-time.After(10 * time.Second): // hang guard
		t.Fatal("Run did not return after cancel")
	}
	if _, ok := <-s.Events(); ok {
		t.Error("Events channel not closed after Run returned")
	}
	if err := s.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "Run called twice") {
		t.Errorf("second Run = %v; want an error", err)
	}
}

func TestKindAndDirectionStrings(t *testing.T) {
	for v, want := range map[any]string{Blocked: "blocked", Cleared: "cleared", Held: "held", Kind(0): "Kind(0)", In: "in", Out: "out", Direction(7): "Direction(7)"} {
		if got := v.(interface{ String() string }).String(); got != want {
			t.Errorf("%#v.String() = %q; want %q", v, got, want)
		}
	}
}
