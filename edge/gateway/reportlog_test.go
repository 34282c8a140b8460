package gateway

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/ngic/ngic/internal/spool"
)

// TestLossReportFailureLoggedOnce: while the report of lost events cannot
// be spooled (a full disk after a restart, here a closed spool) the
// spooler retries at every flush; the failure is logged once, not at every
// retry.
func TestLossReportFailureLoggedOnce(t *testing.T) {
	var logs lockedBuffer
	cfg := testConfig(t, "tcp://127.0.0.1:1", "")
	cfg.Spool.MaxRecords, cfg.Spool.Overflow = 100, "reject-new"
	g, err := New(cfg, Opts{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 110; i++ {
		if _, err := g.spool.Append([]byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	if g.spool.Stats().Unreported == 0 {
		t.Fatal("no loss to report")
	}
	if err := g.spool.Close(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		g.reportLosses()
	}
	if n := strings.Count(logs.String(), "cannot spool the report of lost events"); n != 1 {
		t.Fatalf("%d log lines for one lasting failure, want 1:\n%s", n, logs.String())
	}
	if g.spool.Stats().Lost[spool.ReasonRejectNew] != 10 {
		t.Fatalf("stats %+v", g.spool.Stats())
	}
}
