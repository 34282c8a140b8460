package coverage

import "math"

// Directions of a village's change.
const (
	DirectionUp   = "up"
	DirectionDown = "down"
	DirectionSame = "same"
)

// minDelta is the smallest change of a share that Compare reports.
const minDelta = 1e-9

// Compare lists what changed from old to new: the villages whose
// broadband class, its evidence or their TV class changed (villages in
// only one of them too), and per region and subset the household-weighted
// shares that moved. Either may be nil (an empty result).
func Compare(old, new *Result) *Diff {
	if old == nil {
		old = &Result{}
	}
	if new == nil {
		new = &Result{}
	}
	d := &Diff{From: old.Computed, To: new.Computed, Villages: []VillageChange{}, Regions: []RegionChange{}}
	before := make(map[string]int, len(old.Villages))
	for i := range old.Villages {
		before[old.Villages[i].Code] = i
	}
	seen := make(map[string]bool, len(new.Villages))
	for i := range new.Villages {
		n := &new.Villages[i]
		seen[n.Code] = true
		j, ok := before[n.Code]
		if !ok {
			d.Villages = append(d.Villages, VillageChange{Code: n.Code, Name: n.Name, Households: n.Households,
				ToBroadband: n.Broadband, ToEvidence: n.Evidence, ToTV: n.TV, Direction: DirectionUp})
			continue
		}
		o := &old.Villages[j]
		if o.Broadband == n.Broadband && o.Evidence == n.Evidence && o.TV == n.TV {
			continue
		}
		d.Villages = append(d.Villages, VillageChange{Code: n.Code, Name: n.Name, Households: n.Households,
			FromBroadband: o.Broadband, ToBroadband: n.Broadband, Direction: direction(o, new, n),
			FromEvidence: o.Evidence, ToEvidence: n.Evidence, FromTV: o.TV, ToTV: n.TV})
	}
	for i := range old.Villages {
		o := &old.Villages[i]
		if !seen[o.Code] {
			d.Villages = append(d.Villages, VillageChange{Code: o.Code, Name: o.Name, Households: o.Households,
				FromBroadband: o.Broadband, FromEvidence: o.Evidence, FromTV: o.TV, Direction: DirectionDown})
		}
	}
	regions := make(map[string]*Region, len(old.Regions))
	for i := range old.Regions {
		regions[old.Regions[i].Code] = &old.Regions[i]
	}
	for i := range new.Regions {
		n := &new.Regions[i]
		o, ok := regions[n.Code]
		if !ok {
			continue
		}
		for _, sub := range []struct {
			name string
			o, n *Subset
		}{{SubsetAll, &o.All, &n.All}, {SubsetPriority, &o.Priority, &n.Priority}} {
			of, nf := figureMap(sub.o), figures(sub.n)
			for _, f := range nf {
				from := of[f.name] // a tier new to this result was 0 before
				if math.Abs(f.v-from) > minDelta {
					d.Regions = append(d.Regions, RegionChange{Code: n.Code, Name: n.Name, Level: n.Level,
						Subset: sub.name, Figure: f.name, From: from, To: f.v, Delta: f.v - from})
				}
			}
		}
	}
	return d
}

// direction compares the tiers of a village in two results: the old
// tier's position in the new result's tiers where it is there, else its
// old index.
func direction(o *Village, new *Result, n *Village) string {
	from, to := o.Tier, n.Tier
	for i, t := range new.Tiers {
		if t.Name == o.Broadband {
			from = i
		}
	}
	switch {
	case to > from:
		return DirectionUp
	case to < from:
		return DirectionDown
	}
	return DirectionSame
}

// figure is one named share of a subset.
type figure struct {
	name string
	v    float64
}

// figures lists the household-weighted shares of a subset, in a fixed
// order.
func figures(s *Subset) []figure {
	fs := make([]figure, 0, len(s.Tiers)+8)
	for _, t := range s.Tiers {
		fs = append(fs, figure{"tier:" + t.Name, t.ShareHouseholds})
	}
	return append(fs, figure{"digital_tv", s.DigitalTV.ShareHouseholds}, figure{"converged", s.Converged.ShareHouseholds},
		figure{"voice", s.Voice.ShareHouseholds}, figure{"outage", s.Outage.ShareHouseholds},
		figure{"stale", s.Stale.ShareHouseholds}, figure{"next_gen", s.NextGenShare},
		figure{"digital_progress", s.DigitalProgress}, figure{"take_up", s.TakeUp})
}

// figureMap is figures by name.
func figureMap(s *Subset) map[string]float64 {
	m := map[string]float64{}
	for _, f := range figures(s) {
		m[f.name] = f.v
	}
	return m
}
