package coverage

import "github.com/ngic/ngic/controller/inventory"

// count is villages with their households and population.
type count struct {
	villages        int
	households, pop int64
}

func (n *count) add(v *Village) {
	n.villages++
	n.households += v.Households
	n.pop += v.Population
}

// share turns n into a Share of total.
func (n count) share(total count) Share {
	s := Share{Villages: n.villages, Households: n.households, Population: n.pop}
	if total.households > 0 {
		s.ShareHouseholds = float64(n.households) / float64(total.households)
	}
	if total.pop > 0 {
		s.SharePopulation = float64(n.pop) / float64(total.pop)
	}
	return s
}

func (n *count) merge(o *count) {
	n.villages += o.villages
	n.households += o.households
	n.pop += o.pop
}

// acc accumulates a subset of the villages of a region.
type acc struct {
	total                               count
	tiers                               []count
	measured, declared, override, none  count
	digital, analogue, converged, voice count
	outage, stale                       count
	subscribers, nextGen                float64
}

func (a *acc) add(v *Village) {
	a.total.add(v)
	if v.Tier >= 0 && v.Tier < len(a.tiers) {
		a.tiers[v.Tier].add(v)
	}
	switch v.Evidence {
	case EvidenceMeasured:
		a.measured.add(v)
	case EvidenceDeclared:
		a.declared.add(v)
	case EvidenceOverride:
		a.override.add(v)
	default:
		a.none.add(v)
	}
	switch v.TV {
	case TVDigital:
		a.digital.add(v)
	case TVAnalogue:
		a.analogue.add(v)
	}
	if v.Converged {
		a.converged.add(v)
	}
	if v.Voice {
		a.voice.add(v)
	}
	if v.Outage {
		a.outage.add(v)
	}
	if v.Stale {
		a.stale.add(v)
	}
	a.subscribers += v.SubscribersOnline
	a.nextGen += v.NextGenSubscribers
}

// reset empties a, keeping its tiers' room.
func (a *acc) reset() {
	tiers := a.tiers
	clear(tiers)
	*a = acc{tiers: tiers}
}

// set makes a's figures those subset s was made from (s has a's tiers),
// keeping a's tiers' room.
func (a *acc) set(s *Subset) {
	tiers := a.tiers
	for i := range tiers {
		tiers[i] = countOf(&s.Tiers[i].Share)
	}
	*a = acc{total: count{s.Villages, s.Households, s.Population}, tiers: tiers,
		measured: countOf(&s.Measured), declared: countOf(&s.Declared), override: countOf(&s.Override),
		none: countOf(&s.NoEvidence), digital: countOf(&s.DigitalTV), analogue: countOf(&s.AnalogueTV),
		converged: countOf(&s.Converged), voice: countOf(&s.Voice), outage: countOf(&s.Outage), stale: countOf(&s.Stale),
		subscribers: s.SubscribersOnline, nextGen: s.NextGenSubscribers}
}

// countOf is the count a Share was made from.
func countOf(s *Share) count { return count{s.Villages, s.Households, s.Population} }

// merge adds the figures of o (a child region's) to a.
func (a *acc) merge(o *acc) {
	a.total.merge(&o.total)
	for i := range a.tiers {
		a.tiers[i].merge(&o.tiers[i])
	}
	for _, p := range [...]struct{ dst, src *count }{{&a.measured, &o.measured}, {&a.declared, &o.declared},
		{&a.override, &o.override}, {&a.none, &o.none}, {&a.digital, &o.digital}, {&a.analogue, &o.analogue},
		{&a.converged, &o.converged}, {&a.voice, &o.voice}, {&a.outage, &o.outage}, {&a.stale, &o.stale}} {
		p.dst.merge(p.src)
	}
	a.subscribers += o.subscribers
	a.nextGen += o.nextGen
}

// subset turns the accumulator into a Subset, whose Tiers are dst (one
// per tier).
func (a *acc) subset(tiers []Tier, dst []TierShare) Subset {
	t := a.total
	s := Subset{Villages: t.villages, Households: t.households, Population: t.pop,
		Tiers:    dst,
		Measured: a.measured.share(t), Declared: a.declared.share(t), Override: a.override.share(t),
		NoEvidence: a.none.share(t), DigitalTV: a.digital.share(t), AnalogueTV: a.analogue.share(t),
		Converged: a.converged.share(t), Voice: a.voice.share(t), Outage: a.outage.share(t), Stale: a.stale.share(t),
		SubscribersOnline: a.subscribers, NextGenSubscribers: a.nextGen}
	for i := range tiers {
		s.Tiers[i] = TierShare{Name: tiers[i].Name, Share: a.tiers[i].share(t)}
	}
	if a.subscribers > 0 {
		s.NextGenShare = a.nextGen / a.subscribers
	}
	if t.households > 0 {
		s.TakeUp = a.subscribers / float64(t.households)
	}
	if tv := a.digital.households + a.analogue.households; tv > 0 {
		s.DigitalProgress = float64(a.digital.households) / float64(tv)
	}
	return s
}

// rollUp totals the villages into every region above them (each village
// counts in all its ancestors), for all villages and for priority ones.
// It walks the tree from each root, keeping the accumulators of the path
// only (the levels bound its depth); a region adds its own villages first,
// then its child regions, deepest level first, each in file order.
func (c *computation) rollUp(vills []Village) []Region {
	plan := c.rollUpPlan()
	out := reuse(c.mem.regions, int(plan.regions))
	// The subsets' tiers are one array: region k's All has part 2k, its
	// Priority part 2k+1.
	c.mem.tiers = reuse(c.mem.tiers, 2*int(plan.regions)*len(c.tiers))
	c.rollUpLevel(plan, vills, out)
	w := &rollUpWalk{c: c, vills: vills, at: plan.at, out: out, done: plan.done}
	for _, i := range plan.roots {
		w.visit(i, 0)
	}
	return out
}

// rollPlan is what rollUp needs of the inventory alone, made at its first
// computation and kept with its preparation.
type rollPlan struct {
	// at maps a region to its place in the output (-1 for a village);
	// regions counts the places.
	at      []int32
	regions int32
	// level is the regions of the level that has the most (rollUpLevel's),
	// in file order; done marks their places in the output.
	level []int32
	done  []bool
	// roots are the regions without a parent region, in file order.
	roots []int32
}

// rollUpPlan returns the inventory's rollPlan, made once.
func (c *computation) rollUpPlan() *rollPlan {
	c.rollOnce.Do(func() { c.roll = newRollPlan(c.inv) })
	return c.roll
}

// newRollPlan makes the rollPlan of inv.
func newRollPlan(inv *inventory.Inventory) *rollPlan {
	p := &rollPlan{at: make([]int32, len(inv.Regions))}
	var perLevel [inventory.LevelVillage]int
	for i := range inv.Regions {
		p.at[i] = -1
		if lv := inv.Regions[i].Level; lv != inventory.LevelVillage {
			p.at[i] = p.regions
			p.regions++
			perLevel[lv]++
		}
	}
	lv := inventory.Level(0)
	for l := range perLevel {
		if perLevel[l] > perLevel[lv] {
			lv = inventory.Level(l)
		}
	}
	p.done = make([]bool, p.regions)
	p.level = make([]int32, 0, perLevel[lv])
	for i := range inv.Regions {
		if r := &inv.Regions[i]; p.at[i] >= 0 && r.Level == lv {
			p.done[p.at[i]] = true
			p.level = append(p.level, int32(i))
		}
		if r := &inv.Regions[i]; p.at[i] >= 0 && (r.ParentIx < 0 || p.at[r.ParentIx] < 0) {
			p.roots = append(p.roots, int32(i))
		}
	}
	return p
}

// rollUpLevel totals first the regions of the level that has the most,
// each with its subtree, in chunks on GOMAXPROCS goroutines (each with a
// walk of its own), and writes their Regions (plan.done marks them); the
// walk from the roots then takes their figures from their Regions as
// they are: the figures are added up in the same order as by one walk.
func (c *computation) rollUpLevel(plan *rollPlan, vills []Village, out []Region) {
	parallelChunks(len(plan.level), 64, func() func(lo, hi int) {
		w := &rollUpWalk{c: c, vills: vills, at: plan.at, out: out}
		return func(lo, hi int) {
			for _, i := range plan.level[lo:hi] {
				w.visit(i, 0)
			}
		}
	})
}

// rollUpWalk is the state of rollUp's walk: the accumulators of each depth
// of the path, all villages and priority ones.
type rollUpWalk struct {
	c         *computation
	vills     []Village
	at        []int32
	out       []Region
	all, prio []acc
	// done is, by place in the output, whether a region's Region is
	// written already (nil: none is).
	done []bool
}

// visit totals region i, at depth d of the walk, into w.all[d] and
// w.prio[d], and writes its Region.
func (w *rollUpWalk) visit(i int32, d int) {
	inv := w.c.inv
	nt := len(w.c.tiers)
	for len(w.all) <= d {
		w.all = append(w.all, acc{tiers: make([]count, nt)})
		w.prio = append(w.prio, acc{tiers: make([]count, nt)})
	}
	all, prio := &w.all[d], &w.prio[d]
	if w.done != nil && w.done[w.at[i]] {
		r := &w.out[w.at[i]]
		all.set(&r.All)
		prio.set(&r.Priority)
		return
	}
	all.reset()
	prio.reset()
	r := &inv.Regions[i]
	for _, ch := range r.Children {
		if w.at[ch] >= 0 {
			continue
		}
		vl := &w.vills[w.c.villagePos[ch]]
		all.add(vl)
		if vl.Priority {
			prio.add(vl)
		}
	}
	for lv := inventory.LevelVillage - 1; lv > r.Level; lv-- {
		for _, ch := range r.Children {
			if w.at[ch] >= 0 && inv.Regions[ch].Level == lv {
				w.visit(ch, d+1)
				all, prio = &w.all[d], &w.prio[d] // visit may grow the path
				all.merge(&w.all[d+1])
				prio.merge(&w.prio[d+1])
			}
		}
	}
	t := all.total
	k := int(w.at[i])
	w.out[k] = Region{Code: r.Code, Name: r.Name, Level: r.Level.String(), Parent: r.Parent,
		Villages: t.villages, Households: t.households, Population: t.pop,
		All: all.subset(w.c.tiers, w.tierShares(2*k)), Priority: prio.subset(w.c.tiers, w.tierShares(2*k+1))}
}

// tierShares returns part k of the subsets' tiers.
func (w *rollUpWalk) tierShares(k int) []TierShare {
	nt := len(w.c.tiers)
	return w.c.mem.tiers[k*nt : (k+1)*nt : (k+1)*nt]
}
