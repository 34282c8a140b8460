package api

import (
	"fmt"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/coverage"
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
