package ingest

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/ngic/ngic/controller/alerts"
	"github.com/ngic/ngic/telemetry"
)

// mixed is n events of gw from seq first: tag arrivals and departures,
// beams and passages, as a gateway sends them.
func mixed(t testing.TB, gw string, first uint64, n int) []Message {
	var msgs []Message
	for i := 0; i < n; i++ {
		seq := first + uint64(i)
		switch i % 6 {
		case 0:
			msgs = append(msgs, tagEvent(t, gw, "r1", telemetry.TagArrived, seq, "T"+string(rune('A'+i%26))))
		case 1:
			msgs = append(msgs, event(t, gw, "door", telemetry.BeamBlocked, seq, nil))
		case 2:
			msgs = append(msgs, event(t, gw, "door", telemetry.BeamHeld, seq, nil))
		case 3:
			msgs = append(msgs, event(t, gw, "door", telemetry.BeamCleared, seq, nil))
		case 4:
			msgs = append(msgs, event(t, gw, "pair", telemetry.Passage, seq, nil))
		case 5:
			msgs = append(msgs, tagEvent(t, gw, "r1", telemetry.TagDeparted, seq, "T"+string(rune('A'+(i-5)%26))))
		}
	}
	return msgs
}

func TestReplayCountsNothingTwice(t *testing.T) {
	f := newFixture(t, nil)
	msgs := mixed(t, "gw1", 1, 120)
	for i := 0; i < len(msgs); i += 10 {
		f.record(t, msgs[i:i+10]...)
	}
	before := f.snapshot()
	sigs := f.sink.Take()
	if len(sigs) == 0 || before.Counts["gw1"].Events != 120 {
		t.Fatalf("first delivery: %d signals, counts %+v", len(sigs), before.Counts["gw1"])
	}
	// The edge replays the whole outage in one batch, then again backwards.
	f.record(t, msgs...)
	rev := make([]Message, len(msgs))
	for i, m := range msgs {
		rev[len(msgs)-1-i] = m
	}
	f.record(t, rev...)
	// Same ID under a new seq: a duplicate too.
	f.record(t, event(t, "gw1", "pair", telemetry.Passage, 500, func(e *telemetry.Event) { e.ID = "gw1-5" }))
	after := f.snapshot()
	if got := after.Counts["gw1"].Duplicates; got != 241 {
		t.Errorf("duplicates = %d, want 241", got)
	}
	c := after.Counts["gw1"]
	c.Duplicates = 0
	after.Counts["gw1"] = c
	if !reflect.DeepEqual(before.Sites, after.Sites) || before.Counts["gw1"].Events != after.Counts["gw1"].Events {
		t.Errorf("a replay changed the state:\nbefore %v\nafter %v", before, after)
	}
	if s := f.sink.Take(); len(s) != 0 {
		t.Errorf("a replay sent signals: %s", kinds(s))
	}
}

func TestGapDetectedAndFilled(t *testing.T) {
	f := newFixture(t, nil)
	ev := func(seq uint64) Message { return event(t, "gw1", "pair", telemetry.Passage, seq, nil) }
	f.record(t, ev(1), ev(2), ev(3), ev(4), ev(5))
	f.record(t, ev(9), ev(10))
	g := f.gateway(t, "gw1")
	if g.Missing != 3 || len(g.Gaps) != 1 || g.Gaps[0] != (Gap{6, 8, 3}) || g.Counts.Gaps != 1 {
		t.Fatalf("after 1..5, 9..10: %+v", g)
	}
	sigs := only(f.sink.Take(), alerts.KindSequenceGap)
	if len(sigs) != 1 || !sigs[0].Active || sigs[0].Attrs["first_seq"] != "6" || sigs[0].Attrs["last_seq"] != "8" ||
		sigs[0].Subject != (alerts.Subject{Type: alerts.SubjectGateway, ID: "gw1", Site: "site-a"}) {
		t.Fatalf("gap signals: %s", kinds(sigs))
	}
	f.record(t, ev(7))
	if g := f.gateway(t, "gw1"); g.Missing != 2 || len(g.Gaps) != 1 || g.Gaps[0].Missing != 2 {
		t.Fatalf("after 7: %+v", g)
	}
	if s := f.sink.Take(); len(s) != 0 {
		t.Fatalf("a partial fill sent %s", kinds(s))
	}
	f.record(t, ev(8), ev(6))
	g = f.gateway(t, "gw1")
	if g.Missing != 0 || len(g.Gaps) != 0 || g.SeqLow != 10 || g.Counts.GapsFilled != 1 || g.Counts.Gaps != 1 || g.Counts.Events != 10 {
		t.Fatalf("after the fill: %+v", g)
	}
	sigs = f.sink.Take()
	if len(sigs) != 1 || sigs[0].Kind != alerts.KindSequenceGap || sigs[0].Active || sigs[0].Key != "6" {
		t.Fatalf("fill signals: %s", kinds(sigs))
	}
	// A gap filled within the batch that opened it is no gap.
	f.record(t, ev(13), ev(11), ev(12))
	if g := f.gateway(t, "gw1"); g.Counts.Gaps != 1 || g.Missing != 0 {
		t.Fatalf("in-batch reorder counted: %+v", g)
	}
	if s := f.sink.Take(); len(s) != 0 {
		t.Fatalf("in-batch reorder sent %s", kinds(s))
	}
}

func TestGapExplainedByEventsLost(t *testing.T) {
	f := newFixture(t, nil)
	ev := func(seq uint64) Message { return event(t, "gw1", "pair", telemetry.Passage, seq, nil) }
	f.record(t, ev(1), ev(2), ev(6))
	f.sink.Take()
	// Seqs 3..5 were lost at the edge; 4 had been delivered after all
	// and comes late, through another topic.
	f.record(t, lostEvent(t, "gw1", 7, 3, 5))
	g := f.gateway(t, "gw1")
	if g.Missing != 0 || len(g.Gaps) != 0 || g.Counts.GapsExplained != 1 || g.Counts.Lost[telemetry.LostDropOldest] != 3 || g.Counts.LossReports != 1 {
		t.Fatalf("after events.lost: %+v", g)
	}
	sigs := f.sink.Take()
	lost, gaps := only(sigs, alerts.KindEventsLost), only(sigs, alerts.KindSequenceGap)
	if len(lost) != 1 || lost[0].Attrs["first_seq"] != "3" || lost[0].Attrs["last_seq"] != "5" || lost[0].Attrs["lost"] != "3" {
		t.Errorf("events-lost signals: %s", kinds(lost))
	}
	if len(gaps) != 1 || gaps[0].Active {
		t.Errorf("gap signals: %s", kinds(gaps))
	}
	f.record(t, lostEvent(t, "gw1", 7, 3, 5)) // redelivered
	if g := f.gateway(t, "gw1"); g.Counts.Lost[telemetry.LostDropOldest] != 3 || g.Counts.Duplicates != 1 {
		t.Fatalf("a redelivered events.lost counted again: %+v", g.Counts)
	}
	// A loss report ahead of a late event in its range (seq 9 of 9..10
	// was delivered on another topic and arrives after the report).
	f.record(t, lostEvent(t, "gw1", 11, 9, 10))
	f.record(t, ev(8), ev(9), ev(9))
	g = f.gateway(t, "gw1")
	if g.Counts.Events != 7 || g.Counts.Duplicates != 2 || g.Missing != 0 || g.SeqLow != 11 {
		t.Fatalf("late event in an explained range: %+v", g)
	}
}

func TestSeqStateBounds(t *testing.T) {
	var s seqState
	s.markSeen(1)
	closed := 0
	// Every other seq: a hole each, past the bound.
	for seq := uint64(3); seq < 2*maxSpans+100; seq += 2 {
		if s.seen(seq) {
			t.Fatalf("seq %d new but seen", seq)
		}
		s.markSeen(seq)
		_, c := s.settle()
		for _, g := range c {
			if !g.Abandoned {
				t.Fatalf("seq %d: a gap given up closed as filled: %+v", seq, g)
			}
		}
		closed += len(c)
	}
	if len(s.Covered) > maxSpans || len(s.Gaps) > maxGaps || s.Abandoned == 0 {
		t.Fatalf("bounds not kept: %d spans, %d gaps, %d abandoned", len(s.Covered), len(s.Gaps), s.Abandoned)
	}
	// Every gap opened is still open or closed as given up.
	if want := maxSpans + 49; closed+len(s.Gaps) != want {
		t.Errorf("%d gaps closed as given up + %d open, want %d gaps", closed, len(s.Gaps), want)
	}
	if s.missing()+s.Abandoned != uint64(maxSpans+49) {
		t.Errorf("missing %d + abandoned %d, want %d holes", s.missing(), s.Abandoned, maxSpans+49)
	}
	checkSeqState(t, &s)
}

// checkSeqState checks the invariants of a sequence state.
func checkSeqState(t testing.TB, s *seqState) {
	t.Helper()
	prev := s.Low + 1
	for i, c := range s.Covered {
		if c.A <= prev || c.B < c.A || c.B > s.High {
			t.Fatalf("covered span %d %+v not above %d (low %d, high %d): %+v", i, c, prev, s.Low, s.High, s.Covered)
		}
		prev = c.B + 1
	}
	for _, e := range s.Explained {
		if e.B < e.A {
			t.Fatalf("explained %+v not a range", e)
		}
		if i := find(s.Covered, e.A); e.B > s.Low && (i < 0 || s.Covered[i].B < e.B) {
			t.Fatalf("explained %+v not covered: %+v", e, s.Covered)
		}
	}
	if s.Started && s.High < s.Low {
		t.Fatalf("high %d below low %d", s.High, s.Low)
	}
	if len(s.Covered) > maxSpans || len(s.Explained) > maxExplained || len(s.Gaps) > maxGaps {
		t.Fatalf("bounds: %d spans, %d explained, %d gaps", len(s.Covered), len(s.Explained), len(s.Gaps))
	}
}

func TestGapGivenUpIsNotFilled(t *testing.T) {
	var s seqState
	s.markSeen(1)
	s.markSeen(3001)
	if opened, _ := s.settle(); len(opened) != 1 || opened[0].First != 2 || opened[0].Last != 3000 {
		t.Fatalf("opened %+v", opened)
	}
	// Every other seq of the gap comes: a hole each, past the bound.
	var closed []gap
	for seq := uint64(2); seq <= 3000; seq += 2 {
		s.markSeen(seq)
		_, c := s.settle()
		closed = append(closed, c...)
	}
	if s.Abandoned == 0 || len(s.Gaps) != 0 {
		t.Fatalf("abandoned %d, gaps %+v", s.Abandoned, s.Gaps)
	}
	// Given up, it is closed once, as such (its alert resolves).
	if len(closed) != 1 || !closed[0].Abandoned || closed[0].First != 2 || closed[0].Last != 3000 {
		t.Fatalf("closed %+v, want the gap 2..3000 once, abandoned", closed)
	}
	checkSeqState(t, &s)
}

func TestFirstBatchOutOfOrder(t *testing.T) {
	f := newFixture(t, nil)
	ev := func(seq uint64) Message { return event(t, "gw1", "pair", telemetry.Passage, seq, nil) }
	// The controller first hears of gw1 with a batch whose seqs are out
	// of order: the lowest starts its sequence.
	f.record(t, ev(105), ev(103), ev(104))
	g := f.gateway(t, "gw1")
	if g.Counts.Events != 3 || g.Counts.Duplicates != 0 || g.SeqLow != 105 || g.Missing != 0 || g.Counts.Gaps != 0 {
		t.Fatalf("after 105, 103, 104: %+v", g)
	}
	// Later a lower one is old: the gateway had sent it before the
	// controller heard of it.
	f.record(t, ev(102))
	if g := f.gateway(t, "gw1"); g.Counts.Duplicates != 1 || g.Counts.Events != 3 {
		t.Fatalf("after 102: %+v", g)
	}
}

// TestSeqStateAgainstModel applies random deliveries (in and out of
// order, again) and loss reports to a seqState and to a plain model, and
// compares what they say after each step.
func TestSeqStateAgainstModel(t *testing.T) {
	for round := uint64(0); round < 200; round++ {
		rng := rand.New(rand.NewPCG(round, 7))
		var s seqState
		seen := map[uint64]bool{}      // delivered
		explained := map[uint64]bool{} // explained by a loss report, not delivered
		first := uint64(1 + rng.IntN(50))
		s.markSeen(first)
		seen[first] = true
		low := func() uint64 { // the model's low-water mark
			l := first
			for seen[l+1] || explained[l+1] {
				l++
			}
			return l
		}
		for step := 0; step < 300; step++ {
			if rng.IntN(8) == 0 { // a loss report above the low-water mark
				a := low() + 1 + uint64(rng.IntN(20))
				b := a + uint64(rng.IntN(5))
				s.markExplained(a, b)
				for x := a; x <= b; x++ {
					if !seen[x] {
						explained[x] = true
					}
				}
			} else {
				x := first + uint64(rng.IntN(step+20))
				want := seen[x] || (x <= low() && !explained[x])
				if got := s.seen(x); got != want {
					t.Fatalf("round %d step %d: seen(%d) = %v, model says %v; state %+v", round, step, x, got, want, s)
				}
				if !want {
					s.markSeen(x)
					seen[x] = true
					delete(explained, x)
				}
			}
			s.settle()
			checkSeqState(t, &s)
			high := first
			for x := range seen {
				high = max(high, x)
			}
			for x := range explained {
				high = max(high, x)
			}
			var missing uint64
			for x := low() + 1; x <= high; x++ {
				if !seen[x] && !explained[x] {
					missing++
				}
			}
			if s.Low != low() || s.High != high || s.missing() != missing {
				t.Fatalf("round %d step %d: low %d high %d missing %d, model %d %d %d", round, step, s.Low, s.High, s.missing(), low(), high, missing)
			}
		}
	}
}

// TestSharedEventsNoGaps: with SharedEvents (a cluster, where the
// events of a gateway come to the controllers in turns) the holes in a
// controller's share of the sequence count as no gap, nothing missing,
// no signal; duplicates are still told.
func TestSharedEventsNoGaps(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.SharedEvents = true })
	ev := func(seq uint64) Message { return event(t, "gw1", "pair", telemetry.Passage, seq, nil) }
	f.record(t, ev(1), ev(3), ev(5))
	f.record(t, ev(8), ev(11))
	f.record(t, ev(3), ev(8))
	g := f.gateway(t, "gw1")
	if g.Missing != 0 || len(g.Gaps) != 0 || g.Counts.Gaps != 0 || g.Counts.Events != 5 || g.Counts.Duplicates != 2 {
		t.Fatalf("a share of the sequence: %+v", g)
	}
	if s := only(f.sink.Take(), alerts.KindSequenceGap); len(s) != 0 {
		t.Fatalf("a share of the sequence signalled %s", kinds(s))
	}
}
