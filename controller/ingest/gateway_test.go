package ingest

import (
	"context"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/alerts"
	"github.com/ngic/ngic/telemetry"
)

func TestOnlineOfflineFromStatus(t *testing.T) {
	f := newFixture(t, nil)
	t1, t2 := t0.Add(time.Minute), t0.Add(2*time.Minute)
	if g := f.gateway(t, "gw1"); g.State != StateUnknown {
		t.Fatalf("before anything: %+v", g)
	}
	f.record(t, status(t, "gw1", telemetry.StateOnline, &t1, false))
	g := f.gateway(t, "gw1")
	if g.State != StateOnline || !g.Since.Equal(t1) || !g.StatusTime.Equal(t1) || g.Version != "1.2.3" || len(g.Readers) != 1 {
		t.Fatalf("after the birth: %+v", g)
	}
	if s := f.sink.Take(); len(s) != 0 {
		t.Errorf("a first birth sent %s", kinds(s))
	}
	// The last will (no time).
	f.record(t, status(t, "gw1", telemetry.StateOffline, nil, false))
	g = f.gateway(t, "gw1")
	if g.State != StateOffline || g.Cause != CauseStatus || !g.Since.Equal(f.clock.Now()) {
		t.Fatalf("after the will: %+v", g)
	}
	sigs := f.sink.Take()
	if len(sigs) != 1 || sigs[0].Kind != alerts.KindGatewayOffline || !sigs[0].Active || sigs[0].Subject.Site != "site-a" {
		t.Fatalf("will signals: %s", kinds(sigs))
	}
	// The retained birth t1 delivered again (a controller restart) and
	// the will again: no flip.
	f.record(t, status(t, "gw1", telemetry.StateOnline, &t1, false))
	f.record(t, status(t, "gw1", telemetry.StateOffline, nil, false))
	if g := f.gateway(t, "gw1"); g.State != StateOffline || g.Counts.StaleStatuses != 2 || g.Counts.Statuses != 2 {
		t.Fatalf("stale statuses applied: %+v", g)
	}
	// Replayed events of an offline gateway do not bring it online.
	f.record(t, event(t, "gw1", "pair", telemetry.Passage, 1, nil))
	if g := f.gateway(t, "gw1"); g.State != StateOffline {
		t.Fatalf("an event after the will: %+v", g)
	}
	f.record(t, status(t, "gw1", telemetry.StateOnline, &t2, false))
	if g := f.gateway(t, "gw1"); g.State != StateOnline || !g.Since.Equal(t2) {
		t.Fatalf("after a new birth: %+v", g)
	}
	sigs = f.sink.Take()
	if len(sigs) != 1 || sigs[0].Kind != alerts.KindGatewayOffline || sigs[0].Active {
		t.Fatalf("birth signals: %s", kinds(sigs))
	}
	// A clean stop has a time; an older one is stale.
	f.record(t, status(t, "gw1", telemetry.StateOffline, &t1, false))
	if g := f.gateway(t, "gw1"); g.State != StateOnline {
		t.Fatalf("an older stop applied: %+v", g)
	}
}

func TestQuiet(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.OfflineAfter = time.Minute })
	f.record(t, status(t, "gw1", telemetry.StateOnline, &t0, false), health(t, "gw1", t0), health(t, "gw2", t0))
	f.clock.add(50 * time.Second)
	f.record(t, health(t, "gw2", t0.Add(time.Minute)))
	f.clock.add(20 * time.Second)
	if err := f.checkQuiet(); err != nil {
		t.Fatal(err)
	}
	if g1, g2 := f.gateway(t, "gw1"), f.gateway(t, "gw2"); g1.State != StateOffline || g1.Cause != CauseQuiet ||
		!g1.Since.Equal(f.clock.Now()) || g2.State != StateOnline {
		t.Fatalf("after 70 s: gw1 %+v, gw2 %+v", g1, g2)
	}
	sigs := f.sink.Take()
	if len(sigs) != 1 || sigs[0].Subject.ID != "gw1" || !sigs[0].Active || sigs[0].Kind != alerts.KindGatewayOffline {
		t.Fatalf("quiet signals: %s", kinds(sigs))
	}
	if err := f.checkQuiet(); err != nil {
		t.Fatal(err)
	}
	if s := f.sink.Take(); len(s) != 0 {
		t.Fatalf("a second check sent %s", kinds(s))
	}
	// The next message brings it back.
	f.record(t, event(t, "gw1", "pair", telemetry.Passage, 1, nil))
	if g := f.gateway(t, "gw1"); g.State != StateOnline {
		t.Fatalf("after an event: %+v", g)
	}
	if sigs := f.sink.Take(); len(sigs) != 1 || sigs[0].Active {
		t.Fatalf("back online signals: %s", kinds(sigs))
	}
	// A retained birth the broker delivers again is not the gateway
	// speaking: it does not put off the quiet timeout.
	f.clock.add(50 * time.Second)
	f.record(t, status(t, "gw1", telemetry.StateOnline, &t0, false))
	f.clock.add(20 * time.Second)
	if err := f.checkQuiet(); err != nil {
		t.Fatal(err)
	}
	if g := f.gateway(t, "gw1"); g.State != StateOffline || g.Counts.StaleStatuses != 1 {
		t.Fatalf("a retained birth held off the quiet timeout: %+v", g)
	}
	// Its last will, delivered live, tells why; it stays offline since
	// the quiet time.
	since := f.gateway(t, "gw1").Since
	f.sink.Take()
	f.record(t, status(t, "gw1", telemetry.StateOffline, nil, false))
	if g := f.gateway(t, "gw1"); g.State != StateOffline || g.Cause != CauseStatus || !g.Since.Equal(since) {
		t.Fatalf("after the will: %+v", g)
	}
	if sigs := f.sink.Take(); len(sigs) != 0 {
		t.Fatalf("a will after the quiet time sent %s", kinds(sigs))
	}
	f.record(t, status(t, "gw1", telemetry.StateOnline, tp(t0.Add(time.Hour)), false))
	// After a restart of the controller the quiet time starts again.
	f.clock.add(10 * time.Minute)
	f.reopen(t)
	if err := f.checkQuiet(); err != nil {
		t.Fatal(err)
	}
	if g := f.gateway(t, "gw1"); g.State != StateOnline {
		t.Fatalf("quiet right after a restart: %+v", g)
	}
}

func TestRunChecksQuiet(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.OfflineAfter = 40 * time.Millisecond })
	f.record(t, health(t, "gw1", t0))
	f.clock.add(time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for f.gateway(t, "gw1").State != StateOffline {
		if time.Now().After(deadline) {
			t.Fatalf("Run did not mark the quiet gateway offline: %+v", f.gateway(t, "gw1"))
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
