package photoeye

import (
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// fakeClock is a manual clock shared by a test, its fakePin and the Sensor
// (through Opts.Now). Advance wakes every pin waiting in WaitForEdge.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	wakes []chan struct{}
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for _, w := range c.wakes {
		close(w)
	}
	c.wakes = nil
}

func (c *fakeClock) wake() chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := make(chan struct{})
	c.wakes = append(c.wakes, w)
	return w
}

// fakePin is a gpio.PinIn that behaves like periph's gpiotest.Pin: a level L
// changed by sending levels on EdgesChan, which WaitForEdge consumes. With a
// clock, WaitForEdge returns false when the test advances the clock (a
// timeout) instead of after real time, and the test can wait until the
// Sensor is back in WaitForEdge, so every step is deterministic.
type fakePin struct {
	N         string
	EdgesChan chan gpio.Level
	clock     *fakeClock // nil: real timeouts

	mu      sync.Mutex
	L       gpio.Level
	P       gpio.Pull
	E       gpio.Edge
	waits   int // WaitForEdge calls entered
	inWait  bool
	entered chan struct{} // signalled on each WaitForEdge entry
}

func newFakePin(name string, l gpio.Level, clk *fakeClock) *fakePin {
	return &fakePin{N: name, L: l, clock: clk, EdgesChan: make(chan gpio.Level), entered: make(chan struct{}, 1)}
}

func (p *fakePin) String() string   { return p.N }
func (p *fakePin) Halt() error      { return nil }
func (p *fakePin) Name() string     { return p.N }
func (p *fakePin) Number() int      { return -1 }
func (p *fakePin) Function() string { return "In" }
func (p *fakePin) Pull() gpio.Pull  { return p.P }
func (p *fakePin) DefaultPull() gpio.Pull {
	return gpio.PullNoChange
}

func (p *fakePin) In(pull gpio.Pull, edge gpio.Edge) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.P, p.E = pull, edge
	return nil
}

func (p *fakePin) Read() gpio.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.L
}

func (p *fakePin) WaitForEdge(timeout time.Duration) bool {
	var wake <-chan struct{}
	var expired <-chan time.Time
	if p.clock != nil {
		wake = p.clock.wake()
	} else {
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		expired = timer.C
	}
	p.mu.Lock()
	p.waits++
	p.inWait = true
	p.mu.Unlock()
	select {
	case p.entered <- struct{}{}:
	default:
	}
	defer func() {
		p.mu.Lock()
		p.inWait = false
		p.mu.Unlock()
	}()
	select {
	case l := <-p.EdgesChan:
		p.mu.Lock()
		p.L = l
		p.mu.Unlock()
		return true
	case <-wake:
		return false
	case <-expired:
		return false
	}
}

func (p *fakePin) waitCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waits
}

// settle waits until the Sensor has entered WaitForEdge more than n times in
// all, that is, until it has handled whatever woke it and waits again.
func (p *fakePin) settle(t testing.TB, n int) {
	t.Helper()
	deadline := time.After(10 * time.Second) // a hang guard, not a timing check
	for p.waitCount() <= n {
		select {
		case <-p.entered:
		case <-deadline:
			t.Fatalf("pin %s: sensor did not return to WaitForEdge", p.N)
		}
	}
}

// edge sends level as an edge and returns once the Sensor has handled it.
func (p *fakePin) edge(t testing.TB, l gpio.Level) {
	t.Helper()
	n := p.waitCount()
	select {
	case p.EdgesChan <- l:
	case <-time.After(10 * time.Second):
		t.Fatalf("pin %s: sensor did not take the edge", p.N)
	}
	p.settle(t, n)
}

// advance moves the clock on and returns once the Sensor has looked at it.
func (p *fakePin) advance(t testing.TB, d time.Duration) {
	t.Helper()
	n := p.waitCount()
	p.clock.Advance(d)
	p.settle(t, n)
}

// drain returns the events already delivered on the Sensor's channel.
func drain(s *Sensor) []Event {
	var out []Event
	for {
		select {
		case ev, ok := <-s.Events():
			if !ok {
				return out
			}
			out = append(out, ev)
		default:
			return out
		}
	}
}

var _ gpio.PinIn = &fakePin{}
