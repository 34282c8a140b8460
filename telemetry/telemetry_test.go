package telemetry

import (
	"strings"
	"testing"
	"time"
)

func TestTopics(t *testing.T) {
	if got := EventTopic("gw-1", "dock-reader"); got != "ngic/v1/gw/gw-1/event/dock-reader" {
		t.Fatalf("EventTopic = %q", got)
	}
	if got := CommandTopic("gw-1", "update"); got != "ngic/v1/cmd/gw-1/update" {
		t.Fatalf("CommandTopic = %q", got)
	}
	if got := CommandFilter("gw-1"); got != "ngic/v1/cmd/gw-1/#" {
		t.Fatalf("CommandFilter = %q", got)
	}
	if got := CommissioningTopic("gw-1"); got != "ngic/v1/gw/gw-1/commissioning" {
		t.Fatalf("CommissioningTopic = %q", got)
	}
	if _, _, _, err := ParseTopic(CommissioningTopic("gw-1")); err == nil {
		t.Fatalf("ParseTopic accepts %s: a probe would be taken for data", CommissioningTopic("gw-1"))
	}
	for _, tc := range []struct {
		topic, gw, kind, src string
		bad                  bool
	}{
		{topic: StatusTopic("gw-1"), gw: "gw-1", kind: "status"},
		{topic: EventTopic("gw-1", "r1"), gw: "gw-1", kind: "event", src: "r1"},
		{topic: "ngic/v1/gw//status", bad: true},
		{topic: "ngic/v1/gw/gw-1/event/", bad: true},
		{topic: "ngic/v2/gw/gw-1/status", bad: true},
		{topic: "ngic/v1/gw/gw-1/event/a/b", bad: true},
	} {
		gw, kind, src, err := ParseTopic(tc.topic)
		if (err != nil) != tc.bad {
			t.Errorf("ParseTopic(%q) err = %v, want bad=%v", tc.topic, err, tc.bad)
			continue
		}
		if !tc.bad && (gw != tc.gw || kind != tc.kind || src != tc.src) {
			t.Errorf("ParseTopic(%q) = %q %q %q", tc.topic, gw, kind, src)
		}
	}
	for _, bad := range []string{"", "a/b", "a+", "#", "a b", strings.Repeat("x", 129)} {
		if ValidateName(bad) == nil {
			t.Errorf("ValidateName(%q) accepted", bad)
		}
	}
}

// payloads are raw published event payloads, one field group a line.
var payloads = []struct {
	name string
	raw  string
	err  string // substring of the expected error, "" when valid
}{
	{name: "arrival", raw: `{"seq":7,` + // sequence number, added at publish time
		`"v":1,"id":"4f1c2a9e-0000-4000-8000-000000000001",` + // schema version, unique id
		`"gateway":"gw-1","source":"dock","type":"tag.arrived",` + // who and what
		`"time":"2026-11-27T10:00:00Z",` + // when
		`"tag":{"id":"3074257BF7194E4000001A85","protocol":"magicrf","antenna":1,"rssi":-61,` + // tag
		`"epc":{"scheme":"sgtin-96","uri":"urn:epc:id:sgtin:0614141.812345.6789","gtin":"00614141123452"},` + // GS1
		`"first_seen":"2026-11-27T10:00:00Z","last_seen":"2026-11-27T10:00:00Z"}}`},
	{name: "cleared", raw: `{"seq":8,"v":1,"id":"x","gateway":"gw-1","source":"door","type":"beam.cleared","time":"2026-11-27T10:00:00Z","beam":{"duration_s":1.5}}`},
	{name: "passage", raw: `{"seq":9,"v":1,"id":"y","gateway":"gw-1","source":"gate","type":"passage","time":"2026-11-27T10:00:00Z","passage":{"direction":"in","duration_s":0.4,"in":3,"out":1}}`},
	{name: "no seq", raw: `{"v":1,"id":"x","gateway":"gw-1","source":"door","type":"beam.held","time":"2026-11-27T10:00:00Z","beam":{}}`, err: "seq"},
	{name: "wrong version", raw: `{"seq":1,"v":2,"id":"x","gateway":"g","source":"s","type":"beam.held","time":"2026-11-27T10:00:00Z","beam":{}}`, err: "field v"},
	{name: "unknown type", raw: `{"seq":1,"v":1,"id":"x","gateway":"g","source":"s","type":"boom","time":"2026-11-27T10:00:00Z"}`, err: "field type"},
	{name: "tag without id", raw: `{"seq":1,"v":1,"id":"x","gateway":"g","source":"s","type":"tag.arrived","time":"2026-11-27T10:00:00Z","tag":{}}`, err: "field tag"},
	{name: "bad gateway", raw: `{"seq":1,"v":1,"id":"x","gateway":"g/h","source":"s","type":"beam.held","time":"2026-11-27T10:00:00Z","beam":{}}`, err: "field gateway"},
	{name: "bad direction", raw: `{"seq":1,"v":1,"id":"x","gateway":"g","source":"s","type":"passage","time":"2026-11-27T10:00:00Z","passage":{"direction":"up"}}`, err: "field passage"},
	{name: "not json", raw: `{"seq":1,`, err: "event payload"},
	{name: "lost", raw: `{"seq":164,"v":1,"id":"z",` + // sequence number of the report itself, schema, id
		`"gateway":"gw-1","source":"spool","type":"events.lost",` + // the gateway's own source
		`"time":"2026-11-27T10:05:00Z",` + // when the report was made
		`"lost":{"count":30,"reason":"overflow-reject-new",` + // how many and why
		`"first_seq":134,"last_seq":163,` + // the numbers they had
		`"first":"2026-11-27T10:00:00Z","last":"2026-11-27T10:04:00Z"}}`}, // their time span
	{name: "lost without times", raw: `{"seq":9,"v":1,"id":"z","gateway":"g","source":"spool","type":"events.lost","time":"2026-11-27T10:05:00Z","lost":{"count":1,"reason":"crash","first_seq":8,"last_seq":8}}`},
	{name: "lost without body", raw: `{"seq":9,"v":1,"id":"z","gateway":"g","source":"spool","type":"events.lost","time":"2026-11-27T10:05:00Z"}`, err: "field lost"},
	{name: "lost zero", raw: `{"seq":9,"v":1,"id":"z","gateway":"g","source":"spool","type":"events.lost","time":"2026-11-27T10:05:00Z","lost":{"count":0,"reason":"crash","first_seq":8,"last_seq":8}}`, err: "lost.count"},
	{name: "lost bad reason", raw: `{"seq":9,"v":1,"id":"z","gateway":"g","source":"spool","type":"events.lost","time":"2026-11-27T10:05:00Z","lost":{"count":1,"reason":"gremlins","first_seq":8,"last_seq":8}}`, err: "lost.reason"},
	{name: "lost no range", raw: `{"seq":9,"v":1,"id":"z","gateway":"g","source":"spool","type":"events.lost","time":"2026-11-27T10:05:00Z","lost":{"count":1,"reason":"crash"}}`, err: "first_seq"},
	{name: "lost count beyond range", raw: `{"seq":9,"v":1,"id":"z","gateway":"g","source":"spool","type":"events.lost","time":"2026-11-27T10:05:00Z","lost":{"count":3,"reason":"crash","first_seq":7,"last_seq":8}}`, err: "cannot fit"},
	{name: "lost span backwards", raw: `{"seq":9,"v":1,"id":"z","gateway":"g","source":"spool","type":"events.lost","time":"2026-11-27T10:05:00Z","lost":{"count":1,"reason":"crash","first_seq":8,"last_seq":8,"first":"2026-11-27T10:05:00Z","last":"2026-11-27T10:00:00Z"}}`, err: "lost.last"},
}

func TestDecodeEvent(t *testing.T) {
	for _, tc := range payloads {
		e, err := DecodeEvent([]byte(tc.raw))
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
		// Round trip: spool encoding plus WithSeq gives an equivalent payload.
		spooled, err := EncodeEvent(e)
		if err != nil {
			t.Fatalf("%s: encode: %v", tc.name, err)
		}
		if strings.Contains(string(spooled), `"seq"`) {
			t.Fatalf("%s: spooled payload carries seq: %s", tc.name, spooled)
		}
		pub, err := WithSeq(nil, spooled, e.Seq)
		if err != nil {
			t.Fatal(err)
		}
		e2, err := DecodeEvent(pub)
		if err != nil {
			t.Fatalf("%s: re-decode %s: %v", tc.name, pub, err)
		}
		if e2.Seq != e.Seq || e2.ID != e.ID || e2.Type != e.Type || !e2.Time.Equal(e.Time) {
			t.Fatalf("%s: round trip changed the event: %+v vs %+v", tc.name, e2, e)
		}
		if (e.Lost == nil) != (e2.Lost == nil) || e.Lost != nil && (e2.Lost.Count != e.Lost.Count ||
			e2.Lost.Reason != e.Lost.Reason || e2.Lost.FirstSeq != e.Lost.FirstSeq || e2.Lost.LastSeq != e.Lost.LastSeq) {
			t.Fatalf("%s: round trip changed the loss: %+v vs %+v", tc.name, e2.Lost, e.Lost)
		}
	}
}

func TestStatus(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	b, err := EncodeStatus(&Status{V: 1, Gateway: "gw-1", State: StateOnline, Time: &now, Version: "v1",
		Readers: []ReaderInfo{{Name: "r1", Protocol: "em4100", Device: "/dev/ttyUSB0"}}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := DecodeStatus(b)
	if err != nil {
		t.Fatal(err)
	}
	if s.State != StateOnline || len(s.Readers) != 1 || s.Readers[0].Protocol != "em4100" {
		t.Fatalf("status round trip: %+v", s)
	}
	if s.PresenceReset || strings.Contains(string(b), "presence_reset") {
		t.Fatalf("presence_reset set or spelled in a clean birth: %s", b)
	}
	s, err = DecodeStatus([]byte(`{"v":1,"gateway":"gw-1","state":"online","presence_reset":true}`))
	if err != nil || !s.PresenceReset {
		t.Fatalf("presence_reset: %+v, %v", s, err)
	}
	if _, err := DecodeStatus([]byte(`{"v":1,"gateway":"g","state":"maybe"}`)); err == nil {
		t.Fatal("state maybe accepted")
	}
}

func TestWithSeqRejectsNonObject(t *testing.T) {
	if _, err := WithSeq(nil, []byte(`[1]`), 1); err == nil {
		t.Fatal("array accepted")
	}
	got, err := WithSeq(nil, []byte(`{}`), 5)
	if err != nil || string(got) != `{"seq":5}` {
		t.Fatalf("WithSeq({}) = %s, %v", got, err)
	}
}

func FuzzDecodeEvent(f *testing.F) {
	for _, tc := range payloads {
		f.Add([]byte(tc.raw))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeEvent(b)
		if err != nil {
			return
		}
		if err := e.Validate(true); err != nil {
			t.Fatalf("decoded event does not validate: %v", err)
		}
		if _, err := EncodeEvent(e); err != nil {
			t.Fatalf("decoded event does not encode: %v", err)
		}
	})
}

func FuzzDecodeStatus(f *testing.F) {
	f.Add([]byte(`{"v":1,"gateway":"g","state":"online","readers":[{"name":"r","protocol":"p","device":"d"}]}`))
	f.Add([]byte(`{"v":1,"gateway":"g","state":"online","presence_reset":true}`))
	f.Add([]byte(`{"v":1,"gateway":"g","state":"online","update":{"id":"r1/g","step":"rolled-back","from":"1.0.0","to":"1.1.0","reason":"unhealthy","time":"2026-11-29T10:00:00Z"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeStatus(b)
		if err == nil {
			if _, err := EncodeStatus(s); err != nil {
				t.Fatalf("decoded status does not encode: %v", err)
			}
		}
	})
}

// parseTopicSplit is ParseTopic as first written, with a split: the
// reference FuzzParseTopic compares it with.
func parseTopicSplit(topic string) (gateway, kind, source string, ok bool) {
	rest, ok := strings.CutPrefix(topic, Root+"/gw/")
	if !ok {
		return "", "", "", false
	}
	parts := strings.Split(rest, "/")
	switch {
	case len(parts) == 2 && parts[1] == "status" && parts[0] != "":
		return parts[0], "status", "", true
	case len(parts) == 2 && parts[1] == "health" && parts[0] != "":
		return parts[0], "health", "", true
	case len(parts) == 3 && parts[1] == "event" && parts[0] != "" && parts[2] != "":
		return parts[0], "event", parts[2], true
	}
	return "", "", "", false
}

// FuzzParseTopic checks ParseTopic against the split it replaced, and
// ValidateName against the byte set it spells.
func FuzzParseTopic(f *testing.F) {
	for _, s := range []string{StatusTopic("gw-1"), HealthTopic("gw-1"), EventTopic("gw-1", "dock"),
		CommissioningTopic("gw-1"), "ngic/v1/gw//status", "ngic/v1/gw/g/event/", "ngic/v1/gw/g/event/a/b",
		"ngic/v1/gw/g/status/", "ngic/v1/gw/g", "ngic/v1/gw/", "ngic/v2/gw/g/status", "ngic/v1/gw/g/event//",
		"a b", "a\x00", "x\ty", strings.Repeat("x", 129), ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, topic string) {
		gw, kind, src, err := ParseTopic(topic)
		wgw, wkind, wsrc, ok := parseTopicSplit(topic)
		if (err == nil) != ok || gw != wgw || kind != wkind || src != wsrc {
			t.Fatalf("ParseTopic(%q) = %q %q %q %v, the split gives %q %q %q %v", topic, gw, kind, src, err, wgw, wkind, wsrc, ok)
		}
		bad := topic == "" || len(topic) > 128 || strings.ContainsAny(topic, "/+#\x00 \t\r\n")
		if err := ValidateName(topic); (err != nil) != bad {
			t.Fatalf("ValidateName(%q) = %v, want refused %v", topic, err, bad)
		}
	})
}

func BenchmarkParseTopic(b *testing.B) {
	topic := EventTopic("gw-0001", "dock-reader")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, err := ParseTopic(topic); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateName(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if err := ValidateName("dock-reader-0001"); err != nil {
			b.Fatal(err)
		}
	}
}
