package poller

import (
	"context"
	"fmt"
	"sync"

	"github.com/ngic/ngic/controller/config"
	"github.com/ngic/ngic/controller/device"
	"github.com/ngic/ngic/controller/snmp"
)

// PollOnceOptions configures PollOnce.
type PollOnceOptions struct {
	// Concurrency bounds the devices polled at once (default
	// snmp.DefaultMaxConcurrent).
	Concurrency int
	// Profiles are the device profiles (default device.DefaultProfiles).
	Profiles *device.ProfileSet
	// Progress, when not nil, is called after each device's poll ends,
	// one call at a time: done devices polled so far, down of them with
	// an error (no answer, no turn before the deadline, or credentials
	// refused).
	Progress func(done, down int)
	// Dial opens SNMP sessions (default snmp.Dial), for tests.
	Dial snmp.DialFunc
}

// PollOnce polls every device of devs once, at most Concurrency at once,
// each within its poll's deadline, exactly as a Poller polls them (the
// same poll function: the same documents and states), and returns one
// Poll per device in the order of devs. A device that got no answer, or
// no turn before its deadline, is StateDown with an Err; a poll that ends
// after the cycle is not counted. The sessions are closed before it
// returns. When ctx ends the polls stop and ctx's error is returned.
func PollOnce(ctx context.Context, devs []config.DeviceConfig, o PollOnceOptions) ([]Poll, error) {
	var (
		mu     sync.Mutex
		got    = make(map[string]Poll, len(devs))
		down   int
		closed bool // set once the cycle is over: a poll abandoned at its deadline may end later
	)
	done := func(pl Poll) {
		if pl.Err != nil {
			down++
		}
		got[pl.Device.ID] = pl
		if o.Progress != nil {
			o.Progress(len(got), down)
		}
	}
	observe := func(pl *Poll) {
		mu.Lock()
		defer mu.Unlock()
		if !closed {
			done(*pl)
		}
	}
	p, err := New(Options{Concurrency: o.Concurrency, Profiles: o.Profiles, History: 1, Observer: observe, Dial: o.Dial})
	if err != nil {
		return nil, err
	}
	if _, err := p.SetDevices(devs); err != nil {
		p.SetDevices(nil)
		return nil, err
	}
	err = p.sched.RunCycle(ctx)
	p.SetDevices(nil) // each session is closed once its poll has ended
	mu.Lock()
	defer mu.Unlock()
	closed = true
	if err != nil {
		return nil, fmt.Errorf("poller: poll once: %w", err)
	}
	out := make([]Poll, len(devs))
	for i, d := range devs {
		pl, ok := got[d.ID]
		if !ok {
			pl = Poll{Device: d, State: StateDown, Previous: StateUnknown, Start: p.opts.Now(),
				Err: fmt.Errorf("poller: poll %s: %w", d.SNMP.Target, snmp.ErrDeadline)}
			done(pl)
		}
		out[i] = pl
	}
	return out, nil
}
