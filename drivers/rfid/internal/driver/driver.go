// Package driver holds small pieces every reader protocol package uses to
// build its session and register itself.
package driver

import (
	"fmt"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
)

// Session turns a protocol package's NewSession result into what
// rfid.Protocol.NewSession returns: a nil interface on error, never an
// interface holding a nil pointer.
func Session[S rfid.Session](s S, err error) (rfid.Session, error) {
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Emulator does for NewEmulator what Session does for NewSession.
func Emulator[E rfid.Emulator](e E, err error) (rfid.Emulator, error) {
	if err != nil {
		return nil, err
	}
	return e, nil
}

// PollInterval returns o.PollInterval, or def when it is zero. A negative
// interval is an error whose text starts with pkg.
func PollInterval(pkg string, o rfid.Options, def time.Duration) (time.Duration, error) {
	switch {
	case o.PollInterval < 0:
		return 0, fmt.Errorf("%s: options: poll interval %v is negative", pkg, o.PollInterval)
	case o.PollInterval > 0:
		return o.PollInterval, nil
	}
	return def, nil
}

// Counts holds the counters a session keeps beside its decoder's, and the
// emit function of the Feed in progress. The zero value is ready.
type Counts struct {
	emit func(rfid.Read)
	// Reads is the number of reads emitted.
	Reads uint64
	// Errors is the number of error responses the reader sent.
	Errors uint64
	// Malformed is the number of frames whose check held but whose content
	// did not parse; they count as bad frames, not frames.
	Malformed uint64
}

// Begin starts a Feed that emits to emit (which may be nil).
func (c *Counts) Begin(emit func(rfid.Read)) { c.emit = emit }

// End ends the Feed; the emit function is not kept.
func (c *Counts) End() { c.emit = nil }

// Emit counts r and passes it to the Feed's emit function.
func (c *Counts) Emit(r rfid.Read) {
	c.Reads++
	if c.emit != nil {
		c.emit(r)
	}
}

// Stats combines the decoder's counters (frames with a good check, bad
// frames, bytes skipped) with the session's: malformed frames move from
// frames to bad frames.
func (c *Counts) Stats(frames, badFrames, skipped uint64) rfid.Stats {
	return rfid.Stats{
		Frames:       frames - c.Malformed,
		Reads:        c.Reads,
		BadFrames:    badFrames + c.Malformed,
		SkippedBytes: skipped,
		Errors:       c.Errors,
	}
}
