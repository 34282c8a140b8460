package alerts

import (
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

func TestAcknowledge(t *testing.T) {
	cfg := Config{
		Rules:       []Rule{{Name: "down", Kind: KindDeviceDown}},
		Maintenance: []Window{{Subject: "device:ont-1", Start: t0, End: t0.Add(time.Hour), Reason: "swap"}},
	}
	e, clk := newTestEngine(t, cfg, Options{})
	e.Signal(level(KindDeviceDown, olt1, true, t0))
	e.Signal(level(KindDeviceDown, ont1, true, t0))
	ts := wantTransitions(t, e, "firing+hook silenced")
	firing, silenced := ts[0].alert, ts[1].alert

	clk.set(t0.Add(3 * time.Minute))
	got, err := e.Acknowledge(firing.ID, "noc-admin", "crew on the way", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want := telemetry.AlertAck{By: "noc-admin", At: clk.Now(), Note: "crew on the way"}
	if got.Ack == nil || *got.Ack != want || got.State != telemetry.AlertFiring || got.ID != firing.ID ||
		!got.Updated.Equal(clk.Now()) {
		t.Fatalf("acknowledged %+v", got)
	}
	// Webhooks, told it fired, hear of the acknowledgement too.
	ts = wantTransitions(t, e, "firing+hook")
	if ts[0].alert.Ack == nil || ts[0].alert.Ack.By != "noc-admin" {
		t.Fatalf("delivered %+v", ts[0].alert)
	}
	if _, err := telemetry.EncodeAlert(&ts[0].alert); err != nil {
		t.Fatal(err)
	}
	// The caller's copy is its own.
	got.Ack.Note = "changed"
	for _, a := range e.Open() {
		if (a.ID == firing.ID) != (a.Ack != nil && a.Ack.Note == "crew on the way") {
			t.Fatalf("open %+v", a)
		}
	}

	// A silenced alert webhooks never heard of: MQTT only. A time after
	// the clock's is taken as the clock's.
	got, err = e.Acknowledge(silenced.ID, "ops", "", clk.Now().Add(time.Hour))
	if err != nil || !got.Ack.At.Equal(clk.Now()) || got.State != telemetry.AlertSilenced {
		t.Fatalf("acknowledged %+v, %v", got, err)
	}
	wantTransitions(t, e, "silenced")
	// Acknowledging again replaces the acknowledgement.
	at := t0.Add(2 * time.Minute)
	if got, err = e.Acknowledge(silenced.ID, "ops-2", "again", at); err != nil || got.Ack.By != "ops-2" || !got.Ack.At.Equal(at) {
		t.Fatalf("acknowledged again %+v, %v", got, err)
	}
	wantTransitions(t, e, "silenced")

	// The resolved alert keeps its acknowledgement; the id is then unknown.
	e.Signal(level(KindDeviceDown, olt1, false, clk.Now()))
	ts = wantTransitions(t, e, "resolved+hook")
	if ts[0].alert.Ack == nil || ts[0].alert.Ack.By != "noc-admin" {
		t.Fatalf("resolved %+v", ts[0].alert)
	}
	if _, err := e.Acknowledge(firing.ID, "noc-admin", "", time.Time{}); !errors.Is(err, ErrUnknownAlert) ||
		!strings.Contains(err.Error(), firing.ID) {
		t.Fatalf("resolved alert acknowledged: %v", err)
	}
	// The next occurrence is a new alert, not acknowledged.
	clk.set(t0.Add(5 * time.Minute))
	e.Signal(level(KindDeviceDown, olt1, true, clk.Now()))
	ts = wantTransitions(t, e, "firing+hook")
	if ts[0].alert.ID == firing.ID || ts[0].alert.Ack != nil {
		t.Fatalf("re-raised %+v", ts[0].alert)
	}
	// An acknowledgement is never older than its alert.
	if got, err := e.Acknowledge(ts[0].alert.ID, "ops", "", t0); err != nil || !got.Ack.At.Equal(clk.Now()) {
		t.Fatalf("acknowledged before it started: %+v, %v", got, err)
	}
	wantTransitions(t, e, "firing+hook")

	for _, tc := range []struct{ id, by, note string }{
		{"0000000000000000", "x", ""},
		{"", "x", ""},
	} {
		if _, err := e.Acknowledge(tc.id, tc.by, tc.note, time.Time{}); !errors.Is(err, ErrUnknownAlert) {
			t.Errorf("Acknowledge(%q): %v", tc.id, err)
		}
	}
	for _, tc := range []struct{ by, note string }{
		{"", "note"},
		{strings.Repeat("b", telemetry.MaxAlertName+1), ""},
		{"ops", strings.Repeat("n", telemetry.MaxAlertText+1)},
		{"ops", "\xff"},
	} {
		if _, err := e.Acknowledge(ts[0].alert.ID, tc.by, tc.note, time.Time{}); !errors.Is(err, ErrInvalid) {
			t.Errorf("Acknowledge by %.10q note %.10q: %v", tc.by, tc.note, err)
		}
	}
	wantTransitions(t, e, "")
}

// TestAcknowledgeSurvivesRestart: the acknowledgement is in the state
// file; a flapping alert keeps it while held.
func TestAcknowledgeSurvivesRestart(t *testing.T) {
	cfg := Config{Rules: []Rule{{Name: "door", Kind: KindDoorHeld}},
		Flap: Flap{Count: 1, Window: time.Hour, Hold: 10 * time.Minute}}
	o := Options{StatePath: filepath.Join(t.TempDir(), "alerts.json")}
	e, _ := newTestEngine(t, cfg, o)
	e.Signal(level(KindDoorHeld, gw1, true, t0))
	e.Signal(level(KindDoorHeld, gw1, false, t0))
	e.Signal(level(KindDoorHeld, gw1, true, t0.Add(time.Minute)))
	id := e.Open()[0].ID
	if _, err := e.Acknowledge(id, "ops", "known door", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e2, clk := newTestEngine(t, cfg, o)
	open := e2.Open()
	if len(open) != 1 || open[0].ID != id || open[0].Ack == nil || open[0].Ack.Note != "known door" {
		t.Fatalf("after restart %+v", open)
	}
	clk.set(t0.Add(2 * time.Minute))
	e2.Signal(level(KindDoorHeld, gw1, false, clk.Now()))
	ts := wantTransitions(t, e2, "firing(flapping)")
	if ts[0].alert.Ack == nil || ts[0].alert.ID != id {
		t.Fatalf("flapping %+v", ts[0].alert)
	}
}

// TestMQTTAcknowledged: against mosquitto, the acknowledged alert replaces
// the retained one on its topic.
func TestMQTTAcknowledged(t *testing.T) {
	m := testenv.StartMosquitto(t)
	pub := pahoPublisher{connectMQTT(t, m.Addr, "ngic-controller", nil)}
	cfg := Config{Rules: []Rule{{Name: "down", Kind: KindDeviceDown}}}
	e, _ := newTestEngine(t, cfg, Options{QueueDir: t.TempDir(), Publisher: pub, RetryMin: time.Millisecond, RetryMax: 10 * time.Millisecond})
	runEngine(t, e)
	e.Signal(level(KindDeviceDown, olt1, true, t0))
	id := e.Open()[0].ID
	if _, err := e.Acknowledge(id, "noc-admin", "on it", time.Time{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "two published", func() bool { return e.sinks[0].delivered.Load() == 2 })
	got := retainedAlerts(t, m.Addr, "late")
	if len(got) != 1 || got[0].ID != id || got[0].State != telemetry.AlertFiring || got[0].Ack == nil ||
		got[0].Ack.By != "noc-admin" || got[0].Ack.Note != "on it" {
		t.Fatalf("retained %+v", got)
	}
}

// TestWebhookHearsAcknowledgement: against an httptest receiver, webhooks
// get the acknowledgement of an alert they were told fired, not the
// silencing, and an alert released from a window with its acknowledgement.
func TestWebhookHearsAcknowledgement(t *testing.T) {
	rcv := &receiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	cfg := Config{Rules: []Rule{{Name: "down", Kind: KindDeviceDown}}, Webhooks: []Webhook{{URL: srv.URL}}}
	e, clk := newTestEngine(t, cfg, Options{QueueDir: t.TempDir(), RetryMin: time.Millisecond, RetryMax: 5 * time.Millisecond})
	runEngine(t, e)
	e.Signal(level(KindDeviceDown, olt1, true, t0))
	oltID := e.Open()[0].ID
	if _, err := e.Acknowledge(oltID, "ops", "seen", time.Time{}); err != nil {
		t.Fatal(err)
	}
	w, err := e.AddMaintenance(Window{Subject: "site:village-7", Start: t0, End: t0.Add(time.Hour), Reason: "splice"})
	if err != nil {
		t.Fatal(err)
	}
	e.Signal(level(KindDeviceDown, ont1, true, t0))
	for _, a := range e.Open() {
		if a.ID != oltID {
			if _, err := e.Acknowledge(a.ID, "ops", "", time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := e.RemoveMaintenance(w.ID); err != nil {
		t.Fatal(err)
	}
	clk.set(t0.Add(time.Minute))
	e.Signal(level(KindDeviceDown, olt1, false, clk.Now()))
	e.Signal(level(KindDeviceDown, ont1, false, clk.Now()))
	want := "olt-1:firing olt-1:firing(ack) ont-1:firing(ack) olt-1:resolved(ack) ont-1:resolved(ack)"
	waitFor(t, "five alerts", func() bool { return len(rcv.received()) >= 5 && e.sinks[0].sp.Stats().Records == 0 })
	if got := spell(rcv.received()); got != want {
		t.Fatalf("webhook received\n%s\nwant\n%s", got, want)
	}
}
