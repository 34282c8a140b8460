package ingest

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ngic/ngic/telemetry"
)

func TestRefusals(t *testing.T) {
	good := event(t, "gw1", "r1", telemetry.Passage, 1, nil)
	evTopic := telemetry.EventTopic("gw1", "r1")
	withV2 := bytes.Replace(good.Payload, []byte(`"v":1`), []byte(`"v":2`), 1)
	noID := bytes.Replace(good.Payload, []byte(`"id":"gw1-1"`), []byte(`"id":""`), 1)
	cases := []struct {
		name, reason, gateway string
		msg                   Message
	}{
		{"topic outside the schema", ReasonTopic, UnknownGateway, Message{Topic: "ngic/v1/gw/gw1/other", Payload: good.Payload}},
		{"topic of another root", ReasonTopic, UnknownGateway, Message{Topic: "x/y", Payload: good.Payload}},
		{"gateway not in the inventory", ReasonUnknownGateway, UnknownGateway, Message{Topic: telemetry.EventTopic("intruder", "r1"), Payload: good.Payload}},
		{"too large", ReasonTooLarge, "gw1", Message{Topic: evTopic, Payload: append(bytes.Repeat([]byte(" "), DefaultMaxPayload), good.Payload...)}},
		{"bad JSON", ReasonJSON, "gw1", Message{Topic: evTopic, Payload: []byte(`{"v":1,`)}},
		{"JSON not an object", ReasonJSON, "gw1", Message{Topic: evTopic, Payload: []byte(`[1,2]`)}},
		{"wrong type of a field", ReasonJSON, "gw1", Message{Topic: evTopic, Payload: []byte(`{"v":1,"seq":"x"}`)}},
		{"bad time", ReasonJSON, "gw1", Message{Topic: telemetry.HealthTopic("gw1"), Payload: []byte(`{"v":1,"gateway":"gw1","time":"yesterday"}`)}},
		{"schema version 2", ReasonVersion, "gw1", Message{Topic: evTopic, Payload: withV2}},
		{"no schema version", ReasonVersion, "gw1", Message{Topic: telemetry.StatusTopic("gw1"), Payload: []byte(`{"gateway":"gw1","state":"online"}`)}},
		{"event without id", ReasonInvalid, "gw1", Message{Topic: evTopic, Payload: noID}},
		{"health with a bad count", ReasonInvalid, "gw1", Message{Topic: telemetry.HealthTopic("gw1"),
			Payload: []byte(`{"v":1,"gateway":"gw1","time":"2026-11-29T10:00:00Z","readers_connected":3,"readers_total":1}`)}},
		{"seq past 2^63", ReasonInvalid, "gw1", event(t, "gw1", "r1", telemetry.Passage, 1<<63, nil)},
		{"loss report not after its losses", ReasonInvalid, "gw1", lostEvent(t, "gw1", 9, 5, 1<<40)},
		{"event of another gateway", ReasonMismatch, "gw1", Message{Topic: telemetry.EventTopic("gw1", "r1"), Payload: event(t, "gw2", "r1", telemetry.Passage, 1, nil).Payload}},
		{"event of another source", ReasonMismatch, "gw1", Message{Topic: telemetry.EventTopic("gw1", "r2"), Payload: good.Payload}},
		{"status of another gateway", ReasonMismatch, "gw1", Message{Topic: telemetry.StatusTopic("gw1"), Payload: status(t, "gw2", telemetry.StateOnline, &t0, false).Payload}},
		{"health of another gateway", ReasonMismatch, "gw2", Message{Topic: telemetry.HealthTopic("gw2"), Payload: health(t, "gw1", t0).Payload}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.record(t, c.msg, good)
			st := f.Stats()
			if n := st.Gateways[c.gateway].Refused[c.reason]; n != 1 || st.Total.Events != 1 {
				t.Fatalf("refused[%s][%s] = %d, events %d; stats %+v", c.gateway, c.reason, n, st.Total.Events, st.Gateways)
			}
			var total uint64
			for _, n := range st.Total.Refused {
				total += n
			}
			if total != 1 {
				t.Errorf("%d refusals counted: %+v", total, st.Total.Refused)
			}
			r := f.Refusals()
			if len(r) != 1 || r[0].Reason != c.reason || r[0].Gateway != c.gateway || r[0].Topic != c.msg.Topic {
				t.Errorf("refusals: %+v", r)
			}
			if r := f.Refusals(); len(r) != 0 {
				t.Errorf("not drained: %+v", r)
			}
			if !bytes.Contains(f.lines, []byte("gw1-1")) || bytes.Count(f.lines, []byte("\n")) != 1 {
				t.Errorf("lines: %s", f.lines)
			}
		})
	}
}

func TestRefusalsBounded(t *testing.T) {
	f := newFixture(t, nil)
	var msgs []Message
	for i := 0; i < 500; i++ {
		msgs = append(msgs, Message{Topic: telemetry.StatusTopic(fmt.Sprintf("hostile-%d", i)), Payload: []byte("{}")})
	}
	f.record(t, msgs...)
	st := f.Stats()
	if len(st.Gateways) != 1 || st.Gateways[UnknownGateway].Refused[ReasonUnknownGateway] != 500 || st.RefusalsDropped != 500-maxRefusals {
		t.Fatalf("stats: %+v", st)
	}
	if r := f.Refusals(); len(r) != maxRefusals {
		t.Fatalf("%d refusals kept", len(r))
	}
	// The metrics have one gateway label for all of them.
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(f.Collector())
	n := 0
	for k := range gather(t, reg) {
		if strings.HasPrefix(k, metricPrefix+"refused_total{") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d refused series", n)
	}
}

func TestMetrics(t *testing.T) {
	f := newFixture(t, nil)
	f.record(t, status(t, "gw1", telemetry.StateOnline, &t0, true), event(t, "gw1", "r1", telemetry.Passage, 1, nil),
		event(t, "gw1", "r1", telemetry.Passage, 1, nil), lostEvent(t, "gw1", 5, 2, 3),
		tagEvent(t, "gw1", "r1", telemetry.TagArrived, 6, "A"), Message{Topic: "bad", Payload: nil})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(f.Collector())
	got := gather(t, reg)
	for k, v := range map[string]float64{
		`ngic_controller_ingest_events_lost_total{gateway="gw1",reason="overflow-drop-oldest"}`: 2,
		`ngic_controller_ingest_messages_total{gateway="gw1",kind="duplicate"}`:                 1,
		`ngic_controller_ingest_messages_total{gateway="gw1",kind="event"}`:                     3,
		`ngic_controller_ingest_messages_total{gateway="gw1",kind="status"}`:                    1,
		`ngic_controller_ingest_messages_total{gateway="gw2",kind="event"}`:                     0,
		`ngic_controller_ingest_presence_resets_total{gateway="gw1"}`:                           1,
		`ngic_controller_ingest_refused_total{gateway="#unknown",reason="topic"}`:               1,
		`ngic_controller_ingest_tags_present{gateway="gw1"}`:                                    1,
		`ngic_controller_ingest_gateway_online{gateway="gw1"}`:                                  1,
		`ngic_controller_ingest_gateway_online{gateway="gw3"}`:                                  0,
		`ngic_controller_ingest_sequence_gaps_total{gateway="gw1",state="explained"}`:           0,
		`ngic_controller_ingest_missing_seqs{gateway="gw1"}`:                                    1,
		`ngic_controller_ingest_batches_total{result="ok"}`:                                     1,
	} {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
}

// gather returns the metrics of reg as name{label="value",...} -> value.
func gather(t testing.TB, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			k := mf.GetName()
			if len(labels) > 0 {
				k += "{" + strings.Join(labels, ",") + "}"
			}
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
			out[k] = v
		}
	}
	return out
}
