package coverage

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/inventory"
)

// TestNearestMatchesBruteForce: the grid's nearest site is the one a scan
// of every site finds, for sites dense and sparse, near the equator and
// far north, and for points inside and outside the sites' extent.
func TestNearestMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		n                      int
		lat0, lat1, lon0, lon1 float64
	}{
		{2000, 18, 53, 73, 135}, // a large country
		{5, 18, 53, 73, 135},    // few sites: large cells
		{300, 60, 70, 10, 30},   // far north
		{1, 30, 30, 120, 120},   // one site
		{500, -10, 10, -5, 5},   // across the equator
	} {
		sites := make([]inventory.Site, tc.n)
		pts := make([]int32, tc.n)
		for i := range sites {
			sites[i] = inventory.Site{Lat: tc.lat0 + rng.Float64()*(tc.lat1-tc.lat0), Lon: tc.lon0 + rng.Float64()*(tc.lon1-tc.lon0)}
			pts[i] = int32(i)
		}
		g := newGrid(sites, pts)
		for q := 0; q < 500; q++ {
			// Queries up to 10° beyond the sites' extent.
			lat := tc.lat0 - 10 + rng.Float64()*(tc.lat1-tc.lat0+20)
			lon := tc.lon0 - 10 + rng.Float64()*(tc.lon1-tc.lon0+20)
			best, bestKm := int32(-1), math.Inf(1)
			for i := range sites {
				if d := Distance(lat, lon, sites[i].Lat, sites[i].Lon); d < bestKm {
					best, bestKm = int32(i), d
				}
			}
			got, km := g.nearest(lat, lon)
			if got != best && math.Abs(km-bestKm) > 1e-9 {
				t.Fatalf("%d sites, query %.4f,%.4f: site %d at %.6f km, want %d at %.6f km", tc.n, lat, lon, got, km, best, bestKm)
			}
		}
	}
	if s, _ := newGrid(nil, nil).nearest(30, 120); s != -1 {
		t.Errorf("empty grid: %d", s)
	}
}

// TestNearestOnLattice: the grid's nearest site is as near as a scan of
// every site finds, for sites and points on a lattice, many of them on the
// cells' edges, with ties.
func TestNearestOnLattice(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var sites []inventory.Site
	var pts []int32
	for lat := 20.0; lat <= 35; lat += 0.5 {
		for lon := 100.0; lon <= 115; lon += 0.5 {
			if rng.IntN(4) == 0 {
				sites = append(sites, inventory.Site{Lat: lat, Lon: lon})
				pts = append(pts, int32(len(pts)))
			}
		}
	}
	g := newGrid(sites, pts)
	for lat := 18.0; lat <= 37; lat += 0.25 {
		for lon := 98.0; lon <= 117; lon += 0.25 {
			bestKm := math.Inf(1)
			for i := range sites {
				bestKm = min(bestKm, Distance(lat, lon, sites[i].Lat, sites[i].Lon))
			}
			if _, km := g.nearest(lat, lon); math.Abs(km-bestKm) > 1e-9 {
				t.Fatalf("lattice, query %.2f,%.2f: %.9f km, want %.9f", lat, lon, km, bestKm)
			}
		}
	}
}

// TestDistance: known great-circle distances.
func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		lat1, lon1, lat2, lon2, km float64
	}{
		{0, 0, 0, 1, 111.1951},                         // one degree of the equator: 6371.0088·π/180
		{0, 0, 90, 0, 10007.5427},                      // a quarter meridian
		{30, 120, 30, 120, 0},                          // the same point
		{39.9042, 116.4074, 31.2304, 121.4737, 1067.3}, // Beijing to Shanghai
	} {
		if d := Distance(tc.lat1, tc.lon1, tc.lat2, tc.lon2); math.Abs(d-tc.km) > 0.05 {
			t.Errorf("%v,%v to %v,%v: %.4f km, want %.4f", tc.lat1, tc.lon1, tc.lat2, tc.lon2, d, tc.km)
		}
	}
}

// TestGapsKept: a recompute keeps the nearest sites the last computation
// of the inventory found where the grids allow it, and its gaps are those
// of a computation that searches every grid, byte for byte, while sites
// leave the grids (their devices down past down_after), come back in
// numbers (their tiers searched again) and a few at a time (compared with
// the nearest kept).
func TestGapsKept(t *testing.T) {
	inv, devs, _ := national(t, 20_000)
	cfg := DefaultConfig()
	p := prepare(inv)
	// down takes down, past down_after, the devices of one site in every.
	down := func(every int32) []DeviceStatus {
		out := append([]DeviceStatus(nil), devs...)
		for i := range out {
			if p.devSite[i]%every == 0 {
				out[i].State, out[i].Since = StateDown, now.Add(-100*time.Hour)
			}
		}
		return out
	}
	for i, step := range []struct {
		name     string
		devs     []DeviceStatus
		someKept bool
	}{
		{"first", devs, false},
		{"the same", devs, true},
		{"one site in 20 down", down(20), true},
		{"back up", devs, false}, // more than keptAdded sites come back in
		{"one site in 400 down", down(400), true},
		{"back up", devs, true},
	} {
		got := ComputeCompact(inv, step.devs, &cfg, now)
		kept := p.work.kept.Load()
		sequence := p.takeWork() // the work of the steps so far, set aside
		want := ComputeCompact(inv, step.devs, &cfg, now)
		p.putWork(sequence)
		if (kept > 0) != step.someKept {
			t.Errorf("step %d (%s): %d of %d gaps kept their nearest site", i, step.name, kept, len(got.Gaps))
		}
		if len(want.Gaps) == 0 {
			t.Fatalf("step %d (%s): no gaps", i, step.name)
		}
		for g := range want.Gaps {
			a, b := &got.Gaps[g], &want.Gaps[g]
			if a.Village.Region != b.Village.Region || a.Site != b.Site || a.DistanceKm != b.DistanceKm ||
				a.SiteServes.Region != b.SiteServes.Region {
				t.Fatalf("step %d (%s): gap %d is %s, site %v at %v km, want %s, site %v at %v km", i, step.name, g,
					a.Code, a.NearestSite(), a.DistanceKm, b.Code, b.NearestSite(), b.DistanceKm)
			}
		}
		sameResult(t, step.name, got, "searched", want)
	}
}
