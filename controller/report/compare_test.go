package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/config"
	"github.com/ngic/ngic/controller/coverage"
)

// CompareWith compares with the latest snapshot at or before the time in
// the state_dir's store; none, and a damaged one, are errors naming the
// folder or the file, which stays where it is.
func TestCompareWith(t *testing.T) {
	cfg := &config.Config{StateDir: t.TempDir()}
	res := &coverage.Result{Tiers: coverage.DefaultTiers(), Computed: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	then := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	at := then.Add(24 * time.Hour)
	if _, err := CompareWith(cfg, at, res); err == nil ||
		!strings.Contains(err.Error(), "no snapshot at or before 2026-10-02T00:00:00Z in "+cfg.StatePath(config.CoverageDir)) {
		t.Errorf("no store: %v", err)
	}
	st, err := coverage.OpenStore(cfg.StatePath(config.CoverageDir), 10)
	if err != nil {
		t.Fatal(err)
	}
	old := &coverage.Result{Tiers: coverage.DefaultTiers(), Computed: then}
	if err := st.Save(old); err != nil {
		t.Fatal(err)
	}
	d, err := CompareWith(cfg, at, res)
	if err != nil || !d.From.Equal(then) || !d.To.Equal(res.Computed) {
		t.Fatalf("diff %+v, %v: want from %v", d, err, then)
	}
	files, _ := os.ReadDir(st.Dir())
	if len(files) != 1 {
		t.Fatalf("the store holds %v", files)
	}
	snap := filepath.Join(st.Dir(), files[0].Name())
	if err := os.WriteFile(snap, []byte("not gzip, not anything"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = CompareWith(cfg, at, res)
	if err == nil || !strings.Contains(err.Error(), "--compare 2026-10-02T00:00:00Z: the snapshot cannot be read: ") ||
		!strings.Contains(err.Error(), snap) || strings.Contains(err.Error(), "moved aside") {
		t.Errorf("damaged: %v", err)
	}
	if after, _ := os.ReadDir(st.Dir()); len(after) != 1 || after[0].Name() != files[0].Name() {
		t.Errorf("the store changed: %v", after)
	}
}
