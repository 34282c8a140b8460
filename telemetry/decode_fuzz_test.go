package telemetry

import (
	"bytes"
	"reflect"
	"regexp"
	"testing"
	"time"
)

// memberName matches a member name and its colon in a compact payload.
var memberNameRE = regexp.MustCompile(`"[a-z_]+":`)

// payloadVariants returns versions of a compact payload that a decoder
// must read as encoding/json does.
func payloadVariants(p []byte) [][]byte {
	insert := func(member string) []byte { // as the first member
		return append([]byte("{"+member+","), p[1:]...)
	}
	appendMember := func(member string) []byte { // as the last member
		return append(append(bytes.Clone(p[:len(p)-1]), ","+member...), '}')
	}
	return [][]byte{
		memberNameRE.ReplaceAllFunc(p, bytes.ToUpper),
		memberNameRE.ReplaceAllFunc(p, func(k []byte) []byte {
			return append(append([]byte(`"`), bytes.ToUpper(k[1:2])...), k[2:]...)
		}),
		bytes.ReplaceAll(bytes.ReplaceAll(p, []byte(":"), []byte(" :\n")), []byte(","), []byte("\t, ")),
		bytes.ReplaceAll(p, []byte(`"gw-`), []byte(`"\u0067w-`)),
		bytes.ReplaceAll(p, []byte(`"id":"`), []byte(`"i\u0064":"\ud83d\ude00`)),
		insert(`"x":{"y":[1,-2.5e+3,{"z":null,"w":"\"\\"}],"v":true}`),
		insert(`"tag":{"id":"X","epc":{"scheme":"s"}},"beam":{"duration_s":1},"lost":{"count":2}`),
		appendMember(`"seq":18446744073709551615`),
		appendMember(`"seq":18446744073709551616`),
		appendMember(`"v":1e0`),
		appendMember(`"tag":null,"beam":null,"passage":null,"lost":null`),
		appendMember(`"id":null,"time":null,"gateway":null`),
		appendMember(`"time":"2026-11-27T10:00:00.5+01:00"`),
	}
}

// FuzzDecodeEventDifferential: DecodeEvent and encoding/json plus Validate
// agree on every input: both refuse it, or both return deeply equal events.
func FuzzDecodeEventDifferential(f *testing.F) {
	for _, p := range samplePayloads(f) {
		f.Add(p)
		for _, v := range payloadVariants(p) {
			f.Add(v)
		}
	}
	for _, p := range nastyPayloads {
		f.Add([]byte(p))
	}
	for _, tc := range payloads {
		f.Add([]byte(tc.raw))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkSameAsReflect(t, b)
	})
}

// FuzzParseTimeUTC: what parseTimeUTC accepts, (*time.Time).UnmarshalJSON
// reads as the same time in the same location.
func FuzzParseTimeUTC(f *testing.F) {
	for _, s := range []string{"2026-11-29T10:00:00Z", "2026-11-29T10:00:00.123456789Z", "2026-11-29T10:00:00.5Z",
		"2024-02-29T23:59:59.000000001Z", "2023-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-11-29T24:00:00Z",
		"2026-11-29T10:00:00.1234567891Z", "2026-11-29T10:00:00,5Z", "2026-11-29T10:00:00+01:00", "0000-01-01T00:00:00Z",
		"2026-11-29T10:00:60Z", "2026-13-01T00:00:00Z", "2026-11-29T10:00:00.Z", "+026-11-29T10:00:00Z", "2026-11-29t10:00:00z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseTimeUTC([]byte(s))
		var want time.Time
		err := want.UnmarshalJSON([]byte(`"` + s + `"`))
		if !ok {
			if got != (time.Time{}) {
				t.Fatalf("%q: refused with %v", s, got)
			}
			return
		}
		if err != nil || !got.Equal(want) || got.Location() != want.Location() || !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: %v, want %v (%v)", s, got, want, err)
		}
	})
}
