package photoeye

import (
	"context"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// step is one sensor event fed to a Pair: which beam, what, and when (ms
// after the test's origin).
type step struct {
	beam string
	kind Kind
	ms   int
}

func feedSteps(p *Pair, t0 time.Time, steps []step) []Passage {
	var out []Passage
	for _, s := range steps {
		if ps, ok := p.Feed(Event{Sensor: s.beam, Kind: s.kind, At: t0.Add(time.Duration(s.ms) * time.Millisecond)}); ok {
			out = append(out, ps)
		}
	}
	return out
}

func TestPairPassages(t *testing.T) {
	t0 := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	const o, i = "outer", "inner"
	cases := []struct {
		name   string
		steps  []step
		want   []Direction
		counts Counts
		dur    time.Duration // of the first passage
	}{
		{"in", []step{
			{o, Blocked, 0}, {i, Blocked, 120}, {o, Cleared, 300}, {i, Cleared, 450},
		}, []Direction{In}, Counts{In: 1}, 450 * time.Millisecond},
		{"out", []step{
			{i, Blocked, 0}, {o, Blocked, 90}, {i, Cleared, 200}, {o, Cleared, 260},
		}, []Direction{Out}, Counts{Out: 1}, 260 * time.Millisecond},
		{"aborted: outer only", []step{
			{o, Blocked, 0}, {o, Cleared, 300},
		}, nil, Counts{Aborted: 1}, 0},
		{"aborted: stepped in and back", []step{
			{o, Blocked, 0}, {i, Blocked, 100}, {i, Cleared, 200}, {o, Cleared, 300},
		}, nil, Counts{Aborted: 1}, 0},
		{"ambiguous: both blocked at once", []step{
			{o, Blocked, 0}, {i, Blocked, 0}, {o, Cleared, 200}, {i, Cleared, 300},
		}, nil, Counts{Ambiguous: 1}, 0},
		{"ambiguous: within Simultaneous", []step{
			{i, Blocked, 10}, {o, Blocked, 11}, {i, Cleared, 200}, {o, Cleared, 300},
		}, nil, Counts{Ambiguous: 1}, 0},
		{"ambiguous: both cleared at once", []step{
			{o, Blocked, 0}, {i, Blocked, 100}, {o, Cleared, 300}, {i, Cleared, 300},
		}, nil, Counts{Ambiguous: 1}, 0},
		{"in: legs re-break the outer beam", []step{
			{o, Blocked, 0}, {i, Blocked, 100}, {o, Cleared, 150}, {o, Blocked, 180}, {o, Cleared, 250}, {i, Cleared, 400},
		}, []Direction{In}, Counts{In: 1}, 400 * time.Millisecond},
		{"in: delivered out of order between sensors", []step{
			{i, Blocked, 100}, {o, Blocked, 0}, {o, Cleared, 300}, {i, Cleared, 450},
		}, []Direction{In}, Counts{In: 1}, 450 * time.Millisecond},
		{"ignored: other sensors, Held, Cleared without Blocked", []step{
			{"door", Blocked, 0}, {i, Cleared, 10}, {o, Held, 20},
		}, nil, Counts{}, 0},
		{"counters over several passages", []step{
			{o, Blocked, 0}, {i, Blocked, 100}, {o, Cleared, 200}, {i, Cleared, 300}, // in
			{o, Blocked, 1000}, {o, Cleared, 1100}, // aborted
			{o, Blocked, 2000}, {i, Blocked, 2100}, {o, Cleared, 2200}, {i, Cleared, 2300}, // in
			{i, Blocked, 3000}, {o, Blocked, 3100}, {i, Cleared, 3200}, {o, Cleared, 3300}, // out
			{i, Blocked, 4000}, {o, Blocked, 4000}, {i, Cleared, 4200}, {o, Cleared, 4300}, // ambiguous
		}, []Direction{In, In, Out}, Counts{In: 2, Out: 1, Aborted: 1, Ambiguous: 1}, 300 * time.Millisecond},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := NewPair(nil)
			if err != nil {
				t.Fatal(err)
			}
			got := feedSteps(p, t0, c.steps)
			if len(got) != len(c.want) {
				t.Fatalf("passages %v; want directions %v", got, c.want)
			}
			for k, d := range c.want {
				if got[k].Direction != d {
					t.Errorf("passage %d is %s; want %s", k, got[k].Direction, d)
				}
			}
			if len(got) > 0 {
				if got[0].Duration != c.dur {
					t.Errorf("first passage lasted %v; want %v", got[0].Duration, c.dur)
				}
				if !got[0].At.Equal(t0.Add(c.dur)) {
					t.Errorf("first passage completed at %v; want %v", got[0].At, t0.Add(c.dur))
				}
			}
			if p.Counts() != c.counts || p.In() != c.counts.In || p.Out() != c.counts.Out {
				t.Errorf("counts %+v (In %d, Out %d); want %+v", p.Counts(), p.In(), p.Out(), c.counts)
			}
		})
	}
}

func TestNewPairRejectsBadOpts(t *testing.T) {
	for _, o := range []PairOpts{
		{Outer: "", Inner: "b"},
		{Outer: "a", Inner: "a"},
		{Outer: "a", Inner: "b", Simultaneous: -time.Millisecond},
	} {
		if p, err := NewPair(&o); p != nil || err == nil || !strings.HasPrefix(err.Error(), "photoeye: pair") {
			t.Errorf("NewPair(%+v) = %v, %v; want a photoeye: pair error", o, p, err)
		}
	}
}

// TestPairRun drives two fake pins through a full inward then outward
// passage with the convenience runner.
func TestPairRun(t *testing.T) {
	clk := newFakeClock()
	pins := map[string]*fakePin{"outer": newFakePin("GPIO17", gpio.High, clk), "inner": newFakePin("GPIO27", gpio.High, clk)}
	sensors := map[string]*Sensor{}
	for name, pin := range pins {
		o := DefaultOpts
		o.Name, o.Now = name, clk.Now
		s, err := New(pin, &o)
		if err != nil {
			t.Fatal(err)
		}
		sensors[name] = s
	}
	p, err := NewPair(nil)
	if err != nil {
		t.Fatal(err)
	}
	passages := make(chan Passage, 4)
	events := make(chan Event, 32)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- p.Run(ctx, sensors["outer"], sensors["inner"], func(e Event) { events <- e }, func(ps Passage) { passages <- ps })
	}()
	for _, pin := range pins {
		pin.settle(t, 0)
	}
	// advance moves the shared clock on and waits for both sensors.
	advance := func(d time.Duration) {
		n := map[string]int{}
		for name, pin := range pins {
			n[name] = pin.waitCount()
		}
		clk.Advance(d)
		for name, pin := range pins {
			pin.settle(t, n[name])
		}
	}
	walk := func(first, second string) Passage {
		pins[first].edge(t, gpio.Low)
		advance(100 * time.Millisecond)
		pins[second].edge(t, gpio.Low)
		advance(100 * time.Millisecond)
		pins[first].edge(t, gpio.High)
		advance(100 * time.Millisecond)
		pins[second].edge(t, gpio.High)
		advance(100 * time.Millisecond)
		select {
		case ps := <-passages:
			return ps
		case <-time.After(10 * time.Second): // hang guard
			t.Fatalf("no passage for %s then %s", first, second)
		}
		return Passage{}
	}
	if ps := walk("outer", "inner"); ps.Direction != In || ps.Duration != 300*time.Millisecond {
		t.Errorf("outer then inner: %+v; want In lasting 300ms", ps)
	}
	if ps := walk("inner", "outer"); ps.Direction != Out {
		t.Errorf("inner then outer: %+v; want Out", ps)
	}
	cancel()
	clk.Advance(0)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Pair.Run returned %v", err)
		}
	case <-time.After(10 * time.Second): // hang guard
		t.Fatal("Pair.Run did not return after cancel")
	}
	if len(events) != 8 {
		t.Errorf("onEvent saw %d events; want 8 (4 per passage)", len(events))
	}
	if c := p.Counts(); c != (Counts{In: 1, Out: 1}) {
		t.Errorf("counts %+v; want one in, one out", c)
	}
}

func TestPairRunErrors(t *testing.T) {
	p, err := NewPair(nil)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(name string) *Sensor {
		o := DefaultOpts
		o.Name = name
		s, err := New(newFakePin(name, gpio.High, nil), &o)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if err := p.Run(context.Background(), mk("a"), mk("inner"), nil, nil); err == nil || !strings.Contains(err.Error(), `named "a"`) {
		t.Errorf("Run with a misnamed sensor = %v; want an error naming it", err)
	}
	if err := p.Run(context.Background(), nil, mk("inner"), nil, nil); err == nil {
		t.Error("Run with a nil sensor succeeded")
	}
	// A sensor already running elsewhere: Run reports it and stops the other.
	outer, inner := mk("outer"), mk("inner")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = outer.Run(ctx) }()
	for deadline := time.Now().Add(10 * time.Second); !outer.ran.Load(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) { // hang guard
			t.Fatal("the outer sensor's Run never started")
		}
	}
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background(), outer, inner, nil, nil) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "Run called twice") {
			t.Errorf("Run with a busy sensor = %v; want the Run called twice error", err)
		}
	case <-time.After(10 * time.Second): // hang guard
		t.Fatal("Pair.Run did not return")
	}
}
