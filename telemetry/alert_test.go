package telemetry

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// alertPayloads are alert payloads, valid and not, reused by the decode,
// encode and fuzz tests.
var alertPayloads = []struct {
	name, raw, err string
}{
	{"firing", `{"v":1,"id":"0123456789abcdef","rule":"olt-uplink","kind":"uplink-down","severity":"critical",` +
		`"state":"firing","subject":{"type":"device","id":"olt-1","site":"village-7"},"key":"xe-0/0/1",` +
		`"summary":"uplink xe-0/0/1 is down","attrs":{"if_name":"xe-0/0/1"},` +
		`"started":"2026-11-29T10:00:00Z","updated":"2026-11-29T10:01:00Z"}`, ""},
	{"resolved", `{"v":1,"id":"0123456789abcdef","rule":"r","kind":"device-down","severity":"major","state":"resolved",` +
		`"subject":{"type":"gateway","id":"gw-1"},"started":"2026-11-29T10:00:00Z","resolved":"2026-11-29T10:05:00Z",` +
		`"updated":"2026-11-29T10:05:00Z"}`, ""},
	{"silenced", `{"v":1,"id":"a1","rule":"r","kind":"tv-off-air","severity":"info","state":"silenced",` +
		`"subject":{"type":"site","id":"s"},"reason":"antenna work","started":"2026-11-29T10:00:00Z","updated":"2026-11-29T10:00:00Z"}`, ""},
	{"version", `{"v":2,"id":"a1","rule":"r","kind":"k","severity":"info","state":"firing","subject":{"type":"site","id":"s"},` +
		`"started":"2026-11-29T10:00:00Z","updated":"2026-11-29T10:00:00Z"}`, "field v"},
	{"id with slash", `{"v":1,"id":"a/1","rule":"r","kind":"k","severity":"info","state":"firing","subject":{"type":"site","id":"s"},` +
		`"started":"2026-11-29T10:00:00Z","updated":"2026-11-29T10:00:00Z"}`, "field id"},
	{"severity", `{"v":1,"id":"a1","rule":"r","kind":"k","severity":"huge","state":"firing","subject":{"type":"site","id":"s"},` +
		`"started":"2026-11-29T10:00:00Z","updated":"2026-11-29T10:00:00Z"}`, "field severity"},
	{"state", `{"v":1,"id":"a1","rule":"r","kind":"k","severity":"info","state":"open","subject":{"type":"site","id":"s"},` +
		`"started":"2026-11-29T10:00:00Z","updated":"2026-11-29T10:00:00Z"}`, "field state"},
	{"subject type", `{"v":1,"id":"a1","rule":"r","kind":"k","severity":"info","state":"firing","subject":{"type":"house","id":"s"},` +
		`"started":"2026-11-29T10:00:00Z","updated":"2026-11-29T10:00:00Z"}`, "subject.type"},
	{"resolved without time", `{"v":1,"id":"a1","rule":"r","kind":"k","severity":"info","state":"resolved","subject":{"type":"site","id":"s"},` +
		`"started":"2026-11-29T10:00:00Z","updated":"2026-11-29T10:00:00Z"}`, "field resolved"},
	{"resolved while firing", `{"v":1,"id":"a1","rule":"r","kind":"k","severity":"info","state":"firing","subject":{"type":"site","id":"s"},` +
		`"started":"2026-11-29T10:00:00Z","resolved":"2026-11-29T10:00:00Z","updated":"2026-11-29T10:00:00Z"}`, "field resolved"},
	{"resolved before started", `{"v":1,"id":"a1","rule":"r","kind":"k","severity":"info","state":"resolved","subject":{"type":"site","id":"s"},` +
		`"started":"2026-11-29T10:00:00Z","resolved":"2026-11-29T09:00:00Z","updated":"2026-11-29T10:00:00Z"}`, "before started"},
	{"no started", `{"v":1,"id":"a1","rule":"r","kind":"k","severity":"info","state":"firing","subject":{"type":"site","id":"s"},` +
		`"updated":"2026-11-29T10:00:00Z"}`, "field started"},
	{"acknowledged", `{"v":1,"id":"a1","rule":"r","kind":"device-down","severity":"critical","state":"firing",` +
		`"subject":{"type":"device","id":"olt-1"},"started":"2026-11-29T10:00:00Z","updated":"2026-11-29T10:03:00Z",` +
		`"ack":{"by":"noc-admin","at":"2026-11-29T10:03:00Z","note":"crew on the way"}}`, ""},
	{"acknowledged then resolved", `{"v":1,"id":"a1","rule":"r","kind":"device-down","severity":"critical","state":"resolved",` +
		`"subject":{"type":"device","id":"olt-1"},"started":"2026-11-29T10:00:00Z","resolved":"2026-11-29T10:09:00Z",` +
		`"updated":"2026-11-29T10:09:00Z","ack":{"by":"noc-admin","at":"2026-11-29T10:03:00Z"}}`, ""},
	{"ack without by", `{"v":1,"id":"a1","rule":"r","kind":"k","severity":"info","state":"firing","subject":{"type":"site","id":"s"},` +
		`"started":"2026-11-29T10:00:00Z","updated":"2026-11-29T10:00:00Z","ack":{"by":"","at":"2026-11-29T10:00:00Z"}}`, "ack.by"},
	{"ack without time", `{"v":1,"id":"a1","rule":"r","kind":"k","severity":"info","state":"firing","subject":{"type":"site","id":"s"},` +
		`"started":"2026-11-29T10:00:00Z","updated":"2026-11-29T10:00:00Z","ack":{"by":"x"}}`, "ack.at"},
	{"ack note too long", `{"v":1,"id":"a1","rule":"r","kind":"k","severity":"info","state":"firing","subject":{"type":"site","id":"s"},` +
		`"started":"2026-11-29T10:00:00Z","updated":"2026-11-29T10:00:00Z","ack":{"by":"x","at":"2026-11-29T10:00:00Z","note":"` +
		strings.Repeat("n", 1025) + `"}}`, "ack.note"},
	{"ack on a suppressed alert", `{"v":1,"id":"a1","rule":"r","kind":"k","severity":"info","state":"suppressed","subject":{"type":"site","id":"s"},` +
		`"started":"2026-11-29T10:00:00Z","updated":"2026-11-29T10:00:00Z","ack":{"by":"x","at":"2026-11-29T10:00:00Z"}}`, "suppressed"},
	{"not json", `{"v":1,`, "alert payload"},
}

func TestDecodeAlert(t *testing.T) {
	for _, tc := range alertPayloads {
		t.Run(tc.name, func(t *testing.T) {
			a, err := DecodeAlert([]byte(tc.raw))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b, err := EncodeAlert(a)
			if err != nil {
				t.Fatal(err)
			}
			// Encoding gives the same members in the same order.
			var want bytes.Buffer
			if err := json.Compact(&want, []byte(tc.raw)); err != nil {
				t.Fatal(err)
			}
			if string(b) != want.String() {
				t.Fatalf("encoded\n%s\nwant\n%s", b, want.String())
			}
		})
	}
}

func TestAlertTopicAndID(t *testing.T) {
	start := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	id := AlertID("r", "device", "olt-1", "gpon 0/1/3", start)
	if err := ValidateName(id); err != nil || len(id) != 16 {
		t.Fatalf("id %q: %v", id, err)
	}
	if AlertID("r", "device", "olt-1", "gpon 0/1/3", start.In(time.FixedZone("x", 3600))) != id {
		t.Fatal("the same instant in another zone gives another id")
	}
	for _, other := range []string{
		AlertID("r2", "device", "olt-1", "gpon 0/1/3", start),
		AlertID("r", "gateway", "olt-1", "gpon 0/1/3", start),
		AlertID("r", "device", "olt-1", "gpon 0/1/4", start),
		AlertID("r", "device", "olt-1", "gpon 0/1/3", start.Add(time.Nanosecond)),
		AlertID("r", "device", "olt-1gpon 0/1/3", "", start),
	} {
		if other == id {
			t.Fatalf("two occurrences share id %s", id)
		}
	}
	if got := AlertTopic(id); got != "ngic/v1/alerts/"+id {
		t.Fatalf("topic %q", got)
	}
	if AlertFilter != "ngic/v1/alerts/+" {
		t.Fatalf("filter %q", AlertFilter)
	}
}

func FuzzDecodeAlert(f *testing.F) {
	for _, tc := range alertPayloads {
		f.Add([]byte(tc.raw))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := DecodeAlert(b)
		if err != nil {
			return
		}
		enc, err := EncodeAlert(a)
		if err != nil {
			t.Fatalf("decoded alert does not encode: %v", err)
		}
		a2, err := DecodeAlert(enc)
		if err != nil {
			t.Fatalf("encoded alert does not decode: %v\n%s", err, enc)
		}
		if err := ValidateName(a2.ID); err != nil {
			t.Fatalf("valid alert with an id that is no topic level: %v", err)
		}
	})
}
