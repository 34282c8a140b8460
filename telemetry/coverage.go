package telemetry

import "time"

// Coverage measurements (controller/coverage's snapshots). Villages are not
// a tag: a national inventory holds 700,000 of them, which as series would
// outgrow everything else InfluxDB keeps; a village's history is in the
// controller's own snapshots. Regions above the villages are bounded (tens
// of thousands of townships at most) and are what dashboards chart.
const (
	// MeasCoverageRegion: one region's coverage figures at one snapshot,
	// for all its villages or for its priority ones.
	MeasCoverageRegion = "coverage_region"
)

// Coverage tag keys.
const (
	// TagLevel is a region's level (province, prefecture, county,
	// township).
	TagLevel = "level"
	// TagRegion is a region's code in the inventory (regions.csv).
	TagRegion = "region"
	// TagSubset is CoverageSubsetAll or CoverageSubsetPriority.
	TagSubset = "subset"
)

// Coverage subsets (the "subset" tag).
const (
	CoverageSubsetAll      = "all"
	CoverageSubsetPriority = "priority"
)

// Coverage field keys. Per tier, the keys are the prefix followed by the
// tier's name (households_served, share_households_served,
// share_population_served).
const (
	FieldVillages              = "villages"
	FieldHouseholds            = "households"
	FieldPopulation            = "population"
	FieldHouseholdsTierPrefix  = "households_"
	FieldShareHouseholdsPrefix = "share_households_"
	FieldSharePopulationPrefix = "share_population_"
	FieldDigitalTVShare        = "digital_tv_share"
	FieldAnalogueTVShare       = "analogue_tv_share"
	FieldConvergedShare        = "converged_share"
	FieldVoiceShare            = "voice_share"
	FieldOutageShare           = "outage_share"
	FieldStaleShare            = "stale_share"
	FieldSubscribersOnline     = "subscribers_online"
	FieldNextGenSubscribers    = "next_gen_subscribers"
	FieldNextGenShare          = "next_gen_share"
	FieldTakeUp                = "take_up"
	FieldDigitalProgress       = "digital_progress"
)

// CoverageTier is one tier's figures in a CoverageRegionPoint.
type CoverageTier struct {
	// Name is the tier's name (a field key suffix).
	Name string
	// Households is the households of the villages in the tier;
	// ShareHouseholds and SharePopulation their share of the subset's
	// households and population.
	Households      int64
	ShareHouseholds float64
	SharePopulation float64
}

// CoverageRegionPoint is one MeasCoverageRegion line. Tags: level,
// region, subset. Shares are weighted by households unless their name
// says population.
type CoverageRegionPoint struct {
	Region string
	Level  string
	// Subset is CoverageSubsetAll or CoverageSubsetPriority.
	Subset     string
	Villages   int
	Households int64
	Population int64
	Tiers      []CoverageTier
	// Household-weighted shares of villages with digital TV, only
	// analogue TV, converged, with voice, in outage, on stale evidence.
	DigitalTVShare  float64
	AnalogueTVShare float64
	ConvergedShare  float64
	VoiceShare      float64
	OutageShare     float64
	StaleShare      float64
	// SubscribersOnline and NextGenSubscribers total the villages'
	// subscribers; NextGenShare is their ratio, TakeUp subscribers per
	// household, DigitalProgress digital over digital-or-analogue TV
	// households.
	SubscribersOnline  float64
	NextGenSubscribers float64
	NextGenShare       float64
	TakeUp             float64
	DigitalProgress    float64
	// Time is the snapshot's time.
	Time time.Time
}

// AppendLine appends the point's line to dst. A subset without villages
// is still written (its figures are zero), so that a region's series has
// a point at every snapshot.
func (p *CoverageRegionPoint) AppendLine(dst []byte) ([]byte, error) {
	e := LineEncoder{buf: dst, lineStart: len(dst)}
	e.Start(MeasCoverageRegion)
	e.Tag(TagLevel, p.Level)
	e.Tag(TagRegion, p.Region)
	switch p.Subset {
	case CoverageSubsetAll, CoverageSubsetPriority:
		e.Tag(TagSubset, p.Subset)
	default:
		e.fail(ErrLineValue, "coverage subset", p.Subset)
	}
	e.Int(FieldVillages, int64(p.Villages))
	e.Int(FieldHouseholds, p.Households)
	e.Int(FieldPopulation, p.Population)
	for i := range p.Tiers {
		t := &p.Tiers[i]
		e.Int(FieldHouseholdsTierPrefix+t.Name, t.Households)
		e.Float(FieldShareHouseholdsPrefix+t.Name, t.ShareHouseholds)
		e.Float(FieldSharePopulationPrefix+t.Name, t.SharePopulation)
	}
	e.Float(FieldDigitalTVShare, p.DigitalTVShare)
	e.Float(FieldAnalogueTVShare, p.AnalogueTVShare)
	e.Float(FieldConvergedShare, p.ConvergedShare)
	e.Float(FieldVoiceShare, p.VoiceShare)
	e.Float(FieldOutageShare, p.OutageShare)
	e.Float(FieldStaleShare, p.StaleShare)
	e.Float(FieldSubscribersOnline, p.SubscribersOnline)
	e.Float(FieldNextGenSubscribers, p.NextGenSubscribers)
	e.Float(FieldNextGenShare, p.NextGenShare)
	e.Float(FieldTakeUp, p.TakeUp)
	e.Float(FieldDigitalProgress, p.DigitalProgress)
	err := e.End(p.Time)
	return e.buf, err
}
