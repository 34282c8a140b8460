package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/ngic/ngic/telemetry"
)

// Pin levels of the lab control: the door photo-eye is active low, so
// low is the beam blocked (the door open).
const (
	doorOpen   = "low"
	doorClosed = "high"
)

// scenario moves the tags of every reader, waits until the controller has
// both gateways online, then, over and over: holds the cabinet door open
// until its alert raises, closes it, takes a device down until its alert
// raises, and brings it back. It returns when ctx ends.
func (d *demo) scenario(ctx context.Context) error {
	for i, g := range d.plan.Gateways {
		go moveTags(ctx, d.readers[i], g.Protocol, d.o.Timing.TagPeriod)
	}
	var names []string
	for _, g := range d.plan.Gateways {
		names = append(names, g.Name)
	}
	if err := d.until(ctx, "both gateways online", func(ctx context.Context) (bool, error) {
		n, err := d.api.gatewaysOnline(ctx, names)
		return n == len(names), err
	}); err != nil {
		return err
	}
	d.say("gateways %s and %s are online; tags come and go", names[0], names[1])
	door := d.plan.Gateways[d.plan.Door]
	lab := d.labs[d.plan.Door]
	steps := []func(context.Context){
		func(ctx context.Context) {
			d.say("the door of cabinet %s opens and is held open", door.Site)
			d.condition(ctx, ruleDoorHeld, door.Name,
				func(ctx context.Context) error { return lab.setPin(ctx, doorSensor, doorOpen) },
				func(ctx context.Context) error { return lab.setPin(ctx, doorSensor, doorClosed) },
				"the door of cabinet "+door.Site+" closes")
		},
		d.pause,
		func(ctx context.Context) {
			d.say("device %s goes down", d.plan.Down)
			d.condition(ctx, ruleDeviceDown, d.plan.Down,
				func(ctx context.Context) error { return d.sim.setAgent(ctx, d.plan.Down, true) },
				func(ctx context.Context) error { return d.sim.setAgent(ctx, d.plan.Down, false) },
				"device "+d.plan.Down+" comes back")
		},
		d.pause,
	}
	for {
		for _, step := range steps {
			if ctx.Err() != nil {
				return nil
			}
			step(ctx)
		}
	}
}

// condition makes a condition hold (set), waits until the controller
// raises the alert of rule on subject, keeps it for Timing.Linger, clears
// it (clear, announced as cleared) and waits until the alert resolves. A
// wait that runs out is said and the scenario goes on.
func (d *demo) condition(ctx context.Context, rule, subject string, set, clear func(context.Context) error, cleared string) {
	if err := set(ctx); err != nil {
		d.fail(ctx, err)
		return
	}
	var raised *telemetry.Alert
	err := d.until(ctx, "alert "+rule+" on "+subject, func(ctx context.Context) (bool, error) {
		a, err := d.api.openAlert(ctx, rule, subject)
		raised = a
		return a != nil, err
	})
	if err == nil {
		d.say("alert %s raised (%s): %s", rule, raised.Severity, raised.Summary)
		d.sleep(ctx, d.o.Timing.Linger)
	} else {
		d.fail(ctx, err)
	}
	// Cleared even when ctx has ended, so a stopping gateway never sees
	// its door held.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := clear(cctx); err != nil {
		d.fail(ctx, err)
		return
	}
	if ctx.Err() != nil {
		return
	}
	d.say("%s", cleared)
	if err := d.until(ctx, "alert "+rule+" on "+subject+" resolved", func(ctx context.Context) (bool, error) {
		a, err := d.api.openAlert(ctx, rule, subject)
		return a == nil, err
	}); err != nil {
		d.fail(ctx, err)
		return
	}
	d.say("alert %s resolved", rule)
}

// until waits until cond holds, checking it every 250 ms for at most
// Timing.Wait; the last error of cond explains a wait that ran out.
func (d *demo) until(ctx context.Context, what string, cond func(context.Context) (bool, error)) error {
	deadline := time.Now().Add(d.o.Timing.Wait)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := cond(ctx)
		if ok && err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("no %s within %v: %w", what, d.o.Timing.Wait, err)
			}
			return fmt.Errorf("no %s within %v", what, d.o.Timing.Wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// fail says a step that went wrong, unless the demo is stopping.
func (d *demo) fail(ctx context.Context, err error) {
	if ctx.Err() == nil {
		d.say("%v", err)
	}
}

// pause waits Timing.Pause or until ctx ends.
func (d *demo) pause(ctx context.Context) { d.sleep(ctx, d.o.Timing.Pause) }

// sleep waits for dt or until ctx ends.
func (d *demo) sleep(ctx context.Context, dt time.Duration) {
	t := time.NewTimer(dt)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
