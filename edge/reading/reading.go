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
	"github.com/ngic/ngic/drivers/rfid/link"
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

// Run speaks proto over port once, without reopening it, until ctx ends,
// fn returns false (ErrStopped), or the port fails, and returns the
// session's counters (bad frames and skipped bytes tell a wrong protocol or
// speed). The port is closed when Run ends; its reads must time out now and
// then so that ctx is noticed.
func Run(ctx context.Context, port io.ReadWriteCloser, proto rfid.Protocol, opts rfid.Options, fn func(Line) bool) (rfid.Stats, error) {
	sess, err := proto.NewSession(opts)
	if err != nil {
		return rfid.Stats{}, fmt.Errorf("reading: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopped := false
	err = link.Serve(ctx, port, sess, link.ServeOpts{Silence: -1}, func(r rfid.Read) {
		if !stopped && !fn(Describe(proto.Name, r, time.Now())) {
			stopped = true
			cancel()
		}
	})
	switch {
	case stopped:
		err = ErrStopped
	case err == nil:
		err = ctx.Err()
	default:
		err = fmt.Errorf("reading: %w", err)
	}
	return sess.Stats(), err
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
