package daemon

import (
	"bytes"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/coverage"
	"github.com/ngic/ngic/controller/inventory"
)

// refDaemon is a Daemon with only its coverage results, counting those
// given back to the pool.
func refDaemon(t *testing.T) (*Daemon, *inventory.Inventory, *atomic.Int64) {
	t.Helper()
	inv, err := inventory.Load(filepath.Join("..", "testdata", "coverage", "real"), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &Daemon{cov: &coverageRun{pool: &coverage.Pool{}}}, inv, &atomic.Int64{}
}

// publish computes a result for at with d's pool and makes it the latest.
func publish(d *Daemon, inv *inventory.Inventory, at time.Time, reused *atomic.Int64) *coverage.Result {
	r := d.cov.pool.ComputeCompact(inv, nil, nil, at)
	d.publishCoverage(newCoverageRef(r, d.cov.pool, 1, func() { reused.Add(1) }))
	return r
}

// encoded is r's JSON.
func encoded(t *testing.T, r *coverage.Result) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestCoverageHolds: a result replaced by the next goes back to the pool
// once its last reader releases it, not before; a release called twice
// counts once; a result dropped at a reload goes to the garbage collector
// (not to the pool) once released, and there is no result until the
// next.
func TestCoverageHolds(t *testing.T) {
	d, inv, reused := refDaemon(t)
	at := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	if r, release := d.AcquireCoverage(); r != nil {
		t.Fatal("a result before any")
	} else {
		release()
	}
	first := publish(d, inv, at, reused)
	want := encoded(t, first)
	r, release := d.AcquireCoverage()
	other, releaseOther := d.AcquireCoverage()
	if r != first || other != first {
		t.Fatal("AcquireCoverage did not give the latest result")
	}
	publish(d, inv, at.Add(time.Minute), reused)
	release()
	release() // counts once: other still holds it
	if got := reused.Load(); got != 0 {
		t.Fatalf("%d results given back while a reader holds the only one replaced", got)
	}
	if !bytes.Equal(encoded(t, first), want) {
		t.Fatal("a held result changed")
	}
	releaseOther()
	if got := reused.Load(); got != 1 || first.Villages != nil {
		t.Fatalf("%d results given back once the last reader released the replaced one (villages %d), want 1",
			got, len(first.Villages))
	}

	second, release := d.AcquireCoverage()
	want = encoded(t, second)
	d.dropCoverage()
	if r, none := d.AcquireCoverage(); r != nil {
		t.Fatal("a result after a drop")
	} else {
		none()
	}
	release()
	if got := reused.Load(); got != 1 || !bytes.Equal(encoded(t, second), want) {
		t.Fatalf("a dropped result went to the pool (%d given back)", got)
	}
	computed, villages, _, ok := d.coverageState()
	if ok || !computed.IsZero() || villages != 0 {
		t.Fatal("a state after a drop")
	}
	publish(d, inv, at.Add(2*time.Minute), reused)
	if computed, villages, _, ok := d.coverageState(); !ok || !computed.Equal(at.Add(2*time.Minute)) || villages != 11 {
		t.Fatalf("state %v %d %v, want the latest result's", computed, villages, ok)
	}
}
