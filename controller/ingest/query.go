package ingest

import (
	"cmp"
	"maps"
	"slices"
)

// Stats returns the counters.
func (in *Ingester) Stats() Stats {
	in.mu.RLock()
	defer in.mu.RUnlock()
	s := in.stats
	s.Gateways = make(map[string]Counts, len(in.st.gws)+1)
	for name, g := range in.st.gws {
		s.Gateways[name] = g.Counts.clone()
		s.Total.add(&g.Counts)
	}
	s.Total.add(&in.st.unknown)
	if u := in.st.unknown; u.Refused != nil {
		s.Gateways[UnknownGateway] = u.clone()
	}
	return s
}

// Gateways returns the state of every gateway of the inventory and of
// every other one with a stored state, by name.
func (in *Ingester) Gateways() []GatewayState {
	in.mu.RLock()
	defer in.mu.RUnlock()
	var out []GatewayState
	for name, g := range in.st.gws {
		site := in.sites[name]
		gs := GatewayState{Name: name, Site: site, State: g.State, Cause: g.Cause, Since: g.Since,
			StatusTime: g.StatusTime, LastSeen: g.LastSeen, Version: g.Version,
			Readers: slices.Clone(g.Readers), Sensors: slices.Clone(g.Sensors), Health: g.Health,
			Counts: g.Counts.clone(), SeqLow: g.Seq.Low, SeqHigh: g.Seq.High, Missing: g.Seq.missing(),
			Abandoned: g.Seq.Abandoned, TagsPresent: len(in.st.tags[name])}
		if gs.State == "" {
			gs.State = StateUnknown
		}
		for _, x := range g.Seq.Gaps {
			gs.Gaps = append(gs.Gaps, Gap{FirstSeq: x.First, LastSeq: x.Last, Missing: g.Seq.missingIn(x.First, x.Last)})
		}
		if in.o.SharedEvents { // the holes are the other controllers' events
			gs.Missing, gs.Gaps = 0, nil
		}
		if gs.Health != nil {
			h := *gs.Health
			h.Lost = maps.Clone(h.Lost)
			gs.Health = &h
		}
		out = append(out, gs)
	}
	for name, site := range in.sites {
		if in.st.gws[name] == nil {
			out = append(out, GatewayState{Name: name, Site: site, State: StateUnknown})
		}
	}
	slices.SortFunc(out, func(a, b GatewayState) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Sites returns the state of every site with a gateway (in the
// inventory or with a stored state), by site; within a site readers,
// doors and pairs are by gateway and name, tags by ID.
func (in *Ingester) Sites() []SiteState {
	in.mu.RLock()
	defer in.mu.RUnlock()
	bySite := map[string]*SiteState{}
	site := func(gw string) *SiteState {
		name := in.sites[gw]
		s := bySite[name]
		if s == nil {
			s = &SiteState{Site: name}
			bySite[name] = s
		}
		return s
	}
	seen := map[string]bool{}
	for gw := range in.sites {
		seen[gw] = true
	}
	for gw := range in.st.gws {
		seen[gw] = true
	}
	for gw := range seen {
		s := site(gw)
		s.Gateways = append(s.Gateways, gw)
	}
	for gw, tags := range in.st.tags {
		s := site(gw)
		readers := map[string]*ReaderState{}
		for k, p := range tags {
			r := readers[k.reader]
			if r == nil {
				r = &ReaderState{Gateway: gw, Reader: k.reader}
				readers[k.reader] = r
			}
			r.Tags = append(r.Tags, *p)
		}
		for _, r := range readers {
			slices.SortFunc(r.Tags, func(a, b PresentTag) int { return cmp.Compare(a.ID, b.ID) })
			s.Readers = append(s.Readers, *r)
		}
	}
	for k, d := range in.st.doors {
		s := site(k.gw)
		s.Doors = append(s.Doors, *d)
	}
	for k, p := range in.st.passages {
		s := site(k.gw)
		s.Passages = append(s.Passages, *p)
	}
	out := make([]SiteState, 0, len(bySite))
	for _, s := range bySite {
		slices.Sort(s.Gateways)
		slices.SortFunc(s.Readers, func(a, b ReaderState) int {
			return cmp.Or(cmp.Compare(a.Gateway, b.Gateway), cmp.Compare(a.Reader, b.Reader))
		})
		slices.SortFunc(s.Doors, func(a, b DoorState) int {
			return cmp.Or(cmp.Compare(a.Gateway, b.Gateway), cmp.Compare(a.Sensor, b.Sensor))
		})
		slices.SortFunc(s.Passages, func(a, b PassageState) int {
			return cmp.Or(cmp.Compare(a.Gateway, b.Gateway), cmp.Compare(a.Pair, b.Pair))
		})
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b SiteState) int { return cmp.Compare(a.Site, b.Site) })
	return out
}
