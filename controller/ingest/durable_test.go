package ingest

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ngic/ngic/telemetry"
)

// story is a bit of everything: births (one with presence_reset), health,
// tags, doors, passages, a gap, a loss, refusals.
func story(t testing.TB) [][]Message {
	birth := t0.Add(-time.Hour)
	return [][]Message{
		{status(t, "gw1", telemetry.StateOnline, &birth, false), status(t, "gw2", telemetry.StateOnline, &birth, true),
			health(t, "gw1", t0), Message{Topic: "junk", Payload: []byte("x")}},
		mixed(t, "gw1", 1, 40),
		mixed(t, "gw2", 100, 30),
		append(mixed(t, "gw1", 45, 10), lostEvent(t, "gw2", 140, 130, 135), status(t, "gw3", telemetry.StateOffline, nil, false),
			Message{Topic: telemetry.EventTopic("gw1", "r1"), Payload: []byte(`{"v":7}`)}),
	}
}

func TestRestartKeepsState(t *testing.T) {
	f := newFixture(t, nil)
	batches := story(t)
	for _, b := range batches {
		f.record(t, b...)
	}
	before := f.snapshot()
	if g := f.gateway(t, "gw1"); len(g.Gaps) != 1 || g.Health == nil || before.Counts[UnknownGateway].Refused[ReasonTopic] != 1 {
		t.Fatalf("the story did not happen: %v", before)
	}
	f.reopen(t)
	if after := f.snapshot(); !reflect.DeepEqual(before, after) {
		t.Fatalf("state changed across a restart:\nbefore %v\nafter %v", before, after)
	}
	// The broker delivers everything again to the restarted controller.
	f.sink.Take()
	for _, b := range batches {
		f.record(t, b...)
	}
	after := f.snapshot()
	for name, c := range after.Counts {
		b := before.Counts[name]
		if c.Events != b.Events || c.Gaps != b.Gaps || c.PresenceResets != b.PresenceResets || !reflect.DeepEqual(c.Lost, b.Lost) {
			t.Errorf("%s: counts changed by a redelivery after a restart:\nbefore %+v\nafter %+v", name, b, c)
		}
	}
	if !reflect.DeepEqual(before.Sites, after.Sites) {
		t.Errorf("sites changed by a redelivery after a restart:\nbefore %+v\nafter %+v", before.Sites, after.Sites)
	}
	if s := f.sink.Take(); len(s) != 0 {
		t.Errorf("a redelivery after a restart sent %s", kinds(s))
	}
}

func TestLinesFailureChangesNothing(t *testing.T) {
	fail := false
	f := newFixture(t, nil)
	lines := f.o.Lines
	f.o.Lines = func(b []byte) error {
		if fail {
			return errors.New("disk full")
		}
		return lines(b)
	}
	f.reopen(t)
	birth := t0
	f.record(t, status(t, "gw1", telemetry.StateOnline, &birth, false), tagEvent(t, "gw1", "r1", telemetry.TagArrived, 1, "A"))
	before := f.snapshot()
	f.sink.Take()
	batch := []Message{tagEvent(t, "gw1", "r1", telemetry.TagDeparted, 2, "A"), event(t, "gw1", "cab", telemetry.BeamHeld, 5, nil),
		health(t, "gw1", t0), lostEvent(t, "gw1", 6, 3, 4), Message{Topic: "junk"}}
	// Lines fails: nothing changes, nothing is signalled.
	fail = false
	f.record(t) // an empty batch does nothing
	fail = true
	if err := f.Record(batch); err == nil {
		t.Fatal("Record succeeded while Lines failed")
	}
	if after := f.snapshot(); !reflect.DeepEqual(before, after) {
		t.Fatalf("a failed batch changed the state:\nbefore %v\nafter %v", before, after)
	}
	if s := f.sink.Take(); len(s) != 0 || len(f.Refusals()) != 0 {
		t.Fatalf("a failed batch sent %s", kinds(s))
	}
	if st := f.Stats(); st.BatchErrors != 1 || st.LastError == "" {
		t.Fatalf("stats: %+v", st)
	}
	// The state commit fails (the file is gone from under it).
	fail = false
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Record(batch); err == nil {
		t.Fatal("Record succeeded without its state file")
	}
	if after := f.snapshot(); !reflect.DeepEqual(before, after) {
		t.Fatalf("a failed commit changed the state:\nbefore %v\nafter %v", before, after)
	}
	f.reopen(t)
	// The retry works, once.
	f.mu.Lock()
	f.lines = nil
	f.mu.Unlock()
	f.record(t, batch...)
	f.record(t, batch...)
	g := f.gateway(t, "gw1")
	if g.Counts.Events != 4 || g.Counts.Duplicates != 3 || g.TagsPresent != 0 || g.Counts.Health != 2 || g.Counts.Refused[ReasonTopic] != 0 {
		t.Fatalf("after the retry: %+v", g)
	}
	if n := bytes.Count(f.lines, []byte("edge_event,")); n != 3 {
		t.Errorf("%d event lines written by the retry and a redelivery, want 3:\n%s", n, f.lines)
	}
	sigs := f.sink.Take()
	if len(sigs) != 3 { // tag departed, door held, events lost (gap 3..4 is explained in its batch)
		t.Errorf("signals of the retry: %s", kinds(sigs))
	}
}

// TestConcurrentReaders reads everything while batches are recorded and
// the quiet check runs (for the race detector).
func TestConcurrentReaders(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.OfflineAfter = time.Millisecond })
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 20; i++ {
			f.record(t, mixed(t, "gw1", uint64(1+i*12), 12)...)
			f.record(t, Message{Topic: "junk"}, health(t, "gw2", t0.Add(time.Duration(i)*time.Second)))
			f.clock.add(time.Second)
			if err := f.checkQuiet(); err != nil {
				t.Error(err)
			}
		}
	}()
	col := f.Collector()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		_, _, _, _ = f.Gateways(), f.Sites(), f.Stats(), f.Refusals()
		ch := make(chan prometheus.Metric, 1000)
		col.Collect(ch)
		close(ch)
		for range ch {
		}
	}
	if g := f.gateway(t, "gw1"); g.Counts.Events != 240 {
		t.Fatalf("gw1: %+v", g.Counts)
	}
}
