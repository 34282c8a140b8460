package gateway

import (
	"fmt"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/ngic/ngic/edge/internal/edgetest"
	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// TestPhotoEyesToBroker drives periph gpiotest pins: a cabinet door held
// open, then a passage through a pair of beams; the events reach a real
// mosquitto.
func TestPhotoEyesToBroker(t *testing.T) {
	broker := testenv.StartMosquitto(t)
	sub := edgetest.Subscribe(t, broker.Addr, "sub-gpio")
	pins := map[string]*gpiotest.Pin{}
	for i, n := range []string{"GPIO17", "GPIO22", "GPIO23"} {
		pins[n] = &gpiotest.Pin{N: n, Num: 17 + i, EdgesChan: make(chan gpio.Level)}
	}
	cfg := testConfig(t, "tcp://"+broker.Addr, `sensors:
  - name: door
    pin: GPIO17
    pull: up
    debounce: 1ms
    held_after: 300ms
  - name: outer
    pin: GPIO22
    pull: up
    debounce: 1ms
  - name: inner
    pin: GPIO23
    pull: up
    debounce: 1ms
pairs:
  - name: entrance
    outer: outer
    inner: inner
`)
	g, err := New(cfg, Opts{OpenPin: func(name string) (gpio.PinIO, error) {
		p, ok := pins[name]
		if !ok {
			return nil, fmt.Errorf("no pin %s", name)
		}
		return p, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	g, stop := runGatewayG(t, g)
	sensorOf := map[string]string{"GPIO17": "door", "GPIO22": "outer", "GPIO23": "inner"}
	// edge changes a pin's level and returns once the sensor has committed
	// it, past its debounce: its beam.blocked (low) or beam.cleared (high)
	// event is spooled. The next edge can then not fall inside the
	// debounce of this one.
	edge := func(pin string, l gpio.Level) {
		name, typ := sensorOf[pin], telemetry.BeamCleared
		if l == gpio.Low {
			typ = telemetry.BeamBlocked
		}
		before := spooled(g, name, typ)
		select {
		case pins[pin].EdgesChan <- l:
		case <-time.After(5 * time.Second):
			t.Fatalf("sensor on %s not waiting for edges", pin)
		}
		waitUntil(t, 10*time.Second, fmt.Sprintf("%s event of %s", typ, name), func() bool { return spooled(g, name, typ) > before })
	}
	count := func(es []*telemetry.Event, source, typ string) int {
		n := 0
		for _, e := range es {
			if e.Source == source && e.Type == typ {
				n++
			}
		}
		return n
	}
	edge("GPIO17", gpio.Low) // door opens: beam blocked
	sub.WaitFor(t, 10*time.Second, "door held", func(es []*telemetry.Event) bool {
		return count(es, "door", telemetry.BeamHeld) == 1
	})
	edge("GPIO17", gpio.High)
	sub.WaitFor(t, 10*time.Second, "door cleared", func(es []*telemetry.Event) bool {
		return count(es, "door", telemetry.BeamCleared) == 1
	})
	// Someone walks in: outer, then inner, then outer clears, then inner.
	edge("GPIO22", gpio.Low)
	edge("GPIO23", gpio.Low)
	edge("GPIO22", gpio.High)
	edge("GPIO23", gpio.High)
	sub.WaitFor(t, 10*time.Second, "a passage", func(es []*telemetry.Event) bool {
		return count(es, "entrance", telemetry.Passage) == 1
	})
	stop()
	for _, e := range sub.Events() {
		switch {
		case e.Source == "door" && e.Type == telemetry.BeamCleared && e.Beam.DurationS < 0.3:
			t.Errorf("door cleared after %.3fs, but it was held past 0.3s", e.Beam.DurationS)
		case e.Type == telemetry.Passage && (e.PassageInfo.Direction != "in" || e.PassageInfo.In != 1 || e.PassageInfo.Out != 0):
			t.Errorf("passage: %+v", e.PassageInfo)
		}
	}
	if n := count(sub.Events(), "outer", telemetry.BeamBlocked); n != 1 {
		t.Errorf("outer beam blocked events: %d", n)
	}
}
