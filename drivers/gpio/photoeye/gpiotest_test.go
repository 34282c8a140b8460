// This file drives a Sensor with periph's own gpiotest.Pin. gpiotest imports
// github.com/jonboulle/clockwork, which the module must list in go.mod
// before the file can build; run it with `go test -tags gpiotest`.

package photoeye

import (
	"context"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

func TestWithGpiotestPin(t *testing.T) {
	pin := &gpiotest.Pin{N: "GPIO17", Num: 17, EdgesChan: make(chan gpio.Level)}
	o := DefaultOpts
	o.Name, o.Debounce = "door", time.Millisecond
	s, err := New(pin, &o)
	if err != nil {
		t.Fatal(err)
	}
	if pin.Read() != gpio.High {
		t.Fatalf("In(PullUp) left the pin %s; want High", pin.Read())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	next := func() Event {
		select {
		case ev := <-s.Events():
			return ev
		case <-time.After(10 * time.Second): // hang guard
			t.Fatal("no event")
		}
		return Event{}
	}
	pin.EdgesChan <- gpio.Low
	if ev := next(); ev.Kind != Blocked || ev.Sensor != "door" {
		t.Fatalf("got %v; want Blocked", ev)
	}
	pin.EdgesChan <- gpio.High
	if ev := next(); ev.Kind != Cleared || ev.Duration <= 0 {
		t.Fatalf("got %v; want Cleared with a duration", ev)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
