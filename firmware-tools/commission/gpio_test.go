package commission

import (
	"context"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// pin returns a test pin at level l, set as an input with edges, with the
// given edges queued.
func pin(t *testing.T, l gpio.Level, edges ...gpio.Level) *gpiotest.Pin {
	t.Helper()
	p := &gpiotest.Pin{N: "GPIO17", L: l, EdgesChan: make(chan gpio.Level, len(edges)+1)}
	if err := p.In(gpio.PullNoChange, gpio.BothEdges); err != nil {
		t.Fatal(err)
	}
	for _, e := range edges {
		p.EdgesChan <- e
	}
	return p
}

// TestWatchPolarity: a beam idle high that goes low when crossed is
// active low, and the other way round; each edge is counted.
func TestWatchPolarity(t *testing.T) {
	for _, tc := range []struct {
		idle          gpio.Level
		edges         []gpio.Level
		rising, fall  int
		active, idles string
	}{
		{gpio.High, []gpio.Level{gpio.Low, gpio.High, gpio.Low, gpio.High}, 2, 2, "low", "high"},
		{gpio.Low, []gpio.Level{gpio.High, gpio.Low}, 1, 1, "high", "low"},
		{gpio.High, []gpio.Level{gpio.High}, 1, 1, "low", "high"}, // a pulse too short to read
	} {
		c := Watch(context.Background(), "gpio GPIO17", pin(t, tc.idle, tc.edges...), 300*time.Millisecond)
		if c.Status != OK || c.GPIO == nil {
			t.Fatalf("check %+v, want ok", c)
		}
		if c.GPIO.Rising != tc.rising || c.GPIO.Falling != tc.fall || c.GPIO.Active != tc.active || c.GPIO.Idle != tc.idles {
			t.Errorf("edges %+v, want %d rising %d falling, idle %s, active %s", *c.GPIO, tc.rising, tc.fall, tc.idles, tc.active)
		}
		if !strings.Contains(c.Detail, "active: "+tc.active) {
			t.Errorf("detail %q does not give the active level", c.Detail)
		}
	}
}

// TestWatchNoEdgeFails: nobody crossed the beam; the check says so and
// what to do.
func TestWatchNoEdgeFails(t *testing.T) {
	c := Watch(context.Background(), "gpio GPIO17", pin(t, gpio.High), 300*time.Millisecond)
	if c.Status != Fail || c.Fix == "" || !strings.Contains(c.Detail, "no edge") {
		t.Fatalf("check %+v, want a failure with a fix", c)
	}
}

// TestWatchGPIOUnknownPin: a pin the host does not have fails with a fix.
func TestWatchGPIOUnknownPin(t *testing.T) {
	c := WatchGPIO(context.Background(), "NO_SUCH_PIN", gpio.PullNoChange, time.Second)
	if c.Status != Fail || c.Fix == "" {
		t.Fatalf("check %+v, want a failure with a fix", c)
	}
}
