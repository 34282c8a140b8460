package commission

import (
	"context"
	"fmt"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/ngic/ngic/drivers/gpio/gpiopins"
)

// Edges is what a GPIO watch saw.
type Edges struct {
	// Rising and Falling count the edges seen.
	Rising, Falling int
	// Idle is the level at the start of the watch, the beam's clear level.
	Idle string
	// Active is the level a blocked beam gives, the opposite of Idle: the
	// sensor's "active" setting in the edge configuration.
	Active string
}

// ParsePull reads a pull as the edge configuration spells it: up, down,
// float, or none or "" to keep the board's.
func ParsePull(s string) (gpio.Pull, error) {
	switch s {
	case "up":
		return gpio.PullUp, nil
	case "down":
		return gpio.PullDown, nil
	case "float":
		return gpio.Float, nil
	case "none", "":
		return gpio.PullNoChange, nil
	}
	return gpio.PullNoChange, fmt.Errorf("commission: pull %q is not up, down, none or float", s)
}

// levelName is "low" or "high", as the edge configuration spells levels.
func levelName(l gpio.Level) string {
	if l == gpio.High {
		return "high"
	}
	return "low"
}

// WatchGPIO opens the pin called name with pull (gpio.PullNoChange keeps
// the board's), watches it for d and returns the check.
func WatchGPIO(ctx context.Context, name string, pull gpio.Pull, d time.Duration) Check {
	c := Check{Name: "gpio " + name, Pin: name}
	pin, err := gpiopins.Open(name)
	if err != nil {
		c.Status, c.Detail = Fail, err.Error()
		c.Fix = "check the pin's name (the kernel's GPIOnn or the board's alias) and that the GPIO chip is enabled"
		return c
	}
	if err := pin.In(pull, gpio.BothEdges); err != nil {
		c.Status, c.Detail = Fail, fmt.Sprintf("commission: %s as an input with edges: %v", name, err)
		c.Fix = "check that no other program (ngic-edge) uses the pin: stop it and run commission again"
		return c
	}
	defer pin.Halt()
	c = Watch(ctx, c.Name, pin, d)
	c.Pin = name
	return c
}

// Watch counts the edges of pin, already set as an input with both edges
// (gpio.PinIn.In), for d or until ctx ends, and names the check name. The
// check fails when no edge came: nobody crossed the beam, or the sensor is
// not wired.
func Watch(ctx context.Context, name string, pin gpio.PinIn, d time.Duration) Check {
	c := Check{Name: name}
	prev := pin.Read()
	e := Edges{Idle: levelName(prev), Active: levelName(!prev)}
	for deadline := time.Now().Add(d); ctx.Err() == nil; {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		if !pin.WaitForEdge(min(left, 200*time.Millisecond)) {
			continue
		}
		l := pin.Read()
		switch {
		case l == prev: // a pulse too short to read: there and back
			e.Rising++
			e.Falling++
		case l == gpio.High:
			e.Rising++
		default:
			e.Falling++
		}
		prev = l
	}
	n := e.Rising + e.Falling
	c.GPIO = &e
	if n == 0 {
		c.Status = Fail
		c.Detail = fmt.Sprintf("no edge in %s; level %s throughout", d, e.Idle)
		c.Fix = "cross the beam during the watch; if nothing changes, check the sensor's power, its output wire and the pull (NPN: --pull up, PNP: --pull down)"
		return c
	}
	c.Status = OK
	c.Detail = fmt.Sprintf("%d edges (%d rising, %d falling); idle %s, so a blocked beam reads %s: active: %s", n, e.Rising, e.Falling, e.Idle, e.Active, e.Active)
	return c
}
