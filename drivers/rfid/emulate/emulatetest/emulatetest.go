// Package emulatetest starts reader emulators on pseudo-terminals for tests,
// the httptest shape: Start returns the running reader and stops it when the
// test ends.
package emulatetest

import (
	"context"
	"testing"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/drivers/rfid/emulate"
)

// Start serves an emulated reader of protocol with tags in its field on a
// pseudo-terminal, at the protocol's default speed, until the test ends.
// Host code opens the PTY's Path.
func Start(t testing.TB, protocol string, tags ...[]byte) (*emulate.Runner, *emulate.PTY) {
	t.Helper()
	proto, err := rfid.Lookup(protocol)
	if err != nil {
		t.Fatal(err)
	}
	r, err := emulate.New(proto, tags)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	p, err := r.ServePTY(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return r, p
}

// StartAt is Start with the reader running at baud: a host at another speed
// reads garbage from it.
func StartAt(t testing.TB, protocol string, baud int, tags ...[]byte) (*emulate.Runner, *emulate.PTY) {
	t.Helper()
	r, p := Start(t, protocol, tags...)
	if err := r.SetBaud(baud); err != nil {
		t.Fatal(err)
	}
	return r, p
}
