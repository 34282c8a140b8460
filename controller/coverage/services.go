package coverage

import (
	"fmt"
	"slices"

	"github.com/ngic/ngic/controller/inventory"
)

// videoRow adds the trail entry of a video row: a TV source that is up, or
// IPTV over an access device with subscribers online, is digital TV.
func (c *computation) videoRow(s *scratch, r int32) {
	e, d := c.measuredEntry(s, r)
	if e.Rejected != "" {
		s.add(e, noCandidate)
		return
	}
	switch tv := d.ev.TV; {
	case tv != nil:
		e.Figure, e.Unit, e.Why = FigureSourceUp, UnitBool, tv.Why
		switch {
		case !tv.Known:
			e.Rejected = "source state not given"
		case tv.Up && tv.Degraded:
			e.Value, e.Rejected = 1, "source degraded: "+tv.Why
		case tv.Up:
			e.Value, e.Class = 1, TVDigital.String()
		default:
			e.Rejected = "source down: " + tv.Why
		}
	case len(d.ev.Ports) > 0:
		var n int64
		for _, p := range c.ports(r) {
			if p.Online > 0 {
				n += int64(p.Online)
			}
		}
		e.Figure, e.Value, e.Unit, e.Why = FigureSubscribers, float64(n), UnitSubscribers, "IPTV over the access network"
		if n > 0 {
			e.Class = TVDigital.String()
		} else {
			e.Rejected = "IPTV: no subscribers online"
		}
	default:
		e.Rejected = "the device gives no TV source and no subscribers"
	}
	if e.Rejected != "" {
		s.add(e, noCandidate)
		return
	}
	s.add(e, noCandidate)
	s.addNet(netVideo, d.network)
}

// voiceRow adds the trail entry of a voice row: voice is delivered by a
// device that counts.
func (c *computation) voiceRow(s *scratch, r int32) {
	e, d := c.measuredEntry(s, r)
	e.Figure, e.Unit = FigureDeviceUp, UnitBool
	if e.Rejected == "" {
		e.Value, e.Class = 1, VoiceServed
		s.addNet(netVoice, d.network)
	}
	s.add(e, noCandidate)
}

// tv sets the village's TV class: measured digital, else declared digital,
// else declared analogue, else none.
func (c *computation) tv(s *scratch, decl []int32, out *Village) {
	out.TV, out.TVEvidence = TVNone, BasisNone
	best := -1
	for k := range s.candOf {
		e := s.entry(k)
		if e.Service != string(inventory.ServiceVideo) || e.Source != EvidenceMeasured || e.Rejected != "" {
			continue
		}
		if best < 0 || fresher(e, s.entry(best)) {
			best = k
		}
	}
	if best >= 0 {
		s.entry(best).Used = true
		out.TV, out.TVEvidence = TVDigital, BasisMeasured
	}
	digital, analogue := -1, -1
	for _, r := range decl {
		d := &c.inv.Declared[r]
		if d.Service != inventory.ServiceVideo {
			continue
		}
		e := c.declaredEntry(r, d)
		class := TVDigital
		if d.Technology == TechAnalogue {
			class = TVAnalogue
		}
		e.Class = class.String()
		if best >= 0 {
			e.Rejected = "measured evidence exists"
		}
		k := s.add(e, noCandidate)
		switch {
		case best >= 0:
		case class == TVDigital && digital < 0:
			digital = k
		case class == TVAnalogue && analogue < 0:
			analogue = k
		}
	}
	switch {
	case digital >= 0:
		s.entry(digital).Used = true
		out.TV, out.TVEvidence = TVDigital, BasisDeclared
	case analogue >= 0:
		s.entry(analogue).Used = true
		out.TV, out.TVEvidence = TVAnalogue, BasisDeclared
	}
	out.DigitalTV = out.TV == TVDigital
}

// fresher reports whether entry a is better evidence than b: not in
// outage, then not stale.
func fresher(a, b *TrailEntry) bool {
	if a.Outage != b.Outage {
		return !a.Outage
	}
	return !a.Stale && b.Stale
}

// voice sets whether voice is delivered: by a device that counts, else
// declared.
func (c *computation) voice(s *scratch, decl []int32, out *Village) {
	out.VoiceEvidence = BasisNone
	for k := range s.candOf {
		e := s.entry(k)
		if e.Service == string(inventory.ServiceVoice) && e.Rejected == "" {
			e.Used = true
			out.Voice, out.VoiceEvidence = true, BasisMeasured
			break
		}
	}
	for _, r := range decl {
		d := &c.inv.Declared[r]
		if d.Service != inventory.ServiceVoice {
			continue
		}
		e := c.declaredEntry(r, d)
		e.Class = VoiceServed
		if out.VoiceEvidence == BasisMeasured {
			e.Rejected = "measured evidence exists"
		} else if !out.Voice {
			e.Used = true
			out.Voice, out.VoiceEvidence = true, BasisDeclared
		}
		s.add(e, noCandidate)
	}
}

// converged sets whether data, voice and video reach the village over
// devices of one network (measured evidence only); of several such
// networks, the first in name order.
func (c *computation) converged(s *scratch, out *Village) {
	for _, n := range s.nets[netData] {
		if slices.Contains(s.nets[netVoice], n) && slices.Contains(s.nets[netVideo], n) {
			if !out.Converged || n < out.Network {
				out.Converged, out.Network = true, n
			}
		}
	}
}

// overrides applies the overrides in force, one per service (the first in
// file order), keeping the measured class beside each.
func (c *computation) overrides(s *scratch, ovs []int32, out *Village) {
	var done [3]int // line of the override in force per service, 0 none
	for _, r := range ovs {
		o := &c.inv.Overrides[r]
		e := TrailEntry{Service: string(o.Service), Source: EvidenceOverride, Line: o.Line, Figure: FigureOverride,
			Class: o.Class, Why: o.Reason, row: r}
		svc := serviceIndex(o.Service)
		switch {
		case !o.Until.IsZero() && c.now.After(o.Until):
			e.Rejected = "expired " + dateTime(o.Until)
		case !c.validClass(o.Service, o.Class):
			e.Rejected = "class " + o.Class + " is not one of " + string(o.Service) + "'s classes"
		case svc < 0:
			e.Rejected = "unknown service"
		case done[svc] != 0:
			e.Rejected = fmt.Sprintf("line %d overrides %s already", done[svc], o.Service)
		}
		if e.Rejected != "" {
			s.add(e, noCandidate)
			continue
		}
		e.Used = true
		done[svc] = o.Line
		s.add(e, noCandidate)
		info := OverrideInfo{Service: string(o.Service), Class: o.Class, Reason: o.Reason, Until: o.Until, Line: o.Line}
		switch o.Service {
		case inventory.ServiceData:
			info.Measured, info.MeasuredEvidence = out.Broadband, out.Evidence
			out.Tier, _ = c.cfg.TierIndex(o.Class)
			out.Broadband, out.Evidence = o.Class, EvidenceOverride
		case inventory.ServiceVideo:
			info.Measured, info.MeasuredEvidence = out.TV.String(), out.TVEvidence.String()
			out.TV, _ = ParseTVClass(o.Class) // checked by validClass
			out.TVEvidence, out.DigitalTV = BasisOverride, out.TV == TVDigital
		case inventory.ServiceVoice:
			info.Measured, info.MeasuredEvidence = VoiceUnserved, out.VoiceEvidence.String()
			if out.Voice {
				info.Measured = VoiceServed
			}
			out.Voice, out.VoiceEvidence = o.Class == VoiceServed, BasisOverride
		}
		out.Overrides = append(out.Overrides, info)
	}
}

// serviceIndex returns the index of a service in scratch.nets, or -1.
func serviceIndex(s inventory.Service) int {
	switch s {
	case inventory.ServiceData:
		return netData
	case inventory.ServiceVoice:
		return netVoice
	case inventory.ServiceVideo:
		return netVideo
	}
	return -1
}

// validClass reports whether class is one a planner may set for service:
// a tier name for data, digital/analogue/none for video, served/unserved
// for voice.
func (c *computation) validClass(service inventory.Service, class string) bool {
	switch service {
	case inventory.ServiceData:
		_, ok := c.cfg.TierIndex(class)
		return ok
	case inventory.ServiceVideo:
		_, ok := ParseTVClass(class)
		return ok
	case inventory.ServiceVoice:
		return class == VoiceServed || class == VoiceUnserved
	}
	return false
}
