package telemetry

import (
	"bytes"
	"math"
	"testing"
	"time"
)

// eventLineSeeds are events of every type, some with values the direct
// writer leaves to the encoder.
func eventLineSeeds() []*Event {
	at := time.Date(2026, 11, 29, 10, 0, 0, 123456789, time.UTC)
	rssi := -61
	return []*Event{
		{Seq: 7, ID: "id-1", Gateway: "gw-1", Source: "r1", Type: TagArrived, Time: at,
			Tag: &Tag{ID: "E200", Protocol: "uhf", Antenna: 2, RSSI: &rssi, Reads: 3, FirstSeen: at, LastSeen: at.Add(1500 * time.Millisecond),
				EPC: &EPC{Scheme: "sgtin-96", URI: "urn:epc:id:sgtin:0614141.812345.6789", GTIN: "00614141123452"}}},
		{Seq: 8, ID: `a "quoted" \\ id`, Gateway: "gw 1,x=y", Source: "door", Type: BeamHeld, Time: at, Beam: &Beam{DurationS: 31.5}},
		{Seq: 9, ID: "p", Gateway: "gw-1", Source: "pair", Type: Passage, Time: at,
			PassageInfo: &PassageInfo{Direction: "in", DurationS: 0.4, In: 12, Out: 3}},
		{Seq: 10, ID: "l", Gateway: "gw-1", Source: LossSource, Type: EventsLost, Time: at,
			Lost: &Lost{Count: 3, Reason: LostDropOldest, FirstSeq: 2, LastSeq: 6}},
		{Seq: 0, ID: "no-seq", Gateway: "gw-1", Source: "s", Type: BeamBlocked, Time: at, Beam: &Beam{}},
		{Seq: math.MaxInt64 + 1, ID: "big", Gateway: "gw-1", Source: "s", Type: BeamBlocked, Time: at, Beam: &Beam{}},
		{Seq: 11, ID: "nan", Gateway: "gw-1", Source: "s", Type: BeamCleared, Time: at, Beam: &Beam{DurationS: math.NaN()}},
		{Seq: 12, ID: "\xff", Gateway: "gw-1", Source: "s", Type: BeamCleared, Time: at, Beam: &Beam{}},
		{Seq: 13, ID: "ctl", Gateway: "gw\x01", Source: "s", Type: BeamCleared, Time: at, Beam: &Beam{}},
		{Seq: 14, ID: "bs", Gateway: "gw\\", Source: "", Type: BeamCleared, Time: at, Beam: &Beam{}},
		{Seq: 15, ID: "old", Gateway: "gw-1", Source: "s", Type: BeamCleared, Time: time.Date(1200, 1, 1, 0, 0, 0, 0, time.UTC), Beam: &Beam{}},
		{Seq: 1000, ID: "zero", Gateway: "gw-1", Source: "s", Type: BeamCleared, Beam: &Beam{}},
	}
}

// checkEventLine: the direct writer, when it writes a line, writes the
// encoder's line, and AppendEventLine gives what the encoder gives.
func checkEventLine(t *testing.T, site string, ev *Event) {
	t.Helper()
	prefix := []byte("before\n")
	want, wantErr := appendEventLineEncoder(bytes.Clone(prefix), site, ev)
	if got, ok := appendEventLineDirect(bytes.Clone(prefix), site, ev); ok && (wantErr != nil || !bytes.Equal(got, want)) {
		t.Fatalf("direct line\n%q\nencoder line\n%q (%v)", got, want, wantErr)
	}
	got, err := AppendEventLine(bytes.Clone(prefix), site, ev)
	if !bytes.Equal(got, want) || (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
		t.Fatalf("AppendEventLine\n%q (%v)\nencoder\n%q (%v)", got, err, want, wantErr)
	}
}

// TestEventLineDirect: the lines of events of every type, with every tag
// and field (so every key, which the direct writer does not escape), are
// the encoder's.
func TestEventLineDirect(t *testing.T) {
	direct := 0
	for _, ev := range eventLineSeeds() {
		for _, site := range []string{"cab-1", "", "a site,=x"} {
			checkEventLine(t, site, ev)
			if _, ok := appendEventLineDirect(nil, site, ev); ok {
				direct++
			}
		}
	}
	if direct < 12 {
		t.Fatalf("only %d of the lines written directly", direct)
	}
}

// TestEventLineAllocs: a line appended to a buffer with room allocates
// nothing.
func TestEventLineAllocs(t *testing.T) {
	ev := eventLineSeeds()[0]
	buf := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() { _, _ = AppendEventLine(buf, "cab-1", ev) }); n != 0 {
		t.Fatalf("%v allocations per line", n)
	}
}

// FuzzEventLine: on any event, AppendEventLine gives what the LineEncoder
// gives, and a line written directly is the encoder's.
func FuzzEventLine(f *testing.F) {
	f.Add("gw-1", "cab-1", "r1", TagArrived, "id", "E200", "uhf", "sgtin-96", "urn:x", "0061", "", uint64(7), int64(1764410400123456789), 2, -61, 1.5, uint8(0xff))
	f.Add("gw 1", "", "pair", Passage, `"`, "", "", "", "", "", "", uint64(1<<63), int64(0), 0, 0, math.Inf(1), uint8(0x10))
	f.Fuzz(func(t *testing.T, gw, site, src, typ, id, tagID, proto, scheme, uri, gtin, sscc string,
		seq uint64, at int64, antenna, rssi int, dur float64, parts uint8) {
		tm := time.Unix(0, at).UTC()
		ev := &Event{Seq: seq, ID: id, Gateway: gw, Source: src, Type: typ, Time: tm}
		if parts&1 != 0 {
			ev.Tag = &Tag{ID: tagID, Protocol: proto, Antenna: antenna, Reads: seq / 3, FirstSeen: tm, LastSeen: tm.Add(time.Duration(rssi))}
			if parts&2 != 0 {
				ev.Tag.RSSI = &rssi
			}
			if parts&4 != 0 {
				ev.Tag.EPC = &EPC{Scheme: scheme, URI: uri, GTIN: gtin, SSCC: sscc}
			}
		}
		if parts&8 != 0 {
			ev.Beam = &Beam{DurationS: dur}
		}
		if parts&16 != 0 {
			ev.PassageInfo = &PassageInfo{Direction: proto, DurationS: dur, In: seq, Out: uint64(antenna)}
		}
		if parts&32 != 0 {
			ev.Lost = &Lost{Count: seq, Reason: scheme, FirstSeq: uint64(rssi), LastSeq: seq + 1}
		}
		checkEventLine(t, site, ev)
	})
}

// TestPlainName: plainName, eight bytes at a time, is the byte table for
// every byte value in every position of a word and of the tail, and a
// plain name is what appendName writes unchanged.
func TestPlainName(t *testing.T) {
	for _, base := range []string{"abcdefgh", "abcdefghijk", "abc"} {
		for pos := 0; pos < len(base); pos++ {
			for c := 0; c < 256; c++ {
				s := []byte(base)
				s[pos] = byte(c)
				want := true
				for _, b := range s {
					want = want && plainNameByte[b]
				}
				if got := plainName(string(s)); got != want {
					t.Fatalf("plainName(%q) = %v, want %v", s, got, want)
				}
				if out, ok := appendName(nil, string(s)); want && (!ok || string(out) != string(s)) {
					t.Fatalf("plain name %q: appendName gives %q, %v", s, out, ok)
				}
			}
		}
	}
	for c := 0; c < 256; c++ {
		if want := c > ' ' && c < 0x7f && c != ',' && c != '=' && c != '\\'; plainNameByte[c] != want {
			t.Fatalf("plainNameByte[%#x] = %v", c, !want)
		}
	}
}
