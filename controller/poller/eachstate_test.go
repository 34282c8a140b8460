package poller

import (
	"context"
	"testing"

	"github.com/ngic/ngic/controller/config"
)

// eachState collects what EachState gives, checking that i counts from 0.
func eachState(t *testing.T, p *Poller) []DeviceState {
	t.Helper()
	var out []DeviceState
	p.EachState(func(i int, st *DeviceState) {
		if i != len(out) {
			t.Fatalf("EachState gave place %d after %d states", i, len(out))
		}
		out = append(out, *st)
	})
	return out
}

// ids are the IDs of states, in their order.
func ids(states []DeviceState) []string {
	out := make([]string, len(states))
	for i := range states {
		out[i] = states[i].ID
	}
	return out
}

// TestEachStateOrder: EachState gives the devices in the order of the
// last SetDevices (not sorted), follows a reload that removes, adds and
// reorders, and is left as it was by a SetDevices that fails.
func TestEachStateOrder(t *testing.T) {
	p, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := eachState(t, p); len(got) != 0 {
		t.Fatalf("EachState before SetDevices: %v", ids(got))
	}
	addr := deadPort(t)
	devs := []config.DeviceConfig{dev("c", "s1", addr, "x"), dev("a", "s2", addr, "x"), dev("b", "s1", addr, "x")}
	if _, err := p.SetDevices(devs); err != nil {
		t.Fatal(err)
	}
	if got := ids(eachState(t, p)); !equalStrings(got, []string{"c", "a", "b"}) {
		t.Fatalf("EachState order %v, want c a b", got)
	}
	devs = []config.DeviceConfig{dev("d", "s3", addr, "x"), dev("b", "s1", addr, "x"), dev("c", "s9", addr, "x")}
	if _, err := p.SetDevices(devs); err != nil {
		t.Fatal(err)
	}
	got := eachState(t, p)
	if !equalStrings(ids(got), []string{"d", "b", "c"}) {
		t.Fatalf("EachState order after a reload %v, want d b c", ids(got))
	}
	if got[2].Site != "s9" || got[0].State != StateUnknown {
		t.Fatalf("EachState after a reload: c at site %q, d %q", got[2].Site, got[0].State)
	}
	if _, err := p.SetDevices([]config.DeviceConfig{dev("e", "", addr, "x"), dev("e", "", addr, "x")}); err == nil {
		t.Fatal("SetDevices took a device twice")
	}
	if got := ids(eachState(t, p)); !equalStrings(got, []string{"d", "b", "c"}) {
		t.Fatalf("EachState order after a failed SetDevices %v, want d b c", got)
	}
}

// TestEachStateMatchesStates: once the devices have been polled (one up
// on the simulator, one down), EachState gives what States copies.
func TestEachStateMatchesStates(t *testing.T) {
	addr := startSim(t, "huawei_ma5603t")
	p, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	devs := []config.DeviceConfig{dev("up", "s1", addr, "huawei_ma5603t"), dev("down", "s2", deadPort(t), "x")}
	if _, err := p.SetDevices(devs); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	waitFor(t, "both devices polled", func() bool {
		got := eachState(t, p)
		return got[0].State == StateUp && got[1].State == StateDown
	})
	cancel() // no poll between the two reads
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	byID := map[string]DeviceState{}
	for _, s := range p.States() {
		byID[s.ID] = s
	}
	got := eachState(t, p)
	if len(got) != len(byID) {
		t.Fatalf("EachState gave %d states, States %d", len(got), len(byID))
	}
	for _, s := range got {
		want := byID[s.ID]
		if s.State != want.State || !s.Since.Equal(want.Since) || s.Polls != want.Polls || s.Document != nil ||
			s.History != nil || s.LastError != want.LastError {
			t.Errorf("EachState %+v, States %+v", s, want)
		}
	}
	if got[0].Polls == 0 || got[1].LastError == "" || got[0].LastSuccess.IsZero() {
		t.Errorf("states after polls: %+v", got)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
