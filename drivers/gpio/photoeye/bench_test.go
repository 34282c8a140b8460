package photoeye

import (
	"context"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// benchPin hands edges over a buffered channel with no timer, so the
// benchmark measures the Sensor rather than the fake.
type benchPin struct {
	fakePin
	edges chan gpio.Level
	l     gpio.Level
}

func (p *benchPin) Read() gpio.Level { return p.l }

func (p *benchPin) WaitForEdge(time.Duration) bool {
	l, ok := <-p.edges
	if !ok {
		return false
	}
	p.l = l
	return true
}

// BenchmarkEdgeToEvent measures one edge from WaitForEdge to the Event on
// the channel, with Debounce 0 so each edge commits at once.
func BenchmarkEdgeToEvent(b *testing.B) {
	pin := &benchPin{fakePin: fakePin{N: "GPIO17"}, edges: make(chan gpio.Level, 64), l: gpio.High}
	o := DefaultOpts
	o.Debounce = 0
	s, err := New(pin, &o)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	l := gpio.Low
	for n := 0; n < b.N; n++ {
		pin.edges <- l
		ev := <-s.Events()
		if (ev.Kind == Blocked) != (l == gpio.Low) {
			b.Fatalf("edge %d to %s gave %v", n, l, ev)
		}
		l = !l
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	b.StopTimer()
	cancel()
	close(pin.edges)
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkTracker measures the pure debounce path: a bounce, then a change
// that holds and commits.
func BenchmarkTracker(b *testing.B) {
	t0 := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	tr := tracker{name: "door", debounce: 20 * time.Millisecond, heldAfter: time.Minute}
	buf := tr.start(false, t0, make([]Event, 0, 4))
	now := t0
	b.ReportAllocs()
	for n := 0; n < b.N; n++ {
		blocked := n%2 == 0
		now = now.Add(time.Second)
		tr.observe(blocked, now)
		tr.observe(!blocked, now.Add(time.Millisecond))
		tr.observe(blocked, now.Add(2*time.Millisecond))
		buf = tr.tick(now.Add(30*time.Millisecond), buf[:0])
		if len(buf) != 1 {
			b.Fatalf("step %d: %v", n, buf)
		}
	}
}

// BenchmarkPairFeed measures a whole inward passage through the Pair.
func BenchmarkPairFeed(b *testing.B) {
	p, err := NewPair(nil)
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for n := 0; n < b.N; n++ {
		at := t0.Add(time.Duration(n) * time.Second)
		p.Feed(Event{Sensor: "outer", Kind: Blocked, At: at})
		p.Feed(Event{Sensor: "inner", Kind: Blocked, At: at.Add(100 * time.Millisecond)})
		p.Feed(Event{Sensor: "outer", Kind: Cleared, At: at.Add(200 * time.Millisecond)})
		if _, ok := p.Feed(Event{Sensor: "inner", Kind: Cleared, At: at.Add(300 * time.Millisecond)}); !ok {
			b.Fatalf("passage %d not counted", n)
		}
	}
}
