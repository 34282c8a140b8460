// Package simulatortest serves the repository's device recordings with the
// project's SNMP simulator, for tests.
package simulatortest

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/ngic/ngic/controller/simulator"
	"github.com/ngic/ngic/internal/testenv"
)

// Serve serves the named recordings (file names without ".snmprec") of
// testenv.Recordings on a loopback UDP port until the test ends; each is an
// agent whose community is its name. It returns the simulator (to take an
// agent down and up) and its address.
func Serve(t testing.TB, names ...string) (*simulator.Simulator, string) {
	t.Helper()
	dir := t.TempDir()
	src := testenv.Recordings(t)
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(src, n+".snmprec"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, n+".snmprec"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sim, _, err := simulator.Load(dir, simulator.DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sim.Serve(ctx, conn); close(done) }()
	t.Cleanup(func() { cancel(); conn.Close(); <-done })
	return sim, conn.LocalAddr().String()
}
