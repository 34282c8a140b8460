package telemetry

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"
)

var appendTime = time.Date(2026, 11, 27, 10, 0, 0, 123456789, time.UTC)

// appendCases are events and the JSON AppendEvent must give for them,
// written out by hand; each is also checked against EncodeEvent.
var appendCases = []struct {
	name string
	e    Event
	want string
}{
	{"tag arrival, every tag field", Event{V: 1, Seq: 99, ID: "id-1", Gateway: "gw-1", Source: "dock", Type: TagArrived,
		Time: appendTime, Tag: &Tag{ID: "3074257BF7194E4000001A85", Protocol: "magicrf", Antenna: 2, RSSI: ptrOf(-61),
			EPC:   &EPC{Scheme: "sgtin-96", URI: "urn:epc:id:sgtin:0614141.812345.6789", GTIN: "00614141123452", SSCC: "x"},
			Reads: 7, FirstSeen: appendTime.Add(-time.Second), LastSeen: appendTime}},
		`{"v":1,"id":"id-1","gateway":"gw-1","source":"dock","type":"tag.arrived","time":"2026-11-27T10:00:00.123456789Z",` +
			`"tag":{"id":"3074257BF7194E4000001A85","protocol":"magicrf","antenna":2,"rssi":-61,"epc":{"scheme":"sgtin-96",` +
			`"uri":"urn:epc:id:sgtin:0614141.812345.6789","gtin":"00614141123452","sscc":"x"},"reads":7,` +
			`"first_seen":"2026-11-27T09:59:59.123456789Z","last_seen":"2026-11-27T10:00:00.123456789Z"}}`},
	{"tag departure, empty fields omitted, zero rssi kept", Event{V: 1, ID: "i", Gateway: "g", Source: "s", Type: TagDeparted,
		Time: time.Date(2026, 1, 2, 3, 4, 5, 500000000, time.FixedZone("", 5*3600+30*60)),
		Tag:  &Tag{ID: "T", RSSI: ptrOf(0), EPC: &EPC{}, FirstSeen: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)}},
		`{"v":1,"id":"i","gateway":"g","source":"s","type":"tag.departed","time":"2026-01-02T03:04:05.5+05:30",` +
			`"tag":{"id":"T","protocol":"","rssi":0,"epc":{"scheme":"","uri":""},` +
			`"first_seen":"0001-01-01T00:00:00Z","last_seen":"0001-01-01T00:00:00Z"}}`},
	{"escaping as encoding/json", Event{V: 1, ID: "<a&b>\"\\/\b\f\n\r\t\x00\x1f\x7f é\u2028\u2029\xff\xc3(€", Gateway: "g",
		Source: "s", Type: TagArrived, Time: appendTime, Tag: &Tag{ID: "\U0001F600", Protocol: "\xed\xa0\x80"}},
		`{"v":1,"id":"\u003ca\u0026b\u003e\"\\/\b\f\n\r\t\u0000\u001f` + "\x7f é" + `\u2028\u2029\ufffd\ufffd(` + "€" + `",` +
			`"gateway":"g","source":"s","type":"tag.arrived","time":"2026-11-27T10:00:00.123456789Z",` +
			`"tag":{"id":"` + "\U0001F600" + `","protocol":"\ufffd\ufffd\ufffd",` +
			`"first_seen":"0001-01-01T00:00:00Z","last_seen":"0001-01-01T00:00:00Z"}}`},
	{"beam without duration", Event{V: 1, ID: "i", Gateway: "g", Source: "s", Type: BeamBlocked, Time: appendTime, Beam: &Beam{}},
		`{"v":1,"id":"i","gateway":"g","source":"s","type":"beam.blocked","time":"2026-11-27T10:00:00.123456789Z","beam":{}}`},
	{"beam, negative zero omitted", Event{V: 1, ID: "i", Gateway: "g", Source: "s", Type: BeamHeld, Time: appendTime,
		Beam: &Beam{DurationS: math.Copysign(0, -1)}},
		`{"v":1,"id":"i","gateway":"g","source":"s","type":"beam.held","time":"2026-11-27T10:00:00.123456789Z","beam":{}}`},
	{"beam, small duration in e form", Event{V: 1, ID: "i", Gateway: "g", Source: "s", Type: BeamCleared, Time: appendTime,
		Beam: &Beam{DurationS: 1.5e-7}},
		`{"v":1,"id":"i","gateway":"g","source":"s","type":"beam.cleared","time":"2026-11-27T10:00:00.123456789Z","beam":{"duration_s":1.5e-7}}`},
	{"passage, large and negative zero durations", Event{V: 1, ID: "i", Gateway: "g", Source: "s", Type: Passage, Time: appendTime,
		PassageInfo: &PassageInfo{Direction: "in", DurationS: 1e21, In: math.MaxUint64, Out: 0}},
		`{"v":1,"id":"i","gateway":"g","source":"s","type":"passage","time":"2026-11-27T10:00:00.123456789Z",` +
			`"passage":{"direction":"in","duration_s":1e+21,"in":18446744073709551615,"out":0}}`},
	{"passage, durations as f", Event{V: 1, ID: "i", Gateway: "g", Source: "s", Type: Passage, Time: appendTime,
		PassageInfo: &PassageInfo{Direction: "out", DurationS: 123456789012345678901.0 / 1000, In: 3, Out: 4}},
		`{"v":1,"id":"i","gateway":"g","source":"s","type":"passage","time":"2026-11-27T10:00:00.123456789Z",` +
			`"passage":{"direction":"out","duration_s":123456789012345680,"in":3,"out":4}}`},
	{"events lost with times", Event{V: 1, ID: "i", Gateway: "g", Source: LossSource, Type: EventsLost, Time: appendTime,
		Lost: &Lost{Count: 2, Reason: LostDiskFull, FirstSeq: 5, LastSeq: 9, First: ptrOf(appendTime.Add(-time.Hour)),
			Last: ptrOf(appendTime.In(time.FixedZone("", -(23*3600 + 59*60))))}},
		`{"v":1,"id":"i","gateway":"g","source":"spool","type":"events.lost","time":"2026-11-27T10:00:00.123456789Z",` +
			`"lost":{"count":2,"reason":"disk-full","first_seq":5,"last_seq":9,"first":"2026-11-27T09:00:00.123456789Z",` +
			`"last":"2026-11-26T10:01:00.123456789-23:59"}}`},
	{"events lost without times", Event{V: 1, ID: "i", Gateway: "g", Source: LossSource, Type: EventsLost, Time: appendTime,
		Lost: &Lost{Count: 1, Reason: LostCrash, FirstSeq: 1, LastSeq: 1}},
		`{"v":1,"id":"i","gateway":"g","source":"spool","type":"events.lost","time":"2026-11-27T10:00:00.123456789Z",` +
			`"lost":{"count":1,"reason":"crash","first_seq":1,"last_seq":1}}`},
}

func TestAppendEvent(t *testing.T) {
	for _, tc := range appendCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AppendEvent([]byte("prefix"), &tc.e)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "prefix"+tc.want {
				t.Errorf("AppendEvent:\n got %s\nwant prefix%s", got, tc.want)
			}
			ref, err := EncodeEvent(&tc.e)
			if err != nil {
				t.Fatal(err)
			}
			if string(ref) != tc.want {
				t.Errorf("EncodeEvent (the reference) differs from the table:\n got %s\nwant %s", ref, tc.want)
			}
		})
	}
}

// TestAppendEventErrors: what EncodeEvent refuses, AppendEvent refuses,
// leaving dst as it was.
func TestAppendEventErrors(t *testing.T) {
	ok := func() Event {
		return Event{V: 1, ID: "i", Gateway: "g", Source: "s", Type: Passage, Time: appendTime,
			PassageInfo: &PassageInfo{Direction: "in", DurationS: 1}}
	}
	cases := map[string]func(e *Event){
		"invalid event":      func(e *Event) { e.Type = "nope" },
		"NaN duration":       func(e *Event) { e.PassageInfo.DurationS = math.NaN() },
		"infinite duration":  func(e *Event) { e.Type, e.PassageInfo, e.Beam = BeamCleared, nil, &Beam{DurationS: math.Inf(-1)} },
		"year 10000":         func(e *Event) { e.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"year -1":            func(e *Event) { e.Time = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC) },
		"offset of 24 hours": func(e *Event) { e.Time = appendTime.In(time.FixedZone("", 24*3600)) },
		"tag first_seen year": func(e *Event) {
			e.Type, e.Tag = TagArrived, &Tag{ID: "T", FirstSeen: time.Date(12345, 1, 1, 0, 0, 0, 0, time.UTC)}
		},
		"lost.last offset": func(e *Event) {
			e.Type, e.PassageInfo = EventsLost, nil
			e.Lost = &Lost{Count: 1, Reason: LostCrash, FirstSeq: 1, LastSeq: 1, First: ptrOf(appendTime),
				Last: ptrOf(appendTime.Add(time.Hour).In(time.FixedZone("", -25*3600)))}
		},
	}
	for name, spoil := range cases {
		t.Run(name, func(t *testing.T) {
			e := ok()
			spoil(&e)
			if _, err := EncodeEvent(&e); err == nil {
				t.Fatal("EncodeEvent accepted the event: the case tests nothing")
			}
			got, err := AppendEvent([]byte("prefix"), &e)
			if err == nil {
				t.Fatalf("AppendEvent accepted the event: %s", got)
			}
			if string(got) != "prefix" || !strings.HasPrefix(err.Error(), "telemetry: ") {
				t.Errorf("AppendEvent = %q, %v; want the prefix alone and a telemetry error", got, err)
			}
		})
	}
}

// TestAppendEventAllocs: nothing is allocated when dst has room.
func TestAppendEventAllocs(t *testing.T) {
	buf := make([]byte, 0, 4096)
	for _, tc := range appendCases {
		allocs := testing.AllocsPerRun(100, func() {
			var err error
			if buf, err = AppendEvent(buf[:0], &tc.e); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %.1f allocations per event, want 0", tc.name, allocs)
		}
	}
}

// FuzzAppendEvent: AppendEvent and EncodeEvent agree on events built from
// fuzzed fields: both refuse it, or AppendEvent appends exactly the bytes
// EncodeEvent returns.
func FuzzAppendEvent(f *testing.F) {
	for _, tc := range appendCases {
		e := tc.e
		f.Add(kindOf(e.Type), e.ID, e.Gateway, e.Source, "3074257BF7194E4000001A85", "magicrf",
			"urn:epc:id:sgtin:0614141.812345.6789", e.Time.Unix(), int64(e.Time.Nanosecond()), int32(0), int32(3600),
			1.5, uint64(3), uint64(7), -61, uint8(0xff))
	}
	f.Add(uint8(2), "<\u2028>", "g", "s", "\xff\x00", "&", "", int64(253402300800), int64(0), int32(86400), int32(-86400),
		math.Inf(1), uint64(0), uint64(0), 0, uint8(0))
	f.Add(uint8(4), "i", "g", "s", "", "", "", int64(-62135596801), int64(999999999), int32(-1), int32(59),
		1e-7, uint64(1), uint64(2), 1, uint8(0x55))
	f.Fuzz(func(t *testing.T, kind uint8, id, gateway, source, s1, s2, s3 string, sec, nsec int64, off1, off2 int32,
		dur float64, u1, u2 uint64, n int, flags uint8) {
		t1 := time.Unix(sec, nsec).In(time.FixedZone("", int(off1)))
		t2 := t1.Add(time.Duration(n) * time.Millisecond).In(time.FixedZone("", int(off2)))
		e := &Event{V: 1, Seq: u1, ID: id, Gateway: gateway, Source: source, Time: t1}
		if flags&0x80 != 0 {
			e.V = n
		}
		switch kind % 8 {
		case 0, 1:
			e.Type = [2]string{TagArrived, TagDeparted}[kind%2]
			e.Tag = &Tag{ID: s1, Protocol: s2, Antenna: n, Reads: u2, FirstSeen: t1, LastSeen: t2}
			if flags&1 != 0 {
				e.Tag.RSSI = &n
			}
			if flags&2 != 0 {
				e.Tag.EPC = &EPC{Scheme: s2, URI: s3, GTIN: s1}
				if flags&4 != 0 {
					e.Tag.EPC.SSCC, e.Tag.EPC.GTIN = s3, ""
				}
			}
		case 2, 3, 4:
			e.Type = [3]string{BeamBlocked, BeamCleared, BeamHeld}[kind%8-2]
			e.Beam = &Beam{DurationS: dur}
		case 5:
			e.Type = Passage
			e.PassageInfo = &PassageInfo{Direction: [2]string{"in", "out"}[flags&1], DurationS: dur, In: u1, Out: u2}
		case 6:
			e.Type, e.Source = EventsLost, LossSource
			e.Lost = &Lost{Count: 1 + u2%8, Reason: LostTooLarge, FirstSeq: 1 + u1%1000}
			e.Lost.LastSeq = e.Lost.FirstSeq + u2%8
			if flags&1 != 0 {
				e.Lost.First = &t1
			}
			if flags&2 != 0 {
				e.Lost.Last = &t2
			}
		case 7:
			e.Type = s3
		}
		want, wantErr := EncodeEvent(e)
		got, gotErr := AppendEvent([]byte("prefix"), e)
		switch {
		case (wantErr == nil) != (gotErr == nil):
			t.Fatalf("EncodeEvent error %v, AppendEvent error %v", wantErr, gotErr)
		case gotErr != nil && string(got) != "prefix":
			t.Fatalf("AppendEvent changed dst on error: %q", got)
		case gotErr == nil && !bytes.Equal(got, append([]byte("prefix"), want...)):
			t.Fatalf("AppendEvent:\n got %q\nwant prefix%q", got, want)
		}
	})
}

func kindOf(typ string) uint8 {
	for i, t := range []string{TagArrived, TagDeparted, BeamBlocked, BeamCleared, BeamHeld, Passage, EventsLost} {
		if t == typ {
			return uint8(i)
		}
	}
	return 7
}

// benchEvent is a tag arrival with its GS1 identity, the commonest event.
var benchEvent = Event{V: 1, ID: "4f1c2a9e-0000-4000-8000-000000000001", Gateway: "gw-1", Source: "dock",
	Type: TagArrived, Time: appendTime, Tag: &Tag{ID: "3074257BF7194E4000001A85", Protocol: "magicrf", Antenna: 1,
		RSSI: ptrOf(-61), EPC: &EPC{Scheme: "sgtin-96", URI: "urn:epc:id:sgtin:0614141.812345.6789", GTIN: "00614141123452"},
		FirstSeen: appendTime, LastSeen: appendTime}}

// BenchmarkAppendEvent: benchEvent appended to a reused buffer
// (cpu-ns/point is per event).
func BenchmarkAppendEvent(b *testing.B) {
	benchPoints(b, func(dst []byte) ([]byte, error) { return AppendEvent(dst, &benchEvent) })
}

// BenchmarkEncodeEvent: benchEvent by encoding/json, the reference.
func BenchmarkEncodeEvent(b *testing.B) {
	benchPoints(b, func(dst []byte) ([]byte, error) {
		p, err := EncodeEvent(&benchEvent)
		return append(dst, p...), err
	})
}
