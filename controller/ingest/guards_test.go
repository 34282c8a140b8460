package ingest

import (
	"fmt"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ngic/ngic/controller/alerts"
	"github.com/ngic/ngic/telemetry"
)

// passage is a passage of gw1 with seq; id and at, when set, replace the
// helper's ID (gw1-seq) and time (t0 + seq ms).
func passage(t testing.TB, seq uint64, id string, at time.Time) Message {
	return event(t, "gw1", "pair", telemetry.Passage, seq, func(e *telemetry.Event) {
		if id != "" {
			e.ID = id
		}
		if !at.IsZero() {
			e.Time = at
		}
	})
}

// TestSeqRestartAccepted: a gateway reinstalled with a fresh spool numbers
// its events from 1 again; they are new (newer than anything recorded,
// with new IDs), the gaps of the old numbering are closed as given up,
// and what comes again of either numbering is still a duplicate, also
// after a restart of the controller.
func TestSeqRestartAccepted(t *testing.T) {
	f := newFixture(t, nil)
	var old []Message
	for seq := uint64(1); seq <= 10; seq++ {
		if seq != 6 && seq != 7 {
			old = append(old, passage(t, seq, "", time.Time{}))
		}
	}
	f.record(t, old[:5]...)
	f.record(t, old[5:]...)
	if g := f.gateway(t, "gw1"); len(g.Gaps) != 1 || g.Counts.Events != 8 {
		t.Fatalf("before the reinstall: %+v", g)
	}
	f.sink.Take()

	reinstalled := t0.Add(time.Hour)
	fresh := func(seq uint64) Message {
		return passage(t, seq, fmt.Sprintf("fresh-%d", seq), reinstalled.Add(time.Duration(seq)*time.Millisecond))
	}
	f.record(t, fresh(1), fresh(2))
	f.record(t, fresh(3))
	g := f.gateway(t, "gw1")
	if g.Counts.Events != 11 || g.Counts.Duplicates != 0 || g.Counts.SeqRestarts != 1 || g.SeqLow != 3 ||
		g.Missing != 0 || len(g.Gaps) != 0 || g.Counts.GapsAbandoned != 1 || g.Abandoned != 2 {
		t.Fatalf("after the reinstall: %+v", g)
	}
	sigs := only(f.sink.Take(), alerts.KindSequenceGap)
	if len(sigs) != 1 || sigs[0].Active || sigs[0].Key != "6" {
		t.Fatalf("the old gap was not closed: %s", kinds(sigs))
	}

	f.reopen(t)
	// The broker delivers again events of both numberings.
	f.record(t, old[3], fresh(2), old[7], fresh(3))
	g = f.gateway(t, "gw1")
	if g.Counts.Events != 11 || g.Counts.Duplicates != 4 || g.Counts.SeqRestarts != 1 || g.SeqLow != 3 {
		t.Fatalf("after redeliveries: %+v", g)
	}
	// The new numbering goes on.
	f.record(t, fresh(4))
	if g := f.gateway(t, "gw1"); g.Counts.Events != 12 || g.SeqLow != 4 {
		t.Fatalf("after fresh 4: %+v", g)
	}
	if s := f.sink.Take(); len(s) != 0 {
		t.Fatalf("signals: %s", kinds(s))
	}
}

// TestIDGuardSurvivesRestart: an event recorded before the controller
// restarted, delivered again under another seq, is known by its ID.
func TestIDGuardSurvivesRestart(t *testing.T) {
	f := newFixture(t, nil)
	for seq := uint64(1); seq <= 3*idRingSize; seq += 128 {
		var b []Message
		for s := seq; s < seq+128; s++ {
			b = append(b, passage(t, s, "", time.Time{}))
		}
		f.record(t, b...)
	}
	f.reopen(t)
	last := uint64(3 * idRingSize)
	again := passage(t, last+1, fmt.Sprintf("gw1-%d", last-idRingSize/2+1), time.Time{})
	f.record(t, again)
	if g := f.gateway(t, "gw1"); g.Counts.Duplicates != 1 || g.Counts.Events != last {
		t.Fatalf("an ID recorded before the restart, under a new seq: %+v", g.Counts)
	}
	// The stored IDs stay bounded: the oldest chunks were deleted.
	var chunks, hashes int
	f.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketIDs).ForEach(func(k, v []byte) error {
			chunks++
			hashes += len(v) / 8
			return nil
		})
	})
	if hashes < idRingSize || hashes > idRingSize+128 {
		t.Fatalf("%d hashes stored in %d chunks, want %d to %d", hashes, chunks, idRingSize, idRingSize+128)
	}
}

// TestIDHashKeyed: the hash of an ID depends on the state file's key
// and on every byte of the ID.
func TestIDHashKeyed(t *testing.T) {
	h1, _ := loadIDHasher([]byte("0123456789abcdef"))
	h2, _ := loadIDHasher([]byte("0123456789abcdeF"))
	seen := map[uint64]string{}
	for _, id := range []string{"", "a", "b", "ab", "ba", "gw1-1", "gw1-2", "0a1b2c3d-4e5f-4000-8000-000000000000",
		"0a1b2c3d-4e5f-4000-8000-000000000001", "1a1b2c3d-4e5f-4000-8000-000000000000"} {
		h := h1.hash(id)
		if prev, ok := seen[h]; ok {
			t.Fatalf("%q and %q share a hash", prev, id)
		}
		seen[h] = id
		if h2.hash(id) == h {
			t.Fatalf("%q: same hash under two keys", id)
		}
	}
	if _, err := loadIDHasher([]byte("short")); err == nil {
		t.Fatal("a seed of 5 bytes loaded")
	}
}

// TestGapsPastTheBoundClose: past 64 open gaps the oldest is no longer
// tracked, and its alert is resolved (counted abandoned), not left raised
// for ever; a gap of far more than 64 seqs closes when filled or
// explained.
func TestGapsPastTheBoundClose(t *testing.T) {
	f := newFixture(t, nil)
	f.record(t, passage(t, 1, "", time.Time{}))
	for i := uint64(1); i <= maxGaps+1; i++ {
		f.record(t, passage(t, 1+2*i, "", time.Time{})) // leaves seq 2i missing
	}
	g := f.gateway(t, "gw1")
	if len(g.Gaps) != maxGaps || g.Counts.Gaps != maxGaps+1 || g.Counts.GapsAbandoned != 1 || g.Gaps[0].FirstSeq != 4 {
		t.Fatalf("after %d gaps: %+v", maxGaps+1, g)
	}
	open := map[string]bool{}
	for _, s := range only(f.sink.Take(), alerts.KindSequenceGap) {
		open[s.Key] = s.Active
	}
	if len(open) != maxGaps+1 || open["2"] || !open["4"] {
		t.Fatalf("gap alerts %v: want 65, the first resolved", open)
	}

	// One gap of 1,000 seqs: half explained by an events.lost, half filled.
	f = newFixture(t, nil)
	f.record(t, passage(t, 1, "", time.Time{}), passage(t, 1002, "", time.Time{}))
	f.record(t, lostEvent(t, "gw1", 1003, 2, 501))
	var fill []Message
	for seq := uint64(502); seq <= 1001; seq++ {
		fill = append(fill, passage(t, seq, "", time.Time{}))
	}
	f.record(t, fill...)
	g = f.gateway(t, "gw1")
	if len(g.Gaps) != 0 || g.Missing != 0 || g.Counts.GapsExplained != 1 || g.SeqLow != 1003 {
		t.Fatalf("after the gap of 1,000 was explained and filled: %+v", g)
	}
	sigs := only(f.sink.Take(), alerts.KindSequenceGap)
	if len(sigs) != 2 || !sigs[0].Active || sigs[1].Active || sigs[1].Key != "2" {
		t.Fatalf("gap signals: %s", kinds(sigs))
	}
}

// TestSeqRestartNeedsANewerEvent: an event below the start of a gateway's
// sequence that comes late, timed a little after the newest, is a
// duplicate, not a restart.
func TestSeqRestartNeedsANewerEvent(t *testing.T) {
	f := newFixture(t, nil)
	f.record(t, passage(t, 100, "", time.Time{}), passage(t, 101, "", time.Time{}))
	f.record(t, passage(t, 50, "", t0.Add(101*time.Millisecond+restartMargin)))
	if g := f.gateway(t, "gw1"); g.Counts.SeqRestarts != 0 || g.Counts.Duplicates != 1 || g.SeqLow != 101 {
		t.Fatalf("a late event within the margin: %+v", g)
	}
}

// TestRecordAllocs: recording tag, beam and passage events costs at most
// 6.5 allocations an event, the bbolt commit included (decoding 2, the
// present tag 1, the batch's maps and the stored records the rest).
func TestRecordAllocs(t *testing.T) {
	in, err := Open(Options{StatePath: t.TempDir() + "/ingest.db", Lines: func([]byte) error { return nil }, Signals: discard{}})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	sites := map[string]string{}
	for i := 0; i < 10; i++ {
		sites[fmt.Sprintf("gw%d", i)] = "site"
	}
	in.SetGateways(sites)
	gen := newBenchGen(t)
	n := 0
	perBatch := testing.AllocsPerRun(20, func() {
		if err := in.Record(gen.batch(n)); err != nil {
			t.Fatal(err)
		}
		n++
	})
	perEvent := perBatch / 500
	t.Logf("%.2f allocations an event", perEvent)
	if perEvent > 6.5 {
		t.Fatalf("%.2f allocations an event", perEvent)
	}
}
