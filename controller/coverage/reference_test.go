package coverage

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ngic/ngic/controller/inventory"
	"github.com/ngic/ngic/controller/inventory/inventorytest"
)

// medianBySort is the straightforward median: sort, then the middle value
// or the mean of the middle two.
func medianBySort(vs []uint32) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return float64(s[n/2])
	}
	return (float64(s[n/2-1]) + float64(s[n/2])) / 2
}

// TestMedianSelects: the median selected is the median of the sorted
// values, for counts around the sorting threshold and far above it, for
// random, repeated, sorted and reversed values.
func TestMedianSelects(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	shapes := map[string]func(i, n int) uint32{
		"random":   func(int, int) uint32 { return rng.Uint32() },
		"few":      func(int, int) uint32 { return uint32(rng.IntN(3)) * 1000 },
		"equal":    func(int, int) uint32 { return 50_000 },
		"sorted":   func(i, _ int) uint32 { return uint32(i) },
		"reversed": func(i, n int) uint32 { return uint32(n - i) },
		"organ":    func(i, n int) uint32 { return uint32(min(i, n-i)) },
	}
	for name, f := range shapes {
		for _, n := range []int{0, 1, 2, 3, sortBelow - 1, sortBelow, sortBelow + 1, sortBelow + 2, 33, 34, 48, 97, 1000, 1001} {
			for range 20 {
				vs := make([]uint32, n)
				for i := range vs {
					vs[i] = f(i, n)
				}
				want := medianBySort(vs)
				orig := slices.Clone(vs)
				if got := median(vs); got != want {
					t.Fatalf("%s, %d values %v: median %v, want %v", name, n, orig, got, want)
				}
				slices.Sort(vs)
				slices.Sort(orig)
				if !slices.Equal(vs, orig) {
					t.Fatalf("%s, %d values: median changed the values, not only their order", name, n)
				}
			}
		}
	}
}

// referenceGaps is the gap list computed the straightforward way: the
// serving sites from each village's trail, the villages sorted by
// households, and each one's nearest better site by a scan of every site.
func referenceGaps(inv *inventory.Inventory, cfg *Config, vills []Village) []Gap {
	top := len(cfg.Tiers) - 1
	siteTier := make([]int, len(inv.Sites))
	siteVillage := make([]int, len(inv.Sites))
	for s := range siteTier {
		siteTier[s] = -1
	}
	for v := range vills {
		vl := &vills[v]
		if vl.Evidence != EvidenceMeasured {
			continue
		}
		for _, e := range vl.TrailEntries() {
			if !e.Used || e.Source != EvidenceMeasured || e.Service != string(inventory.ServiceData) {
				continue
			}
			dev, _ := inv.Device(e.Device)
			s, ok := inv.Site(inv.Devices[dev].Site)
			if ok && vl.Tier > siteTier[s] {
				siteTier[s], siteVillage[s] = vl.Tier, v
			}
		}
	}
	var out []Gap
	for v := range vills {
		if vills[v].Tier < top {
			out = append(out, Gap{Village: &vills[v]})
		}
	}
	slices.SortStableFunc(out, func(a, b Gap) int { return cmp.Compare(b.Households, a.Households) })
	for i := range out {
		g := &out[i]
		best, bestKm := -1, math.Inf(1)
		for s := range inv.Sites {
			if siteTier[s] <= g.Tier {
				continue
			}
			if d := Distance(g.Lat, g.Lon, inv.Sites[s].Lat, inv.Sites[s].Lon); d < bestKm {
				best, bestKm = s, d
			}
		}
		if best >= 0 {
			g.Site, g.SiteServes, g.DistanceKm = &inv.Sites[best], &vills[siteVillage[best]], bestKm
		}
	}
	return out
}

// generatedWorld is a generated national inventory of n villages and its
// devices' synthesised statuses.
func generatedWorld(t *testing.T, villages int) (*inventory.Inventory, []DeviceStatus) {
	t.Helper()
	dir := t.TempDir()
	if err := inventorytest.WriteNational(dir, villages); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load(dir, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return inv, synthesise(inv, now)
}

// TestGapsMatchReference: on a generated national inventory with
// synthesised evidence, the gap list is the straightforward one: the same
// villages in the same order, each with the nearest better site (or one
// as near), the village it serves and the distance.
func TestGapsMatchReference(t *testing.T) {
	inv, devs := generatedWorld(t, 6000)
	cfg := DefaultConfig()
	res := ComputeCompact(inv, devs, &cfg, now)
	want := referenceGaps(inv, &cfg, res.Villages)
	if len(res.Gaps) != len(want) || len(want) < 1000 {
		t.Fatalf("%d gaps, want %d (and at least 1000)", len(res.Gaps), len(want))
	}
	near := 0
	for i := range want {
		g, w := &res.Gaps[i], &want[i]
		if g.Village != w.Village {
			t.Fatalf("gap %d: village %s, want %s", i, g.Code, w.Code)
		}
		if (g.Site == nil) != (w.Site == nil) {
			t.Fatalf("gap %d (%s): site %v, want %v", i, g.Code, g.Site, w.Site)
		}
		if g.Site == nil {
			continue
		}
		near++
		if math.Abs(g.DistanceKm-w.DistanceKm) > 1e-9 {
			t.Fatalf("gap %d (%s): site %s at %.9f km, want %s at %.9f km", i, g.Code, g.Site.ID, g.DistanceKm, w.Site.ID, w.DistanceKm)
		}
		if g.Site == w.Site && g.SiteServes != w.SiteServes {
			t.Fatalf("gap %d (%s): site %s serves %s, want %s", i, g.Code, g.Site.ID, g.SiteServes.Code, w.SiteServes.Code)
		}
	}
	if near == 0 {
		t.Fatal("no gap has a nearest site")
	}
}
