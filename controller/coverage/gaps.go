package coverage

import (
	"math"
	"sync"

	"github.com/ngic/ngic/controller/inventory"
)

// EarthRadiusKm is the mean Earth radius (IUGG) used for great-circle
// distances.
const EarthRadiusKm = 6371.0088

// gaps lists the villages below the top tier, most households first, each
// with the nearest site whose devices deliver data, measured, to a village
// of a better class.
func (c *computation) gaps(vills []Village) []Gap {
	inv := c.inv
	top := len(c.tiers) - 1
	siteTier, siteVillage := c.servingSites(vills)
	// grids[t] holds the sites serving a village of a class above t, in
	// the memory of the last computation's.
	w := c.work
	for len(w.grids) < max(top, 0) {
		w.grids = append(w.grids, &grid{})
	}
	grids := w.grids[:max(top, 0)]
	for t := range grids {
		pts := w.gridPts[:0]
		for s, st := range siteTier {
			if st > t {
				pts = append(pts, int32(s))
			}
		}
		grids[t].index(inv.Sites, pts, &w.gridNext)
		w.gridPts = pts
	}
	// below marks the villages below the top tier; at is the place of
	// each in the gap list, in the inventory's order of households.
	below := reuse(c.work.below, len(vills))
	c.work.below = below
	n := int32(0)
	for v := range vills {
		if below[v] = vills[v].Tier < top; below[v] {
			n++
		}
	}
	at := reuse(c.work.gapAt, len(vills))
	c.work.gapAt = at
	i := int32(0)
	for _, v := range c.byHouseholds {
		if below[v] {
			at[v] = i
			i++
		}
	}
	out := reuse(c.mem.gaps, int(n))
	kept := c.keptNearest(siteTier, len(grids))
	near := c.work.near
	// The nearest sites are found in file order, where neighbours in the
	// file are neighbours on the map: the villages are read in turn and the
	// grid's cells stay in cache. Each gap is written at its place.
	c.work.kept.Store(0)
	parallel(len(vills), func() func(lo, hi int) {
		return func(lo, hi int) {
			n := 0
			defer func() { c.work.kept.Add(int64(n)) }()
			for v := lo; v < hi; v++ {
				vl := &vills[v]
				if !below[v] || vl.Tier < 0 || vl.Tier >= len(grids) {
					near[v] = nearSite{site: -1, tier: -1}
					if below[v] {
						out[at[v]] = Gap{Village: vl}
					}
					continue
				}
				nr, wasKept := c.nearest(grids, kept, siteTier, v, vl)
				if wasKept {
					n++
				}
				near[v] = nr
				g := &out[at[v]]
				*g = Gap{Village: vl} // a released result's memory, or new
				if nr.site >= 0 {
					// The village served is measured: its class is siteTier[s].
					g.Site, g.SiteServes, g.DistanceKm = &inv.Sites[nr.site], &vills[siteVillage[nr.site]], nr.km
				}
			}
		}
	})
	c.work.prevSiteTier, c.work.siteTierSpare = siteTier, c.work.prevSiteTier
	c.work.gridTiers = len(grids)
	return out
}

// nearSite is the nearest site found for a village below the top tier in
// the grid of its tier, with its squared chord and its distance.
type nearSite struct {
	site      int32 // -1: none
	tier      int32 // -1: no search made
	chord, km float64
}

// keptAdded bounds the sites that may come into a tier's grid for the
// nearest sites found by the last computation to be kept: beyond, the
// villages of that tier are searched again.
const keptAdded = 32

// kept says, per tier, whether the nearest sites found by the last
// computation of the inventory may be kept, and which sites came into the
// tier's grid since.
type kept struct {
	ok    []bool
	added [][]int32
}

// keptNearest compares each tier's grid with the last computation's (whose
// sites' tiers work keeps), and sizes work.near for this one. Nothing is
// kept at the first computation of an inventory, or after one with
// another number of tiers.
func (c *computation) keptNearest(siteTier []int, grids int) kept {
	w := c.work
	prev := w.prevSiteTier
	ok := prev != nil && len(prev) == len(siteTier) && w.gridTiers == grids && len(w.near) == len(c.xyz)
	w.near = reuse(w.near, len(c.xyz))
	if !ok {
		return kept{}
	}
	k := kept{ok: make([]bool, grids), added: make([][]int32, grids)}
	for t := range k.ok {
		k.ok[t] = true
	}
	for s, now := range siteTier {
		// Site s is in the grids of the tiers below its own.
		for t := max(prev[s], 0); t < now && t < grids; t++ {
			if k.added[t] = append(k.added[t], int32(s)); len(k.added[t]) > keptAdded {
				k.ok[t] = false
			}
		}
	}
	return k
}

// nearest returns the nearest site to village v (below the top tier) in
// the grid of its tier: the one the last computation found, when it is
// still in the grid and the village's tier is the same, or one of those
// that came into the grid since, whichever is nearer (sites that left
// cannot be nearer than the one found), and true; else a search of the
// grid's, and false.
func (c *computation) nearest(grids []*grid, k kept, siteTier []int, v int, vl *Village) (nr nearSite, wasKept bool) {
	vt := c.work.near[v] // the last computation's
	t := int32(vl.Tier)
	if k.ok != nil && k.ok[t] && vt.tier == t && (vt.site < 0 || int32(siteTier[vt.site]) > t) {
		changed := false
		for _, a := range k.added[t] {
			ch := chord(&c.siteXYZ[a], &c.xyz[v])
			if ch < vt.chord || (ch == vt.chord && a < vt.site) {
				vt.site, vt.chord, changed = a, ch, true
			}
		}
		if changed {
			site := &c.inv.Sites[vt.site]
			vt.km = Distance(vl.Lat, vl.Lon, site.Lat, site.Lon)
		}
		return vt, true
	}
	s, ch, km := grids[t].nearestChord(c.xyz[v], vl.Lat, vl.Lon)
	return nearSite{site: s, tier: t, chord: ch, km: km}, false
}

// servingSites returns, per site, the best tier of the villages its
// devices deliver data to, measured (-1 for none), and the first village
// (in file order) of that tier. The villages are scanned in parallel; each
// worker keeps its own tables, merged after.
func (c *computation) servingSites(vills []Village) (tier []int, village []int32) {
	w := c.work
	n := len(c.inv.Sites)
	tier, village = reuse(w.siteTierSpare, n), reuse(w.siteVillage, n)
	w.siteVillage = village
	for i := range tier {
		tier[i], village[i] = -1, 0
	}
	var mu sync.Mutex
	merge := func(t []int, v []int32) {
		for s := range t {
			if t[s] > tier[s] || (t[s] == tier[s] && t[s] >= 0 && v[s] < village[s]) {
				tier[s], village[s] = t[s], v[s]
			}
		}
	}
	taken := 0
	parallel(len(vills), func() func(lo, hi int) {
		mu.Lock()
		if taken == len(w.siteTables) {
			w.siteTables, w.siteVillages = append(w.siteTables, nil), append(w.siteVillages, nil)
		}
		t, v := reuse(w.siteTables[taken], n), reuse(w.siteVillages[taken], n)
		w.siteTables[taken], w.siteVillages[taken] = t, v
		taken++
		mu.Unlock()
		for i := range t {
			t[i], v[i] = -1, 0
		}
		return func(lo, hi int) {
			for i := lo; i < hi; i++ {
				vl := &vills[i]
				if vl.Evidence != EvidenceMeasured {
					continue
				}
				vl.usedData(func(dev int32) {
					s := c.devs[dev].site
					// Villages come in increasing order within a worker:
					// the first of a tier stays.
					if s >= 0 && (vl.Tier > t[s] || (vl.Tier == t[s] && int32(i) < v[s])) {
						t[s], v[s] = vl.Tier, int32(i)
					}
				})
			}
		}
	})
	for k := range taken {
		merge(w.siteTables[k], w.siteVillages[k])
	}
	return tier, village
}

// grid is a spatial index of sites: cells of cell degrees from (lat0,
// lon0), nLat by nLon, each listing its sites (cells[off[i]:off[i+1]]).
type grid struct {
	sites      []inventory.Site
	cell       float64
	lat0, lon0 float64
	nLat, nLon int
	off        []int32
	items      []int32
	// xyz are the items' points on the unit sphere, for chord distances.
	xyz [][3]float64
	// maxAbsLat is the largest |latitude| of the grid's sites.
	maxAbsLat float64
}

// newGrid indexes the sites pts, with cells sized for a few sites each.
func newGrid(sites []inventory.Site, pts []int32) *grid {
	g := &grid{}
	g.index(sites, pts, new([]int32))
	return g
}

// index makes g the index of the sites pts, in g's memory (new memory for
// what it lacks); next is a buffer of the cells' counts, kept by the
// caller.
func (g *grid) index(sites []inventory.Site, pts []int32, next *[]int32) {
	*g = grid{sites: sites, off: g.off[:0], items: g.items[:0], xyz: g.xyz[:0]}
	if len(pts) == 0 {
		return
	}
	minLat, maxLat, minLon, maxLon := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, p := range pts {
		s := &sites[p]
		minLat, maxLat = min(minLat, s.Lat), max(maxLat, s.Lat)
		minLon, maxLon = min(minLon, s.Lon), max(maxLon, s.Lon)
	}
	g.maxAbsLat = max(math.Abs(minLat), math.Abs(maxLat))
	area := (maxLat - minLat + 0.01) * (maxLon - minLon + 0.01)
	g.cell = max(math.Sqrt(4*area/float64(len(pts))), 0.01)
	g.lat0, g.lon0 = minLat, minLon
	g.nLat = int((maxLat-minLat)/g.cell) + 1
	g.nLon = int((maxLon-minLon)/g.cell) + 1
	g.off = reuse(g.off, g.nLat*g.nLon+1)
	clear(g.off)
	for _, p := range pts {
		g.off[g.cellOf(sites[p].Lat, sites[p].Lon)+1]++
	}
	for i := 1; i < len(g.off); i++ {
		g.off[i] += g.off[i-1]
	}
	g.items = reuse(g.items, len(pts))
	g.xyz = reuse(g.xyz, len(pts))
	*next = append((*next)[:0], g.off[:len(g.off)-1]...)
	at := *next
	for _, p := range pts {
		i := g.cellOf(sites[p].Lat, sites[p].Lon)
		g.items[at[i]] = p
		g.xyz[at[i]] = unitVector(sites[p].Lat, sites[p].Lon)
		at[i]++
	}
}

// rowCol returns the cell coordinates of a point, which may lie outside.
func (g *grid) rowCol(lat, lon float64) (int, int) {
	return int(math.Floor((lat - g.lat0) / g.cell)), int(math.Floor((lon - g.lon0) / g.cell))
}

// cellOf returns the index of the cell of a point inside the grid.
func (g *grid) cellOf(lat, lon float64) int {
	r, c := g.rowCol(lat, lon)
	r, c = min(max(r, 0), g.nLat-1), min(max(c, 0), g.nLon-1)
	return r*g.nLon + c
}

// nearest returns the site nearest to (lat, lon) and its distance in km,
// or -1. It visits rings of cells around the point's cell until no
// unvisited cell can hold a nearer site: a site outside the square of
// cells visited differs from the point by at least Δφ in latitude (the
// point's distance to the square's edge above or below) or Δλ in
// longitude (to its edge left or right), so its chord is at least
// 2·sin(Δφ/2) or 2·cos(φmax)·sin(Δλ/2) (the chord between two points
// whose longitudes differ by Δλ is at least 2·√(cos φ1·cos φ2)·sin(Δλ/2)).
func (g *grid) nearest(lat, lon float64) (int32, float64) {
	s, _, km := g.nearestChord(unitVector(lat, lon), lat, lon)
	return s, km
}

// nearestChord is nearest, given the point's unit vector q as well; it
// returns the site's squared chord too (+Inf when there is none).
func (g *grid) nearestChord(q [3]float64, lat, lon float64) (int32, float64, float64) {
	if len(g.items) == 0 {
		return -1, math.Inf(1), 0
	}
	r0, c0 := g.rowCol(lat, lon)
	maxRing := max(abs(r0), abs(g.nLat-1-r0), abs(c0), abs(g.nLon-1-c0))
	cosMin := math.Cos(math.Min(math.Max(g.maxAbsLat, math.Abs(lat)), 90) * math.Pi / 180)
	// Sites are compared by the squared chord between unit vectors, which
	// orders them as the great-circle distance does, without trigonometry.
	best, bestChord := int32(-1), math.Inf(1)
	visit := func(r, c int) {
		if r < 0 || r >= g.nLat || c < 0 || c >= g.nLon {
			return
		}
		i := r*g.nLon + c
		for k := g.off[i]; k < g.off[i+1]; k++ {
			ch := chord(&g.xyz[k], &q)
			if p := g.items[k]; ch < bestChord || (ch == bestChord && p < best) {
				best, bestChord = p, ch
			}
		}
	}
	// Rings that miss the grid entirely are skipped.
	first := max(0, -r0, r0-(g.nLat-1), -c0, c0-(g.nLon-1))
	for ring := first; ring <= maxRing; ring++ {
		if ring == 0 {
			visit(r0, c0)
		} else {
			cLo, cHi := max(c0-ring, 0), min(c0+ring, g.nLon-1)
			for c := cLo; c <= cHi; c++ {
				visit(r0-ring, c)
				visit(r0+ring, c)
			}
			rLo, rHi := max(r0-ring+1, 0), min(r0+ring-1, g.nLat-1)
			for r := rLo; r <= rHi; r++ {
				visit(r, c0-ring)
				visit(r, c0+ring)
			}
		}
		if best >= 0 {
			if lb := g.beyond(lat, lon, r0, c0, ring, cosMin); lb*lb >= bestChord {
				break
			}
		}
	}
	if best < 0 {
		return -1, math.Inf(1), 0
	}
	return best, bestChord, Distance(lat, lon, g.sites[best].Lat, g.sites[best].Lon)
}

// chord returns the squared chord between two points of the unit sphere,
// which orders sites as the great-circle distance does. Each product is
// rounded on its own, wherever the function is inlined.
func chord(a, b *[3]float64) float64 {
	dx, dy, dz := a[0]-b[0], a[1]-b[1], a[2]-b[2]
	return float64(dx*dx) + float64(dy*dy) + float64(dz*dz)
}

// edgeSlack is what beyond takes off the point's distance to the edges of
// the square (degrees), for the rounding that may put a site on a cell's
// edge into the cell beside.
const edgeSlack = 1e-9

// beyond returns a lower bound of the chord from (lat, lon), in cell (r0,
// c0), to any site outside the square of rings 0 to ring around it.
func (g *grid) beyond(lat, lon float64, r0, c0, ring int, cosMin float64) float64 {
	const rad = math.Pi / 180
	dLat := min(lat-(g.lat0+float64(r0-ring)*g.cell), g.lat0+float64(r0+ring+1)*g.cell-lat) - edgeSlack
	dLon := min(lon-(g.lon0+float64(c0-ring)*g.cell), g.lon0+float64(c0+ring+1)*g.cell-lon) - edgeSlack
	lb := 2 * math.Sin(min(max(dLat, 0)*rad, math.Pi)/2)
	return min(lb, 2*cosMin*math.Sin(min(max(dLon, 0)*rad, math.Pi)/2))
}

// unitVector returns the point (lat, lon) in degrees on the unit sphere.
func unitVector(lat, lon float64) [3]float64 {
	const rad = math.Pi / 180
	sl, cl := math.Sincos(lat * rad)
	so, co := math.Sincos(lon * rad)
	return [3]float64{cl * co, cl * so, sl}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// Distance returns the great-circle distance in km between two points
// given in decimal degrees (haversine).
func Distance(lat1, lon1, lat2, lon2 float64) float64 {
	const rad = math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * EarthRadiusKm * math.Asin(math.Sqrt(math.Min(h, 1)))
}
