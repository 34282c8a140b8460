package broker

import "github.com/prometheus/client_golang/prometheus"

// Stats are the Subscriber's counters since Subscribe.
type Stats struct {
	// Connected tells whether a broker session is up; Subscribed whether
	// the broker granted every subscription on it.
	Connected, Subscribed bool
	// Connects counts sessions started; Reconnects those after the first.
	Connects, Reconnects uint64
	// Received counts messages the broker delivered, Redelivered those of
	// them marked DUP (delivered before, not acknowledged).
	Received, Redelivered uint64
	// Deferred counts messages left unacknowledged because the queue
	// stayed full (Record refused or lagged); Resyncs the reconnections
	// made afterwards so that the broker delivers them again.
	Deferred, Resyncs uint64
	// Recorded counts messages in the batches Record accepted, Batches
	// those batches, RecordErrors the Record calls that failed.
	Recorded, Batches, RecordErrors uint64
	// Acked counts PUBACKs sent for recorded messages; Stale the recorded
	// messages not acknowledged because the connection that delivered them
	// had ended (the broker delivers them again).
	Acked, Stale uint64
	// Queued is the number of messages waiting for Run.
	Queued int
	// Published counts alerts Publish got a PUBACK for, PublishErrors
	// those that failed or whose context ended first.
	Published, PublishErrors uint64
	// LastError is the last connection, subscription or Record error.
	LastError string
}

// Stats returns a snapshot of the counters.
func (s *Subscriber) Stats() Stats {
	n := &s.n
	st := Stats{
		Connected:     n.connected.Load(),
		Subscribed:    n.subscribed.Load(),
		Connects:      n.connects.Load(),
		Received:      n.received.Load(),
		Redelivered:   n.redelivered.Load(),
		Deferred:      n.deferred.Load(),
		Resyncs:       n.resyncs.Load(),
		Recorded:      n.recorded.Load(),
		Batches:       n.batches.Load(),
		RecordErrors:  n.recordErrors.Load(),
		Acked:         n.acked.Load(),
		Stale:         n.stale.Load(),
		Queued:        len(s.in),
		Published:     n.published.Load(),
		PublishErrors: n.publishErrors.Load(),
		LastError:     n.lastError.Load().(string),
	}
	if st.Connects > 0 {
		st.Reconnects = st.Connects - 1
	}
	return st
}

// metric is one metric read from a snapshot of counters.
type metric[S any] struct {
	desc  *prometheus.Desc
	typ   prometheus.ValueType
	value func(*S) float64
}

// collector is a prometheus.Collector of metrics read from stats at
// scrape time.
type collector[S any] struct {
	stats   func() S
	metrics []metric[S]
}

func (c *collector[S]) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c.metrics {
		ch <- m.desc
	}
}

func (c *collector[S]) Collect(ch chan<- prometheus.Metric) {
	st := c.stats()
	for _, m := range c.metrics {
		ch <- prometheus.MustNewConstMetric(m.desc, m.typ, m.value(&st))
	}
}

func counter[S any](name, help string, v func(*S) uint64) metric[S] {
	return metric[S]{prometheus.NewDesc(name, help, nil, nil), prometheus.CounterValue, func(s *S) float64 { return float64(v(s)) }}
}

func gauge[S any](name, help string, v func(*S) float64) metric[S] {
	return metric[S]{prometheus.NewDesc(name, help, nil, nil), prometheus.GaugeValue, v}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// subscriberMetrics are the metrics of a Subscriber.
var subscriberMetrics = []metric[Stats]{
	gauge("ngic_controller_mqtt_connected", "1 when connected to the broker.",
		func(s *Stats) float64 { return b2f(s.Connected) }),
	gauge("ngic_controller_mqtt_subscribed", "1 when the broker granted every subscription of the session.",
		func(s *Stats) float64 { return b2f(s.Subscribed) }),
	counter("ngic_controller_mqtt_reconnects_total", "Sessions started after the first.",
		func(s *Stats) uint64 { return s.Reconnects }),
	counter("ngic_controller_mqtt_received_total", "Messages delivered by the broker, redeliveries included.",
		func(s *Stats) uint64 { return s.Received }),
	counter("ngic_controller_mqtt_redelivered_total", "Messages delivered again by the broker (DUP) after a connection ended before their PUBACK.",
		func(s *Stats) uint64 { return s.Redelivered }),
	counter("ngic_controller_mqtt_deferred_total", "Messages left unacknowledged for redelivery because the queue stayed full.",
		func(s *Stats) uint64 { return s.Deferred }),
	counter("ngic_controller_mqtt_resyncs_total", "Reconnections made so that the broker delivers deferred messages again.",
		func(s *Stats) uint64 { return s.Resyncs }),
	counter("ngic_controller_mqtt_recorded_total", "Messages durably recorded.",
		func(s *Stats) uint64 { return s.Recorded }),
	counter("ngic_controller_mqtt_record_batches_total", "Batches durably recorded.",
		func(s *Stats) uint64 { return s.Batches }),
	counter("ngic_controller_mqtt_record_errors_total", "Record calls that failed (the batch is retried, unacknowledged).",
		func(s *Stats) uint64 { return s.RecordErrors }),
	counter("ngic_controller_mqtt_acked_total", "PUBACKs sent for recorded messages.",
		func(s *Stats) uint64 { return s.Acked }),
	counter("ngic_controller_mqtt_stale_total", "Recorded messages not acknowledged because their connection had ended.",
		func(s *Stats) uint64 { return s.Stale }),
	gauge("ngic_controller_mqtt_queued", "Messages received and waiting to be recorded.",
		func(s *Stats) float64 { return float64(s.Queued) }),
	counter("ngic_controller_mqtt_published_total", "Alerts published and acknowledged by the broker.",
		func(s *Stats) uint64 { return s.Published }),
	counter("ngic_controller_mqtt_publish_errors_total", "Alert publishes that failed or timed out.",
		func(s *Stats) uint64 { return s.PublishErrors }),
}

// Collector returns the Subscriber's metrics (ngic_controller_mqtt_*),
// read at scrape time.
func (s *Subscriber) Collector() prometheus.Collector {
	return &collector[Stats]{stats: s.Stats, metrics: subscriberMetrics}
}
