package api

import (
	"net/http"
	"sync"
	"time"

	"github.com/ngic/ngic/controller/coverage"
)

// MaxConvergenceRegions: a snapshot with more regions than this keeps the
// convergence figures of its regions at county level and above only (a
// national inventory has some 45,000 regions; 400 snapshots of all of them
// would not fit in memory).
const MaxConvergenceRegions = 5000

// figures are one region's convergence figures in one snapshot.
type figures struct {
	converged, digitalTV, digitalProgress, nextGen float32
	tiers                                          []float32
}

// convSnap is what is kept of one snapshot: its tiers' names and the
// figures of its regions ("" is the nation). ok is false for a snapshot
// that could not be read.
type convSnap struct {
	ok      bool
	tiers   []string
	regions map[string]figures
}

// convergence caches the figures of every stored snapshot, read once.
type convergence struct {
	mu    sync.Mutex
	snaps map[time.Time]*convSnap
}

func newConvergence() *convergence { return &convergence{snaps: map[time.Time]*convSnap{}} }

// summarise keeps the figures of a snapshot.
func summarise(res *coverage.Result) *convSnap {
	cs := &convSnap{ok: true, regions: map[string]figures{}}
	for _, t := range res.Tiers {
		cs.tiers = append(cs.tiers, t.Name)
	}
	all := len(res.Regions) <= MaxConvergenceRegions
	var hh, conv, dtv, atv int64
	var subs, nextGen float64
	tierHH := make([]int64, len(res.Tiers))
	for i := range res.Regions {
		rg := &res.Regions[i]
		a := &rg.All
		if all || isAboveTownship(rg.Level) {
			f := figures{converged: float32(a.Converged.ShareHouseholds), digitalTV: float32(a.DigitalTV.ShareHouseholds),
				digitalProgress: float32(a.DigitalProgress), nextGen: float32(a.NextGenShare)}
			for _, t := range a.Tiers {
				f.tiers = append(f.tiers, float32(t.ShareHouseholds))
			}
			cs.regions[rg.Code] = f
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
	n := figures{converged: ratio(float64(conv), float64(hh)), digitalTV: ratio(float64(dtv), float64(hh)),
		digitalProgress: ratio(float64(dtv), float64(dtv+atv)), nextGen: ratio(nextGen, subs)}
	for _, t := range tierHH {
		n.tiers = append(n.tiers, ratio(float64(t), float64(hh)))
	}
	cs.regions[""] = n
	return cs
}

// load reads the snapshots not yet summarised and forgets those no longer
// stored; it returns the snapshots' times, oldest first.
func (c *convergence) load(src Source) ([]time.Time, error) {
	times, err := src.Snapshots()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	keep := make(map[time.Time]bool, len(times))
	for _, t := range times {
		keep[t] = true
		if _, ok := c.snaps[t]; ok {
			continue
		}
		res, err := src.Snapshot(t)
		if err != nil {
			c.snaps[t] = &convSnap{}
			continue
		}
		c.snaps[t] = summarise(res)
	}
	for t := range c.snaps {
		if !keep[t] {
			delete(c.snaps, t)
		}
	}
	return times, nil
}

// Warm reads and summarises the stored coverage snapshots not yet read, so
// that the first request for convergence does not wait for them.
func (s *Server) Warm() error {
	_, err := s.conv.load(s.src)
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
}

func (s *Server) convergence(w http.ResponseWriter, r *http.Request) {
	root := callerOf(r).p.region
	if asked := r.URL.Query().Get("region"); asked != "" || root != "" {
		ix := s.needIndex(w)
		if ix == nil {
			return
		}
		var ok bool
		if root, ok = s.scope(w, r, ix, asked); !ok {
			return
		}
	}
	times, err := s.conv.load(s.src)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "coverage snapshots: %v", err)
		return
	}
	d := convDoc{Region: root, Series: []convPoint{}}
	s.conv.mu.Lock()
	for _, t := range times {
		cs := s.conv.snaps[t]
		if cs == nil || !cs.ok {
			continue
		}
		f, ok := cs.regions[root]
		if !ok {
			continue
		}
		p := convPoint{Time: t, ConvergedShare: f.converged, DigitalTVShare: f.digitalTV,
			DigitalProgress: f.digitalProgress, NextGenShare: f.nextGen, Tiers: make(map[string]float32, len(f.tiers))}
		for k, v := range f.tiers {
			if k < len(cs.tiers) {
				p.Tiers[cs.tiers[k]] = v
			}
		}
		d.Series = append(d.Series, p)
	}
	s.conv.mu.Unlock()
	writeJSON(w, http.StatusOK, d)
}
