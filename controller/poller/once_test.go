package poller

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/ngic/ngic/controller/config"
)

// PollOnce polls an agent that answers and one that does not, once each:
// one Poll per device in the order given, the answering one up with its
// document, the other down with an error; the progress counts both.
func TestPollOnce(t *testing.T) {
	addr := startSim(t, "vsol_v1600d", "terra_sti440")
	devs := []config.DeviceConfig{
		dev("tv", "s1", addr, "terra_sti440"),
		dev("dead", "s2", deadPort(t), "public"),
		dev("olt", "s1", addr, "vsol_v1600d"),
	}
	var mu sync.Mutex
	var ticks [][2]int
	polls, err := PollOnce(context.Background(), devs, PollOnceOptions{Concurrency: 2, Progress: func(done, down int) {
		mu.Lock()
		ticks = append(ticks, [2]int{done, down})
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(polls) != 3 {
		t.Fatalf("%d polls for 3 devices", len(polls))
	}
	for i, want := range []struct {
		id, class string
		state     State
	}{{"tv", "tv-receiver", StateUp}, {"dead", "", StateDown}, {"olt", "olt", StateUp}} {
		p := polls[i]
		if p.Device.ID != want.id || p.State != want.state || p.Previous != StateUnknown || p.Start.IsZero() {
			t.Errorf("poll %d: %s %s (was %s) at %v; want %s %s", i, p.Device.ID, p.State, p.Previous, p.Start, want.id, want.state)
		}
		switch {
		case want.state == StateUp && (p.Err != nil || p.Document == nil || string(p.Document.Class) != want.class || p.Varbinds == 0):
			t.Errorf("%s: err %v, document %v: want a %s document", p.Device.ID, p.Err, p.Document != nil, want.class)
		case want.state == StateDown && (p.Err == nil || p.Document != nil):
			t.Errorf("%s: err %v, document %v: want an error and no document", p.Device.ID, p.Err, p.Document != nil)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ticks) != 3 || ticks[2] != [2]int{3, 1} {
		t.Fatalf("progress %v: want 3 calls, the last 3 done, 1 down", ticks)
	}
	for i := range ticks {
		if ticks[i][0] != i+1 {
			t.Errorf("progress %v: done does not count up", ticks)
		}
	}
}

// PollOnce builds the same document as the poller's first poll of the
// same agent.
func TestPollOnceAsThePoller(t *testing.T) {
	addr := startSim(t, "vsol_v1600d")
	d := dev("olt", "s1", addr, "vsol_v1600d")
	polls, err := PollOnce(context.Background(), []config.DeviceConfig{d}, PollOnceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var first *Poll
	p, err := New(Options{Observer: func(pl *Poll) {
		mu.Lock()
		first = pl
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.SetDevices([]config.DeviceConfig{d}); err != nil {
		t.Fatal(err)
	}
	if err := p.sched.RunCycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.SetDevices(nil)
	mu.Lock()
	defer mu.Unlock()
	got, want := polls[0].Document, first.Document
	if got == nil || want == nil || got.Class != want.Class || got.Profile != want.Profile ||
		len(got.Interfaces) != len(want.Interfaces) || polls[0].Varbinds != first.Varbinds {
		t.Fatalf("PollOnce %+v\nthe poller %+v", polls[0], first)
	}
}

// Devices given twice are refused; a context that has ended stops the
// polls with its error.
func TestPollOnceErrors(t *testing.T) {
	d := dev("a", "s1", deadPort(t), "public")
	if _, err := PollOnce(context.Background(), []config.DeviceConfig{d, d}, PollOnceOptions{}); err == nil ||
		!strings.Contains(err.Error(), "device a given twice") {
		t.Errorf("twice: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := PollOnce(ctx, []config.DeviceConfig{d}, PollOnceOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
}
