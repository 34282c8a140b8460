package gateway

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/ngic/ngic/internal/spool"
)

// metrics are the gateway's Prometheus metrics, in a registry of its own.
type metrics struct {
	reg            *prometheus.Registry
	reads          *prometheus.CounterVec
	events         *prometheus.CounterVec
	publishLatency prometheus.Histogram
}

func newMetrics(g *Gateway) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		reads: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "ngic_edge", Name: "reads_total",
			Help: "Raw tag reads decoded, per reader."}, []string{"reader"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "ngic_edge", Name: "events_total",
			Help: "Events handed to the spool, per source and type; each took a sequence number (see ngic_edge_events_lost_total)."},
			[]string{"source", "type"}),
		publishLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "ngic_edge", Name: "publish_latency_seconds",
			Help:    "Time from publish to the broker's PUBACK.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
	}
	for _, r := range g.readers {
		m.reads.WithLabelValues(r.cfg.Name)
	}
	m.reg.MustRegister(m.reads, m.events, m.publishLatency, &stateCollector{g: g},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

var (
	descReaderUp = prometheus.NewDesc("ngic_edge_reader_connected", "1 when the reader's serial link is open.",
		[]string{"reader", "protocol", "device"}, nil)
	descReaderReconnects = prometheus.NewDesc("ngic_edge_reader_reconnects_total", "Reopens of the reader's serial link.",
		[]string{"reader"}, nil)
	descBadFrames = prometheus.NewDesc("ngic_edge_reader_bad_frames_total", "Frames dropped for a bad checksum, CRC, length or terminator.",
		[]string{"reader"}, nil)
	descSkipped = prometheus.NewDesc("ngic_edge_reader_skipped_bytes_total", "Bytes skipped while resynchronising.",
		[]string{"reader"}, nil)
	descReaderErrors = prometheus.NewDesc("ngic_edge_reader_error_responses_total", "Error responses from the reader.",
		[]string{"reader"}, nil)
	descPresent = prometheus.NewDesc("ngic_edge_tags_present", "Tags present at the reader now.",
		[]string{"reader"}, nil)
	descSpoolRecords = prometheus.NewDesc("ngic_edge_spool_records", "Events in the spool, not yet acknowledged by the broker.", nil, nil)
	descSpoolBytes   = prometheus.NewDesc("ngic_edge_spool_bytes", "Payload bytes in the spool.", nil, nil)
	descSpoolDropped = prometheus.NewDesc("ngic_edge_spool_dropped_total", "Events dropped by the spool's drop-oldest overflow policy.", nil, nil)
	descSpoolHeld    = prometheus.NewDesc("ngic_edge_spool_held", "Events held in memory because the disk is full.", nil, nil)
	descRejected     = prometheus.NewDesc("ngic_edge_events_rejected_total", "Events refused by the spool's reject-new overflow policy or its size bound.", nil, nil)
	descLost         = prometheus.NewDesc("ngic_edge_events_lost_total",
		"Events lost over the spool file's life, per reason; each is reported to the far end in an events.lost event.", []string{"reason"}, nil)
	descLostUnreported = prometheus.NewDesc("ngic_edge_events_lost_unreported", "Lost events not yet covered by a spooled events.lost event.", nil, nil)
	descMQTTUp         = prometheus.NewDesc("ngic_edge_mqtt_connected", "1 when connected to the broker.", nil, nil)
	descReconnects     = prometheus.NewDesc("ngic_edge_mqtt_reconnects_total", "Reconnections to the broker.", nil, nil)
	descPublished      = prometheus.NewDesc("ngic_edge_mqtt_published_total", "Events published at QoS 1, replays included.", nil, nil)
	descAcked          = prometheus.NewDesc("ngic_edge_mqtt_acked_total", "Events acknowledged by the broker.", nil, nil)
	descMessages       = prometheus.NewDesc("ngic_edge_mqtt_messages_total", "MQTT messages that carried them (a batch is one).", nil, nil)
	descInFlight       = prometheus.NewDesc("ngic_edge_mqtt_inflight", "Events awaiting the broker's PUBACK.", nil, nil)
	descSensor         = prometheus.NewDesc("ngic_edge_beam_blocked", "1 when the photo-eye's beam is blocked.", []string{"sensor"}, nil)
	descPassages       = prometheus.NewDesc("ngic_edge_passages_total", "Passages counted by a pair of photo-eyes.", []string{"pair", "direction"}, nil)
)

// stateCollector reads the readers', spool's and publisher's state at scrape time.
type stateCollector struct{ g *Gateway }

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descReaderUp, descReaderReconnects, descBadFrames, descSkipped, descReaderErrors,
		descPresent, descSpoolRecords, descSpoolBytes, descSpoolDropped, descSpoolHeld, descRejected, descLost, descLostUnreported, descMQTTUp, descReconnects, descPublished,
		descAcked, descMessages, descInFlight, descSensor, descPassages} {
		ch <- d
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	g := c.g
	for _, r := range g.readers {
		st := r.link.State()
		n := r.cfg.Name
		ch <- prometheus.MustNewConstMetric(descReaderUp, prometheus.GaugeValue, b2f(st.Connected), n, r.cfg.Protocol, r.cfg.Device)
		ch <- prometheus.MustNewConstMetric(descReaderReconnects, prometheus.CounterValue, float64(st.Reconnects), n)
		ch <- prometheus.MustNewConstMetric(descBadFrames, prometheus.CounterValue, float64(st.Stats.BadFrames), n)
		ch <- prometheus.MustNewConstMetric(descSkipped, prometheus.CounterValue, float64(st.Stats.SkippedBytes), n)
		ch <- prometheus.MustNewConstMetric(descReaderErrors, prometheus.CounterValue, float64(st.Stats.Errors), n)
		ch <- prometheus.MustNewConstMetric(descPresent, prometheus.GaugeValue, float64(r.smooth.Len()), n)
	}
	ss := g.spool.Stats()
	ch <- prometheus.MustNewConstMetric(descSpoolRecords, prometheus.GaugeValue, float64(ss.Records))
	ch <- prometheus.MustNewConstMetric(descSpoolBytes, prometheus.GaugeValue, float64(ss.Bytes))
	ch <- prometheus.MustNewConstMetric(descSpoolDropped, prometheus.CounterValue, float64(ss.Dropped))
	ch <- prometheus.MustNewConstMetric(descSpoolHeld, prometheus.GaugeValue, float64(ss.Held))
	ch <- prometheus.MustNewConstMetric(descRejected, prometheus.CounterValue,
		float64(ss.Lost[spool.ReasonRejectNew]+ss.Lost[spool.ReasonTooLarge]))
	for r := spool.Reason(0); r < spool.NumReasons; r++ {
		if r == spool.ReasonRefused {
			continue // a reader of the spool that talks to InfluxDB gives it, never the edge
		}
		ch <- prometheus.MustNewConstMetric(descLost, prometheus.CounterValue, float64(ss.Lost[r]), lossReason(r))
	}
	ch <- prometheus.MustNewConstMetric(descLostUnreported, prometheus.GaugeValue, float64(ss.Unreported))
	ps := g.pub.Stats()
	ch <- prometheus.MustNewConstMetric(descMQTTUp, prometheus.GaugeValue, b2f(ps.Connected))
	ch <- prometheus.MustNewConstMetric(descReconnects, prometheus.CounterValue, float64(ps.Reconnects))
	ch <- prometheus.MustNewConstMetric(descPublished, prometheus.CounterValue, float64(ps.Published))
	ch <- prometheus.MustNewConstMetric(descAcked, prometheus.CounterValue, float64(ps.Acked))
	ch <- prometheus.MustNewConstMetric(descMessages, prometheus.CounterValue, float64(ps.Messages))
	ch <- prometheus.MustNewConstMetric(descInFlight, prometheus.GaugeValue, float64(ps.InFlight))
	for _, s := range g.sensors {
		ch <- prometheus.MustNewConstMetric(descSensor, prometheus.GaugeValue, b2f(s.blocked()), s.cfg.Name)
	}
	for _, p := range g.pairs {
		cnt := p.p.Counts()
		ch <- prometheus.MustNewConstMetric(descPassages, prometheus.CounterValue, float64(cnt.In), p.cfg.Name, "in")
		ch <- prometheus.MustNewConstMetric(descPassages, prometheus.CounterValue, float64(cnt.Out), p.cfg.Name, "out")
	}
}
