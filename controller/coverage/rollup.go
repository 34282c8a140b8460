package coverage

import (
	"cmp"
	"slices"

	"github.com/ngic/ngic/controller/inventory"
)

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

// subset turns the accumulator into a Subset.
func (a *acc) subset(tiers []Tier) Subset {
	t := a.total
	s := Subset{Villages: t.villages, Households: t.households, Population: t.pop,
		Tiers:    make([]TierShare, len(tiers)),
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
func (c *computation) rollUp(vills []Village) []Region {
	inv := c.inv
	nt := len(c.tiers)
	// at maps a region to its accumulators (-1 for a village).
	at := make([]int32, len(inv.Regions))
	n := int32(0)
	for i := range inv.Regions {
		at[i] = -1
		if inv.Regions[i].Level != inventory.LevelVillage {
			at[i] = n
			n++
		}
	}
	all := make([]acc, n)
	prio := make([]acc, n)
	flat := make([]count, 2*nt*int(n))
	for i := range all {
		all[i].tiers = flat[2*nt*i : 2*nt*i+nt : 2*nt*i+nt]
		prio[i].tiers = flat[2*nt*i+nt : 2*nt*(i+1) : 2*nt*(i+1)]
	}
	// Each village counts in its parent; each region then in its parent,
	// deepest levels first, so that a region is whole before it is added.
	for v, ri := range inv.Villages() {
		vl := &vills[v]
		if p := inv.Regions[ri].ParentIx; p >= 0 && at[p] >= 0 {
			all[at[p]].add(vl)
			if vl.Priority {
				prio[at[p]].add(vl)
			}
		}
	}
	var order []int32
	for i := range inv.Regions {
		if at[i] >= 0 && inv.Regions[i].ParentIx >= 0 && at[inv.Regions[i].ParentIx] >= 0 {
			order = append(order, int32(i))
		}
	}
	slices.SortStableFunc(order, func(a, b int32) int { return cmp.Compare(inv.Regions[b].Level, inv.Regions[a].Level) })
	for _, i := range order {
		p := at[inv.Regions[i].ParentIx]
		all[p].merge(&all[at[i]])
		prio[p].merge(&prio[at[i]])
	}
	out := make([]Region, 0, n)
	for i := range inv.Regions {
		r := &inv.Regions[i]
		if r.Level == inventory.LevelVillage {
			continue
		}
		a := at[i]
		t := all[a].total
		out = append(out, Region{Code: r.Code, Name: r.Name, Level: r.Level.String(), Parent: r.Parent,
			Villages: t.villages, Households: t.households, Population: t.pop,
			All: all[a].subset(c.tiers), Priority: prio[a].subset(c.tiers)})
	}
	return out
}
