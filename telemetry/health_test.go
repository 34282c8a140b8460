package telemetry

import (
	"strings"
	"testing"
	"time"
)

func TestEventPointTime(t *testing.T) {
	base := time.Date(2026, 11, 27, 10, 0, 0, 123456789, time.UTC) // .123456 µs + 789 ns
	a := &Event{V: 1, Seq: 4001, ID: "a", Gateway: "gw-1", Source: "door", Type: BeamBlocked, Time: base, Beam: &Beam{}}
	b := &Event{V: 1, Seq: 4002, ID: "b", Gateway: "gw-1", Source: "door", Type: BeamBlocked,
		Time: base.Add(100 * time.Nanosecond), Beam: &Beam{}} // same series, same microsecond
	ta, tb := EventPointTime(a), EventPointTime(b)
	if want := time.Date(2026, 11, 27, 10, 0, 0, 123456001, time.UTC); !ta.Equal(want) {
		t.Fatalf("point time %v, want %v", ta, want)
	}
	if ta.Equal(tb) {
		t.Fatalf("two events in one microsecond share the point time %v", ta)
	}
	la, err := AppendEventLine(nil, "cab-1", a)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := AppendEventLine(nil, "cab-1", b)
	if err != nil {
		t.Fatal(err)
	}
	pa, pb := parseLines(t, la)[0], parseLines(t, lb)[0]
	if pa.measurement != pb.measurement || len(pa.tags) != len(pb.tags) || pa.time.Equal(pb.time) {
		t.Fatalf("want one series and two point times:\n%s%s", la, lb)
	}
	// A replay (same event decoded again from its payload) writes the same line.
	spooled, err := EncodeEvent(a)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := WithSeq(nil, spooled, a.Seq)
	again, err := DecodeEvent(pub)
	if err != nil {
		t.Fatal(err)
	}
	lr, err := AppendEventLine(nil, "cab-1", again)
	if err != nil || string(lr) != string(la) {
		t.Fatalf("replay wrote %q (%v), first write %q", lr, err, la)
	}
	if _, err := AppendEventLine(nil, "cab-1", &Event{V: 1, ID: "x", Gateway: "g", Source: "s", Type: BeamHeld, Time: base}); err == nil {
		t.Fatal("event without seq got a point")
	}
}

func TestEventLines(t *testing.T) {
	for _, tc := range payloads {
		if tc.err != "" {
			continue
		}
		ev, err := DecodeEvent([]byte(tc.raw))
		if err != nil {
			t.Fatal(err)
		}
		b, err := AppendEventLine(nil, "cab-1", ev)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		l := parseLines(t, b)[0]
		want := MeasEdgeEvent
		if ev.Type == Passage {
			want = MeasPassage
		}
		if l.measurement != want || !l.time.Equal(EventPointTime(ev)) || l.fields[FieldSeq] != int64(ev.Seq) {
			t.Errorf("%s: %s", tc.name, b)
		}
	}
}

// healthPayloads are raw health payloads, one field group a line.
var healthPayloads = []struct {
	name string
	raw  string
	err  string
}{
	{name: "full", raw: `{"v":1,"gateway":"gw-1","time":"2026-11-27T10:00:00Z",` + // schema, who, when
		`"version":"v1.4.0","uptime_s":86400.5,` + // software, process age
		`"readers_connected":1,"readers_total":2,` + // readers open of configured
		`"spool_records":17,"spool_bytes":8192,` + // waiting for PUBACK
		`"lost":{"overflow-drop-oldest":3,"crash":1},` + // lost since start, by reason
		`"broker_reconnects":4}`}, // connections after the first
	{name: "minimal", raw: `{"v":1,"gateway":"g","time":"2026-11-27T10:00:00Z","uptime_s":0,"readers_connected":0,"readers_total":0,"spool_records":0,"spool_bytes":0,"broker_reconnects":0}`},
	{name: "wrong version", raw: `{"v":2,"gateway":"g","time":"2026-11-27T10:00:00Z"}`, err: "field v"},
	{name: "no time", raw: `{"v":1,"gateway":"g"}`, err: "field time"},
	{name: "bad gateway", raw: `{"v":1,"gateway":"a/b","time":"2026-11-27T10:00:00Z"}`, err: "field gateway"},
	{name: "negative uptime", raw: `{"v":1,"gateway":"g","time":"2026-11-27T10:00:00Z","uptime_s":-1}`, err: "uptime_s"},
	{name: "more connected than configured", raw: `{"v":1,"gateway":"g","time":"2026-11-27T10:00:00Z","readers_connected":3,"readers_total":2}`, err: "readers_connected"},
	{name: "unknown reason", raw: `{"v":1,"gateway":"g","time":"2026-11-27T10:00:00Z","lost":{"gremlins":1}}`, err: "unknown reason"},
	{name: "huge count", raw: `{"v":1,"gateway":"g","time":"2026-11-27T10:00:00Z","spool_bytes":18446744073709551615}`, err: "2^63-1"},
	{name: "time out of range", raw: `{"v":1,"gateway":"g","time":"2300-01-01T00:00:00Z"}`, err: "out of range"},
	{name: "not json", raw: `{"v":1,`, err: "health payload"},
}

func TestHealth(t *testing.T) {
	if got := HealthTopic("gw-1"); got != "ngic/v1/gw/gw-1/health" {
		t.Fatalf("HealthTopic = %q", got)
	}
	if gw, kind, src, err := ParseTopic(HealthTopic("gw-1")); err != nil || gw != "gw-1" || kind != "health" || src != "" {
		t.Fatalf("ParseTopic(health) = %q %q %q %v", gw, kind, src, err)
	}
	for _, tc := range healthPayloads {
		h, err := DecodeHealth([]byte(tc.raw))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err = %v, want it to mention %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		b, err := EncodeHealth(h)
		if err != nil {
			t.Fatalf("%s: encode: %v", tc.name, err)
		}
		h2, err := DecodeHealth(b)
		if err != nil || h2.Gateway != h.Gateway || !h2.Time.Equal(h.Time) || h2.LostTotal() != h.LostTotal() ||
			h2.SpoolBytes != h.SpoolBytes || h2.ReadersConnected != h.ReadersConnected {
			t.Fatalf("%s: round trip %+v vs %+v (%v)", tc.name, h2, h, err)
		}
	}
	h, _ := DecodeHealth([]byte(healthPayloads[0].raw))
	b, err := h.AppendLines(nil, "cab-1")
	if err != nil {
		t.Fatal(err)
	}
	want := `gateway_health,gateway=gw-1,site=cab-1 uptime_s=86400.5,readers_connected=1i,readers_total=2i,spool_records=17i,spool_bytes=8192i,broker_reconnects=4i,lost_total=4i,version="v1.4.0" 1795773600000000000
gateway_lost,gateway=gw-1,reason=crash,site=cab-1 count=1i 1795773600000000000
gateway_lost,gateway=gw-1,reason=overflow-drop-oldest,site=cab-1 count=3i 1795773600000000000
`
	if string(b) != want {
		t.Fatalf("health lines:\n%s\nwant\n%s", b, want)
	}
	if len(parseLines(t, b)) != 3 {
		t.Fatal("reference parser disagrees")
	}
}

func FuzzDecodeHealth(f *testing.F) {
	for _, tc := range healthPayloads {
		f.Add([]byte(tc.raw))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := DecodeHealth(b)
		if err != nil {
			return
		}
		enc, err := EncodeHealth(h)
		if err != nil {
			t.Fatalf("decoded health does not encode: %v", err)
		}
		if _, err := DecodeHealth(enc); err != nil {
			t.Fatalf("encoded health does not decode: %v\n%s", err, enc)
		}
		// Every valid message makes valid lines.
		lines, err := h.AppendLines(nil, "site")
		if err != nil {
			t.Fatalf("valid health gives no lines: %v", err)
		}
		if got := len(parseLines(t, lines)); got != 1+len(h.Lost) {
			t.Fatalf("%d lines for %d reasons", got, len(h.Lost))
		}
	})
}
