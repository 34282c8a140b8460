// Package reading runs a reader protocol over an open port once, without
// supervision, and describes each read as a line of JSON: what
// `ngic-edge read` prints for a field engineer checking a reader.
package reading

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/edge/smooth"
	"github.com/ngic/ngic/telemetry"
)

// Line is one decoded read.
type Line struct {
	// Protocol is the reader protocol.
	Protocol string `json:"protocol"`
	// Tag is the identifier in upper-case hex (EM4100: the 10 digits; UHF: the EPC).
	Tag string `json:"tag"`
	// Time is when the read was decoded.
	Time time.Time `json:"time"`
	// RSSI in dBm, when the reader reports it.
	RSSI *int `json:"rssi,omitempty"`
	// Antenna, when the reader reports it.
	Antenna int `json:"antenna,omitempty"`
	// PC is the UHF protocol-control word in hex, when reported.
	PC string `json:"pc,omitempty"`
	// EPC is the GS1 decoding of a UHF tag, when the scheme is known.
	EPC *telemetry.EPC `json:"epc,omitempty"`
}

// ErrStopped is returned by Run when fn asked to stop.
var ErrStopped = errors.New("reading: stopped")

// Run speaks proto over port until ctx ends, fn returns false (ErrStopped),
// or the port fails, and returns the session's counters (bad frames and
// skipped bytes tell a wrong protocol or speed). The port's reads must time
// out now and then (returning 0 bytes) so that ctx is noticed.
func Run(ctx context.Context, port io.ReadWriter, proto rfid.Protocol, opts rfid.Options, fn func(Line) bool) (rfid.Stats, error) {
	sess, err := proto.NewSession(opts)
	if err != nil {
		return rfid.Stats{}, fmt.Errorf("reading: %w", err)
	}
	st, err := run(ctx, port, sess, proto.Name, fn)
	return st, err
}

func run(ctx context.Context, port io.ReadWriter, sess rfid.Session, protocol string, fn func(Line) bool) (rfid.Stats, error) {
	if b := sess.Open(); len(b) > 0 {
		if _, err := port.Write(b); err != nil {
			return sess.Stats(), fmt.Errorf("reading: write: %w", err)
		}
	}
	stopped := false
	emit := func(r rfid.Read) {
		if stopped {
			return
		}
		if !fn(Describe(protocol, r, time.Now())) {
			stopped = true
		}
	}
	interval := sess.PollInterval()
	var lastPoll time.Time
	buf := make([]byte, 4096)
	for {
		if err := ctx.Err(); err != nil {
			return sess.Stats(), err
		}
		if interval > 0 && time.Since(lastPoll) >= interval {
			if b := sess.Poll(); len(b) > 0 {
				if _, err := port.Write(b); err != nil {
					return sess.Stats(), fmt.Errorf("reading: write: %w", err)
				}
			}
			lastPoll = time.Now()
		}
		n, err := port.Read(buf)
		if n > 0 {
			if reply := sess.Feed(buf[:n], emit); len(reply) > 0 {
				if _, err := port.Write(reply); err != nil {
					return sess.Stats(), fmt.Errorf("reading: write: %w", err)
				}
			}
		}
		if stopped {
			return sess.Stats(), ErrStopped
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return sess.Stats(), fmt.Errorf("reading: read: %w", err)
		}
	}
}

// Describe turns a read into its JSON line.
func Describe(protocol string, r rfid.Read, at time.Time) Line {
	l := Line{Protocol: protocol, Tag: smooth.HexUpper(r.Tag), Time: at.UTC(), Antenna: r.Antenna,
		EPC: EPC(protocol, r.Tag)}
	if r.HasRSSI {
		v := r.RSSI
		l.RSSI = &v
	}
	if r.PC != 0 {
		l.PC = fmt.Sprintf("%04X", r.PC)
	}
	return l
}

// EPC returns the GS1 reading of a UHF tag's EPC, or nil for EM4100 cards
// and EPCs of no known scheme.
func EPC(protocol string, raw []byte) *telemetry.EPC {
	if protocol == "em4100" || len(raw) == 0 {
		return nil
	}
	return decodeEPC(raw)
}
