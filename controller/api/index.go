package api

import (
	"math"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/ngic/ngic/controller/coverage"
)

// index is what the API needs to answer quickly from one coverage result:
// codes to positions, each region's children, and the villages in the
// order of a walk of the tree so that a region's subtree is one span of
// it, with its centroid and extent. It is built once per result.
//
// An index holds its result (acquired from the Source) until its last
// holder releases it: the server while the index is its current one, and
// each request using it, from acquireIndex to the end of its answer.
type index struct {
	res *coverage.Result
	// refs counts the index's holders; at zero done releases res, and
	// the index can never be acquired again.
	refs atomic.Int64
	done func()
	// regions maps a region's code to its index in res; byCode lists
	// the villages' indexes in the order of their codes (a map of 700,000
	// codes would take ten times the memory).
	regions map[string]int32
	byCode  []int32
	// children are the regions whose parent is a region (by index), and
	// roots those without; nChildren counts regions and villages.
	children  [][]int32
	roots     []int32
	nChildren []int
	// order lists the villages (indexes into res.Villages) region by
	// region; span[r] is region r's part of it, pos[v] village v's place.
	order []int32
	span  [][2]int32
	pos   []int32
	// geo is each region's centroid and extent, all the nation's.
	geo []extent
	all extent
	// gapVillage is the village of each gap.
	gapVillage []int32
}

// extent is a region's villages' centroid and bounding box.
type extent struct {
	n                              int
	lat, lon                       float64
	minLon, minLat, maxLon, maxLat float64
}

// acquireIndex returns the index of the current result, building it when
// the result changed, held until the caller calls its release (nil
// without a result; release of nil does nothing).
func (s *Server) acquireIndex() *index {
	res, done := s.src.AcquireCoverage()
	if res == nil {
		done()
		return nil
	}
	if ix := s.index.Load(); ix != nil && ix.res == res && ix.acquire() {
		done() // the index holds res already
		return ix
	}
	ix := buildIndex(res, done)
	ix.refs.Store(2) // this request's, and the server's once it is current
	for {
		old := s.index.Load()
		if old != nil && old.res == res { // indexed meanwhile by another request: this one is only ours
			ix.release()
			return ix
		}
		if s.index.CompareAndSwap(old, ix) {
			old.release()
			break
		}
	}
	s.CoverageChanged() // a newer result came while this one was indexed
	return ix
}

// acquire adds a holder, unless the index has been released (false).
func (ix *index) acquire() bool {
	for {
		n := ix.refs.Load()
		if n <= 0 {
			return false
		}
		if ix.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// release removes a holder (nil: none); the last releases the result.
func (ix *index) release() {
	if ix == nil {
		return
	}
	switch n := ix.refs.Add(-1); {
	case n == 0:
		ix.done()
	case n < 0:
		panic("api: a coverage index released more often than held")
	}
}

// CoverageChanged drops the index of the previous coverage result, which
// holds that result (and through it its inventory) until its last
// request is answered: a source calls it when its result changes, so that
// the previous result is released as soon as no request reads it.
func (s *Server) CoverageChanged() {
	ix := s.index.Load()
	if ix == nil {
		return
	}
	res, done := s.src.AcquireCoverage()
	done() // compared, never read
	if ix.res != res && s.index.CompareAndSwap(ix, nil) {
		ix.release()
	}
}

// visible is visibility, of the current result's index.
func (s *Server) visible(r *http.Request) visibility {
	ix := s.acquireIndex()
	defer ix.release()
	return s.visibility(r, ix)
}

// buildIndex indexes res, which done releases.
func buildIndex(res *coverage.Result, done func()) *index {
	ix := &index{res: res, done: done, regions: make(map[string]int32, len(res.Regions)),
		byCode: make([]int32, len(res.Villages))}
	for i := range res.Regions {
		ix.regions[res.Regions[i].Code] = int32(i)
	}
	for i := range ix.byCode {
		ix.byCode[i] = int32(i)
	}
	slices.SortFunc(ix.byCode, func(a, b int32) int { return strings.Compare(res.Villages[a].Code, res.Villages[b].Code) })
	nr := len(res.Regions)
	ix.children = make([][]int32, nr)
	ix.nChildren = make([]int, nr)
	for i := range res.Regions {
		p, ok := ix.regions[res.Regions[i].Parent]
		if !ok {
			ix.roots = append(ix.roots, int32(i))
			continue
		}
		ix.children[p] = append(ix.children[p], int32(i))
		ix.nChildren[p]++
	}
	villagesOf := make([][]int32, nr)
	var orphans []int32
	for i := range res.Villages {
		p, ok := ix.regions[res.Villages[i].Parent]
		if !ok {
			orphans = append(orphans, int32(i))
			continue
		}
		villagesOf[p] = append(villagesOf[p], int32(i))
		ix.nChildren[p]++
	}
	ix.order = make([]int32, 0, len(res.Villages))
	ix.span = make([][2]int32, nr)
	ix.geo = make([]extent, nr)
	var walk func(r int32)
	walk = func(r int32) { // depth is at most the levels of regions
		lo := int32(len(ix.order))
		ix.order = append(ix.order, villagesOf[r]...)
		for _, c := range ix.children[r] {
			walk(c)
		}
		ix.span[r] = [2]int32{lo, int32(len(ix.order))}
	}
	for _, r := range ix.roots {
		walk(r)
	}
	ix.order = append(ix.order, orphans...)
	ix.pos = make([]int32, len(res.Villages))
	for k, v := range ix.order {
		ix.pos[v] = int32(k)
	}
	for r := range ix.span {
		ix.geo[r] = ix.extentOf(ix.order[ix.span[r][0]:ix.span[r][1]])
	}
	ix.all = ix.extentOf(ix.order)
	ix.gapVillage = make([]int32, len(res.Gaps))
	for i := range res.Gaps {
		v, ok := ix.village(res.Gaps[i].Code)
		if !ok {
			v = -1
		}
		ix.gapVillage[i] = v
	}
	return ix
}

// village returns the index in res.Villages of the village code.
func (ix *index) village(code string) (int32, bool) {
	vs := ix.res.Villages
	k, ok := slices.BinarySearchFunc(ix.byCode, code, func(v int32, c string) int { return strings.Compare(vs[v].Code, c) })
	if !ok {
		return -1, false
	}
	return ix.byCode[k], true
}

// extentOf computes the centroid and extent of villages.
func (ix *index) extentOf(villages []int32) extent {
	e := extent{minLon: math.Inf(1), minLat: math.Inf(1), maxLon: math.Inf(-1), maxLat: math.Inf(-1)}
	for _, v := range villages {
		vl := &ix.res.Villages[v]
		e.n++
		e.lat += vl.Lat
		e.lon += vl.Lon
		e.minLon, e.maxLon = min(e.minLon, vl.Lon), max(e.maxLon, vl.Lon)
		e.minLat, e.maxLat = min(e.minLat, vl.Lat), max(e.maxLat, vl.Lat)
	}
	if e.n > 0 {
		e.lat /= float64(e.n)
		e.lon /= float64(e.n)
	}
	return e
}

// extentFor returns the extent of root's subtree ("" for the nation).
func (ix *index) extentFor(root string) extent {
	if root == "" {
		return ix.all
	}
	if r, ok := ix.regions[root]; ok {
		return ix.geo[r]
	}
	return ix.extentOf(ix.villageSpan(root))
}

// bbox returns the extent as [minLon, minLat, maxLon, maxLat], nil when
// empty.
func (e extent) bbox() *[4]float64 {
	if e.n == 0 {
		return nil
	}
	return &[4]float64{e.minLon, e.minLat, e.maxLon, e.maxLat}
}

// region returns the index in res.Regions of the region code.
func (ix *index) region(code string) (int32, bool) {
	k, ok := ix.regions[code]
	return k, ok
}

// parentOf returns the parent code of a region or village code, and
// whether the code is known.
func (ix *index) parentOf(code string) (string, bool) {
	if r, ok := ix.regions[code]; ok {
		return ix.res.Regions[r].Parent, true
	}
	if v, ok := ix.village(code); ok {
		return ix.res.Villages[v].Parent, true
	}
	return "", false
}

// within reports whether code (a region or a village) lies in root's
// subtree; every code lies within "".
func (ix *index) within(code, root string) bool {
	if root == "" {
		return true
	}
	for range 64 { // deeper than any tree of levels
		if code == root {
			return true
		}
		p, ok := ix.parentOf(code)
		if !ok || p == "" {
			return false
		}
		code = p
	}
	return false
}

// villageSpan returns the villages of root's subtree ("" for all), in
// walk order.
func (ix *index) villageSpan(root string) []int32 {
	if root == "" {
		return ix.order
	}
	if r, ok := ix.regions[root]; ok {
		sp := ix.span[r]
		return ix.order[sp[0]:sp[1]]
	}
	if v, ok := ix.village(root); ok {
		return ix.order[ix.pos[v] : ix.pos[v]+1]
	}
	return nil
}

// inSpan reports whether village v lies in root's subtree.
func (ix *index) inSpan(v int32, root string) bool {
	if root == "" {
		return true
	}
	if v < 0 {
		return false
	}
	if r, ok := ix.regions[root]; ok {
		sp, p := ix.span[r], ix.pos[v]
		return sp[0] <= p && p < sp[1]
	}
	return ix.res.Villages[v].Code == root
}
