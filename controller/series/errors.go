package series

import (
	"errors"
	"strconv"
)

// LineError is one point that could not be encoded and was left out.
type LineError struct {
	// Device is the device's inventory ID.
	Device string
	// Measurement is the point's measurement (telemetry.MeasInterface...).
	Measurement string
	// Index names the point within the device's measurement: "if_index=5",
	// "input=2", "alarm=vswr", "direction=up if_index=4"; empty for the
	// measurements a device has one line of (access, tv_status, poll).
	Index string
	// Err is the encoder's error (wrapping telemetry.ErrLineName,
	// ErrLineValue or ErrLineOrder).
	Err error
}

// Error names the device, the measurement and the index.
func (e *LineError) Error() string {
	s := "series: device " + e.Device + ": " + e.Measurement
	if e.Index != "" {
		s += " " + e.Index
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns the encoder's error.
func (e *LineError) Unwrap() error { return e.Err }

// Skipped counts the points left out that err reports: the *LineError
// values it is, wraps or joins (errors.Join). It is 0 for nil and for an
// error about a whole document (no poll time, no document).
func Skipped(err error) int {
	switch e := err.(type) {
	case nil:
		return 0
	case *LineError:
		return 1
	case interface{ Unwrap() []error }:
		n := 0
		for _, x := range e.Unwrap() {
			n += Skipped(x)
		}
		return n
	case interface{ Unwrap() error }:
		return Skipped(e.Unwrap())
	}
	return 0
}

// keyIndex formats a point's index for a LineError ("if_index=5"). It
// allocates, so it is only called on the error path.
func keyIndex(key string, n int) string {
	return key + "=" + strconv.Itoa(n)
}

// Errors of a document that cannot give any point, wrapped with the
// device's name; no line is appended.
var (
	// ErrNoDocument: AppendDocument was given a nil document.
	ErrNoDocument = errors.New("series: no document")
	// ErrNoTime: the document has no PolledAt (or one a nanosecond
	// timestamp cannot hold), so none of its points has a time.
	ErrNoTime = errors.New("series: document without a usable poll time")
)

// errNoAlarmName is the error of a TV alarm without a name, which would
// give a tv_alarm line without its alarm tag.
var errNoAlarmName = errors.New("series: alarm without a name")
