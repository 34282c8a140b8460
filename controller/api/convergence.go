package api

import (
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/ngic/ngic/controller/coverage"
)

// MaxConvergenceRegions: a snapshot with more regions than this keeps the
// convergence figures of its regions at county level and above for its
// whole history, and those below (townships) only for the newest
// snapshots whose figures fit in MaxFineFigures (a national inventory has
// some 45,000 regions; 400 snapshots of all of them would not fit in
// memory).
const MaxConvergenceRegions = 5000

// MaxFineFigures bounds the figures kept of the regions below county level
// of large snapshots, over all snapshots (float32s: 64 MiB).
const MaxFineFigures = 16 << 20

// The bounds in force (variables so that a test can lower them).
var (
	maxConvergenceRegions = MaxConvergenceRegions
	maxFineFigures        = MaxFineFigures
)

// Figures kept of a region in one snapshot, in this order, then one share
// per tier.
const (
	figConverged = iota
	figDigitalTV
	figDigitalProgress
	figNextGen
	figTiers
)

// convSnap is what is kept of one snapshot: its tiers' names and, per
// region slot of the convergence cache, figTiers+len(tiers) figures (NaN
// first for a region the snapshot lacks). ok is false for a snapshot that
// could not be read. fine holds, the same way, the regions below county
// level of a large snapshot, by their own slots, until dropped to keep
// within maxFineFigures.
type convSnap struct {
	ok      bool
	tiers   []string
	vals    []float32
	fine    []float32
	dropped bool // fine was let go
}

// figuresOf returns the figures of slot, or nil.
func (cs *convSnap) figuresOf(slot int) []float32 { return cs.figuresIn(cs.vals, slot) }

// fineFiguresOf returns the figures of a fine slot, or nil.
func (cs *convSnap) fineFiguresOf(slot int) []float32 { return cs.figuresIn(cs.fine, slot) }

func (cs *convSnap) figuresIn(vals []float32, slot int) []float32 {
	w := figTiers + len(cs.tiers)
	if !cs.ok || slot < 0 || (slot+1)*w > len(vals) || math.IsNaN(float64(vals[slot*w])) {
		return nil
	}
	return vals[slot*w : (slot+1)*w]
}

// convergence caches the figures of every stored snapshot, read once: a
// slot per region code, shared by the snapshots, and a row of float32 per
// snapshot (400 snapshots of the 3,300 regions a national inventory has
// down to its counties take some 40 MB).
type convergence struct {
	mu        sync.Mutex
	slots     map[string]int // "" is the nation
	fineSlots map[string]int // regions below county level of large snapshots
	snaps     map[time.Time]*convSnap

	loading sync.Mutex // one reader of the snapshots at a time
}

func newConvergence() *convergence {
	return &convergence{slots: map[string]int{"": 0}, fineSlots: map[string]int{}, snaps: map[time.Time]*convSnap{}}
}

// slotIn returns the slot of a region code in slots, making one (c.mu
// held).
func slotIn(slots map[string]int, code string) int {
	k, ok := slots[code]
	if !ok {
		k = len(slots)
		slots[code] = k
	}
	return k
}

// slotOf returns the slot of a region code, making one (c.mu held).
func (c *convergence) slotOf(code string) int { return slotIn(c.slots, code) }

// summarise keeps the figures of a snapshot (c.mu held).
func (c *convergence) summarise(res *coverage.Result) *convSnap {
	cs := &convSnap{ok: true}
	for _, t := range res.Tiers {
		cs.tiers = append(cs.tiers, t.Name)
	}
	w := figTiers + len(cs.tiers)
	put := func(vals *[]float32, slot int, f []float32) {
		for need := (slot + 1) * w; len(*vals) < need; {
			*vals = append(*vals, float32(math.NaN()))
		}
		copy((*vals)[slot*w:], f)
	}
	all := len(res.Regions) <= maxConvergenceRegions
	var hh, conv, dtv, atv int64
	var subs, nextGen float64
	tierHH := make([]int64, len(res.Tiers))
	f := make([]float32, w)
	for i := range res.Regions {
		rg := &res.Regions[i]
		a := &rg.All
		f[figConverged], f[figDigitalTV] = float32(a.Converged.ShareHouseholds), float32(a.DigitalTV.ShareHouseholds)
		f[figDigitalProgress], f[figNextGen] = float32(a.DigitalProgress), float32(a.NextGenShare)
		for k := range min(len(a.Tiers), len(cs.tiers)) {
			f[figTiers+k] = float32(a.Tiers[k].ShareHouseholds)
		}
		if all || isAboveTownship(rg.Level) {
			put(&cs.vals, c.slotOf(rg.Code), f)
		} else {
			put(&cs.fine, slotIn(c.fineSlots, rg.Code), f)
		}
		if rg.Parent != "" {
			continue
		}
		hh += a.Households
		conv += a.Converged.Households
		dtv += a.DigitalTV.Households
		atv += a.AnalogueTV.Households
		subs += a.SubscribersOnline
		nextGen += a.NextGenSubscribers
		for k := range min(len(a.Tiers), len(tierHH)) {
			tierHH[k] += a.Tiers[k].Households
		}
	}
	ratio := func(a, b float64) float32 {
		if b == 0 {
			return 0
		}
		return float32(a / b)
	}
	f[figConverged], f[figDigitalTV] = ratio(float64(conv), float64(hh)), ratio(float64(dtv), float64(hh))
	f[figDigitalProgress], f[figNextGen] = ratio(float64(dtv), float64(dtv+atv)), ratio(nextGen, subs)
	for k, t := range tierHH {
		f[figTiers+k] = ratio(float64(t), float64(hh))
	}
	put(&cs.vals, 0, f)
	return cs
}

// trimFine lets go of the fine figures of the oldest snapshots beyond
// maxFineFigures, newest kept first (c.mu held; times oldest first).
func (c *convergence) trimFine(times []time.Time) {
	kept := 0
	for i := len(times) - 1; i >= 0; i-- {
		cs := c.snaps[times[i]]
		if cs == nil || cs.fine == nil {
			continue
		}
		if kept+len(cs.fine) > maxFineFigures {
			cs.fine, cs.dropped = nil, true
			continue
		}
		kept += len(cs.fine)
	}
}

// load reads the snapshots not yet summarised and forgets those no longer
// stored; it returns the snapshots' times, oldest first. When another
// load is running (the first reading of a long history), wait false
// returns at once with what is cached.
func (c *convergence) load(src Source, wait bool) ([]time.Time, error) {
	times, err := src.Snapshots()
	if err != nil {
		return nil, err
	}
	if wait {
		c.loading.Lock()
	} else if !c.loading.TryLock() {
		return times, nil
	}
	defer c.loading.Unlock()
	keep := make(map[time.Time]bool, len(times))
	for _, t := range times {
		keep[t] = true
		c.mu.Lock()
		_, have := c.snaps[t]
		c.mu.Unlock()
		if have {
			continue
		}
		res, err := src.Snapshot(t) // outside c.mu: a national snapshot takes seconds
		c.mu.Lock()
		if err != nil {
			c.snaps[t] = &convSnap{}
		} else {
			c.snaps[t] = c.summarise(res)
			c.trimFine(times)
		}
		c.mu.Unlock()
	}
	c.mu.Lock()
	for t := range c.snaps {
		if !keep[t] {
			delete(c.snaps, t)
		}
	}
	c.mu.Unlock()
	return times, nil
}

// Warm reads and summarises the stored coverage snapshots not yet read, so
// that the first request for convergence does not wait for them.
func (s *Server) Warm() error {
	_, err := s.conv.load(s.src, true)
	return err
}

// convPoint is one point of a convergence series.
type convPoint struct {
	Time            time.Time          `json:"time"`
	ConvergedShare  float32            `json:"converged_share"`
	DigitalTVShare  float32            `json:"digital_tv_share"`
	DigitalProgress float32            `json:"digital_progress"`
	NextGenShare    float32            `json:"next_gen_share"`
	Tiers           map[string]float32 `json:"tiers"`
}

// convDoc is the answer of /api/v1/convergence.
type convDoc struct {
	Region string      `json:"region"`
	Series []convPoint `json:"series"`
	// Partial is set when older points of a region below county level
	// were let go (MaxFineFigures).
	Partial bool `json:"partial,omitempty"`
}

func (s *Server) convergence(w http.ResponseWriter, r *http.Request) {
	root := callerOf(r).p.region
	if asked := r.URL.Query().Get("region"); asked != "" || root != "" {
		ix := s.needIndex(w)
		if ix == nil {
			return
		}
		defer ix.release()
		var ok bool
		if root, ok = s.scope(w, r, ix, asked); !ok {
			return
		}
	}
	times, err := s.conv.load(s.src, false)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "coverage snapshots: %v", err)
		return
	}
	d := convDoc{Region: root, Series: []convPoint{}}
	s.conv.mu.Lock()
	slot, known := s.conv.slots[root]
	fslot, fine := s.conv.fineSlots[root]
	for _, t := range times {
		cs := s.conv.snaps[t]
		if cs == nil {
			continue
		}
		var f []float32
		if known {
			f = cs.figuresOf(slot)
		}
		if f == nil && fine {
			f = cs.fineFiguresOf(fslot)
			d.Partial = d.Partial || cs.dropped
		}
		if f == nil {
			continue
		}
		p := convPoint{Time: t, ConvergedShare: f[figConverged], DigitalTVShare: f[figDigitalTV],
			DigitalProgress: f[figDigitalProgress], NextGenShare: f[figNextGen], Tiers: make(map[string]float32, len(cs.tiers))}
		for k, name := range cs.tiers {
			p.Tiers[name] = f[figTiers+k]
		}
		d.Series = append(d.Series, p)
	}
	s.conv.mu.Unlock()
	writeJSON(w, http.StatusOK, d)
}
