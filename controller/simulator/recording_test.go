package simulator

import (
	"bytes"
	"testing"
)

// TestRecordingAsRecords: a recording's varbinds, encoded once or per
// request for those that move, are those of its records encoded as
// requested, at any time.
func TestRecordingAsRecords(t *testing.T) {
	moving := 0
	eachRecording(t, func(name string, r *recording) {
		for i := range r.Len() {
			for _, el := range []elapsed{{}, {ms: 1234567}} {
				got, want := r.appendRecord([]byte{1}, i, el), appendRecord([]byte{1}, r.Record(i), el)
				if !bytes.Equal(got, want) {
					t.Fatalf("%s record %d at %d ms: % x, want % x", name, i, el.ms, got, want)
				}
			}
			if moves(r.Record(i)) {
				moving++
			}
		}
	})
	if moving == 0 {
		t.Error("no record moves with the clock")
	}
}

// eachRecording calls f with every agent of the shared recordings and its
// recording.
func eachRecording(t *testing.T, f func(name string, r *recording)) {
	t.Helper()
	s, _ := loadAll(t)
	for _, name := range s.Devices() {
		f(name, s.devices[name].view)
	}
}
