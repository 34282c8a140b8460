package ingest

import (
	"testing"
	"time"

	"github.com/ngic/ngic/controller/alerts"
	"github.com/ngic/ngic/telemetry"
)

var sgtin = &telemetry.EPC{Scheme: "sgtin-96", URI: "urn:epc:id:sgtin:0614141.812345.6789", GTIN: "00614141123452"}

func TestTagsPresentWithGS1Identity(t *testing.T) {
	f := newFixture(t, nil)
	rssi := -52
	f.record(t,
		event(t, "gw1", "r1", telemetry.TagArrived, 1, func(e *telemetry.Event) {
			e.Tag.ID, e.Tag.EPC, e.Tag.Antenna, e.Tag.RSSI = "3034257BF7194E4000001A85", sgtin, 2, &rssi
		}),
		tagEvent(t, "gw1", "r1", telemetry.TagArrived, 2, "B"),
		tagEvent(t, "gw2", "r1", telemetry.TagArrived, 1, "C"),
		tagEvent(t, "gw3", "r9", telemetry.TagArrived, 1, "D"))
	s := f.site(t, "site-a")
	if len(s.Readers) != 2 || s.Readers[0].Gateway != "gw1" || len(s.Readers[0].Tags) != 2 || s.Readers[1].Gateway != "gw2" {
		t.Fatalf("site-a: %+v", s)
	}
	tag := s.Readers[0].Tags[0]
	if tag.ID != "3034257BF7194E4000001A85" || tag.EPC == nil || *tag.EPC != *sgtin || tag.Antenna != 2 || tag.RSSI == nil ||
		*tag.RSSI != -52 || !tag.FirstSeen.Equal(t0.Add(time.Millisecond)) || tag.Seq != 1 {
		t.Fatalf("tag: %+v", tag)
	}
	if b := f.site(t, "site-b"); len(b.Readers) != 1 || b.Readers[0].Tags[0].ID != "D" {
		t.Fatalf("site-b: %+v", b)
	}
	f.record(t, event(t, "gw1", "r1", telemetry.TagDeparted, 3, func(e *telemetry.Event) {
		e.Tag.ID, e.Tag.EPC = "3034257BF7194E4000001A85", sgtin
	}))
	if s := f.site(t, "site-a"); len(s.Readers[0].Tags) != 1 || s.Readers[0].Tags[0].ID != "B" {
		t.Fatalf("after the departure: %+v", s)
	}
	sigs := only(f.sink.Take(), alerts.KindTagDeparted)
	if len(sigs) != 1 || sigs[0].Key != "r1/3034257BF7194E4000001A85" || sigs[0].Attrs["gtin"] != sgtin.GTIN ||
		sigs[0].Attrs["epc_uri"] != sgtin.URI || sigs[0].Attrs["epc_scheme"] != "sgtin-96" || sigs[0].Attrs["tag_id"] != "3034257BF7194E4000001A85" {
		t.Fatalf("departure signals: %s", kinds(sigs))
	}
	if g := f.gateway(t, "gw1"); g.TagsPresent != 1 {
		t.Fatalf("gw1: %+v", g)
	}
}

func TestPresenceReset(t *testing.T) {
	f := newFixture(t, nil)
	// Seqs 1..3 are at t0+1..3 ms; the reset birth is at t0+5 ms.
	f.record(t, tagEvent(t, "gw1", "r1", telemetry.TagArrived, 1, "A"), tagEvent(t, "gw1", "r2", telemetry.TagArrived, 2, "B"),
		tagEvent(t, "gw2", "r1", telemetry.TagArrived, 1, "OTHER"))
	birth := t0.Add(5 * time.Millisecond)
	// The gateway restarted: an arrival after the birth (seq 10) comes in
	// the same batch as the birth, before it.
	f.record(t, tagEvent(t, "gw1", "r1", telemetry.TagArrived, 10, "C"), status(t, "gw1", telemetry.StateOnline, &birth, true))
	s := f.site(t, "site-a")
	if len(s.Readers) != 2 || s.Readers[0].Gateway != "gw1" || len(s.Readers[0].Tags) != 1 || s.Readers[0].Tags[0].ID != "C" ||
		s.Readers[1].Gateway != "gw2" {
		t.Fatalf("after the reset: %+v", s)
	}
	if g := f.gateway(t, "gw1"); g.Counts.PresenceResets != 1 {
		t.Fatalf("resets: %+v", g.Counts)
	}
	// The retained birth delivered again clears nothing and counts nothing.
	f.record(t, tagEvent(t, "gw1", "r1", telemetry.TagArrived, 3, "A"))
	f.record(t, status(t, "gw1", telemetry.StateOnline, &birth, true))
	if g := f.gateway(t, "gw1"); g.Counts.PresenceResets != 1 || g.TagsPresent != 2 {
		t.Fatalf("a redelivered birth reset again: %+v", g)
	}
}

func TestDoors(t *testing.T) {
	f := newFixture(t, nil)
	door := func() DoorState {
		s := f.site(t, "site-a")
		if len(s.Doors) != 1 {
			t.Fatalf("doors: %+v", s.Doors)
		}
		return s.Doors[0]
	}
	f.record(t, event(t, "gw1", "cab", telemetry.BeamBlocked, 1, nil))
	if d := door(); d.State != DoorBlocked || d.Sensor != "cab" || !d.Since.Equal(t0.Add(time.Millisecond)) {
		t.Fatalf("blocked: %+v", d)
	}
	if s := f.sink.Take(); len(s) != 0 {
		t.Fatalf("blocked sent %s", kinds(s))
	}
	f.record(t, event(t, "gw1", "cab", telemetry.BeamHeld, 2, nil))
	sigs := f.sink.Take()
	if d := door(); d.State != DoorHeld || len(sigs) != 1 || sigs[0].Kind != alerts.KindDoorHeld || !sigs[0].Active || sigs[0].Key != "cab" {
		t.Fatalf("held: %+v, %s", d, kinds(sigs))
	}
	f.record(t, event(t, "gw1", "cab", telemetry.BeamCleared, 4, nil))
	sigs = only(f.sink.Take(), alerts.KindDoorHeld)
	if d := door(); d.State != DoorClosed || len(sigs) != 1 || sigs[0].Active || sigs[0].Key != "cab" {
		t.Fatalf("cleared: %+v, %s", d, kinds(sigs))
	}
	// A late older event (seq 3, filling a gap) does not reopen the door.
	f.record(t, event(t, "gw1", "cab", telemetry.BeamBlocked, 3, nil))
	if d := door(); d.State != DoorClosed || d.Seq != 4 {
		t.Fatalf("after a late event: %+v", d)
	}
}

func TestPassages(t *testing.T) {
	f := newFixture(t, nil)
	pass := func(seq uint64, dir string, in, out uint64) Message {
		return event(t, "gw1", "gate", telemetry.Passage, seq, func(e *telemetry.Event) {
			e.PassageInfo = &telemetry.PassageInfo{Direction: dir, DurationS: 0.4, In: in, Out: out}
		})
	}
	f.record(t, pass(1, "in", 1, 0), pass(2, "in", 2, 0), pass(3, "out", 2, 1))
	f.record(t, pass(3, "out", 2, 1)) // redelivered
	// The gateway restarted: its counts start again.
	f.record(t, pass(5, "out", 0, 1), pass(4, "in", 3, 1))
	s := f.site(t, "site-a")
	if len(s.Passages) != 1 {
		t.Fatalf("passages: %+v", s.Passages)
	}
	p := s.Passages[0]
	if p.Pair != "gate" || p.In != 0 || p.Out != 1 || p.CountedIn != 3 || p.CountedOut != 2 || p.Seq != 5 {
		t.Fatalf("passage: %+v", p)
	}
}

// TestSignalKinds: with SignalKinds set, only the kinds it takes are
// signalled; the state is kept the same.
func TestSignalKinds(t *testing.T) {
	f := newFixture(t, func(o *Options) {
		o.SignalKinds = func(kind string) bool { return kind == alerts.KindDoorHeld }
	})
	f.record(t, tagEvent(t, "gw1", "r1", telemetry.TagArrived, 1, "A"), tagEvent(t, "gw1", "r1", telemetry.TagArrived, 2, "B"),
		tagEvent(t, "gw1", "r1", telemetry.TagDeparted, 3, "A"), event(t, "gw1", "cab", telemetry.BeamHeld, 4, nil),
		tagEvent(t, "gw1", "r1", telemetry.TagArrived, 9, "C")) // seqs 5..8 missing: a gap
	sigs := f.sink.Take()
	if len(sigs) != 1 || sigs[0].Kind != alerts.KindDoorHeld || !sigs[0].Active {
		t.Fatalf("signals %s; want the door held alone", kinds(sigs))
	}
	if g := f.gateway(t, "gw1"); g.TagsPresent != 2 || g.Counts.Gaps != 1 || g.Counts.Events != 5 {
		t.Fatalf("gw1: %+v", g)
	}
}
