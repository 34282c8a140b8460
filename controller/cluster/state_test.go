package cluster

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/coverage"
	"github.com/ngic/ngic/controller/poller"
	"github.com/ngic/ngic/telemetry"
)

func dev(id string, state poller.State, polled time.Time) Device {
	return Device{DeviceState: poller.DeviceState{ID: id, Site: "s1", State: state, LastPoll: polled}}
}

func TestMerge(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	local := []Device{dev("b", poller.StateUp, t0), dev("d", poller.StateUp, t0)}
	others := []*State{
		{Ordinal: 2, Devices: []Device{dev("a", poller.StateDown, t0), dev("b", poller.StateDown, t0.Add(-time.Minute))}},
		// 0 died: its last word on "d" is older than ours, on "c" the only one.
		{Ordinal: 0, Devices: []Device{dev("c", poller.StateUp, t0), dev("d", poller.StateDown, t0.Add(-time.Second)),
			dev("a", poller.StateUp, t0.Add(-time.Minute))}},
	}
	got := Merge(local, others)
	want := []Device{dev("a", poller.StateDown, t0), dev("b", poller.StateUp, t0), dev("c", poller.StateUp, t0),
		dev("d", poller.StateUp, t0)}
	if len(got) != len(want) {
		t.Fatalf("Merge gave %d devices, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID || got[i].State != want[i].State || !got[i].LastPoll.Equal(want[i].LastPoll) {
			t.Errorf("device %d: %s %s %v, want %s %s %v", i, got[i].ID, got[i].State, got[i].LastPoll,
				want[i].ID, want[i].State, want[i].LastPoll)
		}
	}
	if others[0].Ordinal != 2 {
		t.Error("Merge reordered its argument")
	}
}

func alert(id string) telemetry.Alert {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return telemetry.Alert{V: 1, ID: id, Rule: "device-down", Kind: "device-down", Severity: "critical",
		State: telemetry.AlertFiring, Subject: telemetry.AlertSubject{Type: "device", ID: "olt-1", Site: "s1"},
		Started: t0, Updated: t0}
}

func TestOpenAlerts(t *testing.T) {
	got := OpenAlerts([]telemetry.Alert{alert("x")}, []*State{{Ordinal: 1, Alerts: []telemetry.Alert{alert("y"), alert("x")}},
		{Ordinal: 0, Alerts: []telemetry.Alert{alert("z")}}})
	var ids []string
	for _, a := range got {
		ids = append(ids, a.ID)
	}
	if !slices.Equal(ids, []string{"x", "z", "y"}) {
		t.Fatalf("open alerts %v, want [x z y]", ids)
	}
}

func TestStateRoundTrip(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d := dev("olt-1", poller.StateUp, t0)
	d.Class, d.PolledAt = "olt", t0
	d.Evidence = &coverage.Evidence{}
	s := &State{V: 1, Ordinal: 1, Time: t0, Devices: []Device{d}, Alerts: []telemetry.Alert{alert("a1")}}
	b, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseState(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Devices) != 1 || got.Devices[0].ID != "olt-1" || got.Devices[0].Class != "olt" ||
		got.Devices[0].Evidence == nil || !got.Devices[0].PolledAt.Equal(t0) || len(got.Alerts) != 1 {
		t.Fatalf("round trip: %+v", got)
	}
	for _, bad := range []string{`{"v":1,"ordinal":0,"devices":[{"id":"","state":"up"}]}`,
		`{"v":1,"ordinal":0,"devices":[{"id":"a","state":"sideways"}]}`,
		`{"v":1,"ordinal":0,"devices":[],"alerts":[{"v":1}]}`,
		`{"v":0,"ordinal":0}`, `{"v":1,"ordinal":4000}`, `nope`} {
		if _, err := ParseState([]byte(bad)); err == nil {
			t.Errorf("ParseState(%s) accepted", bad)
		}
	}
}

// TestStateAcks: a state's acknowledgements read back; one without an
// alert or a name, or with a note too long, is refused.
func TestStateAcks(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ok := Ack{Alert: "a-1", AlertAck: telemetry.AlertAck{By: "noc", At: at, Note: "on it"}}
	s := &State{V: telemetry.SchemaVersion, Ordinal: 1, Acks: []Ack{ok}}
	b, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseState(b)
	if err != nil || len(got.Acks) != 1 || got.Acks[0] != ok {
		t.Fatalf("read back %+v, %v; want %+v", got, err, ok)
	}
	for _, bad := range []Ack{
		{AlertAck: telemetry.AlertAck{By: "noc"}},
		{Alert: "a-1"},
		{Alert: "a-1", AlertAck: telemetry.AlertAck{By: "noc", Note: strings.Repeat("x", telemetry.MaxAlertText+1)}},
		{Alert: "a-1", AlertAck: telemetry.AlertAck{By: strings.Repeat("n", telemetry.MaxAlertName+1)}},
	} {
		s.Acks = []Ack{bad}
		b, _ := s.Encode()
		if _, err := ParseState(b); err == nil || !strings.Contains(err.Error(), "acknowledgement 0") {
			t.Errorf("acknowledgement %+v: %v, want refused", bad, err)
		}
	}
}

// TestStateSignals: a state's gateway signals read back; one of a kind
// replicas do not share, without a gateway, or with an attribute too
// long, is refused.
func TestStateSignals(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ok := GatewaySignal{Kind: "door-held", Gateway: "gw-a", Site: "s1", Key: "eye-1", Active: true, Time: at,
		Summary: "door held", Attrs: map[string]string{"sensor": "eye-1"}, Applied: true}
	s := &State{V: telemetry.SchemaVersion, Ordinal: 1, Signals: []GatewaySignal{ok}, Coverage: at}
	b, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseState(b)
	if err != nil || len(got.Signals) != 1 || got.Signals[0].Gateway != "gw-a" || !got.Signals[0].Applied ||
		!got.Signals[0].Time.Equal(at) || got.Signals[0].Attrs["sensor"] != "eye-1" || !got.Coverage.Equal(at) {
		t.Fatalf("read back %+v, %v", got, err)
	}
	for _, bad := range []func(*GatewaySignal){
		func(g *GatewaySignal) { g.Kind = "device-down" },
		func(g *GatewaySignal) { g.Gateway = "" },
		func(g *GatewaySignal) {
			g.Attrs = map[string]string{"a": strings.Repeat("x", telemetry.MaxAlertText+1)}
		},
		func(g *GatewaySignal) { g.Key = strings.Repeat("k", telemetry.MaxAlertText+1) },
	} {
		g := ok
		bad(&g)
		s.Signals = []GatewaySignal{g}
		b, _ := s.Encode()
		if _, err := ParseState(b); err == nil || !strings.Contains(err.Error(), "gateway signal 0") {
			t.Errorf("signal %+v: %v, want refused", g, err)
		}
	}
}
