package alerts

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/telemetry"
)

func TestAddMaintenanceChecks(t *testing.T) {
	e, _ := newTestEngine(t, Config{}, Options{})
	ok := Window{Subject: "site:village-7", Start: t0, End: t0.Add(time.Hour), Reason: "splice"}
	for _, tc := range []struct {
		name string
		edit func(w *Window)
		err  string
	}{
		{"subject type", func(w *Window) { w.Subject = "cabinet:c1" }, "subject"},
		{"subject id", func(w *Window) { w.Subject = "device:" }, "subject"},
		{"no start", func(w *Window) { w.Start = time.Time{} }, "start and end"},
		{"end before start", func(w *Window) { w.End = w.Start.Add(-time.Second) }, "not after start"},
		{"empty", func(w *Window) { w.End = w.Start }, "not after start"},
		{"ended", func(w *Window) { w.Start, w.End = t0.Add(-2*time.Hour), t0 }, "has passed"},
		{"no reason", func(w *Window) { w.Reason = "" }, "reason is empty"},
		{"long reason", func(w *Window) { w.Reason = strings.Repeat("r", 257) }, "256 bytes"},
	} {
		w := ok
		tc.edit(&w)
		if _, err := e.AddMaintenance(w); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: %v, want ErrInvalid with %q", tc.name, err, tc.err)
		}
	}
	if ws := e.Maintenance(); len(ws) != 0 {
		t.Fatalf("windows %+v", ws)
	}
	// The ID and Source given are the engine's to set.
	ok.ID, ok.Source = "mine", WindowConfig
	w, err := e.AddMaintenance(ok)
	if err != nil || !strings.HasPrefix(w.ID, "api-") || w.Source != WindowAPI {
		t.Fatalf("added %+v, %v", w, err)
	}
	for i := 1; i < MaxWindows; i++ {
		if _, err := e.AddMaintenance(ok); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.AddMaintenance(ok); !errors.Is(err, ErrInvalid) {
		t.Fatalf("window %d: %v", MaxWindows+1, err)
	}
}

// TestWindowsListedAndRemoved: configuration windows keep IDs derived from
// their fields and cannot be removed; run-time ones can.
func TestWindowsListedAndRemoved(t *testing.T) {
	cw := Window{Subject: "gateway:gw-1", Start: t0, End: t0.Add(time.Hour), Reason: "antenna"}
	cfg := Config{Maintenance: []Window{cw, cw, {Subject: "device:olt-1", Start: t0, End: t0.Add(time.Hour)}}}
	e, _ := newTestEngine(t, cfg, Options{})
	e2, _ := newTestEngine(t, cfg, Options{})
	ws, ws2 := e.Maintenance(), e2.Maintenance()
	if len(ws) != 3 || ws[0].ID != ws2[0].ID || ws[2].ID != ws2[2].ID || ws[1].ID != ws[0].ID+"-2" ||
		ws[0].ID == ws[2].ID || !strings.HasPrefix(ws[0].ID, "cfg-") || ws[0].Source != WindowConfig {
		t.Fatalf("config windows %+v and %+v", ws, ws2)
	}
	late, err := e.AddMaintenance(Window{Subject: "site:b", Start: t0.Add(2 * time.Hour), End: t0.Add(3 * time.Hour), Reason: "b"})
	if err != nil {
		t.Fatal(err)
	}
	early, err := e.AddMaintenance(Window{Subject: "site:a", Start: t0.Add(time.Hour), End: t0.Add(3 * time.Hour), Reason: "a"})
	if err != nil {
		t.Fatal(err)
	}
	ws = e.Maintenance()
	if len(ws) != 5 || ws[3].ID != early.ID || ws[4].ID != late.ID {
		t.Fatalf("windows %+v", ws)
	}
	if err := e.RemoveMaintenance(ws[0].ID); !errors.Is(err, ErrConfigWindow) {
		t.Fatalf("config window removed: %v", err)
	}
	if err := e.RemoveMaintenance("api-0000000000000000"); !errors.Is(err, ErrUnknownWindow) {
		t.Fatalf("unknown window removed: %v", err)
	}
	if err := e.RemoveMaintenance(early.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.RemoveMaintenance(early.ID); !errors.Is(err, ErrUnknownWindow) {
		t.Fatalf("removed twice: %v", err)
	}
	// A reload replaces the configuration's windows and keeps the others.
	if err := e.SetMaintenance(nil); err != nil {
		t.Fatal(err)
	}
	if ws = e.Maintenance(); len(ws) != 1 || ws[0].ID != late.ID {
		t.Fatalf("after reload %+v", ws)
	}
}

// TestWindowStartsOnFiringAlert: a window that starts while an alert of its
// subject fires silences it at its start (MQTT only) and un-silences it at
// its end; removing a window un-silences at once.
func TestWindowStartsOnFiringAlert(t *testing.T) {
	e, clk := newTestEngine(t, Config{Rules: []Rule{{Name: "down", Kind: KindDeviceDown}}}, Options{})
	e.Signal(level(KindDeviceDown, olt1, true, t0))
	id := wantTransitions(t, e, "firing+hook")[0].alert.ID
	if _, err := e.AddMaintenance(Window{Subject: "site:village-7", Start: t0.Add(10 * time.Minute),
		End: t0.Add(time.Hour), Reason: "fibre splice"}); err != nil {
		t.Fatal(err)
	}
	wantTransitions(t, e, "")
	e.advance(t0.Add(10*time.Minute - time.Second))
	wantTransitions(t, e, "")
	e.advance(t0.Add(10 * time.Minute))
	ts := wantTransitions(t, e, "silenced")
	if a := ts[0].alert; a.ID != id || a.Reason != "maintenance: fibre splice" || !a.Updated.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("silenced %+v", a)
	}
	e.advance(t0.Add(time.Hour - time.Second))
	wantTransitions(t, e, "")
	// Webhooks were told it fired: not again when the window ends.
	e.advance(t0.Add(time.Hour))
	if a := wantTransitions(t, e, "firing")[0].alert; a.ID != id || a.Reason != "" {
		t.Fatalf("after the window %+v", a)
	}
	if ws := e.Maintenance(); len(ws) != 0 {
		t.Fatalf("ended window kept: %+v", ws)
	}

	// A window that has started when it is added silences at once; its
	// removal un-silences at once.
	clk.set(t0.Add(2 * time.Hour))
	w, err := e.AddMaintenance(Window{Subject: "device:olt-1", Start: t0, End: t0.Add(3 * time.Hour), Reason: "swap"})
	if err != nil {
		t.Fatal(err)
	}
	wantTransitions(t, e, "silenced")
	if err := e.RemoveMaintenance(w.ID); err != nil {
		t.Fatal(err)
	}
	wantTransitions(t, e, "firing")
	// An alert raised silenced and released by the removal is told to
	// webhooks then.
	if w, err = e.AddMaintenance(Window{Subject: "device:ont-1", Start: t0, End: t0.Add(3 * time.Hour), Reason: "swap"}); err != nil {
		t.Fatal(err)
	}
	e.Signal(level(KindDeviceDown, ont1, true, clk.Now()))
	wantTransitions(t, e, "silenced")
	if err := e.RemoveMaintenance(w.ID); err != nil {
		t.Fatal(err)
	}
	wantTransitions(t, e, "firing+hook")
}

// TestRunTimeWindowsSurviveRestart: run-time windows are in the state file;
// those that ended meanwhile are dropped.
func TestRunTimeWindowsSurviveRestart(t *testing.T) {
	cfg := Config{Rules: []Rule{{Name: "down", Kind: KindDeviceDown}}}
	o := Options{StatePath: filepath.Join(t.TempDir(), "alerts.json")}
	e, _ := newTestEngine(t, cfg, o)
	short, err := e.AddMaintenance(Window{Subject: "device:ont-1", Start: t0, End: t0.Add(time.Minute), Reason: "reboot"})
	if err != nil {
		t.Fatal(err)
	}
	long, err := e.AddMaintenance(Window{Subject: "site:village-7", Start: t0.Add(time.Hour), End: t0.Add(4 * time.Hour), Reason: "fibre splice"})
	if err != nil {
		t.Fatal(err)
	}
	e.flush()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e2, _ := newTestEngine(t, cfg, o)
	if ws := e2.Maintenance(); len(ws) != 2 || ws[0] != short || ws[1] != long {
		t.Fatalf("after restart %+v, want %+v and %+v", ws, short, long)
	}
	e2.Close()

	clk := &clock{t: t0.Add(2 * time.Hour)}
	o.Now = clk.Now
	e3, err := New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	defer e3.Close()
	if ws := e3.Maintenance(); len(ws) != 1 || ws[0] != long {
		t.Fatalf("after a later restart %+v", ws)
	}
	e3.Signal(level(KindDeviceDown, olt1, true, clk.Now()))
	if ts := wantTransitions(t, e3, "silenced"); ts[0].alert.Reason != "maintenance: fibre splice" {
		t.Fatalf("raised %+v", ts[0].alert)
	}
	// Removed, it is gone from the state file too.
	if err := e3.RemoveMaintenance(long.ID); err != nil {
		t.Fatal(err)
	}
	e3.flush()
	b, err := os.ReadFile(o.StatePath)
	if err != nil || strings.Contains(string(b), long.ID) {
		t.Fatalf("state file still holds the removed window (%v):\n%s", err, b)
	}
}

func TestDamagedWindowInState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.json")
	for _, ws := range []string{
		`[{"id":"api-1","subject":"cabinet:x","start":"2026-11-29T10:00:00Z","end":"2026-11-29T11:00:00Z","reason":"r","source":"api"}]`,
		`[{"id":"","subject":"site:x","start":"2026-11-29T10:00:00Z","end":"2026-11-29T11:00:00Z","reason":"r","source":"api"}]`,
		`[{"id":"api-1","subject":"site:x","start":"2026-11-29T10:00:00Z","end":"2026-11-29T09:00:00Z","reason":"r","source":"api"}]`,
		`[{"id":"cfg-1","subject":"site:x","start":"2026-11-29T10:00:00Z","end":"2026-11-29T11:00:00Z","reason":"r","source":"config"}]`,
	} {
		if err := os.WriteFile(path, []byte(`{"v":1,"conds":[],"windows":`+ws+`}`), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := New(Config{}, Options{StatePath: path}); !errors.Is(err, ErrDamaged) {
			t.Errorf("windows %s: %v", ws, err)
		}
	}
}

// TestRunSilencesAtWindowStart: Run alone, by the engine's clock, silences
// a firing alert when a window starts and fires it again when it ends.
func TestRunSilencesAtWindowStart(t *testing.T) {
	e, clk := newTestEngine(t, Config{Rules: []Rule{{Name: "down", Kind: KindDeviceDown}}}, Options{Tick: time.Millisecond})
	changes, cancel := e.Subscribe(16)
	defer cancel()
	runEngine(t, e)
	e.Signal(level(KindDeviceDown, olt1, true, t0))
	if _, err := e.AddMaintenance(Window{Subject: "device:olt-1", Start: t0.Add(time.Minute), End: t0.Add(time.Hour), Reason: "swap"}); err != nil {
		t.Fatal(err)
	}
	next := func() telemetry.Alert {
		t.Helper()
		select {
		case a := <-changes:
			return a
		case <-time.After(20 * time.Second):
			t.Fatal("no alert change")
		}
		return telemetry.Alert{}
	}
	if a := next(); a.State != telemetry.AlertFiring {
		t.Fatalf("first change %+v", a)
	}
	clk.set(t0.Add(time.Minute))
	if a := next(); a.State != telemetry.AlertSilenced || !a.Updated.Equal(t0.Add(time.Minute)) {
		t.Fatalf("at the window's start %+v", a)
	}
	clk.set(t0.Add(time.Hour))
	if a := next(); a.State != telemetry.AlertFiring || !a.Updated.Equal(t0.Add(time.Hour)) {
		t.Fatalf("at the window's end %+v", a)
	}
	waitFor(t, "the ended window dropped", func() bool { return len(e.Maintenance()) == 0 })
}
