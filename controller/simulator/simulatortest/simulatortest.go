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
	return serve(t, dir, false)
}

// ServeDir serves every recording of dir on a loopback UDP port until the
// test ends, failing the test when a recording cannot be served whole. It
// returns the simulator and its address.
func ServeDir(t testing.TB, dir string) (*simulator.Simulator, string) {
	t.Helper()
	return serve(t, dir, true)
}

// serve serves dir; strict fails the test on a warning.
func serve(t testing.TB, dir string, strict bool) (*simulator.Simulator, string) {
	t.Helper()
	sim, warns, err := simulator.Load(dir, simulator.DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	if strict && len(warns) > 0 {
		t.Fatalf("recordings of %s: %d warnings, first: %v", dir, len(warns), warns[0])
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
