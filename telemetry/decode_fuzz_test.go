package telemetry

import (
	"bytes"
	"testing"
)

// FuzzDecodeEventDifferential: DecodeEvent and encoding/json plus Validate
// agree on every input: both refuse it, or both return deeply equal events.
func FuzzDecodeEventDifferential(f *testing.F) {
	for _, p := range samplePayloads(f) {
		f.Add(p)
		// Upper-case keys, white space around every token.
		f.Add(bytes.ToUpper(p))
		f.Add(bytes.ReplaceAll(bytes.ReplaceAll(p, []byte(":"), []byte(" :\n")), []byte(","), []byte("\t, ")))
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
