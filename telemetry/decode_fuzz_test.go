package telemetry

import (
	"bytes"
	"regexp"
	"testing"
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
