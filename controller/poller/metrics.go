package poller

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the poller's Prometheus metrics.
type metrics struct {
	p         *Poller
	polls     *prometheus.CounterVec
	varbinds  prometheus.Counter
	durations prometheus.Histogram

	devices, inFlight, skipped, deadlines, dials, snapshots, snapFail *prometheus.Desc
}

func newMetrics(p *Poller) *metrics {
	return &metrics{
		p: p,
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ngic_controller_polls_total",
			Help: "Polls finished, by the state they left the device in."}, []string{"state"}),
		varbinds: prometheus.NewCounter(prometheus.CounterOpts{Name: "ngic_controller_poll_varbinds_total",
			Help: "Objects returned by the agents."}),
		durations: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ngic_controller_poll_duration_seconds",
			Help:    "Time one poll of one device took.",
			Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}}),
		devices: prometheus.NewDesc("ngic_controller_devices", "Devices of the inventory, by state.",
			[]string{"state"}, nil),
		inFlight: prometheus.NewDesc("ngic_controller_polls_in_flight", "Polls running now.", nil, nil),
		skipped: prometheus.NewDesc("ngic_controller_polls_skipped_total",
			"Poll cycles not started: the previous poll still ran, or the scheduler fell behind.", nil, nil),
		deadlines: prometheus.NewDesc("ngic_controller_poll_deadlines_total",
			"Polls abandoned at their deadline.", nil, nil),
		dials: prometheus.NewDesc("ngic_controller_snmp_sessions_opened_total", "SNMP sessions opened.", nil, nil),
		snapshots: prometheus.NewDesc("ngic_controller_state_snapshots_total",
			"State snapshots saved to disk.", nil, nil),
		snapFail: prometheus.NewDesc("ngic_controller_state_snapshot_failing",
			"1 when the last state snapshot could not be saved.", nil, nil),
	}
}

func (m *metrics) observe(state State, d time.Duration, varbinds int) {
	m.polls.WithLabelValues(string(state)).Inc()
	m.varbinds.Add(float64(varbinds))
	m.durations.Observe(d.Seconds())
}

// Collector returns the poller's metrics: devices by state, polls by
// result, poll durations, varbinds, the scheduler's counters and the
// snapshots.
func (p *Poller) Collector() prometheus.Collector { return p.m }

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	m.polls.Describe(ch)
	m.varbinds.Describe(ch)
	m.durations.Describe(ch)
	for _, d := range []*prometheus.Desc{m.devices, m.inFlight, m.skipped, m.deadlines, m.dials, m.snapshots, m.snapFail} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	m.polls.Collect(ch)
	m.varbinds.Collect(ch)
	m.durations.Collect(ch)
	for s, n := range m.p.Counts() {
		ch <- prometheus.MustNewConstMetric(m.devices, prometheus.GaugeValue, float64(n), string(s))
	}
	st := m.p.sched.Stats()
	ch <- prometheus.MustNewConstMetric(m.inFlight, prometheus.GaugeValue, float64(st.InFlight))
	ch <- prometheus.MustNewConstMetric(m.skipped, prometheus.CounterValue, float64(st.Skipped))
	ch <- prometheus.MustNewConstMetric(m.deadlines, prometheus.CounterValue, float64(st.Deadlines))
	ch <- prometheus.MustNewConstMetric(m.dials, prometheus.CounterValue, float64(st.Dials))
	ch <- prometheus.MustNewConstMetric(m.snapshots, prometheus.CounterValue, float64(m.p.snapshots.Load()))
	fail := 0.0
	if m.p.SnapshotError() != "" {
		fail = 1
	}
	ch <- prometheus.MustNewConstMetric(m.snapFail, prometheus.GaugeValue, fail)
}
