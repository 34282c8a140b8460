package ingest

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metric names. Labels are only gateway (inventory names and
// UnknownGateway) and bounded enums (kind, reason).
const metricPrefix = "ngic_controller_ingest_"

var (
	descMessages = prometheus.NewDesc(metricPrefix+"messages_total",
		"Messages recorded per gateway and kind (event, duplicate, status, stale_status, health).", []string{"gateway", "kind"}, nil)
	descRefused = prometheus.NewDesc(metricPrefix+"refused_total",
		"Payloads refused per gateway (#unknown for those not in the inventory) and reason.", []string{"gateway", "reason"}, nil)
	descLost = prometheus.NewDesc(metricPrefix+"events_lost_total",
		"Events the gateway reported lost (events.lost), per reason.", []string{"gateway", "reason"}, nil)
	descResets = prometheus.NewDesc(metricPrefix+"presence_resets_total",
		"Births with presence_reset applied.", []string{"gateway"}, nil)
	descGaps = prometheus.NewDesc(metricPrefix+"sequence_gaps_total",
		"Sequence gaps detected, and how they closed (filled, explained by events.lost, abandoned: no longer tracked).", []string{"gateway", "state"}, nil)
	descRestarts = prometheus.NewDesc(metricPrefix+"sequence_restarts_total",
		"Times the gateway was seen numbering its events from 1 again (reinstalled with a fresh spool).", []string{"gateway"}, nil)
	descMissing = prometheus.NewDesc(metricPrefix+"missing_seqs",
		"Sequence numbers neither received nor explained, between the low-water mark and the highest seen.", []string{"gateway"}, nil)
	descAbandoned = prometheus.NewDesc(metricPrefix+"abandoned_seqs_total",
		"Missing sequence numbers given up past the state's bounds.", []string{"gateway"}, nil)
	descOnline = prometheus.NewDesc(metricPrefix+"gateway_online",
		"1 when the gateway is online, 0 when offline or unknown.", []string{"gateway"}, nil)
	descLastSeen = prometheus.NewDesc(metricPrefix+"gateway_last_seen_timestamp_seconds",
		"When the last message of the gateway was received.", []string{"gateway"}, nil)
	descTags = prometheus.NewDesc(metricPrefix+"tags_present",
		"Tags present on the gateway's readers.", []string{"gateway"}, nil)
	descLineErrors = prometheus.NewDesc(metricPrefix+"line_errors_total",
		"Messages recorded whose InfluxDB line could not be encoded.", []string{"gateway"}, nil)
	descOverBound = prometheus.NewDesc(metricPrefix+"over_bound_total",
		"Tags, doors and pairs not kept because the gateway is past the state's bounds.", []string{"gateway"}, nil)
	descBatches = prometheus.NewDesc(metricPrefix+"batches_total",
		"Batches recorded since the controller started, by result (ok, error).", []string{"result"}, nil)
	descRefusalsDropped = prometheus.NewDesc(metricPrefix+"refusals_dropped_total",
		"Refusals not kept for logging because they came too fast.", nil, nil)
)

// collector exports an Ingester's state as metrics.
type collector struct{ in *Ingester }

// Collector returns a Prometheus collector of the ingest's metrics
// (ngic_controller_ingest_*). The counters are the durable ones, so they
// survive a restart of the controller.
func (in *Ingester) Collector() prometheus.Collector { return collector{in} }

// Describe sends every metric's description.
func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descMessages, descRefused, descLost, descResets, descGaps, descRestarts, descMissing,
		descAbandoned, descOnline, descLastSeen, descTags, descLineErrors, descOverBound, descBatches, descRefusalsDropped} {
		ch <- d
	}
}

// Collect sends the current values.
func (c collector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	st := c.in.Stats()
	for _, g := range c.in.Gateways() {
		n := g.Name
		cs := g.Counts
		counter(descMessages, cs.Events, n, "event")
		counter(descMessages, cs.Duplicates, n, "duplicate")
		counter(descMessages, cs.Statuses, n, "status")
		counter(descMessages, cs.StaleStatuses, n, "stale_status")
		counter(descMessages, cs.Health, n, "health")
		for r, v := range cs.Refused {
			counter(descRefused, v, n, r)
		}
		for r, v := range cs.Lost {
			counter(descLost, v, n, r)
		}
		counter(descResets, cs.PresenceResets, n)
		counter(descGaps, cs.Gaps, n, "detected")
		counter(descGaps, cs.GapsFilled, n, "filled")
		counter(descGaps, cs.GapsExplained, n, "explained")
		counter(descGaps, cs.GapsAbandoned, n, "abandoned")
		counter(descRestarts, cs.SeqRestarts, n)
		gauge(descMissing, float64(g.Missing), n)
		counter(descAbandoned, g.Abandoned, n)
		online := 0.0
		if g.State == StateOnline {
			online = 1
		}
		gauge(descOnline, online, n)
		if !g.LastSeen.IsZero() {
			gauge(descLastSeen, float64(g.LastSeen.UnixNano())/1e9, n)
		}
		gauge(descTags, float64(g.TagsPresent), n)
		counter(descLineErrors, cs.LineErrors, n)
		counter(descOverBound, cs.OverBound, n)
	}
	if u, ok := st.Gateways[UnknownGateway]; ok {
		for r, v := range u.Refused {
			counter(descRefused, v, UnknownGateway, r)
		}
	}
	counter(descBatches, st.Batches, "ok")
	counter(descBatches, st.BatchErrors, "error")
	counter(descRefusalsDropped, st.RefusalsDropped)
}
