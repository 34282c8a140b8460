package simulator

import (
	"slices"

	"github.com/ngic/ngic/controller/snmprec"
)

// recording is a parsed recording with its varbinds encoded once, ready
// to be copied into answers: all but those whose value moves with the
// clock (counters and uptimes), encoded per request by appendRecord.
// Agents sharing a recording share it; it takes about as much memory again
// as the parsed recording.
type recording struct {
	*snmprec.View
	varbinds []byte
	end      []uint32 // record i's varbind ends at varbinds[end[i]]; one of no length moves
}

// newRecording encodes the varbinds of v.
func newRecording(v *snmprec.View) *recording {
	r := &recording{View: v, end: make([]uint32, v.Len())}
	for i := range v.Len() {
		if rec := v.Record(i); !moves(rec) {
			r.varbinds = appendRecord(r.varbinds, rec, elapsed{})
		}
		r.end[i] = uint32(len(r.varbinds))
	}
	r.varbinds = slices.Clip(slices.Clone(r.varbinds)) // not the room appending left
	return r
}

// moves reports whether a record's value follows the clock.
func moves(r snmprec.Record) bool {
	switch r.Type {
	case snmprec.Counter32, snmprec.Counter64:
		return true
	case snmprec.TimeTicks:
		return string(r.OID) == string(sysUpTime) || string(r.OID) == string(hrSystemUptime)
	}
	return false
}

// appendRecord appends the varbind of record i at time el.
func (r *recording) appendRecord(dst []byte, i int, el elapsed) []byte {
	start := uint32(0)
	if i > 0 {
		start = r.end[i-1]
	}
	if end := r.end[i]; end > start {
		return append(dst, r.varbinds[start:end]...)
	}
	return appendRecord(dst, r.Record(i), el)
}
