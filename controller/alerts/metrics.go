package alerts

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ngic/ngic/internal/spool"
	"github.com/ngic/ngic/telemetry"
)

var (
	descFiring = prometheus.NewDesc("ngic_controller_alerts_firing", "Open alerts that are firing.",
		[]string{"kind", "severity"}, nil)
	descSilenced = prometheus.NewDesc("ngic_controller_alerts_silenced", "Open alerts silenced by a maintenance window.",
		[]string{"kind"}, nil)
	descRaised = prometheus.NewDesc("ngic_controller_alerts_raised_total", "Alerts raised (firing or silenced).",
		[]string{"kind"}, nil)
	descResolved = prometheus.NewDesc("ngic_controller_alerts_resolved_total", "Alerts resolved.",
		[]string{"kind"}, nil)
	descSuppressed = prometheus.NewDesc("ngic_controller_alerts_suppressed_total", "Alerts held back because their device sits behind a down device.",
		[]string{"kind"}, nil)
	descQueue = prometheus.NewDesc("ngic_controller_alerts_queue_depth", "Alerts waiting on disk for a receiver (mqtt or a webhook URL).",
		[]string{"receiver"}, nil)
	descDelivered = prometheus.NewDesc("ngic_controller_alerts_delivered_total", "Alerts a receiver took.",
		[]string{"receiver"}, nil)
	descDeliveryErrors = prometheus.NewDesc("ngic_controller_alerts_delivery_errors_total", "Failed deliveries, retried with backoff.",
		[]string{"receiver"}, nil)
	descRefused = prometheus.NewDesc("ngic_controller_alerts_refused_total", "Alerts a receiver refused for good (a 4xx other than 408 and 429), set aside.",
		[]string{"receiver"}, nil)
	descDropped = prometheus.NewDesc("ngic_controller_alerts_queue_dropped_total", "Oldest alerts dropped from a full queue.",
		[]string{"receiver"}, nil)
	descStateErrors = prometheus.NewDesc("ngic_controller_alerts_state_errors_total", "Failures to save the alert state file.", nil, nil)
	descQueueErrors = prometheus.NewDesc("ngic_controller_alerts_queue_errors_total", "Failures to queue an alert for delivery.", nil, nil)
	descSubscribers = prometheus.NewDesc("ngic_controller_alerts_subscribers", "Subscriptions to alert changes (Subscribe).", nil, nil)
	descSubsDropped = prometheus.NewDesc("ngic_controller_alerts_subscriber_dropped_total", "Alert changes dropped for a subscriber whose buffer was full.", nil, nil)
	descInvalid     = prometheus.NewDesc("ngic_controller_alerts_signals_invalid_total", "Signals dropped because their subject or key cannot make an alert.", nil, nil)
)

// collector exports the engine's figures.
type collector struct{ e *Engine }

// Collector returns the engine's Prometheus collector (the
// ngic_controller_alerts_* metrics).
func (e *Engine) Collector() prometheus.Collector { return collector{e} }

// Describe implements prometheus.Collector.
func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descFiring, descSilenced, descRaised, descResolved, descSuppressed,
		descQueue, descDelivered, descDeliveryErrors, descRefused, descDropped, descStateErrors, descQueueErrors, descInvalid,
		descSubscribers, descSubsDropped} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c collector) Collect(ch chan<- prometheus.Metric) {
	e := c.e
	type ks struct{ kind, severity string }
	firing := map[ks]int{}
	silenced := map[string]int{}
	e.mu.Lock()
	for _, cd := range e.conds {
		switch {
		case cd.Alert == nil:
		case cd.Alert.State == telemetry.AlertSilenced:
			silenced[cd.Alert.Kind]++
		default:
			firing[ks{cd.Alert.Kind, cd.Alert.Severity}]++
		}
	}
	counts := func(d *prometheus.Desc, m map[string]uint64) {
		for k, n := range m {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(n), k)
		}
	}
	counts(descRaised, e.stats.raised)
	counts(descResolved, e.stats.resolved)
	counts(descSuppressed, e.stats.suppressed)
	ch <- prometheus.MustNewConstMetric(descStateErrors, prometheus.CounterValue, float64(e.stats.stateErrors))
	ch <- prometheus.MustNewConstMetric(descQueueErrors, prometheus.CounterValue, float64(e.stats.queueErrors))
	ch <- prometheus.MustNewConstMetric(descSubscribers, prometheus.GaugeValue, float64(len(e.subs)))
	e.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(descSubsDropped, prometheus.CounterValue, float64(e.subsDropped.Load()))
	ch <- prometheus.MustNewConstMetric(descInvalid, prometheus.CounterValue, float64(e.invalid.Load()))
	for k, n := range firing {
		ch <- prometheus.MustNewConstMetric(descFiring, prometheus.GaugeValue, float64(n), k.kind, k.severity)
	}
	for k, n := range silenced {
		ch <- prometheus.MustNewConstMetric(descSilenced, prometheus.GaugeValue, float64(n), k)
	}
	for _, s := range e.sinks {
		st := s.sp.Stats()
		ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(st.Records), s.name)
		ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(st.Lost[spool.ReasonDropOldest]), s.name)
		ch <- prometheus.MustNewConstMetric(descDelivered, prometheus.CounterValue, float64(s.delivered.Load()), s.name)
		ch <- prometheus.MustNewConstMetric(descDeliveryErrors, prometheus.CounterValue, float64(s.errors.Load()), s.name)
		ch <- prometheus.MustNewConstMetric(descRefused, prometheus.CounterValue, float64(s.refused.Load()), s.name)
	}
}
