package alerts

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/telemetry"
)

// received returns what the channel holds now, without waiting: the engine
// hands changes over before the call that made them returns.
func received(ch <-chan telemetry.Alert) []telemetry.Alert {
	var out []telemetry.Alert
	for {
		select {
		case a, ok := <-ch:
			if !ok {
				return out
			}
			out = append(out, a)
		default:
			return out
		}
	}
}

// spell writes alert changes as "subject:state" with (flapping) and
// (ack) marks.
func spell(as []telemetry.Alert) string {
	var s []string
	for _, a := range as {
		w := a.Subject.ID + ":" + a.State
		if a.Flapping {
			w += "(flapping)"
		}
		if a.Ack != nil {
			w += "(ack)"
		}
		s = append(s, w)
	}
	return strings.Join(s, " ")
}

// TestSubscribeSeesEveryChange: raise, acknowledgement, silence, release,
// flapping, suppression and resolve, in order, to every subscriber.
func TestSubscribeSeesEveryChange(t *testing.T) {
	cfg := Config{Rules: []Rule{{Name: "down", Kind: KindDeviceDown}},
		Flap: Flap{Count: 1, Window: time.Hour, Hold: 10 * time.Minute}}
	e, clk := newTestEngine(t, cfg, Options{})
	e.SetTopology(map[string]string{"ont-1": "olt-1"})
	a, cancelA := e.Subscribe(64)
	b, cancelB := e.Subscribe(0)
	defer cancelB()

	e.Signal(level(KindDeviceDown, olt1, true, t0))
	id := e.Open()[0].ID
	if _, err := e.Acknowledge(id, "ops", "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	w, err := e.AddMaintenance(Window{Subject: "device:olt-1", Start: t0, End: t0.Add(time.Hour), Reason: "swap"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.RemoveMaintenance(w.ID); err != nil {
		t.Fatal(err)
	}
	e.Signal(level(KindDeviceDown, ont1, true, t0))
	e.Signal(level(KindDeviceDown, olt1, false, t0))
	e.Signal(level(KindDeviceDown, olt1, true, t0.Add(time.Minute)))
	e.Signal(level(KindDeviceDown, olt1, false, t0.Add(2*time.Minute)))
	e.advance(t0.Add(3 * time.Minute)) // ont-1 is no longer behind a down device
	clk.set(t0.Add(20 * time.Minute))
	e.advance(clk.Now()) // olt-1 quiet for the hold

	want := "olt-1:firing olt-1:firing(ack) olt-1:silenced(ack) olt-1:firing(ack) ont-1:suppressed " +
		"olt-1:resolved(ack) olt-1:firing olt-1:firing(flapping) ont-1:firing olt-1:resolved"
	gotA, gotB := received(a), received(b)
	if spell(gotA) != want || spell(gotB) != want {
		t.Fatalf("subscribers saw\n%s\n%s\nwant\n%s", spell(gotA), spell(gotB), want)
	}
	// Each subscriber has its own copy.
	gotA[1].Ack.By = "changed"
	if gotB[1].Ack.By != "ops" {
		t.Fatal("subscribers share an alert's acknowledgement")
	}
	cancelA()
	cancelA()
	if _, ok := <-a; ok {
		t.Fatal("channel open after cancel")
	}
	e.Signal(level(KindDeviceDown, ont1, false, clk.Now()))
	if got := spell(received(b)); got != "ont-1:resolved" {
		t.Fatalf("after the other's cancel: %s", got)
	}
	if v := metricValue(t, e, "ngic_controller_alerts_subscribers", ""); v != 1 {
		t.Fatalf("subscribers %v", v)
	}
}

// TestSubscribeNeverBlocks: a subscriber that does not read loses the
// changes beyond its buffer, counted, and the engine goes on.
func TestSubscribeNeverBlocks(t *testing.T) {
	e, _ := newTestEngine(t, Config{Rules: []Rule{{Name: "door", Kind: KindDoorHeld}}}, Options{})
	slow, cancel := e.Subscribe(2)
	defer cancel()
	for i := 0; i < 5; i++ {
		e.Signal(Signal{Kind: KindDoorHeld, Subject: gw1, Key: "pe-" + string(rune('a'+i)), Active: true, Time: t0})
	}
	if len(e.Open()) != 5 {
		t.Fatal("the engine did not go on")
	}
	if got := received(slow); len(got) != 2 || got[0].Key != "pe-a" || got[1].Key != "pe-b" {
		t.Fatalf("slow subscriber got %s", spell(got))
	}
	if v := metricValue(t, e, "ngic_controller_alerts_subscriber_dropped_total", ""); v != 3 {
		t.Fatalf("dropped %v, want 3", v)
	}
}

func TestCloseEndsSubscriptions(t *testing.T) {
	e, err := New(Config{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ch, cancel := e.Subscribe(1)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-ch; ok {
		t.Fatal("channel open after Close")
	}
	cancel()
	late, cancel := e.Subscribe(1)
	if _, ok := <-late; ok {
		t.Fatal("channel open after Close")
	}
	cancel()
}

// TestRecentSurvivesRestart: the recent changes are in the state file, the
// newest Options.Recent of them kept.
func TestRecentSurvivesRestart(t *testing.T) {
	cfg := Config{Rules: []Rule{{Name: "door", Kind: KindDoorHeld}}, Flap: Flap{Disabled: true}}
	o := Options{StatePath: filepath.Join(t.TempDir(), "alerts.json"), Recent: 10}
	e, _ := newTestEngine(t, cfg, o)
	for i := 0; i < 7; i++ { // 14 changes: the ring wraps
		at := t0.Add(time.Duration(i) * time.Minute)
		e.Signal(level(KindDoorHeld, gw1, true, at))
		e.Signal(level(KindDoorHeld, gw1, false, at))
	}
	before := e.Recent(100)
	if len(before) != 10 {
		t.Fatalf("recent %d", len(before))
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e2, _ := newTestEngine(t, cfg, o)
	after := e2.Recent(100)
	if !slices.EqualFunc(before, after, sameAlert) {
		t.Fatalf("after restart\n%s\nwant\n%s", spell(after), spell(before))
	}
	// New changes go on from there.
	e2.Signal(level(KindDoorHeld, gw1, true, t0.Add(time.Hour)))
	if r := e2.Recent(100); len(r) != 10 || r[0].State != telemetry.AlertFiring || !sameAlert(r[1], before[0]) {
		t.Fatalf("after a new change\n%s", spell(r))
	}
	e2.Close()
	// Started with a smaller ring, the newest are kept.
	o.Recent = 3
	e3, _ := newTestEngine(t, cfg, o)
	if r := e3.Recent(100); len(r) != 3 || r[0].State != telemetry.AlertFiring || !sameAlert(r[1], before[0]) || !sameAlert(r[2], before[1]) {
		t.Fatalf("smaller ring\n%s", spell(r))
	}
}

func sameAlert(a, b telemetry.Alert) bool {
	ja, _ := telemetry.EncodeAlert(&a)
	jb, _ := telemetry.EncodeAlert(&b)
	return string(ja) == string(jb)
}

// TestStateWithoutNewFields: a state file written before windows and
// recent changes were kept still loads.
func TestStateWithoutNewFields(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.json")
	old := `{"v":1,"conds":[{"rule":"down","subject":{"type":"device","id":"olt-1"},"active":true,` +
		`"since":"2026-11-29T10:00:00Z","last":"2026-11-29T10:00:00Z","alert":{"v":1,"id":"0123456789abcdef",` +
		`"rule":"down","kind":"device-down","severity":"critical","state":"firing","subject":{"type":"device","id":"olt-1"},` +
		`"started":"2026-11-29T10:00:00Z","updated":"2026-11-29T10:00:00Z"},"notified":true}]}`
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	e, _ := newTestEngine(t, Config{Rules: []Rule{{Name: "down", Kind: KindDeviceDown}}}, Options{StatePath: path})
	if open := e.Open(); len(open) != 1 || open[0].ID != "0123456789abcdef" || len(e.Recent(10)) != 0 || len(e.Maintenance()) != 0 {
		t.Fatalf("open %+v", open)
	}
	// A damaged recent alert is a damaged file.
	bad := old[:len(old)-1] + `,"recent":[{"v":1,"id":"x"}]}`
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Rules: []Rule{{Name: "down", Kind: KindDeviceDown}}}, Options{StatePath: path}); err == nil ||
		!strings.Contains(err.Error(), "recent alert 0") {
		t.Fatalf("damaged recent alert: %v", err)
	}
}
