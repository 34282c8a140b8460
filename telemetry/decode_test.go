package telemetry

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// sampleEvents are one event of every type, as a gateway makes them.
func sampleEvents() []*Event {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 123456789, time.UTC)
	t1 := t0.Add(1500 * time.Millisecond)
	return []*Event{
		{V: 1, ID: "4f1c2a9e-0000-4000-8000-000000000001", Gateway: "gw-1", Source: "dock", Type: TagArrived, Time: t0,
			Tag: &Tag{ID: "3074257BF7194E4000001A85", Protocol: "magicrf", Antenna: 1, RSSI: ptrOf(-61),
				EPC:       &EPC{Scheme: "sgtin-96", URI: "urn:epc:id:sgtin:0614141.812345.6789", GTIN: "00614141123452"},
				FirstSeen: t0, LastSeen: t1}},
		{V: 1, ID: "4f1c2a9e-0000-4000-8000-000000000002", Gateway: "gw-1", Source: "door", Type: TagDeparted, Time: t1,
			Tag: &Tag{ID: "0102030405", Protocol: "em4100", Reads: 42, FirstSeen: t0, LastSeen: t1}},
		{V: 1, ID: "e3", Gateway: "gw-1", Source: "pallet", Type: TagArrived, Time: t0,
			Tag: &Tag{ID: "3114257BF7194E4000001A85", Protocol: "magicrf", Antenna: 4, RSSI: ptrOf(0),
				EPC:       &EPC{Scheme: "sscc-96", URI: "urn:epc:id:sscc:0614141.1234567890", SSCC: "106141411234567897"},
				FirstSeen: t0, LastSeen: t0}},
		{V: 1, ID: "e4", Gateway: "gw-2", Source: "eye-1", Type: BeamBlocked, Time: t0, Beam: &Beam{}},
		{V: 1, ID: "e5", Gateway: "gw-2", Source: "eye-1", Type: BeamCleared, Time: t1, Beam: &Beam{DurationS: 1.5}},
		{V: 1, ID: "e6", Gateway: "gw-2", Source: "eye-1", Type: BeamHeld, Time: t1, Beam: &Beam{DurationS: 30.25e-3}},
		{V: 1, ID: "e7", Gateway: "gw-2", Source: "door-pair", Type: Passage, Time: t1,
			PassageInfo: &PassageInfo{Direction: "in", DurationS: 0.75, In: 12, Out: 9}},
		{V: 1, ID: "e8", Gateway: "gw-2", Source: LossSource, Type: EventsLost, Time: t1,
			Lost: &Lost{Count: 3, Reason: LostDropOldest, FirstSeq: 10, LastSeq: 14, First: &t0, Last: &t1}},
		{V: 1, ID: "e9", Gateway: "gw-2", Source: LossSource, Type: EventsLost,
			Time: time.Date(2026, 11, 27, 11, 0, 0, 0, time.FixedZone("", 2*3600)),
			Lost: &Lost{Count: 1, Reason: LostCrash, FirstSeq: 7, LastSeq: 7}},
	}
}

// samplePayloads are the published payloads of sampleEvents.
func samplePayloads(tb testing.TB) [][]byte {
	var out [][]byte
	for i, e := range sampleEvents() {
		spooled, err := EncodeEvent(e)
		if err != nil {
			tb.Fatalf("event %d: %v", i, err)
		}
		pub, err := WithSeq(nil, spooled, uint64(1000+i))
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, pub)
	}
	return out
}

// tagPayload is the typical UHF tag event of the benchmark, about 450 bytes.
const tagPayload = `{"seq":123456,"v":1,"id":"4f1c2a9e-7b3d-4c11-9a57-0d2b8e6f1a35","gateway":"warehouse-gw-01",` +
	`"source":"dock-door-3","type":"tag.arrived","time":"2026-11-27T10:00:01.123456789Z","tag":{"id":` +
	`"3074257BF7194E4000001A85","protocol":"magicrf","antenna":2,"rssi":-61,"epc":{"scheme":"sgtin-96",` +
	`"uri":"urn:epc:id:sgtin:0614141.812345.6789","gtin":"00614141123452"},"first_seen":` +
	`"2026-11-27T10:00:00.987654321Z","last_seen":"2026-11-27T10:00:01.123456789Z"}}`

// nastyPayloads are inputs where a hand-written decoder could part from
// encoding/json; every one is also a fuzz seed.
var nastyPayloads = []string{
	tagPayload,
	` ` + tagPayload + "\n\t\r ",
	tagPayload + `x`,
	tagPayload + `{}`,
	`null`,
	` null `,
	`[]`,
	`"x"`,
	`1`,
	``,
	`{`,
	`{}`,
	`{"seq":1}`,
	// Case-insensitive keys, and the last of a repeated key wins.
	`{"SEQ":5,"V":1,"Id":"a","GATEWAY":"g","Source":"s","TYPE":"beam.blocked","Time":"2026-11-27T10:00:00Z","BEAM":{}}`,
	`{"seq":5,"seq":6,"v":1,"id":"a","id":"b","gateway":"g","source":"s","type":"beam.held","time":"2026-11-27T10:00:00Z","beam":{"duration_s":1},"beam":{}}`,
	`{"seq":5,"v":1,"id":"a","id":null,"gateway":"g","source":"s","type":"tag.arrived","time":"2026-11-27T10:00:00Z","time":null,"tag":{"id":"T","protocol":"p","rssi":-3},"tag":{"rssi":null,"antenna":null}}`,
	`{"seq":5,"v":1,"id":"a","gateway":"g","source":"s","type":"tag.arrived","time":"2026-11-27T10:00:00Z","tag":{"id":"T","epc":{"scheme":"x"}},"tag":null,"tag":{"id":"U","epc":{"uri":"u"}}}`,
	`{"seq":5,"v":1,"id":"a","gateway":"g","source":"s","type":"tag.arrived","time":"2026-11-27T10:00:00Z","tag":{"id":"T","epc":{"scheme":"x"},"epc":{"gtin":"1"}}}`,
	`{"seq":5,"v":1,"id":"a","gateway":"g","source":"s","type":"beam.blocked","time":"2026-11-27T10:00:00Z","beam":{},"tag":{"id":"T"},"passage":null}`,
	// Nulls everywhere.
	`{"seq":null,"v":null,"id":null,"gateway":null,"source":null,"type":null,"time":null,"tag":null,"beam":null,"passage":null,"lost":null}`,
	`{"seq":9,"v":1,"id":"z","gateway":"g","source":"spool","type":"events.lost","time":"2026-11-27T10:05:00Z","lost":{"count":1,"reason":"crash","first_seq":8,"last_seq":8,"first":"2026-11-27T10:00:00Z","first":null,"last":"2026-11-27T10:00:00+02:00"}}`,
	// Escapes: fall back, or checked in a skipped member.
	`{"seq":5,"v":1,"id":"a\u0062\n\"\\\/","gateway":"g","source":"s","type":"beam.blocked","time":"2026-11-27T10:00:00Z","beam":{}}`,
	`{"seq":5,"v":1,"id":"\ud83d\ude00 \ud83d \udc00x \u00e9","gateway":"g","source":"s","type":"beam.blocked","time":"2026-11-27T10:00:00Z","beam":{}}`,
	`{"seq":5,"v":1,"id":"é日本","gateway":"g","source":"s","type":"beam.blocked","time":"2026-11-27T10:00:00Z","beam":{}}`,
	"{\"seq\":5,\"v\":1,\"id\":\"a\xff\xed\xa0\x80b\",\"gateway\":\"g\",\"source\":\"s\",\"type\":\"beam.blocked\",\"time\":\"2026-11-27T10:00:00Z\",\"beam\":{}}",
	`{"s\u0065q":5,"v":1,"id":"a","gateway":"g","source":"s","type":"beam.blocked","time":"2026-11-27T10:00:00Z","beam":{}}`,
	`{"ſeq":5,"v":1,"id":"a","gateway":"g","ſource":"s","type":"beam.blocked","time":"2026-11-27T10:00:00Z","beam":{}}`,
	`{"seq":5,"v":1,"id":"a","gateway":"g","source":"s","type":"beam.blocked","time":"2026-11-27T10:00:0\u0030Z","beam":{}}`,
	`{"seq":5,"v":1,"id":"a","gateway":"g","source":"s","type":"beam.blocked","time":"2026-11-27T10:00:00Z","beam":{},"x":"\q"}`,
	`{"seq":5,"v":1,"id":"a","gateway":"g","source":"s","type":"beam.blocked","time":"2026-11-27T10:00:00Z","beam":{},"x":"\u12"}`,
	"{\"seq\":5,\"v\":1,\"id\":\"a\tb\",\"gateway\":\"g\",\"source\":\"s\",\"type\":\"beam.blocked\",\"time\":\"2026-11-27T10:00:00Z\",\"beam\":{}}",
	// Numbers.
	`{"seq":18446744073709551615,"v":1,"id":"a","gateway":"g","source":"s","type":"beam.cleared","time":"2026-11-27T10:00:00Z","beam":{"duration_s":1e308}}`,
	`{"seq":18446744073709551616,"v":1,"id":"a","gateway":"g","source":"s","type":"beam.cleared","time":"2026-11-27T10:00:00Z","beam":{}}`,
	`{"seq":5,"v":1.0,"id":"a","gateway":"g","source":"s","type":"beam.cleared","time":"2026-11-27T10:00:00Z","beam":{}}`,
	`{"seq":5,"v":1e0,"id":"a","gateway":"g","source":"s","type":"beam.cleared","time":"2026-11-27T10:00:00Z","beam":{}}`,
	`{"seq":-0,"v":1,"id":"a","gateway":"g","source":"s","type":"beam.cleared","time":"2026-11-27T10:00:00Z","beam":{}}`,
	`{"seq":5,"v":-0,"id":"a","gateway":"g","source":"s","type":"beam.cleared","time":"2026-11-27T10:00:00Z","beam":{}}`,
	`{"seq":05,"v":1,"id":"a","gateway":"g","source":"s","type":"beam.cleared","time":"2026-11-27T10:00:00Z","beam":{}}`,
	`{"seq":5,"v":1,"id":"a","gateway":"g","source":"s","type":"beam.cleared","time":"2026-11-27T10:00:00Z","beam":{"duration_s":1e400}}`,
	`{"seq":5,"v":1,"id":"a","gateway":"g","source":"s","type":"beam.cleared","time":"2026-11-27T10:00:00Z","beam":{"duration_s":-1.5E-3}}`,
	`{"seq":5,"v":1,"id":"a","gateway":"g","source":"s","type":"tag.arrived","time":"2026-11-27T10:00:00Z","tag":{"id":"T","rssi":-9223372036854775808,"antenna":9223372036854775807}}`,
	`{"seq":5,"v":1,"id":"a","gateway":"g","source":"s","type":"tag.arrived","time":"2026-11-27T10:00:00Z","tag":{"id":"T","rssi":-9223372036854775809}}`,
	`{"seq":5,"v":1,"id":"a","gateway":"g","source":"s","type":"tag.arrived","time":"2026-11-27T10:00:00Z","tag":{"id":"T","rssi":"-9"}}`,
	`{"seq":5,"v":1,"id":"a","gateway":"g","source":"s","type":"tag.arrived","time":"2026-11-27T10:00:00Z","tag":{"id":"T","reads":-1}}`,
	`{"seq":5,"v":1,"id":"a","gateway":"g","source":"s","type":"passage","time":"2026-11-27T10:00:00Z","passage":{"direction":"out","duration_s":0,"in":1.5}}`,
	`{"seq":5,"v":1,"id":"a","gateway":"g","source":"s","type":"passage","time":"2026-11-27T10:00:00Z","passage":{"direction":"out","duration_s":-}}`,
	`{"seq":5,"v":1,"id":"a","gateway":"g","source":"s","type":"passage","time":"2026-11-27T10:00:00Z","passage":{"direction":"out","duration_s":1.}}`,
	// Wrong types.
	`{"seq":"5","v":1,"id":"a","gateway":"g","source":"s","type":"beam.blocked","time":"2026-11-27T10:00:00Z","beam":{}}`,
	`{"seq":5,"v":1,"id":5,"gateway":"g","source":"s","type":"beam.blocked","time":"2026-11-27T10:00:00Z","beam":{}}`,
	`{"seq":5,"v":1,"id":"a","gateway":"g","source":"s","type":"beam.blocked","time":1,"beam":{}}`,
	`{"seq":5,"v":1,"id":"a","gateway":"g","source":"s","type":"beam.blocked","time":{"a":1},"beam":{}}`,
	`{"seq":5,"v":1,"id":"a","gateway":"g","source":"s","type":"beam.blocked","time":"2026-11-27T10:00:00Z","beam":[]}`,
	`{"seq":5,"v":1,"id":"a","gateway":"g","source":"s","type":"beam.blocked","time":"2026-11-27T10:00:00Z","beam":true}`,
	`{"seq":5,"v":true,"id":"a","gateway":"g","source":"s","type":"beam.blocked","time":"2026-11-27T10:00:00Z","beam":{}}`,
	`{"seq":5,"v":1,"id":"a","gateway":"g","source":"s","type":"beam.blocked","time":"2026-11-27T10:00:00z","beam":{}}`,
	`{"seq":5,"v":1,"id":"a","gateway":"g","source":"s","type":"beam.blocked","time":"2026-11-27 10:00:00Z","beam":{}}`,
	`{"seq":5,"v":1,"id":"a","gateway":"g","source":"s","type":"beam.blocked","time":"2026-11-27T10:00:00+25:00","beam":{}}`,
	// Unknown members of every kind, nested, and white space everywhere.
	` { "seq" : 5 , "v" : 1 , "x" : { "y" : [ 1 , -2.5e+3 , true , false , null , "z\u00e9" , { } , [ ] ] } , "id" : "a" ,` +
		` "gateway" : "g" , "source" : "s" , "type" : "beam.blocked" , "time" : "2026-11-27T10:00:00Z" , "beam" : { "q" : [ ] } } `,
	`{"seq":5,"v":1,"x":[1,],"id":"a","gateway":"g","source":"s","type":"beam.blocked","time":"2026-11-27T10:00:00Z","beam":{}}`,
	`{"seq":5,"v":1,"x":{"a":1,},"id":"a","gateway":"g","source":"s","type":"beam.blocked","time":"2026-11-27T10:00:00Z","beam":{}}`,
	`{"seq":5,"v":1,"x":tru,"id":"a","gateway":"g","source":"s","type":"beam.blocked","time":"2026-11-27T10:00:00Z","beam":{}}`,
	`{"seq":5,"v":1,"id":"a","gateway":"g","source":"s","type":"beam.blocked","time":"2026-11-27T10:00:00Z","beam":{},}`,
	`{"seq":5 "v":1}`,
	`{"seq":5,"v":1,"first_seen_but_longer_than_sixteen":1,"id":"a","gateway":"g","source":"s","type":"beam.blocked","time":"2026-11-27T10:00:00Z","beam":{}}`,
	`{"seq":5,"v":1,"id":"a","gateway":"g","source":"s","type":"beam.blocked","time":"2026-11-27T10:00:00Z","beam":{}}` + "\x00",
	`{"seq":5,"v":1,"x":` + strings.Repeat("[", 1200) + strings.Repeat("]", 1200) + `,"id":"a","gateway":"g","source":"s","type":"beam.blocked","time":"2026-11-27T10:00:00Z","beam":{}}`,
	`{"x":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`,
	"{\"seq\":5,\"v\":1,\"first\x7f\":1,\"id\":\"a\",\"gateway\":\"g\",\"source\":\"s\",\"type\":\"beam.blocked\",\"time\":\"2026-11-27T10:00:00Z\",\"beam\":{}}",
	"{\"seq\":5,\"v\":1,\"first\x7fseen\":1,\"id\":\"a\",\"gateway\":\"g\",\"source\":\"s\",\"type\":\"beam.blocked\",\"time\":\"2026-11-27T10:00:00Z\",\"beam\":{}}",
}

// nasty returns the one nasty payload holding part.
func nasty(t *testing.T, part string) string {
	t.Helper()
	found := ""
	for _, p := range nastyPayloads {
		if strings.Contains(p, part) {
			if found != "" {
				t.Fatalf("two nasty payloads hold %q", part)
			}
			found = p
		}
	}
	if found == "" {
		t.Fatalf("no nasty payload holds %q", part)
	}
	return found
}

// checkSameAsReflect fails unless DecodeEvent and the encoding/json path
// agree on b: both refuse it, with an error of the same kind (payload, or
// the same Validate error), or both return deeply equal events.
func checkSameAsReflect(t *testing.T, b []byte) {
	t.Helper()
	want, wantErr := decodeEventReflect(b)
	got, err := DecodeEvent(b)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("%q:\nDecodeEvent: %+v, %v\nencoding/json: %+v, %v", b, got, err, want, wantErr)
	}
	if err != nil {
		const payloadErr = "telemetry: event payload:"
		if strings.HasPrefix(wantErr.Error(), payloadErr) {
			if !strings.HasPrefix(err.Error(), payloadErr) {
				t.Fatalf("%q: error %q, want a payload error like %q", b, err, wantErr)
			}
		} else if err.Error() != wantErr.Error() {
			t.Fatalf("%q: error %q, want %q", b, err, wantErr)
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\nDecodeEvent:   %s\nencoding/json: %s", b, dumpEvent(got), dumpEvent(want))
	}
}

// dumpEvent shows an event with its pointed-to parts.
func dumpEvent(e *Event) string {
	s := fmt.Sprintf("event=%+v", *e)
	if e.Tag != nil {
		s += fmt.Sprintf(" tag=%+v", *e.Tag)
		if e.Tag.RSSI != nil {
			s += fmt.Sprintf(" rssi=%d", *e.Tag.RSSI)
		}
		if e.Tag.EPC != nil {
			s += fmt.Sprintf(" epc=%+v", *e.Tag.EPC)
		}
	}
	if e.Beam != nil {
		s += fmt.Sprintf(" beam=%+v", *e.Beam)
	}
	if e.PassageInfo != nil {
		s += fmt.Sprintf(" passage=%+v", *e.PassageInfo)
	}
	if e.Lost != nil {
		s += fmt.Sprintf(" lost=%+v", *e.Lost)
	}
	return s
}

func TestDecodeEventSameAsEncodingJSON(t *testing.T) {
	for _, p := range samplePayloads(t) {
		checkSameAsReflect(t, p)
	}
	for _, p := range nastyPayloads {
		checkSameAsReflect(t, []byte(p))
	}
	for _, tc := range payloads {
		checkSameAsReflect(t, []byte(tc.raw))
	}
}

// TestDecodeEventFastPath: the payloads gateways send never take the
// fallback, and the tricky rules give the values encoding/json gives.
func TestDecodeEventFastPath(t *testing.T) {
	for i, p := range append(samplePayloads(t), []byte(tagPayload)) {
		if _, err := decodeEventFast(p); err != nil {
			t.Errorf("payload %d: fast path: %v", i, err)
		}
	}
	cases := []struct {
		name, raw string
		check     func(e *Event) bool
	}{
		{"case-insensitive keys", nasty(t, `"SEQ":5`), func(e *Event) bool { return e.Seq == 5 && e.ID == "a" && e.Beam != nil }},
		{"last duplicate wins", nasty(t, `"seq":6`), func(e *Event) bool { return e.Seq == 6 && e.ID == "b" && e.Beam.DurationS == 1 }},
		{"null leaves values, clears pointers", nasty(t, `"rssi":null`), func(e *Event) bool {
			return e.ID == "a" && !e.Time.IsZero() && e.Tag.ID == "T" && e.Tag.RSSI == nil
		}},
		{"null then object starts afresh", nasty(t, `"tag":null,"tag"`), func(e *Event) bool {
			return e.Tag.ID == "U" && e.Tag.EPC.Scheme == "" && e.Tag.EPC.URI == "u"
		}},
		{"repeated object merges", nasty(t, `"epc":{"gtin":"1"}`), func(e *Event) bool {
			return e.Tag.EPC.Scheme == "x" && e.Tag.EPC.GTIN == "1"
		}},
		{"valid UTF-8 kept", nasty(t, "é日本"), func(e *Event) bool { return e.ID == "é日本" }},
	}
	for _, tc := range cases {
		e, err := decodeEventFast([]byte(tc.raw))
		if err != nil || !tc.check(e) {
			t.Errorf("%s: %v", tc.name, err)
			if e != nil {
				t.Logf("%s", dumpEvent(e))
			}
		}
	}
	for _, raw := range []string{nasty(t, `"a\u0062`), nasty(t, `\ud83d\ude00`), nasty(t, "a\xff"), nasty(t, `"s\u0065q"`), nasty(t, `"ſeq"`)} {
		if _, err := decodeEventFast([]byte(raw)); err != errFallback {
			t.Errorf("%q: fast path gave %v, want the fallback", raw, err)
		}
	}
}

// TestDecodeEventAllocs: a tag event costs two allocations (the event
// block and its strings).
func TestDecodeEventAllocs(t *testing.T) {
	b := []byte(tagPayload)
	n := testing.AllocsPerRun(100, func() {
		if _, err := DecodeEvent(b); err != nil {
			t.Fatal(err)
		}
	})
	if n > 2 {
		t.Fatalf("DecodeEvent of a tag event: %v allocations, want at most 2", n)
	}
}

// BenchmarkDecodeEvent: a typical UHF tag event, by encoding/json and
// Validate (the former path) and by the scanner.
func BenchmarkDecodeEvent(b *testing.B) {
	payload := []byte(tagPayload)
	for _, bc := range []struct {
		name   string
		decode func([]byte) (*Event, error)
	}{{"encoding-json", decodeEventReflect}, {"scanner", DecodeEvent}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			for b.Loop() {
				if _, err := bc.decode(payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestLookupField: every field name matches in any case, and names that
// differ from every field by one byte match nothing.
func TestLookupField(t *testing.T) {
	for f, name := range fieldNames {
		if f == int(kUnknown) {
			continue
		}
		for _, v := range []string{name, strings.ToUpper(name), strings.ToUpper(name[:1]) + name[1:]} {
			if got := lookupField([]byte(v)); got != field(f) {
				t.Errorf("lookupField(%q) = %d, want %d", v, got, f)
			}
		}
		for i := range len(name) {
			for c := 0; c < 128; c++ {
				v := []byte(name)
				v[i] = byte(c)
				want := kUnknown
				for g, other := range fieldNames {
					if g != int(kUnknown) && strings.EqualFold(string(v), other) {
						want = field(g)
					}
				}
				if got := lookupField(v); got != want {
					t.Fatalf("lookupField(%q) = %d, want %d", v, got, want)
				}
			}
		}
		if got := lookupField([]byte(name + "s")); got != kUnknown && fieldNames[got] != name+"s" {
			t.Errorf("lookupField(%q) = %d", name+"s", got)
		}
	}
	if got := lookupField(nil); got != kUnknown {
		t.Errorf("lookupField(\"\") = %d", got)
	}
}

// TestPayloadVariants: the fuzz seeds built from real payloads are what
// they claim, and most still decode.
func TestPayloadVariants(t *testing.T) {
	ok := 0
	for _, p := range samplePayloads(t) {
		vs := payloadVariants(p)
		if !bytes.Contains(vs[0], []byte(`"SEQ":`)) || !bytes.Contains(vs[1], []byte(`"Seq":`)) {
			t.Fatalf("key case variants: %s, %s", vs[0], vs[1])
		}
		for _, v := range vs {
			checkSameAsReflect(t, v)
			if _, err := DecodeEvent(v); err == nil {
				ok++
			}
		}
	}
	if ok < 50 {
		t.Fatalf("only %d variants decode", ok)
	}
}

// TestDecodeEventMalformed: shape errors wrap ErrMalformed, on the fast
// path and the fallback alike; an event whose fields are wrong does not.
func TestDecodeEventMalformed(t *testing.T) {
	for _, b := range []string{`{"v":1,"seq":"x"}`, `{"v":1,`, `[1]`, `{"v":1,"seq":1e400}`,
		`{"v":1,"time":"yesterday"}`, `{"v":1,"id":"\u00e9","seq":"x"}`} {
		if _, err := DecodeEvent([]byte(b)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", b, err)
		}
	}
	if _, err := DecodeEvent([]byte(`{"v":1,"seq":1,"id":""}`)); err == nil || errors.Is(err, ErrMalformed) {
		t.Errorf("an event without id: %v, want a Validate error", err)
	}
}

// TestPlainWord: eight bytes are plain at once exactly when each is, for
// every byte value in every position and for random words.
func TestPlainWord(t *testing.T) {
	check := func(b []byte) {
		w := binary.LittleEndian.Uint64(b)
		want := true
		for _, c := range b {
			want = want && plain[c]
		}
		if plainWord(w) != want {
			t.Fatalf("plainWord(% x) = %v, want %v", b, !want, want)
		}
	}
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			b := []byte("abcdefgh")
			b[pos] = byte(c)
			check(b)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, 8)
	for range 100000 {
		for i := range b {
			b[i] = byte(r.IntN(256))
			if r.IntN(4) > 0 {
				b[i] = byte(0x20 + r.IntN(0x60))
			}
		}
		check(b)
	}
	if plainEnd([]byte(`0123456789abcdef0123"x`), 0) != 20 || plainEnd([]byte("0123456789\x7f\xc3\xa9"), 1) != 11 {
		t.Fatal("plainEnd stops at the wrong byte")
	}
}

// TestDaysSinceEpoch: every day of years 0 to 9999 is time.Date's.
func TestDaysSinceEpoch(t *testing.T) {
	for year := 0; year <= 9999; year++ {
		for month := 1; month <= 12; month++ {
			for day := 1; day <= daysIn(month, year); day++ {
				want := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC).Unix() / 86400 // midnight: exact
				if got := daysSinceEpoch(year, month, day); got != want {
					t.Fatalf("%04d-%02d-%02d: %d days, want %d", year, month, day, got, want)
				}
			}
		}
	}
}
