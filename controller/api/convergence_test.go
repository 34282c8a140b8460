package api

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/coverage"
	"github.com/ngic/ngic/controller/inventory"
)

// A snapshot of more than MaxConvergenceRegions regions keeps the figures
// of its regions down to county level only; the nation's are the roots'
// households summed.
func TestConvergenceKeepsCountiesOfALargeSnapshot(t *testing.T) {
	res := &coverage.Result{Computed: time.Unix(0, 0), Tiers: []coverage.Tier{{Name: "unserved"}, {Name: "served"}}}
	sub := func(hh, served, conv int64) coverage.Subset {
		return coverage.Subset{Households: hh, Converged: coverage.Share{Households: conv, ShareHouseholds: float64(conv) / float64(hh)},
			Tiers: []coverage.TierShare{{Name: "unserved", Share: coverage.Share{Households: hh - served}},
				{Name: "served", Share: coverage.Share{Households: served}}}}
	}
	res.Regions = append(res.Regions,
		coverage.Region{Code: "p1", Level: "province", All: sub(100, 50, 10)},
		coverage.Region{Code: "p2", Level: "province", All: sub(300, 250, 90)},
		coverage.Region{Code: "c1", Level: "county", Parent: "p1", All: sub(100, 50, 10)})
	for i := range MaxConvergenceRegions {
		res.Regions = append(res.Regions, coverage.Region{Code: fmt.Sprintf("t%d", i), Level: "township", Parent: "c1",
			All: sub(1, 1, 1)})
	}
	c := newConvergence()
	c.mu.Lock()
	cs := c.summarise(res)
	c.mu.Unlock()
	if cs.figuresOf(c.slots["c1"]) == nil || cs.figuresOf(c.slots["p2"]) == nil {
		t.Fatal("a county or a province has no figures")
	}
	if _, ok := c.slots["t0"]; ok {
		t.Fatal("a township of a large snapshot has a slot")
	}
	n := cs.figuresOf(0)
	if n[figConverged] != 0.25 || n[figTiers+1] != 0.75 || n[figTiers] != 0.25 {
		t.Fatalf("the nation's figures %v: want converged 0.25, served 0.75, unserved 0.25", n)
	}
	if cs.figuresOf(99) != nil {
		t.Fatal("figures of a slot the snapshot never had")
	}
}

// A township of an inventory with more regions than MaxConvergenceRegions
// has a convergence series: the newest snapshots' figures within
// MaxFineFigures, marked partial once older ones were let go.
func TestConvergenceOfATownshipOfALargeInventory(t *testing.T) {
	const township = "630201000000"
	for _, tc := range []struct {
		keep    int // snapshots whose township figures fit
		partial bool
	}{{3, false}, {2, true}} {
		src := newFakeConvergence(t)
		w := figTiers + len(src.tiers)
		restore := SetConvergenceLimits(3, tc.keep*3*w) // 6 regions per snapshot, 3 of them townships
		s, err := New(src, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Warm(); err != nil {
			t.Fatal(err)
		}
		restore()
		req := httptest.NewRequest("GET", "/api/v1/convergence?region="+township, nil)
		rec := httptest.NewRecorder()
		s.convergence(rec, req)
		var d convDoc
		if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil || rec.Code != 200 {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		if len(d.Series) != tc.keep || d.Partial != tc.partial {
			t.Fatalf("township series of %d points (partial %v), want the newest %d (partial %v)", len(d.Series),
				d.Partial, tc.keep, tc.partial)
		}
		if times := src.times; !d.Series[len(d.Series)-1].Time.Equal(times[len(times)-1]) {
			t.Fatalf("the series ends at %v, not at the newest snapshot", d.Series[len(d.Series)-1].Time)
		}
	}
}

// fakeConvergence is a Source of coverage snapshots of the real
// recordings' inventory (1 province, 2 counties, 3 townships), its other
// methods left out.
type fakeConvergence struct {
	Source
	tiers []coverage.Tier
	times []time.Time
	snaps map[time.Time]*coverage.Result
}

func newFakeConvergence(t *testing.T) *fakeConvergence {
	t.Helper()
	inv, err := inventory.Load(filepath.Join("..", "testdata", "coverage", "real"), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeConvergence{snaps: map[time.Time]*coverage.Result{}}
	for k := range 3 {
		r := coverage.Compute(inv, nil, nil, time.Date(2026, 11, 26+k, 12, 0, 0, 0, time.UTC))
		f.times = append(f.times, r.Computed)
		f.snaps[r.Computed] = r
		f.tiers = r.Tiers
	}
	return f
}

func (f *fakeConvergence) AcquireCoverage() (*coverage.Result, func()) {
	return f.snaps[f.times[len(f.times)-1]], func() {}
}
func (f *fakeConvergence) Snapshots() ([]time.Time, error) { return f.times, nil }
func (f *fakeConvergence) Snapshot(t time.Time) (*coverage.Result, error) {
	return f.snaps[t], nil
}
