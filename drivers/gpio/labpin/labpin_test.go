package labpin

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/ngic/ngic/drivers/gpio/photoeye"
)

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"lab:door-1", "lab:a", "lab:A.b_c-9", "lab:" + strings.Repeat("x", MaxNameLen)} {
		if err := CheckName(ok); err != nil {
			t.Errorf("CheckName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "GPIO17", "lab:", "lab:a/b", "lab:a b", "lab:é", "LAB:x", "lab:" + strings.Repeat("x", MaxNameLen+1)} {
		err := CheckName(bad)
		if err == nil || !strings.HasPrefix(err.Error(), "labpin: ") || !strings.Contains(err.Error(), bad) {
			t.Errorf("CheckName(%q) = %v; want a labpin error naming it", bad, err)
		}
	}
	if IsLab("GPIO17") || !IsLab("lab:x") {
		t.Error("IsLab")
	}
}

func newPin(t *testing.T, name string) *Pin {
	t.Helper()
	p, err := New(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPinPullAndDrive(t *testing.T) {
	p := newPin(t, "lab:door")
	if p.Read() != gpio.High || p.Name() != "lab:door" || p.String() != "lab:door" || p.Number() != -1 {
		t.Fatalf("new pin: %s %s %d", p.Read(), p.Name(), p.Number())
	}
	if err := p.In(gpio.PullDown, gpio.BothEdges); err != nil {
		t.Fatal(err)
	}
	if p.Read() != gpio.Low || p.Pull() != gpio.PullDown {
		t.Fatalf("after In(PullDown): %s %s", p.Read(), p.Pull())
	}
	if !p.Set(gpio.High) || p.Set(gpio.High) {
		t.Fatal("Set reports the change once")
	}
	// Once driven, the pull no longer decides the level.
	if err := p.In(gpio.PullDown, gpio.BothEdges); err != nil {
		t.Fatal(err)
	}
	if p.Read() != gpio.High {
		t.Fatalf("In overrode a driven level: %s", p.Read())
	}
	if s := p.State(); s != (State{Pin: "lab:door", Level: "high", Changes: 1}) {
		t.Fatalf("state %+v", s)
	}
	if p.Function() != "In/High" {
		t.Errorf("Function %q", p.Function())
	}
	if err := p.In(gpio.Pull(99), gpio.BothEdges); err == nil {
		t.Error("In accepts pull 99")
	}
	if err := p.In(gpio.PullUp, gpio.Edge(99)); err == nil {
		t.Error("In accepts edge 99")
	}
	for _, err := range []error{p.Out(gpio.Low), p.PWM(gpio.DutyHalf, 0)} {
		if !errors.Is(err, errInput) || !strings.Contains(err.Error(), "lab:door") {
			t.Errorf("output method: %v", err)
		}
	}
}

func TestPinEdges(t *testing.T) {
	p := newPin(t, "lab:e")
	if err := p.In(gpio.PullUp, gpio.FallingEdge); err != nil {
		t.Fatal(err)
	}
	if p.WaitForEdge(0) {
		t.Fatal("edge before any change")
	}
	p.Set(gpio.Low)
	if !p.WaitForEdge(0) {
		t.Fatal("falling edge not reported")
	}
	p.Set(gpio.High) // rising: not asked for
	if p.WaitForEdge(time.Millisecond) {
		t.Fatal("rising edge reported to a falling-edge pin")
	}
	// Edges accumulate into one.
	if err := p.In(gpio.PullNoChange, gpio.BothEdges); err != nil {
		t.Fatal(err)
	}
	p.Set(gpio.Low)
	p.Set(gpio.High)
	if !p.WaitForEdge(0) || p.WaitForEdge(0) {
		t.Fatal("two edges since the last wait: want one report")
	}
	// In forgets a pending edge.
	p.Set(gpio.Low)
	if err := p.In(gpio.PullNoChange, gpio.BothEdges); err != nil {
		t.Fatal(err)
	}
	if p.WaitForEdge(0) {
		t.Fatal("edge survived In")
	}
	// A waiter blocked for ever wakes on the next edge.
	woke := make(chan bool)
	go func() { woke <- p.WaitForEdge(-1) }()
	p.Set(gpio.High)
	if !<-woke {
		t.Fatal("WaitForEdge(-1) returned false")
	}
}

func TestPulse(t *testing.T) {
	p := newPin(t, "lab:p")
	if err := p.In(gpio.PullUp, gpio.BothEdges); err != nil {
		t.Fatal(err)
	}
	if err := p.Pulse(context.Background(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if s := p.State(); s.Level != "high" || s.Changes != 2 {
		t.Fatalf("after a pulse: %+v", s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Pulse(ctx, time.Hour); !errors.Is(err, context.Canceled) || p.Read() != gpio.High {
		t.Fatalf("cancelled pulse: %v, level %s", err, p.Read())
	}
	if err := p.Pulse(context.Background(), 0); err == nil {
		t.Fatal("a zero pulse is accepted")
	}
	// Pulses at once on one pin run one after the other: the pin ends
	// where it started.
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if err := p.Pulse(context.Background(), time.Millisecond); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if s := p.State(); s.Level != "high" || s.Changes != 12 {
		t.Fatalf("after five pulses at once: %+v; want high after 12 changes", s)
	}
}

// TestPhotoeyeOnLabPin runs the photoeye state machine unchanged on a lab
// pin: blocked, held, cleared.
func TestPhotoeyeOnLabPin(t *testing.T) {
	b := NewBank()
	pin, err := b.OpenPin(nil)("lab:door")
	if err != nil {
		t.Fatal(err)
	}
	o := photoeye.DefaultOpts
	o.Debounce, o.HeldAfter = time.Millisecond, 30*time.Millisecond
	s, err := photoeye.New(pin, &o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	next := func(want photoeye.Kind) photoeye.Event {
		t.Helper()
		select {
		case ev := <-s.Events():
			if ev.Kind != want || ev.Sensor != "lab:door" {
				t.Fatalf("got %v; want %v of lab:door", ev, want)
			}
			return ev
		case <-time.After(10 * time.Second): // hang guard
			t.Fatalf("no %v event", want)
		}
		return photoeye.Event{}
	}
	lab := b.Pin("door")
	lab.Set(gpio.Low)
	next(photoeye.Blocked)
	if ev := next(photoeye.Held); ev.Duration < o.HeldAfter {
		t.Errorf("held after %v, before %v", ev.Duration, o.HeldAfter)
	}
	lab.Set(gpio.High)
	if ev := next(photoeye.Cleared); ev.Duration < o.HeldAfter {
		t.Errorf("cleared after %v of blocking, but held came at %v", ev.Duration, o.HeldAfter)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestBank(t *testing.T) {
	b := NewBank()
	p1, err := b.Open("lab:b")
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := b.Open("lab:b")
	if p1 != p2 || b.Pin("b") != p1 || b.Pin("lab:b") != p1 || b.Pin("c") != nil {
		t.Fatal("one pin per name, found with or without the prefix")
	}
	if _, err := b.Open("lab:a"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Open("lab:bad/name"); err == nil {
		t.Fatal("bad name opened")
	}
	st := b.States()
	if len(st) != 2 || st[0].Pin != "lab:a" || st[1].Pin != "lab:b" {
		t.Fatalf("states %+v", st)
	}
	open := b.OpenPin(func(name string) (gpio.PinIO, error) { return nil, errors.New("host " + name) })
	if _, err := open("GPIO17"); err == nil || err.Error() != "host GPIO17" {
		t.Fatalf("a host pin did not go to the host opener: %v", err)
	}
	if p, err := open("lab:x/y"); p != nil || err == nil {
		t.Fatalf("bad lab name: %v, %v", p, err)
	}
	if p, err := b.OpenPin(nil)("GPIO17"); p != nil || err == nil {
		t.Fatalf("host pin without host opener: %v, %v", p, err)
	}
}
