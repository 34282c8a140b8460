package coverage

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/ngic/ngic/controller/inventory"
)

// Pool computes results of ComputeCompact into the memory of results its
// caller has released, instead of new memory: the daemon recomputes one
// inventory after every poll cycle, and a national result is some 260 MB
// (700,000 villages) that the runtime would otherwise find, fault in and
// collect at every recompute.
//
// Ownership: a result stays as computed until it is given to Release.
// Double-buffering, the caller serves the latest result while the next is
// computed, and releases a result only once no reader holds it or
// anything read from it (a village, gap, region, subset or trail): the
// memory of a released result is overwritten by the next computation.
// Results never released are left to the garbage collector, as
// ComputeCompact's are.
//
// A Pool keeps the memory of one released result (the latest), which
// still points into that result's inventory until a computation fills it:
// a caller that drops an inventory and computes no more drops the Pool
// too. The zero Pool is ready for use, and its methods may be called
// concurrently.
type Pool struct {
	mu   sync.Mutex
	free *resultMem
}

// resultMem is the memory of one result of a Pool: its villages, gaps,
// regions, the tiers of its regions' subsets, and its compact trails'
// devices and blocks of entries.
type resultMem struct {
	villages []Village
	gaps     []Gap
	regions  []Region
	tiers    []TierShare
	devs     []devTrail
	blocks   [][]entry
}

// ComputeCompact is ComputeCompact, computed into the memory of the result
// released last, when there is one (new memory for what it lacks).
func (p *Pool) ComputeCompact(inv *inventory.Inventory, devs []DeviceStatus, cfg *Config, now time.Time) *Result {
	p.mu.Lock()
	mem := p.free
	p.free = nil
	p.mu.Unlock()
	if mem == nil {
		mem = &resultMem{}
	}
	return computeInto(inv, devs, cfg, now, true, mem)
}

// Release gives the memory of r, a result of p's ComputeCompact, to p for
// a later computation, and empties r (its Villages, Gaps and Regions
// become nil). The caller promises that nothing of r is read any more,
// by anyone. Releasing a result of ComputeCompact or Compute, or one
// released already, does nothing.
func (p *Pool) Release(r *Result) {
	if r == nil || r.mem == nil {
		return
	}
	mem := r.mem
	r.mem, r.Villages, r.Gaps, r.Regions = nil, nil, nil, nil
	p.mu.Lock()
	p.free = mem
	p.mu.Unlock()
}

// reuse returns s[:n] when s has room for n, else a new slice of n.
func reuse[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}

// work is the buffers of one computation that no result keeps: the
// devices' standings, the rows' ports and the take-up split. The
// preparation of an inventory keeps one for the next computation.
type work struct {
	devs     []devInfo
	rowPort  []int32
	portBase []int32
	portHH   []float64
	gapAt    []int32
	below    []bool
	// The best tier served at each site by the last computation (and a
	// spare for this one's), its number of tiers below the top, and the
	// nearest site it found for each village: what gaps may keep.
	prevSiteTier, siteTierSpare []int
	gridTiers                   int
	near                        []nearSite
	// kept counts the gaps whose nearest site the last computation kept.
	kept atomic.Int64
	// scratches are the villages' workers' buffers (villages).
	scratches []*scratch
	// siteTables and siteVillages are the serving sites' workers' tables,
	// siteVillage their merge (servingSites).
	siteTables   [][]int
	siteVillages [][]int32
	siteVillage  []int32
	// grids are the gaps' grids of sites, gridPts and gridNext their
	// making's buffers.
	grids    []*grid
	gridPts  []int32
	gridNext []int32
}

// takeWork returns the kept buffers, or empty ones when another
// computation holds them.
func (p *prepared) takeWork() *work {
	p.workMu.Lock()
	defer p.workMu.Unlock()
	w := p.work
	p.work = nil
	if w == nil {
		w = &work{}
	}
	return w
}

// putWork keeps w for the next computation, without what its devices
// point to (evidence, the inventory's strings).
func (p *prepared) putWork(w *work) {
	clear(w.devs)
	p.workMu.Lock()
	p.work = w
	p.workMu.Unlock()
}
