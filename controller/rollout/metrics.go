package rollout

import "github.com/prometheus/client_golang/prometheus"

var (
	rolloutsDesc = prometheus.NewDesc("ngic_controller_rollouts",
		"Rollouts kept, by state.", []string{"state"}, nil)
	rolloutGatewaysDesc = prometheus.NewDesc("ngic_controller_rollout_gateways",
		"Gateways of the rollouts kept, by state (updated, failed, withdrawn, pending).", []string{"state"}, nil)
	rolloutDroppedDesc = prometheus.NewDesc("ngic_controller_rollout_reports_dropped_total",
		"Update reports dropped because too many waited to be applied.", nil, nil)
)

// Collector returns the rollouts' metrics: rollouts by state, their
// gateways updated, failed, withdrawn and pending, and the reports
// dropped.
func (m *Manager) Collector() prometheus.Collector { return collector{m} }

type collector struct{ m *Manager }

// Describe implements prometheus.Collector.
func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- rolloutsDesc
	ch <- rolloutGatewaysDesc
	ch <- rolloutDroppedDesc
}

// Collect implements prometheus.Collector.
func (c collector) Collect(ch chan<- prometheus.Metric) {
	states := map[string]int{StateRunning: 0, StatePaused: 0, StateHalted: 0, StateCompleted: 0, StateAborted: 0}
	gws := map[string]int{GatewayUpdated: 0, GatewayFailed: 0, GatewayWithdrawn: 0, "pending": 0}
	c.m.mu.Lock()
	for _, r := range c.m.rollouts {
		states[r.State]++
		for _, g := range r.Gateways {
			switch g.State {
			case GatewayUpdated, GatewayFailed, GatewayWithdrawn:
				gws[g.State]++
			default:
				gws["pending"]++
			}
		}
	}
	c.m.mu.Unlock()
	for s, n := range states {
		ch <- prometheus.MustNewConstMetric(rolloutsDesc, prometheus.GaugeValue, float64(n), s)
	}
	for s, n := range gws {
		ch <- prometheus.MustNewConstMetric(rolloutGatewaysDesc, prometheus.GaugeValue, float64(n), s)
	}
	ch <- prometheus.MustNewConstMetric(rolloutDroppedDesc, prometheus.CounterValue, float64(c.m.Dropped()))
}
