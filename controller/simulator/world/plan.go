package world

import "math"

// plan is what a village is given.
type plan uint8

// The plans. Their shares of the villages are exact (largest remainder)
// and the plans are shuffled over the villages.
const (
	planGPON      plan = iota // GPON on the county's OLT: served
	planGPONDark              // GPON ports with every ONT offline: no evidence, unserved
	planDOCSIS                // a C-DOCSIS CMTS in the village: served, converged with the headend
	planVDSL2Fast             // VDSL2 at 100/20 or more: served
	planVDSL2Slow             // VDSL2 between 25/3 and 100/20: underserved
	planADSL                  // ADSL2+ below 25/3: unserved, measured
	planDeclared              // declared fixed wireless, 4G or satellite only
	planNone                  // nothing at all: unserved, no evidence
	numPlans
)

// planShares are the shares of the plans, in percent.
var planShares = [numPlans]int{
	planGPON:      40,
	planGPONDark:  2,
	planDOCSIS:    10,
	planVDSL2Fast: 10,
	planVDSL2Slow: 12,
	planADSL:      10,
	planDeclared:  8,
	planNone:      8,
}

// Further shares, in percent.
const (
	iptvGPONPct      = 60 // GPON villages with IPTV over the OLT: converged
	iptvVDSL2Pct     = 30 // VDSL2 villages with IPTV over the DSLAM: converged
	declaredADSLPct  = 25 // ADSL villages that also declare 4G (measured wins)
	analoguePct      = 50 // villages without digital TV that declare analogue TV
	priorityPct      = 10 // priority villages among the served
	priorityPoorPct  = 35 // priority villages among the others
	transmitterKm    = 40 // a transmitter's coverage radius
	countiesPerTx    = 6  // one transmitter per this many counties (at least one)
	ontsPerPort      = 64 // GPON split
	portsPerPONBoard = 16
)

// planCounts splits n villages over the plans by planShares, largest
// remainder first (ties to the earlier plan), so the counts sum to n.
func planCounts(n int) [numPlans]int {
	var counts [numPlans]int
	var rem [numPlans]float64
	total := 0
	for p, s := range planShares {
		x := float64(n) * float64(s) / 100
		counts[p] = int(math.Floor(x))
		rem[p] = x - math.Floor(x)
		total += counts[p]
	}
	for ; total < n; total++ {
		best := 0
		for p := range rem {
			if rem[p] > rem[best] {
				best = p
			}
		}
		counts[best]++
		rem[best] = -1
	}
	return counts
}

// plan gives each village a plan, shuffled.
func (g *gen) plan() {
	n := len(g.w.Villages)
	g.plans = make([]plan, 0, n)
	for p, c := range planCounts(n) {
		for range c {
			g.plans = append(g.plans, plan(p))
		}
	}
	g.rng.Shuffle(n, func(i, j int) { g.plans[i], g.plans[j] = g.plans[j], g.plans[i] })
}

// pct reports true with probability p percent.
func (g *gen) pct(p int) bool { return g.rng.IntN(100) < p }
