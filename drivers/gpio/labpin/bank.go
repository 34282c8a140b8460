package labpin

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"periph.io/x/conn/v3/gpio"
)

// Bank holds the lab pins of one process, by name: the gateway opens them,
// the control drives them. It is safe for concurrent use.
type Bank struct {
	mu   sync.Mutex
	pins map[string]*Pin
}

// NewBank returns an empty bank.
func NewBank() *Bank { return &Bank{pins: map[string]*Pin{}} }

// Open returns the pin named name, creating it on first use; opening a
// name again returns the same pin. The name must pass CheckName.
func (b *Bank) Open(name string) (*Pin, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p, ok := b.pins[name]; ok {
		return p, nil
	}
	p, err := New(name)
	if err != nil {
		return nil, err
	}
	b.pins[name] = p
	return p, nil
}

// Pin returns the opened pin named name, with or without Prefix, or nil.
func (b *Bank) Pin(name string) *Pin {
	if !IsLab(name) {
		name = Prefix + name
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pins[name]
}

// States returns the state of every opened pin, sorted by name.
func (b *Bank) States() []State {
	b.mu.Lock()
	pins := make([]*Pin, 0, len(b.pins))
	for _, p := range b.pins {
		pins = append(pins, p)
	}
	b.mu.Unlock()
	out := make([]State, 0, len(pins))
	for _, p := range pins {
		out = append(out, p.State())
	}
	slices.SortFunc(out, func(x, y State) int { return strings.Compare(x.Pin, y.Pin) })
	return out
}

// OpenPin returns a pin opener (the shape of the edge gateway's
// Opts.OpenPin): names starting with Prefix open lab pins of b, any other
// name goes to next (the host's GPIO, drivers/gpio/gpiopins.Open).
func (b *Bank) OpenPin(next func(name string) (gpio.PinIO, error)) func(name string) (gpio.PinIO, error) {
	return func(name string) (gpio.PinIO, error) {
		if IsLab(name) {
			p, err := b.Open(name)
			if err != nil {
				return nil, err // not a nil *Pin in a non-nil interface
			}
			return p, nil
		}
		if next == nil {
			return nil, fmt.Errorf("labpin: %q is not a lab pin and no other pins are available", name)
		}
		return next(name)
	}
}
