package ingest

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/ngic/ngic/controller/alerts"
	"github.com/ngic/ngic/telemetry"
)

// batchMsg puts the payloads of msgs into one batch message on the topic
// of the first, as a gateway builds it.
func batchMsg(msgs ...Message) Message {
	var b []byte
	for _, m := range msgs {
		b = telemetry.AppendToBatch(b, m.Payload)
	}
	return Message{Topic: msgs[0].Topic, Payload: b}
}

// passages are passage events of gw1 on pair "gate" with the given seqs.
func passages(t testing.TB, seqs ...uint64) []Message {
	var msgs []Message
	for _, s := range seqs {
		msgs = append(msgs, event(t, "gw1", "gate", telemetry.Passage, s, nil))
	}
	return msgs
}

// TestBatchMixed: each element of a batch is recorded or refused on its own,
// with the reasons of a single message, and a refusal names the element.
func TestBatchMixed(t *testing.T) {
	f := newFixture(t, nil)
	f.record(t, passages(t, 1, 2)...)
	good := passages(t, 3, 8, 9)
	cases := []struct {
		reason string
		msg    Message
		err    string // a part of the refusal's error
	}{
		{"", good[0], ""},
		{"", event(t, "gw1", "gate", telemetry.Passage, 4, func(e *telemetry.Event) { e.ID = "gw1-2" }), ""}, // a duplicate by id
		{ReasonInvalid, Message{Payload: bytes.Replace(event(t, "gw1", "gate", telemetry.Passage, 5, nil).Payload, []byte(`"in"`), []byte(`"up"`), 1)},
			"batch element 2 (seq 5): telemetry: event field passage"},
		{ReasonMismatch, event(t, "gw2", "gate", telemetry.Passage, 6, nil), "batch element 3 (seq 6): gateway or source"},
		{ReasonVersion, Message{Payload: []byte(`{"seq":7,"v":2,"id":"v2","gateway":"gw1","source":"gate","type":"passage","time":"2026-11-29T10:00:00Z","passage":{"direction":"in"}}`)},
			"batch element 4 (seq 7): telemetry: event field v"},
		{"", good[1], ""},
		{ReasonJSON, Message{Payload: []byte(`{"seq":"x","v":1}`)}, "batch element 6: telemetry: event payload"},
		{ReasonInvalid, event(t, "gw1", "gate", telemetry.Passage, 2, nil), "batch element 7 (seq 2): telemetry: event field seq: 2 not above 8"},
		{"", good[2], ""},
		{ReasonInvalid, event(t, "gw1", "gate", telemetry.Passage, 1<<63, nil), "batch element 9 (seq 9223372036854775808): seq above 2^63-1"},
	}
	var msgs []Message
	for _, c := range cases {
		msgs = append(msgs, c.msg)
	}
	batch := batchMsg(msgs...)
	f.record(t, batch)

	g := f.gateway(t, "gw1")
	if g.Counts.Events != 5 || g.Counts.Duplicates != 1 {
		t.Fatalf("events %d, duplicates %d; want 5 and 1", g.Counts.Events, g.Counts.Duplicates)
	}
	want := map[string]uint64{ReasonInvalid: 3, ReasonMismatch: 1, ReasonVersion: 1, ReasonJSON: 1}
	if fmt.Sprint(g.Counts.Refused) != fmt.Sprint(want) {
		t.Fatalf("refused %v, want %v", g.Counts.Refused, want)
	}
	refusals := f.Refusals()
	var i int
	for _, c := range cases {
		if c.reason == "" {
			continue
		}
		if i >= len(refusals) {
			t.Fatalf("%d refusals, want more: %+v", len(refusals), refusals)
		}
		r := refusals[i]
		if r.Reason != c.reason || r.Gateway != "gw1" || r.Topic != batch.Topic || !strings.Contains(r.Err, c.err) {
			t.Errorf("refusal %d: %+v, want reason %s and %q in its error", i, r, c.reason, c.err)
		}
		i++
	}
	if i != len(refusals) {
		t.Errorf("%d refusals, want %d: %+v", len(refusals), i, refusals)
	}
	// Seqs 4 to 7 were refused or duplicated: the gap is 4..7 (an event
	// duplicated by its ID leaves its seq unseen).
	if gaps := only(f.sink.Take(), alerts.KindSequenceGap); len(gaps) != 1 || gaps[0].Attrs["first_seq"] != "4" || gaps[0].Attrs["last_seq"] != "7" {
		t.Fatalf("gap signals %s, want one for 4..7", kinds(gaps))
	}
	if n := bytes.Count(f.lines, []byte("\n")); n != 5 {
		t.Fatalf("%d lines, want 5:\n%s", n, f.lines)
	}
}

// TestBatchRedelivered: a batch delivered again counts nothing twice, and
// a batch holding recorded events and new ones records only the new ones.
func TestBatchRedelivered(t *testing.T) {
	f := newFixture(t, nil)
	b1 := batchMsg(passages(t, 1, 2, 3, 4)...)
	f.record(t, b1)
	before := f.snapshot()
	lines := len(f.lines)
	f.sink.Take()
	f.record(t, b1)
	after := f.snapshot()
	g := after.Counts["gw1"]
	if g.Events != 4 || g.Duplicates != 4 {
		t.Fatalf("events %d, duplicates %d; want 4 and 4", g.Events, g.Duplicates)
	}
	g.Duplicates = 0
	after.Counts["gw1"] = g
	for i := range after.Gateways {
		after.Gateways[i].Counts.Duplicates = 0
	}
	if a, b := before.String(), after.String(); a != b {
		t.Fatalf("state changed by a redelivery:\n%s", lineDiff(b, a))
	}
	if sigs := f.sink.Take(); len(f.lines) != lines || len(sigs) != 0 {
		t.Fatalf("a redelivery wrote %d bytes of lines and sent signals %s", len(f.lines)-lines, kinds(sigs))
	}
	f.reopen(t)
	f.record(t, batchMsg(passages(t, 3, 4, 5, 6)...))
	if g := f.gateway(t, "gw1"); g.Counts.Events != 6 || g.Counts.Duplicates != 6 || g.SeqLow != 6 || g.Missing != 0 {
		t.Fatalf("after an overlapping batch: %+v", g)
	}
}

// TestBatchStartsAtLowest: a gateway never heard of starts its sequence at
// the lowest seq of the first batch, whatever the order of the messages;
// a hole inside a batch message is a gap like one between messages.
func TestBatchStartsAtLowest(t *testing.T) {
	f := newFixture(t, nil)
	ms := passages(t, 40, 41, 42, 44, 45)
	f.record(t, batchMsg(ms[3:]...), batchMsg(ms[:3]...))
	g := f.gateway(t, "gw1")
	if g.SeqLow != 42 || g.Missing != 1 || g.Counts.Gaps != 1 {
		t.Fatalf("seq low %d, missing %d, gaps %d; want 42, 1, 1", g.SeqLow, g.Missing, g.Counts.Gaps)
	}
	f.record(t, batchMsg(passages(t, 43)...))
	if g := f.gateway(t, "gw1"); g.SeqLow != 45 || g.Missing != 0 || g.Counts.GapsFilled != 1 {
		t.Fatalf("after the hole came: %+v", g)
	}
}

// TestBatchFramingRefusesWhole: a batch whose framing is bad is refused as
// one message (reason json), nothing of it recorded, the messages around
// it recorded.
func TestBatchFramingRefusesWhole(t *testing.T) {
	ok := batchMsg(passages(t, 1, 2)...)
	bad := batchMsg(passages(t, 3, 4)...)
	for name, payload := range map[string][]byte{
		"trailing garbage":     append(bytes.Clone(bad.Payload), 'x'),
		"element not object":   append([]byte(`[1,`), bad.Payload[1:]...),
		"empty":                []byte(`[]`),
		"cut":                  bad.Payload[:len(bad.Payload)-1],
		"an array of arrays":   append(append([]byte(`[`), bad.Payload...), ']'),
		"more than 1024":       batchMsg(passages(t, seqRange(3, 3+telemetry.MaxBatchEvents+1)...)...).Payload,
		"bad JSON in element2": bytes.Replace(bad.Payload, []byte(`"seq":4`), []byte(`"seq":4,,`), 1),
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, func(o *Options) { o.MaxPayload = 1 << 20 })
			f.record(t, ok, Message{Topic: bad.Topic, Payload: payload}, batchMsg(passages(t, 5)...))
			g := f.gateway(t, "gw1")
			if g.Counts.Events != 3 || g.Counts.Refused[ReasonJSON] != 1 || len(g.Counts.Refused) != 1 {
				t.Fatalf("events %d, refused %v; want 3 and one json", g.Counts.Events, g.Counts.Refused)
			}
			if r := f.Refusals(); len(r) != 1 || !strings.Contains(r[0].Err, "telemetry: event batch") {
				t.Fatalf("refusals %+v", r)
			}
		})
	}
}

// seqRange is first..last-1.
func seqRange(first, last uint64) []uint64 {
	var s []uint64
	for q := first; q < last; q++ {
		s = append(s, q)
	}
	return s
}

// TestBatchSameAsSingles: the same events recorded one per message and in
// batches (consecutive events of one topic) leave the same state, lines
// and signals.
func TestBatchSameAsSingles(t *testing.T) {
	var msgs []Message
	for s := uint64(1); s <= 60; s++ {
		switch s % 6 {
		case 0:
			msgs = append(msgs, tagEvent(t, "gw1", "r1", telemetry.TagArrived, s, fmt.Sprint("T", s)))
		case 1:
			msgs = append(msgs, tagEvent(t, "gw1", "r1", telemetry.TagDeparted, s, fmt.Sprint("T", s-7)))
		case 2, 3:
			msgs = append(msgs, event(t, "gw1", "cab", telemetry.BeamHeld, s, nil))
		case 4:
			msgs = append(msgs, event(t, "gw1", "gate", telemetry.Passage, s, nil))
		case 5:
			if s == 35 {
				msgs = append(msgs, lostEvent(t, "gw1", s, 30, 30))
				continue
			}
			msgs = append(msgs, event(t, "gw2", "gate", telemetry.Passage, s, nil))
		}
	}
	msgs = append(msgs[:30], msgs[31:]...) // seq 30 lost
	single := newFixture(t, nil)
	single.record(t, msgs[:25]...)
	single.record(t, msgs[25:]...)

	batched := newFixture(t, nil)
	group := func(ms []Message) []Message { // consecutive messages of a topic into one
		var out []Message
		for i := 0; i < len(ms); {
			j := i + 1
			for j < len(ms) && ms[j].Topic == ms[i].Topic {
				j++
			}
			out = append(out, batchMsg(ms[i:j]...))
			i = j
		}
		return out
	}
	batched.record(t, group(msgs[:25])...)
	batched.record(t, group(msgs[25:])...)

	if a, b := single.snapshot().String(), batched.snapshot().String(); a != b {
		t.Fatalf("batched:\n%s\nsingle:\n%s", b, a)
	}
	if !bytes.Equal(single.lines, batched.lines) {
		t.Fatalf("lines differ:\n%s\nwant\n%s", batched.lines, single.lines)
	}
	if a, b := sortedSignals(single.sink.Take()), sortedSignals(batched.sink.Take()); a != b {
		t.Fatalf("signals differ:\n%s\nwant\n%s", b, a)
	}
}

// lineDiff shows the lines of got and want that differ.
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var out []string
	for i := range max(len(g), len(w)) {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			out = append(out, fmt.Sprintf("line %d: got %s, want %s", i+1, a, b))
		}
	}
	return strings.Join(out, "\n")
}

// sortedSignals is the JSON of each signal, sorted: the ingest sends the
// gaps of its gateways in no set order.
func sortedSignals(sigs []alerts.Signal) string {
	var all []string
	for _, s := range sigs {
		all = append(all, kinds([]alerts.Signal{s}))
	}
	sort.Strings(all)
	return strings.Join(all, "\n")
}
