package alerts

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ngic/ngic/telemetry"
)

var t0 = time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)

// clock is a fake clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// newTestEngine builds an engine on a fake clock at t0 and closes it at
// the end of the test.
func newTestEngine(t *testing.T, cfg Config, o Options) (*Engine, *clock) {
	t.Helper()
	clk := &clock{t: t0}
	o.Now = clk.Now
	e, err := New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e, clk
}

// drain returns the alert changes queued for delivery since the last call.
func drain(e *Engine) []transition {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.outbox
	e.outbox = nil
	return out
}

// states spells transitions as "state" or "state+hook" for webhooks.
func states(ts []transition) string {
	var s []string
	for _, t := range ts {
		w := t.alert.State
		if t.alert.Flapping {
			w += "(flapping)"
		}
		if t.webhook {
			w += "+hook"
		}
		s = append(s, w)
	}
	return strings.Join(s, " ")
}

func wantTransitions(t *testing.T, e *Engine, want string) []transition {
	t.Helper()
	ts := drain(e)
	if got := states(ts); got != want {
		t.Fatalf("alert changes %q, want %q", got, want)
	}
	return ts
}

var (
	olt1 = Subject{Type: SubjectDevice, ID: "olt-1", Site: "village-7"}
	ont1 = Subject{Type: SubjectDevice, ID: "ont-1", Site: "village-7"}
	gw1  = Subject{Type: SubjectGateway, ID: "gw-1", Site: "village-7"}
)

func level(kind string, s Subject, active bool, at time.Time) Signal {
	return Signal{Kind: kind, Subject: s, Active: active, Time: at, Summary: kind + " on " + s.ID}
}

func TestAfterRaisesOnceThenResolves(t *testing.T) {
	e, clk := newTestEngine(t, Config{Rules: []Rule{{Name: "down", Kind: KindDeviceDown, After: 2 * time.Minute}}}, Options{})
	e.Signal(level(KindDeviceDown, olt1, true, t0))
	e.advance(t0.Add(time.Minute))
	clk.set(t0.Add(time.Minute))
	e.Signal(level(KindDeviceDown, olt1, true, t0.Add(time.Minute)))
	wantTransitions(t, e, "")
	if len(e.Open()) != 0 {
		t.Fatal("raised before after")
	}
	e.advance(t0.Add(2 * time.Minute))
	ts := wantTransitions(t, e, "firing+hook")
	a := ts[0].alert
	if a.Started != t0 || a.Severity != telemetry.SeverityCritical || a.Summary != "device-down on olt-1" ||
		a.ID != telemetry.AlertID("down", "device", "olt-1", "", t0) || a.Subject.Site != "village-7" {
		t.Fatalf("alert %+v", a)
	}
	// The condition still holds: no duplicate.
	for i := 3; i < 10; i++ {
		clk.set(t0.Add(time.Duration(i) * time.Minute))
		e.Signal(level(KindDeviceDown, olt1, true, clk.Now()))
		e.advance(clk.Now())
	}
	wantTransitions(t, e, "")
	if open := e.Open(); len(open) != 1 || open[0].ID != a.ID {
		t.Fatalf("open %+v", open)
	}
	e.Signal(level(KindDeviceDown, olt1, false, clk.Now()))
	ts = wantTransitions(t, e, "resolved+hook")
	if ts[0].alert.ID != a.ID || !ts[0].alert.Resolved.Equal(clk.Now()) {
		t.Fatalf("resolved %+v", ts[0].alert)
	}
	if len(e.Open()) != 0 {
		t.Fatal("still open")
	}
	// A condition that clears before after raises nothing.
	e.Signal(level(KindDeviceDown, olt1, true, clk.Now()))
	clk.set(clk.Now().Add(time.Minute))
	e.Signal(level(KindDeviceDown, olt1, false, clk.Now()))
	e.advance(clk.Now().Add(time.Hour))
	wantTransitions(t, e, "")
	if r := e.Recent(10); len(r) != 2 || r[0].State != telemetry.AlertResolved || r[1].State != telemetry.AlertFiring {
		t.Fatalf("recent %+v", r)
	}
}

func TestOneShotClearAfter(t *testing.T) {
	cfg := Config{Rules: []Rule{{Name: "pon", Kind: KindPONDrop, ClearAfter: 10 * time.Minute, MinONTs: 4}}}
	e, clk := newTestEngine(t, cfg, Options{})
	drop := func(at time.Time) Signal {
		return Signal{Kind: KindPONDrop, Subject: olt1, Key: "gpon 0/1/3", Active: true, Time: at,
			Attrs: map[string]string{AttrONTsBefore: "52", AttrONTsAfter: "3"}}
	}
	e.Signal(drop(t0))
	wantTransitions(t, e, "firing+hook")
	// A repeat extends it, with no duplicate.
	clk.set(t0.Add(8 * time.Minute))
	e.Signal(drop(clk.Now()))
	e.advance(t0.Add(15 * time.Minute))
	wantTransitions(t, e, "")
	e.advance(t0.Add(18*time.Minute - time.Second))
	wantTransitions(t, e, "")
	e.advance(t0.Add(18 * time.Minute))
	wantTransitions(t, e, "resolved+hook")
	// A drop below the rule's share or count is no signal for it.
	e.Signal(Signal{Kind: KindPONDrop, Subject: olt1, Key: "p", Active: true, Time: t0,
		Attrs: map[string]string{AttrONTsBefore: "52", AttrONTsAfter: "30"}})
	e.Signal(Signal{Kind: KindPONDrop, Subject: olt1, Key: "p", Active: true, Time: t0,
		Attrs: map[string]string{AttrONTsBefore: "3", AttrONTsAfter: "0"}})
	wantTransitions(t, e, "")
}

func TestSequenceGapClearsEarly(t *testing.T) {
	cfg := Config{Rules: []Rule{{Name: "gap", Kind: KindSequenceGap, ClearAfter: time.Hour}}}
	e, clk := newTestEngine(t, cfg, Options{})
	e.Signal(Signal{Kind: KindSequenceGap, Subject: gw1, Key: "1000-1010", Active: true, Time: t0})
	wantTransitions(t, e, "firing+hook")
	clk.set(t0.Add(time.Minute))
	e.Signal(Signal{Kind: KindSequenceGap, Subject: gw1, Key: "1000-1010", Active: false, Time: clk.Now()})
	wantTransitions(t, e, "resolved+hook")
	// A gap that fills within after raises nothing.
	cfg.Rules[0].After = time.Minute
	e2, _ := newTestEngine(t, cfg, Options{})
	e2.Signal(Signal{Kind: KindSequenceGap, Subject: gw1, Key: "5-9", Active: true, Time: t0})
	e2.Signal(Signal{Kind: KindSequenceGap, Subject: gw1, Key: "5-9", Active: false, Time: t0.Add(30 * time.Second)})
	e2.advance(t0.Add(time.Hour))
	wantTransitions(t, e2, "")
}

func TestFlapDamping(t *testing.T) {
	cfg := Config{
		Rules: []Rule{{Name: "up", Kind: KindUplinkDown, UplinkPattern: "uplink"}},
		Flap:  Flap{Count: 2, Window: 10 * time.Minute, Hold: 5 * time.Minute},
	}
	e, clk := newTestEngine(t, cfg, Options{})
	at := t0
	flip := func(active bool) {
		at = at.Add(time.Minute)
		clk.set(at)
		e.Signal(Signal{Kind: KindUplinkDown, Subject: olt1, Key: "xe-0", Active: active, Time: at,
			Attrs: map[string]string{AttrIfName: "uplink-1"}})
	}
	flip(true)
	flip(false)
	flip(true)
	flip(false)
	wantTransitions(t, e, "firing+hook resolved+hook firing+hook resolved+hook")
	flip(true)
	first := wantTransitions(t, e, "firing+hook")[0].alert.ID
	// Third clear within the window: held firing, marked flapping.
	flip(false)
	wantTransitions(t, e, "firing(flapping)")
	// Back within the hold: the same alert, no new raise.
	flip(true)
	flip(false)
	wantTransitions(t, e, "")
	e.advance(at.Add(5*time.Minute - time.Second))
	wantTransitions(t, e, "")
	if open := e.Open(); len(open) != 1 || open[0].ID != first || !open[0].Flapping {
		t.Fatalf("open %+v", open)
	}
	e.advance(at.Add(5 * time.Minute))
	ts := wantTransitions(t, e, "resolved+hook")
	if ts[0].alert.ID != first {
		t.Fatal("another occurrence resolved")
	}
	// Once the window has passed, an alert raises and resolves plainly.
	at = at.Add(time.Hour)
	flip(true)
	flip(false)
	wantTransitions(t, e, "firing+hook resolved+hook")
}

func TestSuppressedBehindDownParent(t *testing.T) {
	cfg := Config{Rules: []Rule{
		{Name: "down", Kind: KindDeviceDown},
		{Name: "air", Kind: KindTVOffAir},
	}}
	e, clk := newTestEngine(t, cfg, Options{})
	e.SetTopology(map[string]string{"ont-1": "olt-1", "tx-1": "ont-1"})
	tx := Subject{Type: SubjectDevice, ID: "tx-1"}
	e.Signal(level(KindDeviceDown, olt1, true, t0))
	wantTransitions(t, e, "firing+hook")
	e.Signal(level(KindDeviceDown, ont1, true, t0))
	e.Signal(level(KindTVOffAir, tx, true, t0)) // two levels below
	e.advance(t0.Add(time.Minute))
	wantTransitions(t, e, "")
	if open := e.Open(); len(open) != 1 || open[0].Subject.ID != "olt-1" {
		t.Fatalf("open %+v", open)
	}
	rec := e.Recent(10)
	if len(rec) != 3 || rec[0].State != telemetry.AlertSuppressed || rec[1].State != telemetry.AlertSuppressed ||
		!strings.Contains(rec[0].Reason, "ont-1") || !strings.Contains(rec[1].Reason, "olt-1") {
		t.Fatalf("recent %+v", rec)
	}
	// The parent comes back: the children still down raise.
	clk.set(t0.Add(2 * time.Minute))
	e.Signal(level(KindDeviceDown, olt1, false, clk.Now()))
	wantTransitions(t, e, "resolved+hook")
	e.advance(clk.Now())
	// ont-1 raises; tx-1 stays suppressed behind ont-1, which is down.
	ts := wantTransitions(t, e, "firing+hook")
	if ts[0].alert.Subject.ID != "ont-1" || ts[0].alert.Started != t0 {
		t.Fatalf("raised %+v", ts[0].alert)
	}
	e.Signal(level(KindDeviceDown, ont1, false, clk.Now()))
	e.advance(clk.Now())
	ts = wantTransitions(t, e, "resolved+hook firing+hook")
	if ts[1].alert.Subject.ID != "tx-1" {
		t.Fatalf("raised %+v", ts[1].alert)
	}
}

func TestMaintenanceSilences(t *testing.T) {
	cfg := Config{
		Rules:       []Rule{{Name: "down", Kind: KindDeviceDown}},
		Maintenance: []Window{{Subject: "site:village-7", Start: t0, End: t0.Add(time.Hour), Reason: "fibre splice"}},
	}
	e, clk := newTestEngine(t, cfg, Options{})
	e.Signal(level(KindDeviceDown, olt1, true, t0))
	ts := wantTransitions(t, e, "silenced")
	if !strings.Contains(ts[0].alert.Reason, "fibre splice") {
		t.Fatalf("reason %q", ts[0].alert.Reason)
	}
	e.advance(t0.Add(time.Hour - time.Second))
	wantTransitions(t, e, "")
	// The window ends with the condition still holding: it fires.
	e.advance(t0.Add(time.Hour))
	ts = wantTransitions(t, e, "firing+hook")
	if ts[0].alert.Reason != "" {
		t.Fatal("reason kept")
	}
	// A silenced alert that resolves is never told to webhooks.
	w := Window{Subject: "device:ont-1", Start: t0, End: t0.Add(3 * time.Hour), Reason: "swap"}
	if err := e.SetMaintenance([]Window{w}); err != nil {
		t.Fatal(err)
	}
	clk.set(t0.Add(2 * time.Hour))
	e.Signal(level(KindDeviceDown, ont1, true, clk.Now()))
	e.Signal(level(KindDeviceDown, ont1, false, clk.Now()))
	wantTransitions(t, e, "silenced resolved")
	if err := e.SetMaintenance([]Window{{Subject: "device:x", Start: t0, End: t0}}); err == nil {
		t.Fatal("an empty window accepted")
	}
}

func TestRestartKeepsOpenAlerts(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{
		Rules: []Rule{{Name: "down", Kind: KindDeviceDown}, {Name: "door", Kind: KindDoorHeld}},
		Flap:  Flap{Count: 1, Window: time.Hour, Hold: time.Hour},
	}
	o := Options{StatePath: filepath.Join(dir, "alerts.json")}
	e, _ := newTestEngine(t, cfg, o)
	e.Signal(level(KindDeviceDown, olt1, true, t0))
	e.Signal(level(KindDoorHeld, gw1, true, t0))
	e.Signal(level(KindDoorHeld, gw1, false, t0.Add(time.Minute)))
	open := e.Open()
	if len(open) != 1 {
		t.Fatalf("open %+v", open)
	}
	drain(e)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	e2, clk := newTestEngine(t, cfg, o)
	if got := e2.Open(); len(got) != 1 || got[0].ID != open[0].ID || got[0].State != telemetry.AlertFiring {
		t.Fatalf("after restart %+v, want %+v", got, open)
	}
	clk.set(t0.Add(2 * time.Minute))
	e2.Signal(level(KindDeviceDown, olt1, true, clk.Now()))
	e2.advance(clk.Now())
	wantTransitions(t, e2, "")
	// The flap history survived: the door flaps at its next clear.
	e2.Signal(level(KindDoorHeld, gw1, true, clk.Now()))
	e2.Signal(level(KindDoorHeld, gw1, false, clk.Now()))
	wantTransitions(t, e2, "firing+hook firing(flapping)")
	e2.Signal(level(KindDeviceDown, olt1, false, clk.Now()))
	if ts := wantTransitions(t, e2, "resolved+hook"); ts[0].alert.ID != open[0].ID {
		t.Fatal("another occurrence resolved")
	}
}

func TestRemovedRuleResolvesAtStart(t *testing.T) {
	o := Options{StatePath: filepath.Join(t.TempDir(), "alerts.json")}
	e, _ := newTestEngine(t, Config{Rules: []Rule{{Name: "down", Kind: KindDeviceDown}}}, o)
	e.Signal(level(KindDeviceDown, olt1, true, t0))
	e.Close()
	e2, _ := newTestEngine(t, Config{Rules: []Rule{{Name: "air", Kind: KindTVOffAir}}}, o)
	wantTransitions(t, e2, "resolved+hook")
	if len(e2.Open()) != 0 {
		t.Fatal("alert of a removed rule open")
	}
}

func TestSelectors(t *testing.T) {
	cfg := Config{Rules: []Rule{
		{Name: "assets", Kind: KindTagDeparted, EPCPrefixes: []string{"urn:epc:id:sgtin:0614141."},
			Tags: []string{"e2003412"}, GTINs: []string{"00614141123452"}, Subjects: []string{"site:village-7"}},
	}}
	e, _ := newTestEngine(t, cfg, Options{})
	dep := func(s Subject, key string, attrs map[string]string) {
		e.Signal(Signal{Kind: KindTagDeparted, Subject: s, Key: key, Active: true, Time: t0, Attrs: attrs})
	}
	dep(gw1, "r1/a", map[string]string{AttrEPCURI: "urn:epc:id:sgtin:0614141.812345.6789"})
	dep(gw1, "r1/b", map[string]string{AttrTagID: "E2003412"})
	dep(gw1, "r1/c", map[string]string{AttrGTIN: "00614141123452"})
	wantTransitions(t, e, "firing+hook firing+hook firing+hook")
	dep(gw1, "r1/d", map[string]string{AttrEPCURI: "urn:epc:id:sgtin:0614142.812345.6789"})
	dep(gw1, "r1/e", map[string]string{AttrTagID: "E2003413"})
	dep(Subject{Type: SubjectGateway, ID: "gw-2", Site: "town"}, "r1/a",
		map[string]string{AttrEPCURI: "urn:epc:id:sgtin:0614141.812345.6789"})
	e.Signal(level(KindDoorHeld, gw1, true, t0)) // no rule of the kind
	wantTransitions(t, e, "")
}

func BenchmarkSignalFiltered(b *testing.B) {
	e, err := New(Config{Rules: []Rule{{Name: "assets", Kind: KindTagDeparted, Tags: []string{"E2003412"}}}}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	s := Signal{Kind: KindTagDeparted, Subject: gw1, Key: "r1/x", Active: true, Time: t0,
		Attrs: map[string]string{AttrTagID: "E2009999", AttrEPCURI: "urn:epc:id:sgtin:0614141.812345.6789"}}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e.Signal(s)
		}
	})
}

func BenchmarkSignalHeld(b *testing.B) {
	e, err := New(Config{Rules: []Rule{{Name: "door", Kind: KindDoorHeld}}}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	s := level(KindDoorHeld, gw1, true, t0)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e.Signal(s)
		}
	})
}

func TestSignalBounds(t *testing.T) {
	e, _ := newTestEngine(t, Config{Rules: []Rule{{Name: "door", Kind: KindDoorHeld}}}, Options{})
	e.Signal(level(KindDoorHeld, Subject{Type: "cabinet", ID: "c1"}, true, t0))
	e.Signal(level(KindDoorHeld, Subject{Type: SubjectGateway}, true, t0))
	e.Signal(Signal{Kind: KindDoorHeld, Subject: gw1, Key: strings.Repeat("k", 2000), Active: true})
	wantTransitions(t, e, "")
	if n := e.invalid.Load(); n != 3 {
		t.Fatalf("%d invalid signals counted, want 3", n)
	}
	attrs := map[string]string{strings.Repeat("n", 200): "x"}
	for i := 0; i < 100; i++ {
		attrs[fmt.Sprintf("a%03d", i)] = strings.Repeat("é", 1000)
	}
	e.Signal(Signal{Kind: KindDoorHeld, Subject: gw1, Key: "pe-1", Active: true, Time: time.Time{},
		Summary: strings.Repeat("é", 1000), Attrs: attrs})
	ts := wantTransitions(t, e, "firing+hook")
	if _, err := telemetry.EncodeAlert(&ts[0].alert); err != nil {
		t.Fatal(err)
	}
	if a := ts[0].alert; len(a.Attrs) != telemetry.MaxAlertAttrs || a.Attrs["a000"] == "" || !a.Started.Equal(t0) {
		t.Fatalf("attrs %d, started %v", len(a.Attrs), a.Started)
	}
}

// TestRunDrivesTimers: Run alone raises after `after`, clears one-shots
// after clear_after and ends maintenance, by the engine's clock.
func TestRunDrivesTimers(t *testing.T) {
	cfg := Config{
		Rules: []Rule{{Name: "down", Kind: KindDeviceDown, After: 2 * time.Minute},
			{Name: "lost", Kind: KindEventsLost, ClearAfter: 5 * time.Minute}},
		Maintenance: []Window{{Subject: "gateway:gw-1", Start: t0, End: t0.Add(time.Minute)}},
	}
	e, clk := newTestEngine(t, cfg, Options{Tick: time.Millisecond})
	runEngine(t, e)
	e.Signal(level(KindDeviceDown, olt1, true, t0))
	e.Signal(level(KindEventsLost, gw1, true, t0))
	waitFor(t, "the silenced alert", func() bool { return len(e.Open()) == 1 })
	clk.set(t0.Add(2 * time.Minute))
	waitFor(t, "two firing", func() bool {
		open := e.Open()
		return len(open) == 2 && open[0].State == telemetry.AlertFiring && open[1].State == telemetry.AlertFiring
	})
	clk.set(t0.Add(5 * time.Minute))
	waitFor(t, "the one-shot resolved", func() bool { return len(e.Open()) == 1 && e.Open()[0].Kind == KindDeviceDown })
}

func TestStateFileErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "alerts.json")
	os.WriteFile(path, []byte("{not json"), 0o600)
	if _, err := New(Config{}, Options{StatePath: path}); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("corrupt state: %v", err)
	}
	// A state file that cannot be written is reported and counted, and the
	// alerts go on.
	e, _ := newTestEngine(t, Config{Rules: []Rule{{Name: "down", Kind: KindDeviceDown}}},
		Options{StatePath: filepath.Join(dir, "missing", "alerts.json")})
	e.Signal(level(KindDeviceDown, olt1, true, t0))
	e.flush()
	if err := e.StateError(); err == nil || len(e.Open()) != 1 {
		t.Fatalf("state error %v, open %d", err, len(e.Open()))
	}
	if v := metricValue(t, e, "ngic_controller_alerts_state_errors_total", ""); v != 1 {
		t.Fatalf("state_errors_total %v", v)
	}
}
