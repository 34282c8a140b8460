package daemon_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/config"
	"github.com/ngic/ngic/controller/daemon"
	"github.com/ngic/ngic/controller/simulator/simulatortest"
)

// TestStopDuringCoverage: a stop while coverage is being computed (a
// national recompute takes many seconds) ends Run without waiting for
// it: Run returns while the computation is still held.
func TestStopDuringCoverage(t *testing.T) {
	t.Parallel()
	_, addr := simulatortest.Serve(t, recordingsOf...)
	_, path := realConfig(t, addr, "")
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := daemon.New(cfg, daemon.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	started, release := make(chan struct{}, 1), make(chan struct{})
	daemon.HoldCoverage(d, started, release)
	t.Cleanup(func() { close(release) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	select {
	case <-started:
	case <-time.After(60 * time.Second):
		t.Fatal("no coverage computation started")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Run did not return while coverage was being computed")
	}
	r, letGo := d.AcquireCoverage()
	letGo()
	if r != nil {
		t.Fatal("a result before any computation ended")
	}
}
