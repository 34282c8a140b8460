package coverage

import (
	"fmt"

	"github.com/ngic/ngic/telemetry"
)

// AppendLines appends to dst one telemetry.MeasCoverageRegion line per
// region and subset (all, priority), timed at r.Computed.
func (r *Result) AppendLines(dst []byte) ([]byte, error) {
	p := telemetry.CoverageRegionPoint{Time: r.Computed}
	for i := range r.Regions {
		g := &r.Regions[i]
		for _, sub := range []struct {
			name string
			s    *Subset
		}{{telemetry.CoverageSubsetAll, &g.All}, {telemetry.CoverageSubsetPriority, &g.Priority}} {
			s := sub.s
			p.Region, p.Level, p.Subset = g.Code, g.Level, sub.name
			p.Villages, p.Households, p.Population = s.Villages, s.Households, s.Population
			p.Tiers = p.Tiers[:0]
			for _, t := range s.Tiers {
				p.Tiers = append(p.Tiers, telemetry.CoverageTier{Name: t.Name, Households: t.Households,
					ShareHouseholds: t.ShareHouseholds, SharePopulation: t.SharePopulation})
			}
			p.DigitalTVShare, p.AnalogueTVShare = s.DigitalTV.ShareHouseholds, s.AnalogueTV.ShareHouseholds
			p.ConvergedShare, p.VoiceShare = s.Converged.ShareHouseholds, s.Voice.ShareHouseholds
			p.OutageShare, p.StaleShare = s.Outage.ShareHouseholds, s.Stale.ShareHouseholds
			p.SubscribersOnline, p.NextGenSubscribers, p.NextGenShare = s.SubscribersOnline, s.NextGenSubscribers, s.NextGenShare
			p.TakeUp, p.DigitalProgress = s.TakeUp, s.DigitalProgress
			var err error
			if dst, err = p.AppendLine(dst); err != nil {
				return dst, fmt.Errorf("coverage: region %s (%s): %w", g.Code, sub.name, err)
			}
		}
	}
	return dst, nil
}
