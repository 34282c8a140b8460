package report

import (
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/ngic/ngic/controller/coverage"
)

// column is one figure of a village, as the CSV cell and the GeoJSON
// property give it.
type column struct {
	name string
	// text: a string (quoted in GeoJSON); otherwise the value is a JSON
	// number or boolean literal, written as is in both formats.
	text bool
	val  func(v *coverage.Village, moved *coverage.VillageChange) string
}

// villageColumns are the per-village columns, in their documented order
// (README.md); compareColumns follow them when the report compares.
var villageColumns = []column{
	{"code", true, func(v *coverage.Village, _ *coverage.VillageChange) string { return v.Code }},
	{"name", true, func(v *coverage.Village, _ *coverage.VillageChange) string { return v.Name }},
	{"parent", true, func(v *coverage.Village, _ *coverage.VillageChange) string { return v.Parent }},
	{"households", false, func(v *coverage.Village, _ *coverage.VillageChange) string { return itoa(v.Households) }},
	{"population", false, func(v *coverage.Village, _ *coverage.VillageChange) string { return itoa(v.Population) }},
	{"lat", false, func(v *coverage.Village, _ *coverage.VillageChange) string { return ftoa(v.Lat) }},
	{"lon", false, func(v *coverage.Village, _ *coverage.VillageChange) string { return ftoa(v.Lon) }},
	{"priority", false, func(v *coverage.Village, _ *coverage.VillageChange) string { return btoa(v.Priority) }},
	{"broadband", true, func(v *coverage.Village, _ *coverage.VillageChange) string { return v.Broadband }},
	{"tier", false, func(v *coverage.Village, _ *coverage.VillageChange) string { return strconv.Itoa(v.Tier) }},
	{"evidence", true, func(v *coverage.Village, _ *coverage.VillageChange) string { return v.Evidence }},
	{"down_mbps", false, func(v *coverage.Village, _ *coverage.VillageChange) string { return ftoa(v.DownMbps) }},
	{"up_mbps", false, func(v *coverage.Village, _ *coverage.VillageChange) string { return ftoa(v.UpMbps) }},
	{"technology", true, func(v *coverage.Village, _ *coverage.VillageChange) string { return v.Technology }},
	{"stale", false, func(v *coverage.Village, _ *coverage.VillageChange) string { return btoa(v.Stale) }},
	{"outage", false, func(v *coverage.Village, _ *coverage.VillageChange) string { return btoa(v.Outage) }},
	{"subscribers_online", false, func(v *coverage.Village, _ *coverage.VillageChange) string { return ftoa(v.SubscribersOnline) }},
	{"next_gen_subscribers", false, func(v *coverage.Village, _ *coverage.VillageChange) string { return ftoa(v.NextGenSubscribers) }},
	{"take_up", false, func(v *coverage.Village, _ *coverage.VillageChange) string { return ftoa(v.TakeUp) }},
	{"tv", true, func(v *coverage.Village, _ *coverage.VillageChange) string { return v.TV.String() }},
	{"tv_evidence", true, func(v *coverage.Village, _ *coverage.VillageChange) string { return v.TVEvidence.String() }},
	{"digital_tv", false, func(v *coverage.Village, _ *coverage.VillageChange) string { return btoa(v.DigitalTV) }},
	{"voice", false, func(v *coverage.Village, _ *coverage.VillageChange) string { return btoa(v.Voice) }},
	{"voice_evidence", true, func(v *coverage.Village, _ *coverage.VillageChange) string { return v.VoiceEvidence.String() }},
	{"converged", false, func(v *coverage.Village, _ *coverage.VillageChange) string { return btoa(v.Converged) }},
	{"network", true, func(v *coverage.Village, _ *coverage.VillageChange) string { return v.Network }},
	{"overrides", true, func(v *coverage.Village, _ *coverage.VillageChange) string { return overridesText(v.Overrides) }},
	{"trail", true, func(v *coverage.Village, _ *coverage.VillageChange) string { return trailText(v.TrailSeq()) }},
	{"rejected", true, func(v *coverage.Village, _ *coverage.VillageChange) string { return rejectedText(v.TrailSeq()) }},
}

// compareColumns say how a village moved since the compared result: its
// earlier broadband class, evidence and TV class, and the direction of
// the move ("up", "down", "same" when only the evidence or TV moved, ""
// when nothing did).
var compareColumns = []column{
	{"previous_broadband", true, previous(func(m *coverage.VillageChange) string { return m.FromBroadband },
		func(v *coverage.Village) string { return v.Broadband })},
	{"previous_evidence", true, previous(func(m *coverage.VillageChange) string { return m.FromEvidence },
		func(v *coverage.Village) string { return v.Evidence })},
	{"previous_tv", true, previous(func(m *coverage.VillageChange) string { return m.FromTV.String() },
		func(v *coverage.Village) string { return v.TV.String() })},
	{"moved", true, func(_ *coverage.Village, m *coverage.VillageChange) string {
		if m == nil {
			return ""
		}
		return m.Direction
	}},
}

// previous is a comparison column: the earlier value when the village
// moved, else the current one (nothing moved).
func previous(then func(*coverage.VillageChange) string, now func(*coverage.Village) string) func(*coverage.Village, *coverage.VillageChange) string {
	return func(v *coverage.Village, m *coverage.VillageChange) string {
		if m == nil {
			return now(v)
		}
		return then(m)
	}
}

// columnsFor returns the columns of a report: the village's, and the
// comparison's when there is one.
func columnsFor(o Options) []column {
	if o.Compare == nil {
		return villageColumns
	}
	return append(append([]column(nil), villageColumns...), compareColumns...)
}

// changes indexes a comparison's villages by code (nil without one).
func changes(d *coverage.Diff) map[string]*coverage.VillageChange {
	if d == nil {
		return nil
	}
	m := make(map[string]*coverage.VillageChange, len(d.Villages))
	for i := range d.Villages {
		m[d.Villages[i].Code] = &d.Villages[i]
	}
	return m
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// ftoa writes a float in the shortest form that reads back to it.
func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func btoa(b bool) string { return strconv.FormatBool(b) }

// overridesText is the overrides in force, "service=class (reason)",
// joined with "; ".
func overridesText(os []coverage.OverrideInfo) string {
	if len(os) == 0 {
		return ""
	}
	var b strings.Builder
	for i, o := range os {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(o.Service + "=" + o.Class)
		if o.Reason != "" {
			b.WriteString(" (" + o.Reason + ")")
		}
		if !o.Until.IsZero() {
			b.WriteString(" until " + o.Until.UTC().Format(time.RFC3339))
		}
	}
	return b.String()
}

// trailText is the entries of the trail the village's figures rest on
// (those used), each as "service: source what", joined with "; ". The
// JSON report has the whole trail, rejected entries included.
func trailText(trail iter.Seq[*coverage.TrailEntry]) string {
	var b strings.Builder
	for e := range trail {
		if !e.Used {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(trailEntryText(e))
	}
	return b.String()
}

// rejectedText is the trail entries that could not count, each as
// "service: source device port: why", joined with "; ".
func rejectedText(trail iter.Seq[*coverage.TrailEntry]) string {
	var b strings.Builder
	for e := range trail {
		if e.Rejected == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.Service + ": " + e.Source)
		if e.Device != "" {
			b.WriteString(" " + e.Device)
		}
		if e.Port != "" && e.Port != "*" {
			b.WriteString(" port " + e.Port)
		}
		if e.Source == coverage.EvidenceDeclared || e.Source == coverage.EvidenceOverride {
			b.WriteString(" line " + strconv.Itoa(e.Line))
		}
		b.WriteString(": " + e.Rejected)
	}
	return b.String()
}

// trailEntryText describes one entry of an evidence trail on one line:
// "data: measured olt-1 port 111 gpon onts_online=43 served polled
// 2026-11-29T18:00:00Z", "data: declared 4g 30/5 Mbit/s (source)",
// "data: override served (reason)".
func trailEntryText(e *coverage.TrailEntry) string {
	var b strings.Builder
	b.WriteString(e.Service + ": " + e.Source)
	switch e.Source {
	case coverage.EvidenceMeasured:
		b.WriteString(" " + e.Device)
		if e.Port != "" && e.Port != "*" {
			b.WriteString(" port " + e.Port)
		}
		if e.Technology != "" {
			b.WriteString(" " + e.Technology)
		}
		if e.Figure != "" {
			b.WriteString(" " + e.Figure + "=" + ftoa(e.Value))
		}
		if e.DownMbps > 0 || e.UpMbps > 0 {
			b.WriteString(" " + ftoa(e.DownMbps) + "/" + ftoa(e.UpMbps) + " Mbit/s")
		}
		if e.Why != "" {
			b.WriteString(" (" + e.Why + ")")
		}
		if !e.PolledAt.IsZero() {
			b.WriteString(" polled " + e.PolledAt.UTC().Format(time.RFC3339))
		}
		if e.Outage {
			b.WriteString(" outage")
		}
		if e.Stale {
			b.WriteString(" stale")
		}
	case coverage.EvidenceDeclared:
		if e.Technology != "" {
			b.WriteString(" " + e.Technology)
		}
		if e.Service == "data" {
			b.WriteString(" " + ftoa(e.DownMbps) + "/" + ftoa(e.UpMbps) + " Mbit/s")
		}
		if e.Why != "" {
			b.WriteString(" (" + e.Why + ")")
		}
	default:
		b.WriteString(" " + e.Class)
		if e.Why != "" {
			b.WriteString(" (" + e.Why + ")")
		}
	}
	return b.String()
}
