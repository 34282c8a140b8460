package ingest

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/alerts"
	"github.com/ngic/ngic/controller/alerts/alertstest"
	"github.com/ngic/ngic/telemetry"
)

// t0 is the time of seq 0; event seq n happens at t0 + n ms.
var t0 = time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)

// inventory is the gateways of the tests.
var inventory = map[string]string{"gw1": "site-a", "gw2": "site-a", "gw3": "site-b"}

// sink records signals.
type sink = alertstest.Recorder

// clock is a clock the test moves by hand (nanoseconds since 1970).
type clock struct{ ns atomic.Int64 }

func newClock(at time.Time) *clock {
	c := &clock{}
	c.ns.Store(at.UnixNano())
	return c
}

func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) add(d time.Duration) { c.ns.Add(int64(d)) }

// fixture is an Ingester with a recording sink, a clock and the lines it
// wrote.
type fixture struct {
	*Ingester
	path  string
	sink  *sink
	clock *clock
	o     Options
	mu    sync.Mutex
	lines []byte
}

func newFixture(t testing.TB, mod func(*Options)) *fixture {
	t.Helper()
	f := &fixture{path: filepath.Join(t.TempDir(), "ingest.db"), sink: &sink{}, clock: newClock(t0.Add(time.Hour))}
	f.o = Options{StatePath: f.path, Signals: f.sink, Now: f.clock.Now, Lines: func(b []byte) error {
		f.mu.Lock()
		f.lines = append(f.lines, b...)
		f.mu.Unlock()
		return nil
	}}
	if mod != nil {
		mod(&f.o)
	}
	f.open(t)
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// open (re)opens the ingester on the fixture's state file.
func (f *fixture) open(t testing.TB) {
	t.Helper()
	in, err := Open(f.o)
	if err != nil {
		t.Fatal(err)
	}
	in.SetGateways(inventory)
	f.Ingester = in
}

// reopen closes and opens the ingester again.
func (f *fixture) reopen(t testing.TB) {
	t.Helper()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	f.open(t)
}

func (f *fixture) record(t testing.TB, msgs ...Message) {
	t.Helper()
	if err := f.Record(msgs); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) gateway(t testing.TB, name string) GatewayState {
	t.Helper()
	for _, g := range f.Gateways() {
		if g.Name == name {
			return g
		}
	}
	t.Fatalf("no gateway %s in %+v", name, f.Gateways())
	return GatewayState{}
}

func (f *fixture) site(t testing.TB, name string) SiteState {
	t.Helper()
	for _, s := range f.Sites() {
		if s.Site == name {
			return s
		}
	}
	return SiteState{Site: name}
}

// event makes the message of an event of gw (source src, type typ) with
// seq, id gw-seq and time t0 + seq ms, with a body fitting its type;
// mod may change it.
func event(t testing.TB, gw, src, typ string, seq uint64, mod func(*telemetry.Event)) Message {
	t.Helper()
	e := &telemetry.Event{V: telemetry.SchemaVersion, ID: fmt.Sprintf("%s-%d", gw, seq), Gateway: gw, Source: src,
		Type: typ, Time: t0.Add(time.Duration(seq) * time.Millisecond)}
	switch typ {
	case telemetry.TagArrived, telemetry.TagDeparted:
		e.Tag = &telemetry.Tag{ID: "E2000001", Protocol: "uhf", FirstSeen: e.Time, LastSeen: e.Time}
	case telemetry.BeamBlocked, telemetry.BeamCleared, telemetry.BeamHeld:
		e.Beam = &telemetry.Beam{DurationS: 1}
	case telemetry.Passage:
		e.PassageInfo = &telemetry.PassageInfo{Direction: "in", DurationS: 0.5, In: 1}
	case telemetry.EventsLost:
		e.Lost = &telemetry.Lost{Count: 1, Reason: telemetry.LostDropOldest, FirstSeq: seq - 1, LastSeq: seq - 1}
	}
	if mod != nil {
		mod(e)
	}
	return Message{Topic: telemetry.EventTopic(gw, src), Payload: eventPayload(t, e, seq)}
}

func eventPayload(t testing.TB, e *telemetry.Event, seq uint64) []byte {
	t.Helper()
	b, err := telemetry.EncodeEvent(e)
	if err != nil {
		t.Fatal(err)
	}
	if b, err = telemetry.WithSeq(nil, b, seq); err != nil {
		t.Fatal(err)
	}
	return b
}

// tagEvent is a tag event of tag id on reader src.
func tagEvent(t testing.TB, gw, src, typ string, seq uint64, id string) Message {
	return event(t, gw, src, typ, seq, func(e *telemetry.Event) { e.Tag.ID = id })
}

// lostEvent is an events.lost of gw at seq explaining first..last.
func lostEvent(t testing.TB, gw string, seq, first, last uint64) Message {
	return event(t, gw, telemetry.LossSource, telemetry.EventsLost, seq, func(e *telemetry.Event) {
		e.Lost = &telemetry.Lost{Count: last - first + 1, Reason: telemetry.LostDropOldest, FirstSeq: first, LastSeq: last}
	})
}

// status makes a status message; at nil makes a last will.
func status(t testing.TB, gw, state string, at *time.Time, reset bool) Message {
	t.Helper()
	b, err := telemetry.EncodeStatus(&telemetry.Status{V: telemetry.SchemaVersion, Gateway: gw, State: state,
		Time: at, Version: "1.2.3", PresenceReset: reset,
		Readers: []telemetry.ReaderInfo{{Name: "r1", Protocol: "uhf", Device: "/dev/ttyUSB0"}}})
	if err != nil {
		t.Fatal(err)
	}
	return Message{Topic: telemetry.StatusTopic(gw), Payload: b, Retained: true}
}

func health(t testing.TB, gw string, at time.Time) Message {
	t.Helper()
	b, err := telemetry.EncodeHealth(&telemetry.Health{V: telemetry.SchemaVersion, Gateway: gw, Time: at, UptimeS: 60,
		ReadersConnected: 1, ReadersTotal: 1, Lost: map[string]uint64{telemetry.LostDiskFull: 2}})
	if err != nil {
		t.Fatal(err)
	}
	return Message{Topic: telemetry.HealthTopic(gw), Payload: b}
}

func tp(t time.Time) *time.Time { return &t }

// kinds lists the kinds, keys and Active of signals, for messages.
func kinds(sigs []alerts.Signal) string {
	b, _ := json.Marshal(sigs)
	return string(b)
}

// only returns the signals of kind.
func only(sigs []alerts.Signal, kind string) []alerts.Signal {
	var r []alerts.Signal
	for _, s := range sigs {
		if s.Kind == kind {
			r = append(r, s)
		}
	}
	return r
}

// snapshot is everything the ingester shows that is durable.
type snapshot struct {
	Gateways []GatewayState
	Sites    []SiteState
	Counts   map[string]Counts
}

func (f *fixture) snapshot() snapshot {
	return snapshot{Gateways: f.Gateways(), Sites: f.Sites(), Counts: f.Stats().Gateways}
}

func (s snapshot) String() string {
	b, _ := json.MarshalIndent(s, "", " ")
	return string(b)
}
