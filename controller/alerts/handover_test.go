package alerts

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/ngic/ngic/telemetry"
)

// TestAdoptRelease: an alert one engine raised and another adopts is
// open on the second as it was (same ID, acknowledgement), raises nothing
// more while its condition holds, and resolves once, with its webhook,
// when the condition ends; adopting it again only takes a newer
// acknowledgement. Released, it is forgotten without a word, and the
// adoption survives a restart.
func TestAdoptRelease(t *testing.T) {
	cfg := Config{Rules: []Rule{{Name: "door", Kind: KindDoorHeld}}}
	raiser, _ := newTestEngine(t, cfg, Options{})
	held := Signal{Kind: KindDoorHeld, Subject: gw1, Key: "eye-1", Active: true, Time: t0, Summary: "door held"}
	raiser.Signal(held)
	a := wantTransitions(t, raiser, "firing+hook")[0].alert
	if _, err := raiser.Acknowledge(a.ID, "noc", "crew sent", t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	a = raiser.Open()[0]

	o := Options{StatePath: filepath.Join(t.TempDir(), "alerts.json")}
	e, clk := newTestEngine(t, cfg, o)
	if changed, err := e.Adopt(a); !changed || err != nil {
		t.Fatalf("Adopt: %v, %v", changed, err)
	}
	wantTransitions(t, e, "")
	open := e.Open()
	if len(open) != 1 || open[0].ID != a.ID || open[0].Ack == nil || open[0].Ack.Note != "crew sent" || !open[0].Started.Equal(t0) {
		t.Fatalf("adopted %+v", open)
	}
	// Still held: nothing more, however often it is said.
	clk.set(t0.Add(time.Minute))
	e.Signal(held)
	e.Signal(Signal{Kind: KindDoorHeld, Subject: gw1, Key: "eye-1", Active: true, Time: clk.Now()})
	e.advance(clk.Now())
	wantTransitions(t, e, "")
	// Adopted again: nothing; with a newer acknowledgement: that one.
	if changed, _ := e.Adopt(a); changed {
		t.Fatal("adopting the same alert again changed it")
	}
	b := a
	b.Ack = &telemetry.AlertAck{By: "ops", At: t0.Add(time.Minute), Note: "again"}
	if changed, err := e.Adopt(b); !changed || err != nil || e.Open()[0].Ack.By != "ops" {
		t.Fatalf("newer acknowledgement: %v, %v, %+v", changed, err, e.Open()[0].Ack)
	}
	wantTransitions(t, e, "")

	// Across a restart, then the door closes: resolved once, webhook told.
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e, clk = newTestEngine(t, cfg, o)
	clk.set(t0.Add(2 * time.Minute))
	e.Signal(Signal{Kind: KindDoorHeld, Subject: gw1, Key: "eye-1", Active: false, Time: clk.Now()})
	ts := wantTransitions(t, e, "resolved+hook")
	if ts[0].alert.ID != a.ID || ts[0].alert.Ack == nil {
		t.Fatalf("resolved %+v", ts[0].alert)
	}

	// Released: gone, without a word; its ID unknown.
	e.Signal(Signal{Kind: KindDoorHeld, Subject: gw1, Key: "eye-1", Active: true, Time: clk.Now()})
	id := wantTransitions(t, e, "firing+hook")[0].alert.ID
	if !e.Release(id) || e.Release(id) || len(e.Open()) != 0 {
		t.Fatalf("Release: open %+v", e.Open())
	}
	wantTransitions(t, e, "")
	if _, err := e.Acknowledge(id, "noc", "", time.Time{}); !errors.Is(err, ErrUnknownAlert) {
		t.Fatalf("released alert acknowledged: %v", err)
	}

	// Refused: another occurrence open, a rule not here, an alert not open.
	e.Signal(Signal{Kind: KindDoorHeld, Subject: gw1, Key: "eye-1", Active: true, Time: clk.Now()})
	wantTransitions(t, e, "firing+hook")
	for _, bad := range []func(*telemetry.Alert){
		func(*telemetry.Alert) {},
		func(x *telemetry.Alert) { x.Rule = "other" },
		func(x *telemetry.Alert) { x.State = telemetry.AlertResolved },
	} {
		x := a
		bad(&x)
		if changed, err := e.Adopt(x); changed || !errors.Is(err, ErrInvalid) {
			t.Errorf("Adopt(%s %s %s): %v, %v", x.ID, x.Rule, x.State, changed, err)
		}
	}
}
