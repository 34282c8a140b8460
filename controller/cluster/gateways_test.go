package cluster

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/alerts"
	"github.com/ngic/ngic/controller/alerts/alertstest"
)

func offline(gw string, active bool, t time.Time) alerts.Signal {
	return alerts.Signal{Kind: alerts.KindGatewayOffline, Subject: alerts.Subject{Type: alerts.SubjectGateway, ID: gw},
		Active: active, Time: t}
}

// TestGatewayAlertsOnce: two replicas hear every gateway's offline
// signal; each active one reaches exactly one engine (the owner's), every
// clear reaches both, and event signals pass on either. When replica 1
// leaves, replica 0 raises at once the alerts of 1's gateways that are
// offline, timed from when they went offline, and none of its own again.
func TestGatewayAlertsOnce(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	live := []int{0, 1}
	recs := []*alertstest.Recorder{{}, {}}
	gs := []*GatewayAlerts{NewGatewayAlerts(0, live, recs[0]), NewGatewayAlerts(1, live, recs[1])}
	var gws []string
	owned := map[int][]string{}
	for i := range 40 {
		gw := fmt.Sprintf("gw-%02d", i)
		gws = append(gws, gw)
		owned[Owner(gw, live)] = append(owned[Owner(gw, live)], gw)
	}
	if len(owned[0]) == 0 || len(owned[1]) == 0 {
		t.Fatalf("40 gateways all owned by one replica: %v", owned)
	}
	for _, at := range []time.Time{t0, t0.Add(time.Minute)} { // offline, then still offline
		for _, gw := range gws {
			for _, g := range gs {
				g.Signal(offline(gw, true, at))
			}
		}
	}
	for r, rec := range recs {
		var got []string
		for _, s := range rec.Take() {
			got = append(got, s.Subject.ID)
		}
		want := slices.Concat(owned[r], owned[r])
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("replica %d took %v, want its own twice: %v", r, got, want)
		}
	}

	// A clear reaches both; an event's signal passes where it arrives.
	for _, g := range gs {
		g.Signal(offline(gws[0], false, t0.Add(2*time.Minute)))
		g.Signal(offline(gws[0], true, t0.Add(3*time.Minute)))
	}
	// A door held, heard by the replica that does not own the gateway:
	// it goes to neither engine, but into the hearer's shared state,
	// where the owner reads it and applies it, once.
	door := alerts.Signal{Kind: alerts.KindDoorHeld, Subject: alerts.Subject{Type: alerts.SubjectGateway, ID: gws[1]},
		Key: "eye-1", Active: true, Time: t0}
	owner1 := Owner(gws[1], live)
	gs[owner1^1].Signal(door)
	for r, rec := range recs {
		got := rec.Take()
		want := 1 // the clear
		if Owner(gws[0], live) == r {
			want = 2
		}
		if len(got) != want || got[0].Active {
			t.Errorf("replica %d took %d signals (%+v), want %d beginning with the clear", r, len(got), got, want)
		}
	}
	select {
	case <-gs[owner1^1].Changed():
	default:
		t.Error("the door heard did not ask for the state to go out")
	}
	shared := shareState(gs[owner1^1], owner1^1).Signals
	if len(shared) != 1 || shared[0].Gateway != gws[1] || shared[0].Key != "eye-1" || !shared[0].Active || shared[0].Applied {
		t.Fatalf("shared %+v, want the door held, not applied", shared)
	}
	for range 2 {
		gs[owner1].Merge([]*State{{Ordinal: owner1 ^ 1, Signals: shared, Members: live, Fresh: true}})
	}
	if got := recs[owner1].Take(); len(got) != 1 || got[0].Kind != alerts.KindDoorHeld || !got[0].Active || !got[0].Time.Equal(t0) {
		t.Errorf("the owner took %+v from the other's state, want the door held once", got)
	}
	if sh := shareState(gs[owner1], owner1).Signals; len(sh) != 1 || !sh[0].Applied {
		t.Errorf("the owner shares %+v, want the door applied", sh)
	}
	gs[owner1^1].Merge([]*State{shareState(gs[owner1], owner1)})
	if got := recs[owner1^1].Take(); len(got) != 0 {
		t.Errorf("the other replica took %+v from the owner's state", got)
	}
	if sh := shareState(gs[owner1^1], owner1^1).Signals; len(sh) != 1 || !sh[0].Applied {
		t.Errorf("the other replica shares %+v, want the door known as applied", sh)
	}

	// Replica 1 leaves: 0 raises its gateways, offline since t0 (gws[0]
	// since its second fall), and nothing else.
	gs[0].SetLive([]int{0})
	got := recs[0].Take()
	var ids []string
	for _, s := range got {
		ids = append(ids, s.Subject.ID)
		want := t0
		if s.Subject.ID == gws[0] {
			want = t0.Add(3 * time.Minute)
		}
		if !s.Active || !s.Time.Equal(want) {
			t.Errorf("handed over %+v, want active since %v", s, want)
		}
	}
	slices.Sort(ids)
	if !slices.Equal(ids, owned[1]) {
		t.Errorf("replica 0 raised %v after 1 left, want 1's gateways %v", ids, owned[1])
	}
	// Back to two: nothing moves to 0, nothing raised.
	gs[0].SetLive(live)
	if got := recs[0].Take(); len(got) != 0 {
		t.Errorf("replica 0 raised %+v when 1 came back", got)
	}
	// Every later signal of 1's gateways goes to 1 again.
	for _, gw := range owned[1] {
		gs[0].Signal(offline(gw, true, t0.Add(time.Hour)))
	}
	if got := recs[0].Take(); len(got) != 0 {
		t.Errorf("replica 0 took %d signals of gateways it no longer owns", len(got))
	}
}

// TestGatewayAlertsNoFalseGaps: a gateway's events split over two
// replicas leave each with gaps that are the other's events: no sequence
// gap reaches an engine, and a gateway's own report of lost events does.
func TestGatewayAlertsNoFalseGaps(t *testing.T) {
	rec := &alertstest.Recorder{}
	g := NewGatewayAlerts(0, []int{0, 1}, rec)
	subject := alerts.Subject{Type: alerts.SubjectGateway, ID: "gw-a"}
	g.Signal(alerts.Signal{Kind: alerts.KindSequenceGap, Subject: subject, Key: "2", Active: true})
	g.Signal(alerts.Signal{Kind: alerts.KindSequenceGap, Subject: subject, Key: "2", Active: false})
	g.Signal(alerts.Signal{Kind: alerts.KindEventsLost, Subject: subject, Active: true})
	got := rec.Take()
	if len(got) != 1 || got[0].Kind != alerts.KindEventsLost {
		t.Errorf("took %+v, want the loss report only", got)
	}
}

// shareState is the state replica ord publishes from g, as the others
// receive it live.
func shareState(g *GatewayAlerts, ord int) *State {
	st := &State{Ordinal: ord, Fresh: true}
	g.Share(st)
	return st
}

// TestGatewayAlertsForceSync: a replica that joins applies no door signal
// of its gateways until every other live member's state syncs it; a
// member that stays silent is waited for only as long as the caller
// bounds it: ForceSync names it, and applies what was held back.
func TestGatewayAlertsForceSync(t *testing.T) {
	live := []int{0, 1}
	gw := ""
	for i := 0; gw == ""; i++ {
		if c := fmt.Sprintf("gw-%d", i); Owner(c, live) == 0 {
			gw = c
		}
	}
	rec := &alertstest.Recorder{}
	g := NewGatewayAlerts(0, live, rec)
	g.Signal(alerts.Signal{Kind: alerts.KindDoorHeld, Subject: alerts.Subject{Type: alerts.SubjectGateway, ID: gw},
		Key: "eye-1", Active: true, Time: time.Now()})
	g.Merge([]*State{{Ordinal: 1, Members: []int{1}, Fresh: true}}) // 1 does not count 0 live yet
	if got := rec.Take(); len(got) != 0 || g.Synced() {
		t.Fatalf("unsynced, the replica applied %+v (synced %v)", got, g.Synced())
	}
	if missing := g.ForceSync(); !slices.Equal(missing, []int{1}) {
		t.Errorf("ForceSync named %v, want the silent member 1", missing)
	}
	if got := rec.Take(); len(got) != 1 || got[0].Kind != alerts.KindDoorHeld || !got[0].Active || !g.Synced() {
		t.Errorf("forced, the replica applied %+v (synced %v), want the door held", got, g.Synced())
	}
	if missing := g.ForceSync(); missing != nil {
		t.Errorf("ForceSync of a synced replica named %v", missing)
	}
}
