package alerts

import (
	"strconv"
	"strings"
)

// Attribute names the engine reads in Signal.Attrs.
const (
	// AttrIfName and AttrIfAlias (uplink-down) name the interface.
	AttrIfName  = "if_name"
	AttrIfAlias = "if_alias"
	// AttrONTsBefore and AttrONTsAfter (pon-drop) are the ONTs online on
	// the port at the previous and the current poll.
	AttrONTsBefore = "onts_before"
	AttrONTsAfter  = "onts_after"
	// AttrLinesBefore and AttrLinesAfter (dsl-drop) are the lines in
	// showtime at the previous and the current poll.
	AttrLinesBefore = "lines_before"
	AttrLinesAfter  = "lines_after"
	// AttrTagID (hex), AttrEPCURI and AttrGTIN (tag-departed) describe the
	// tag.
	AttrTagID  = "tag_id"
	AttrEPCURI = "epc_uri"
	AttrGTIN   = "gtin"
)

// matches says whether the rule (of the signal's kind) takes the signal.
// A signal that clears a condition (Active false) passes every selector
// but the subjects, so that it always finds the condition it clears.
func (r *Rule) matches(s *Signal) bool {
	if len(r.subjects) > 0 && !r.subjects[s.Subject.Type+":"+s.Subject.ID] &&
		!(s.Subject.Site != "" && r.subjects[SubjectSite+":"+s.Subject.Site]) {
		return false
	}
	if !s.Active {
		return true
	}
	switch r.Kind {
	case KindUplinkDown:
		return r.isUplink(s.Subject.ID, s.Attrs[AttrIfName], s.Attrs[AttrIfAlias])
	case KindPONDrop:
		return r.isDrop(s.Attrs[AttrONTsBefore], s.Attrs[AttrONTsAfter], r.MinONTs)
	case KindDSLDrop:
		return r.isDrop(s.Attrs[AttrLinesBefore], s.Attrs[AttrLinesAfter], r.MinLines)
	case KindTagDeparted:
		return r.isWatchedTag(s.Attrs)
	}
	return true
}

// isUplink says whether interface name (alias) of device is an uplink the
// rule watches.
func (r *Rule) isUplink(device, name, alias string) bool {
	if r.uplinks[device][name] {
		return true
	}
	return r.uplinkRE != nil && ((name != "" && r.uplinkRE.MatchString(name)) || (alias != "" && r.uplinkRE.MatchString(alias)))
}

// isDrop says whether a fall from before to after (decimal counts) is at
// least the rule's share of before, with before at least min.
func (r *Rule) isDrop(before, after string, min int) bool {
	b, err1 := strconv.Atoi(before)
	a, err2 := strconv.Atoi(after)
	if err1 != nil || err2 != nil || b <= 0 || b < min || a >= b || a < 0 {
		return false
	}
	return float64(b-a) >= r.Share*float64(b)
}

func (r *Rule) isWatchedTag(attrs map[string]string) bool {
	if id := attrs[AttrTagID]; id != "" && r.tags[strings.ToUpper(id)] {
		return true
	}
	if g := attrs[AttrGTIN]; g != "" && r.gtins[g] {
		return true
	}
	if epc := attrs[AttrEPCURI]; epc != "" {
		for _, p := range r.EPCPrefixes {
			if strings.HasPrefix(epc, p) {
				return true
			}
		}
	}
	return false
}
