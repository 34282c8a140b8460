package series

import (
	"errors"
	"time"

	"github.com/ngic/ngic/controller/snmp"
	"github.com/ngic/ngic/telemetry"
)

// PollResult is the outcome of one poll of one device.
type PollResult struct {
	// Time is when the poll ended (the document's PolledAt when there is
	// one).
	Time time.Time
	// Status is telemetry.PollUp, PollDown or PollAuthFailed (see
	// PollStatus).
	Status string
	// Duration is how long the poll took.
	Duration time.Duration
	// Varbinds counts the variable bindings the device answered.
	Varbinds int
	// Truncated is set when some table was cut short (Document.Truncated).
	Truncated bool
	// Warnings counts the poll's warnings.
	Warnings int
}

// PollStatus gives the poll status of a poll's error: PollUp for nil,
// PollAuthFailed for an SNMPv3 security failure (snmp.ErrAuth, which
// privacy and unknown-user failures wrap too), PollDown for any other.
// With v1 and v2c a wrong community cannot be told from a silent device,
// so it is PollDown.
func PollStatus(err error) string {
	switch {
	case err == nil:
		return telemetry.PollUp
	case errors.Is(err, snmp.ErrAuth), errors.Is(err, snmp.ErrPriv), errors.Is(err, snmp.ErrUnknownUser):
		return telemetry.PollAuthFailed
	}
	return telemetry.PollDown
}

// AppendPoll appends the MeasPoll line of one poll (status up, down or
// auth-failed, duration, varbinds, truncated, warnings). On an error (an
// unknown status, no time) nothing is appended and the error is a
// *LineError.
func AppendPoll(dst []byte, tags telemetry.DeviceTags, r PollResult) ([]byte, error) {
	p := telemetry.PollPoint{DeviceTags: tags, Status: r.Status, Duration: r.Duration, Varbinds: r.Varbinds,
		Truncated: r.Truncated, Warnings: r.Warnings, Time: r.Time}
	dst, err := p.AppendLine(dst)
	if err != nil {
		return dst, &LineError{Device: tags.Device, Measurement: telemetry.MeasPoll, Err: err}
	}
	return dst, nil
}
