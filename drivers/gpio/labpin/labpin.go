// Package labpin is an emulated GPIO input for labs and tests: a pin named
// "lab:<name>" whose level is set from a local control (see Handler) instead
// of a wire. It implements periph's gpio.PinIO, so drivers/gpio/photoeye
// runs on it unchanged.
//
// Lab only: a gateway in service never opens a lab pin. ngic-edge accepts
// lab pin names only when started with its lab flag, and the control listens
// only on loopback or a unix socket (see Listen).
package labpin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// Prefix starts the name of every lab pin ("lab:door-1").
const Prefix = "lab:"

// MaxNameLen is the longest name after Prefix.
const MaxNameLen = 64

// IsLab reports whether name is a lab pin's name (starts with Prefix). It
// does not check the rest: see CheckName.
func IsLab(name string) bool { return strings.HasPrefix(name, Prefix) }

// CheckName checks a lab pin's name: Prefix, then 1 to MaxNameLen letters,
// digits, '.', '_' or '-' (the name goes in the control's URL paths).
func CheckName(name string) error {
	if !IsLab(name) {
		return fmt.Errorf("labpin: %q does not start with %q", name, Prefix)
	}
	short := name[len(Prefix):]
	if short == "" || len(short) > MaxNameLen {
		return fmt.Errorf("labpin: %q: the name after %q must be 1 to %d characters", name, Prefix, MaxNameLen)
	}
	for _, r := range short {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("labpin: %q: only letters, digits, '.', '_' and '-' may follow %q", name, Prefix)
		}
	}
	return nil
}

// Pin is one emulated GPIO input. Its level starts High (an idle line
// pulled up); In with gpio.PullUp or gpio.PullDown sets it High or Low until
// the control first drives it with Set. It is safe for concurrent use.
type Pin struct {
	name string
	// edges holds one token when an edge came since the last WaitForEdge
	// (edges accumulate into one, as periph allows).
	edges chan struct{}
	// pulsing serialises pulses, so that each goes back to the level it
	// started from.
	pulsing sync.Mutex

	mu     sync.Mutex
	level  gpio.Level
	pull   gpio.Pull
	edge   gpio.Edge
	driven bool   // Set was called: the pull no longer decides the level
	count  uint64 // level changes made by Set
}

var _ gpio.PinIO = &Pin{}

// New returns the pin with the given name, which CheckName must accept.
func New(name string) (*Pin, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	return &Pin{name: name, edges: make(chan struct{}, 1), level: gpio.High, pull: gpio.PullNoChange}, nil
}

// String returns the pin's name.
func (p *Pin) String() string { return p.name }

// Name returns the pin's name, Prefix included.
func (p *Pin) Name() string { return p.name }

// Number returns -1: a lab pin has no number on any chip.
func (p *Pin) Number() int { return -1 }

// Function returns "In/High" or "In/Low".
func (p *Pin) Function() string { return "In/" + p.Read().String() }

// Halt does nothing and returns nil.
func (p *Pin) Halt() error { return nil }

// In sets the pull and the edges WaitForEdge reports, and forgets an edge
// not yet waited for. Until the control drives the pin, gpio.PullUp makes it
// High and gpio.PullDown Low, as a resistor would an open line.
func (p *Pin) In(pull gpio.Pull, edge gpio.Edge) error {
	switch pull {
	case gpio.PullNoChange, gpio.Float, gpio.PullDown, gpio.PullUp:
	default:
		return fmt.Errorf("labpin: %s: pull %d is not one of PullNoChange, Float, PullDown, PullUp", p.name, uint8(pull))
	}
	switch edge {
	case gpio.NoEdge, gpio.RisingEdge, gpio.FallingEdge, gpio.BothEdges:
	default:
		return fmt.Errorf("labpin: %s: edge %d is not one of NoEdge, RisingEdge, FallingEdge, BothEdges", p.name, uint8(edge))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if pull != gpio.PullNoChange {
		p.pull = pull
	}
	if !p.driven {
		switch pull {
		case gpio.PullUp:
			p.level = gpio.High
		case gpio.PullDown:
			p.level = gpio.Low
		}
	}
	p.edge = edge
	select {
	case <-p.edges:
	default:
	}
	return nil
}

// Read returns the pin's current level.
func (p *Pin) Read() gpio.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.level
}

// WaitForEdge returns true at once if an edge of the kind In asked for came
// since the last call, else waits up to timeout for one (a negative timeout
// waits for ever) and returns false when none came.
func (p *Pin) WaitForEdge(timeout time.Duration) bool {
	select {
	case <-p.edges:
		return true
	default:
	}
	if timeout == 0 {
		return false
	}
	var after <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		after = t.C
	}
	select {
	case <-p.edges:
		return true
	case <-after:
		return false
	}
}

// Pull returns the pull In set last (gpio.PullNoChange before any).
func (p *Pin) Pull() gpio.Pull {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pull
}

// DefaultPull returns gpio.PullNoChange: a lab pin has no reset state.
func (p *Pin) DefaultPull() gpio.Pull { return gpio.PullNoChange }

// errInput is returned by the output methods.
var errInput = errors.New("is an emulated input: drive it through the lab control")

// Out returns an error: a lab pin is an input driven by the control.
func (p *Pin) Out(gpio.Level) error { return fmt.Errorf("labpin: %s %w", p.name, errInput) }

// PWM returns an error: a lab pin is an input driven by the control.
func (p *Pin) PWM(gpio.Duty, physic.Frequency) error {
	return fmt.Errorf("labpin: %s %w", p.name, errInput)
}

// Set drives the pin to l, as the sensor's output would. A change of level
// is an edge: WaitForEdge reports it when In asked for edges of its kind.
// Set reports whether the level changed.
func (p *Pin) Set(l gpio.Level) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.driven = true
	if l == p.level {
		return false
	}
	p.level = l
	p.count++
	if p.edge == gpio.BothEdges || p.edge == gpio.RisingEdge && l == gpio.High || p.edge == gpio.FallingEdge && l == gpio.Low {
		select {
		case p.edges <- struct{}{}:
		default: // an edge is already pending: they accumulate into one
		}
	}
	return true
}

// State is a pin's state as the control shows it.
type State struct {
	// Pin is the pin's name, Prefix included.
	Pin string `json:"pin"`
	// Level is "low" or "high".
	Level string `json:"level"`
	// Changes counts the level changes made through Set.
	Changes uint64 `json:"changes"`
}

// State returns the pin's state.
func (p *Pin) State() State {
	p.mu.Lock()
	defer p.mu.Unlock()
	return State{Pin: p.name, Level: levelName(p.level), Changes: p.count}
}

// levelName is "low" or "high".
func levelName(l gpio.Level) string {
	if l == gpio.High {
		return "high"
	}
	return "low"
}

// ParseLevel parses "low" or "high" (also "0" and "1").
func ParseLevel(s string) (gpio.Level, error) {
	switch s {
	case "low", "0":
		return gpio.Low, nil
	case "high", "1":
		return gpio.High, nil
	}
	return gpio.Low, fmt.Errorf("labpin: level %q is neither low nor high", s)
}

// Pulse drives the pin to the opposite of its level, holds it for d, then
// drives it back, returning once it is back. When ctx ends first the pin
// goes back at once and Pulse returns ctx's error. Pulses on one pin run
// one after the other (a Set during a pulse is undone when it ends).
func (p *Pin) Pulse(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("labpin: %s: pulse of %v is not positive", p.name, d)
	}
	p.pulsing.Lock()
	defer p.pulsing.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	was := p.Read()
	p.Set(!was)
	defer p.Set(was)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
