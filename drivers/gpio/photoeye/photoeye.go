// Package photoeye turns a photoelectric sensor (through-beam, retro-reflective
// or diffuse) wired to a GPIO input into debounced Blocked, Cleared and Held
// events, and a Pair of sensors into counted passages with a direction.
//
// A Sensor is built on periph's gpio.PinIn, so gpiotest.Pin drives it in tests
// and the Linux character-device pins of periph.io/x/host/v3 drive it on a
// gateway (see drivers/gpio/gpiopins). It is edge-triggered: it waits in
// WaitForEdge and reads the level only at start and after an edge.
package photoeye

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Kind says what happened to a beam.
type Kind uint8

const (
	// Blocked means the beam became blocked (the pin went to ActiveLevel and
	// stayed there for Debounce), or was blocked when the sensor started.
	Blocked Kind = iota + 1
	// Cleared means the beam became clear again; Event.Duration is how long it
	// was blocked.
	Cleared
	// Held means the beam has been blocked for HeldAfter; it is raised once
	// per blocked period and Event.Duration is how long it has been blocked.
	Held
)

// String returns the kind's name in lower case: "blocked", "cleared", "held".
func (k Kind) String() string {
	switch k {
	case Blocked:
		return "blocked"
	case Cleared:
		return "cleared"
	case Held:
		return "held"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Event is one change of a sensor's debounced state.
type Event struct {
	// Sensor is the Name of the sensor that raised the event.
	Sensor string
	// Kind is what happened.
	Kind Kind
	// At is when it happened: the edge that began the new level for Blocked
	// and Cleared (not the later instant the debounce confirmed it), the
	// instant the threshold was noticed for Held.
	At time.Time
	// Duration is how long the beam was blocked (Cleared) or has been blocked
	// so far (Held); zero for Blocked.
	Duration time.Duration
}

// Opts configures a Sensor.
type Opts struct {
	// Name identifies the sensor in its events ("door", "outer"). Empty means
	// the pin's name.
	Name string
	// ActiveLevel is the pin level that means "beam blocked". It depends on
	// the sensor's output (NPN or PNP) and mode (light-on or dark-on).
	ActiveLevel gpio.Level
	// Pull is the pull resistor set on the pin: gpio.PullUp for an NPN
	// open-collector output, gpio.PullDown for PNP, gpio.Float or
	// gpio.PullNoChange when the board has its own resistor.
	Pull gpio.Pull
	// Debounce is how long a new level must hold, with no further edge, to
	// count. 0 counts every edge; negative is an error.
	Debounce time.Duration
	// HeldAfter raises one Held event when the beam stays blocked this long
	// (a cabinet door left open). 0 disables it; negative is an error.
	HeldAfter time.Duration
	// Now returns the current time; nil means time.Now. Tests inject a fake
	// clock here.
	Now func() time.Time
}

// DefaultOpts suits an NPN dark-on sensor (output pulled low while the beam is
// blocked) with a 20 ms debounce and no held-open alarm.
var DefaultOpts = Opts{
	ActiveLevel: gpio.Low,
	Pull:        gpio.PullUp,
	Debounce:    20 * time.Millisecond,
}

// maxWait bounds each WaitForEdge call so that Run notices ctx cancellation
// within this time even when no edge comes.
const maxWait = 100 * time.Millisecond

// eventBuffer is the capacity of the Events channel.
const eventBuffer = 16

// Sensor is one photoelectric sensor on a GPIO input.
//
// Events are delivered on the channel returned by Events, in order. Run
// blocks when the channel is full rather than dropping events (the kernel
// keeps queueing edges meanwhile), so the channel must be drained.
type Sensor struct {
	pin    gpio.PinIn
	opts   Opts
	now    func() time.Time
	events chan Event
	ran    atomic.Bool
}

// New configures pin as an input with opts.Pull and both edges enabled, and
// returns a Sensor reading it. A nil opts means DefaultOpts.
func New(pin gpio.PinIn, opts *Opts) (*Sensor, error) {
	if pin == nil {
		return nil, errors.New("photoeye: nil pin")
	}
	o := DefaultOpts
	if opts != nil {
		o = *opts
	}
	if o.Name == "" {
		o.Name = pin.Name()
	}
	switch o.Pull {
	case gpio.PullNoChange, gpio.Float, gpio.PullDown, gpio.PullUp:
	default:
		return nil, fmt.Errorf("photoeye: sensor %q: Pull %d is not one of PullNoChange, Float, PullDown, PullUp", o.Name, uint8(o.Pull))
	}
	if o.Debounce < 0 {
		return nil, fmt.Errorf("photoeye: sensor %q: Debounce %s is negative", o.Name, o.Debounce)
	}
	if o.HeldAfter < 0 {
		return nil, fmt.Errorf("photoeye: sensor %q: HeldAfter %s is negative", o.Name, o.HeldAfter)
	}
	if err := pin.In(o.Pull, gpio.BothEdges); err != nil {
		return nil, fmt.Errorf("photoeye: sensor %q: configuring pin %s as input with both edges: %w", o.Name, pin, err)
	}
	s := &Sensor{pin: pin, opts: o, now: o.Now, events: make(chan Event, eventBuffer)}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Name returns the sensor's name as it appears in its events.
func (s *Sensor) Name() string { return s.opts.Name }

// String implements fmt.Stringer.
func (s *Sensor) String() string { return "photoeye(" + s.opts.Name + ")" }

// Events returns the channel on which Run delivers events. It is closed when
// Run returns.
func (s *Sensor) Events() <-chan Event { return s.events }

// Run reads the pin until ctx is done, then closes the Events channel and
// returns nil. It reads the initial level first (a beam blocked at start
// raises Blocked), then waits for edges with WaitForEdge, in slices of at most
// 100 ms so that cancellation is noticed. Run may be called only once.
func (s *Sensor) Run(ctx context.Context) error {
	if !s.ran.CompareAndSwap(false, true) {
		return fmt.Errorf("photoeye: sensor %q: Run called twice", s.opts.Name)
	}
	defer close(s.events)
	t := tracker{name: s.opts.Name, debounce: s.opts.Debounce, heldAfter: s.opts.HeldAfter}
	buf := make([]Event, 0, 4)
	buf = t.start(s.pin.Read() == s.opts.ActiveLevel, s.now(), buf)
	for {
		for _, ev := range buf {
			select {
			case s.events <- ev:
			case <-ctx.Done():
				return nil
			}
		}
		buf = buf[:0]
		if ctx.Err() != nil {
			return nil
		}
		now := s.now()
		wait := maxWait
		if d, ok := t.deadline(); ok {
			if w := d.Sub(now); w < wait {
				wait = w
			}
		}
		if wait > 0 && s.pin.WaitForEdge(wait) {
			now = s.now()
			t.observe(s.pin.Read() == s.opts.ActiveLevel, now)
		} else {
			now = s.now()
		}
		buf = t.tick(now, buf)
	}
}
