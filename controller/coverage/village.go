package coverage

import (
	"slices"

	"github.com/ngic/ngic/controller/inventory"
)

// Figures and units of the trail.
const (
	FigureONTsOnline   = "onts_online"
	FigureModemsOnline = "modems_online"
	FigureDSLShowtime  = "dsl_lines_showtime"
	FigureSubscribers  = "subscribers_online"
	FigureSourceUp     = "source_up"
	FigureDeviceUp     = "device_up"
	FigureDeclared     = "declared"
	FigureOverride     = "override"
	UnitSubscribers    = "subscribers"
	UnitBool           = "bool"
)

const (
	// trailBlock is the number of trail entries allocated at once.
	trailBlock = 4096
	// noCandidate marks a trail entry that is no candidate.
	noCandidate int32 = -1
)

// scratch is one worker's reusable buffers.
type scratch struct {
	block  []TrailEntry // the current block of trail entries
	start  int          // where the village being computed starts in block
	candOf []int32      // per trail entry of the village: its candidate, or -1; -2-k for DSL pool k
	cands  []cand
	pools  []pool
	techs  []Tech
	downs  []uint32
	ups    []uint32
	nets   [3][]string // networks delivering data, voice, video
	// entries is the current block of compact trail entries
	// (ComputeCompact), entriesID its number, used the entries filled;
	// strs the table of their strings, table its number.
	entries   []entry
	entriesID uint16
	used      int
	strs      *strTable
	table     uint32
	// recent are strings interned lately in the table (intern).
	recent [64]recentStr
	// kept: a village's trail is in block (Compute's, or one too long
	// to be compact), so the block is the result's.
	kept bool
	// missing is the reason of rows whose port is not on the device, by
	// port name (portMissing); kept between computations.
	missing map[string]string
}

// drop lets go of what the scratch holds of a computation's result and
// inventory, keeping its buffers for the next computation: the blocks of
// compact entries and tables of strings are the result's, and so is the
// block of trail entries once a trail is kept in it.
func (s *scratch) drop() {
	if s.kept {
		s.block = nil
	} else {
		clear(s.block[:cap(s.block)])
		s.block = s.block[:0]
	}
	s.start, s.kept = 0, false
	s.entries, s.entriesID, s.used = nil, 0, 0
	s.strs, s.table = nil, 0
	s.recent = [len(s.recent)]recentStr{}
	clear(s.cands[:cap(s.cands)])
	for i := range s.nets {
		clear(s.nets[i][:cap(s.nets[i])])
	}
}

// cand is a candidate class for a service of a village.
type cand struct {
	tier          int
	down, up      float64
	tech          string
	outage, stale bool
}

// pool is the DSL lines in showtime of one technology serving a village.
type pool struct {
	tech          Tech
	downs, ups    []uint32
	outage, stale bool
	// rows counts the rows whose lines the pool holds; down and up are
	// the medians of the first row's (Mbit/s), the pool's while it holds
	// one row only.
	rows     int
	down, up float64
}

// begin starts the trail of a village, in a block with room for it.
func (s *scratch) begin() {
	if cap(s.block)-len(s.block) < 64 {
		s.block = make([]TrailEntry, 0, trailBlock)
	}
	s.start = len(s.block)
	s.candOf = s.candOf[:0]
	s.cands = s.cands[:0]
	for i := range s.pools {
		s.pools[i].downs, s.pools[i].ups = s.pools[i].downs[:0], s.pools[i].ups[:0]
	}
	s.pools = s.pools[:0]
	for i := range s.nets {
		s.nets[i] = s.nets[i][:0]
	}
}

// add appends an entry of the village's trail, with its candidate.
func (s *scratch) add(e TrailEntry, cand int32) int {
	s.block = append(s.block, e)
	s.candOf = append(s.candOf, cand)
	return len(s.block) - 1 - s.start
}

// trail returns the village's entries (a slice that appending to cannot
// reach the next village's).
func (s *scratch) trail() []TrailEntry {
	return s.block[s.start:len(s.block):len(s.block)]
}

// entry returns the village's k-th entry.
func (s *scratch) entry(k int) *TrailEntry { return &s.block[s.start+k] }

func (s *scratch) addNet(svc int, n string) {
	if !slices.Contains(s.nets[svc], n) {
		s.nets[svc] = append(s.nets[svc], n)
	}
}

// pool returns the index of the DSL pool of tech, made if needed.
func (s *scratch) pool(tech Tech) int {
	for i := range s.pools {
		if s.pools[i].tech == tech {
			return i
		}
	}
	if len(s.pools) < cap(s.pools) {
		s.pools = s.pools[:len(s.pools)+1]
		p := &s.pools[len(s.pools)-1]
		p.tech, p.outage, p.stale, p.rows = tech, true, false, 0
	} else {
		s.pools = append(s.pools, pool{tech: tech, outage: true})
	}
	return len(s.pools) - 1
}

// Indexes of scratch.nets.
const (
	netData = iota
	netVoice
	netVideo
)

// village computes village v into out (a released result's memory, or
// new).
func (c *computation) village(s *scratch, v int, out *Village) {
	inv := c.inv
	reg := &inv.Regions[inv.Villages()[v]]
	*out = Village{Region: reg}
	s.begin()
	rows := c.saRows[c.saOff[v]:c.saOff[v+1]]
	hh := float64(reg.Households)
	for k, r := range rows {
		switch inv.ServiceAreas[r].Service {
		case inventory.ServiceData:
			c.dataRow(s, rows, k, hh, out)
		case inventory.ServiceVideo:
			c.videoRow(s, r)
		case inventory.ServiceVoice:
			c.voiceRow(s, r)
		}
	}
	c.poolCandidates(s)
	c.broadband(s, out)
	decl := c.decRows[c.decOff[v]:c.decOff[v+1]]
	c.declaredData(s, decl, out)
	c.tv(s, decl, out)
	c.voice(s, decl, out)
	c.converged(s, out)
	c.overrides(s, c.ovRows[c.ovOff[v]:c.ovOff[v+1]], out)
	if hh > 0 {
		out.TakeUp = out.SubscribersOnline / hh
	}
	out.Trail = s.trail()
	for k := range out.Trail {
		if out.Trail[k].Outage {
			out.Outage = true
			break
		}
	}
	if c.trails != nil && s.compact(c.trails, out.Trail, out) {
		out.Trail = nil
		s.block = s.block[:s.start] // the next village reuses the room
	} else {
		s.kept = true
	}
}

// measuredEntry is the start of the trail entry of a service area row,
// rejected when its device does not count.
func (c *computation) measuredEntry(s *scratch, r int32) (TrailEntry, *devInfo) {
	sa := &c.inv.ServiceAreas[r]
	d := &c.devs[sa.DeviceIx]
	e := TrailEntry{Service: string(sa.Service), Source: EvidenceMeasured, Line: sa.Line, Device: sa.Device,
		Port: sa.Port, PolledAt: d.polledAt, State: d.state, Stale: d.stale, Outage: d.outage, dev: sa.DeviceIx + 1, row: r}
	switch {
	case !d.usable:
		e.Rejected = d.reject
	case sa.Service == inventory.ServiceVoice:
	case d.ev == nil:
		e.Rejected = "no evidence polled yet"
	case sa.Service == inventory.ServiceVideo && d.ev.TV != nil:
		// A TV source is the whole device, whatever port the row names.
	case c.rowPort[r] == portMissing:
		e.Rejected = s.portMissing(sa.Port)
	}
	return e, d
}

// portMissing is why a row whose port is not on its device is rejected,
// made once per port name (each is the same string until the inventory
// changes, and its scratch with it).
func (s *scratch) portMissing(port string) string {
	why, ok := s.missing[port]
	if !ok {
		why = "port " + port + " not found on the device"
		if s.missing == nil {
			s.missing = map[string]string{}
		}
		s.missing[port] = why
	}
	return why
}

// dataRow adds the trail entries of data row rows[k] (one per technology
// its ports carry), its candidates, and its subscribers to out.
func (c *computation) dataRow(s *scratch, rows []int32, k int, hh float64, out *Village) {
	r := rows[k]
	e, d := c.measuredEntry(s, r)
	if e.Rejected != "" {
		s.add(e, noCandidate)
		return
	}
	ports := c.ports(r)
	if len(ports) == 0 {
		e.Rejected = "the device has no PON port, CMTS or DSL line"
		s.add(e, noCandidate)
		return
	}
	sa := &c.inv.ServiceAreas[r]
	if !d.outage && !c.duplicateData(rows, k) {
		lo, _ := c.portRange(r)
		for i := range ports {
			if ports[i].Online > 0 {
				n := float64(ports[i].Online) * c.share(sa.DeviceIx, lo+int32(i), hh)
				out.SubscribersOnline += n
				if c.techNext[ports[i].Technology] {
					out.NextGenSubscribers += n
				}
			}
		}
	}
	s.techs = s.techs[:0]
	for i := range ports {
		if !slices.Contains(s.techs, ports[i].Technology) {
			s.techs = append(s.techs, ports[i].Technology)
		}
	}
	for _, tech := range s.techs {
		e := e
		e.Technology = tech.String()
		if c.dslGroup(s, ports, tech, d, &e) {
			continue
		}
		c.accessGroup(s, ports, tech, d, &e)
	}
}

// accessGroup adds the entry of the PON ports or CMTS of one technology
// of a row, and its candidate.
func (c *computation) accessGroup(s *scratch, ports []Port, tech Tech, d *devInfo, e *TrailEntry) {
	var n int64
	known := false
	for i := range ports {
		p := &ports[i]
		if p.Technology != tech {
			continue
		}
		e.Figure = FigureONTsOnline
		if p.Kind == KindCable {
			e.Figure = FigureModemsOnline
		}
		if p.Online >= 0 {
			known = true
			n += int64(p.Online)
		}
	}
	e.Value, e.Unit = float64(n), UnitSubscribers
	rate, capable := c.techCaps[tech].rate, c.techCaps[tech].ok
	switch {
	case !known:
		e.Rejected = "subscribers online not given by the device"
	case n == 0:
		e.Rejected = "no subscribers online"
	case !capable:
		e.Rejected = "no capability configured for " + tech.String()
	}
	if e.Rejected != "" {
		s.add(*e, noCandidate)
		return
	}
	e.DownMbps, e.UpMbps = rate.DownMbps, rate.UpMbps
	t := tierOf(c.tiers, rate.DownMbps, rate.UpMbps)
	e.Class = c.tiers[t].Name
	s.cands = append(s.cands, cand{tier: t, down: rate.DownMbps, up: rate.UpMbps, tech: tech.String(), outage: d.outage, stale: d.stale})
	s.add(*e, int32(len(s.cands)-1))
	s.addNet(netData, d.network)
}

// dslGroup adds the entry of the DSL lines of one technology of a row and
// puts its lines in showtime in the village's pool of that technology;
// false when the ports of tech are not DSL lines. A line that gives no
// attainable rate counts at the technology's capability.
func (c *computation) dslGroup(s *scratch, ports []Port, tech Tech, d *devInfo, e *TrailEntry) bool {
	s.downs, s.ups = s.downs[:0], s.ups[:0]
	showtime, isDSL := 0, false
	rate, capable := c.techCaps[tech].rate, c.techCaps[tech].ok
	for i := range ports {
		p := &ports[i]
		if p.Technology != tech || p.Kind != KindDSL {
			continue
		}
		isDSL = true
		if p.Online <= 0 {
			continue
		}
		showtime++
		switch {
		case p.DownKbps > 0 && p.UpKbps > 0:
			s.downs, s.ups = append(s.downs, p.DownKbps), append(s.ups, p.UpKbps)
		case capable:
			s.downs, s.ups = append(s.downs, uint32(rate.DownMbps*1000)), append(s.ups, uint32(rate.UpMbps*1000))
		}
	}
	if !isDSL {
		return false
	}
	e.Figure, e.Value, e.Unit = FigureDSLShowtime, float64(showtime), UnitSubscribers
	switch {
	case showtime == 0:
		e.Rejected = "no line in showtime"
	case len(s.downs) == 0:
		e.Rejected = "no attainable rate given, and no capability configured for " + tech.String()
	}
	if e.Rejected != "" {
		s.add(*e, noCandidate)
		return true
	}
	pi := s.pool(tech)
	p := &s.pools[pi]
	p.downs, p.ups = append(p.downs, s.downs...), append(p.ups, s.ups...)
	p.outage = p.outage && d.outage
	p.stale = p.stale || d.stale
	e.DownMbps, e.UpMbps = mbps(median(s.downs)), mbps(median(s.ups))
	if p.rows++; p.rows == 1 {
		p.down, p.up = e.DownMbps, e.UpMbps
	}
	e.Class = c.tiers[tierOf(c.tiers, e.DownMbps, e.UpMbps)].Name
	s.add(*e, int32(-2-pi))
	s.addNet(netData, d.network)
	return true
}

// poolCandidates turns each DSL pool into a candidate at the median
// attainable rates of its lines, and points the pool's entries to it.
func (c *computation) poolCandidates(s *scratch) {
	if len(s.pools) == 0 {
		return
	}
	first := int32(len(s.cands))
	for i := range s.pools {
		p := &s.pools[i]
		down, up := p.down, p.up // one row's lines: their medians
		if p.rows > 1 {
			down, up = mbps(median(p.downs)), mbps(median(p.ups))
		}
		s.cands = append(s.cands, cand{tier: tierOf(c.tiers, down, up), down: down, up: up, tech: p.tech.String(), outage: p.outage, stale: p.stale})
	}
	for k, ci := range s.candOf {
		if ci <= -2 {
			s.candOf[k] = first + (-2 - ci)
		}
	}
}

// better reports whether candidate a beats b: a better tier, then not in
// outage, then not stale, then faster down, then faster up.
func better(a, b *cand) bool {
	switch {
	case a.tier != b.tier:
		return a.tier > b.tier
	case a.outage != b.outage:
		return !a.outage
	case a.stale != b.stale:
		return !a.stale
	case a.down != b.down:
		return a.down > b.down
	}
	return a.up > b.up
}

// broadband sets the village's class from its best measured candidate.
func (c *computation) broadband(s *scratch, out *Village) {
	out.Broadband, out.Evidence = c.tiers[0].Name, EvidenceNone
	best := -1
	for i := range s.cands {
		if best < 0 || better(&s.cands[i], &s.cands[best]) {
			best = i
		}
	}
	if best < 0 {
		return
	}
	b := &s.cands[best]
	out.Tier, out.Broadband, out.Evidence = b.tier, c.tiers[b.tier].Name, EvidenceMeasured
	out.DownMbps, out.UpMbps, out.Technology, out.Stale, out.Outage = b.down, b.up, b.tech, b.stale, b.outage
	for k, ci := range s.candOf {
		if ci == int32(best) {
			s.entry(k).Used = true
		}
	}
}

// declaredEntry is the trail entry of declared row r, d.
func (c *computation) declaredEntry(r int32, d *inventory.Declared) TrailEntry {
	return TrailEntry{Service: string(d.Service), Source: EvidenceDeclared, Line: d.Line, Technology: d.Technology,
		Figure: FigureDeclared, DownMbps: d.DownMbps, UpMbps: d.UpMbps, Why: d.Source, row: r}
}

// declaredData lists the declared data rows, and uses the best where
// nothing is measured.
func (c *computation) declaredData(s *scratch, decl []int32, out *Village) {
	best, bestK := -1, -1
	var bestCand cand
	for _, r := range decl {
		d := &c.inv.Declared[r]
		if d.Service != inventory.ServiceData {
			continue
		}
		e := c.declaredEntry(r, d)
		t := tierOf(c.tiers, d.DownMbps, d.UpMbps)
		e.Class = c.tiers[t].Name
		if out.Evidence == EvidenceMeasured {
			e.Rejected = "measured evidence exists"
			s.add(e, noCandidate)
			continue
		}
		k := s.add(e, noCandidate)
		cd := cand{tier: t, down: d.DownMbps, up: d.UpMbps, tech: d.Technology}
		if best < 0 || better(&cd, &bestCand) {
			best, bestK, bestCand = int(r), k, cd
		}
	}
	if best < 0 {
		return
	}
	s.entry(bestK).Used = true
	out.Tier, out.Broadband, out.Evidence = bestCand.tier, c.tiers[bestCand.tier].Name, EvidenceDeclared
	out.DownMbps, out.UpMbps, out.Technology = bestCand.down, bestCand.up, bestCand.tech
}
