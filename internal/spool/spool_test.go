package spool

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// openT opens a spool in a fresh temporary folder and closes it at the end.
func openT(t testing.TB, opts Options) (*Spool, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "spool.db")
	s, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

// all returns every stored record, oldest first, reading in small pages to
// exercise the after cursor.
func all(t testing.TB, s *Spool) []Record {
	t.Helper()
	var out []Record
	var after uint64
	for {
		recs, err := s.Next(after, 7)
		if err != nil {
			t.Fatalf("Next(%d): %v", after, err)
		}
		if len(recs) == 0 {
			return out
		}
		out = append(out, recs...)
		after = recs[len(recs)-1].Seq
	}
}

func ev(i int) []byte { return []byte(fmt.Sprintf("event-%04d", i)) }

func TestPersistReopenReplayDelete(t *testing.T) {
	s, path := openT(t, Options{})
	var want []uint64
	for b := 0; b < 5; b++ {
		batch := [][]byte{ev(3 * b), ev(3*b + 1), ev(3*b + 2)}
		seqs, err := s.Append(batch...)
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		if len(seqs) != len(batch) {
			t.Fatalf("Append returned %d seqs for %d events", len(seqs), len(batch))
		}
		want = append(want, seqs...)
	}
	for i := 1; i < len(want); i++ {
		if want[i] <= want[i-1] {
			t.Fatalf("seqs not strictly increasing: %v", want)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := s.Append(ev(99)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v, want ErrClosed", err)
	}

	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	got := all(t, s)
	if len(got) != len(want) {
		t.Fatalf("after reopen %d records, want %d", len(got), len(want))
	}
	for i, r := range got {
		if r.Seq != want[i] || !bytes.Equal(r.Data, ev(i)) {
			t.Fatalf("record %d = %d %q, want %d %q", i, r.Seq, r.Data, want[i], ev(i))
		}
	}
	// Data is a copy: scribbling on it changes nothing stored.
	got[0].Data[0] = 'X'
	again, err := s.Next(0, 1)
	if err != nil || len(again) != 1 || !bytes.Equal(again[0].Data, ev(0)) {
		t.Fatalf("Next after caller modified Data: %v %v", again, err)
	}
	// Next with after in the middle starts right after it.
	mid, err := s.Next(want[4], 2)
	if err != nil || len(mid) != 2 || mid[0].Seq != want[5] || mid[1].Seq != want[6] {
		t.Fatalf("Next(%d, 2) = %v, %v", want[4], mid, err)
	}

	// Delete on ack, including unknown and duplicate seqs.
	if err := s.Delete(want[0], want[2], want[2], 1<<60); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	st := s.Stats()
	if st.Records != len(want)-2 || st.Deleted != 2 || st.Appended != uint64(len(want)) || st.Dropped != 0 {
		t.Fatalf("Stats after delete = %+v", st)
	}
	var size int64
	for _, r := range all(t, s) {
		if r.Seq == want[0] || r.Seq == want[2] {
			t.Fatalf("deleted seq %d still returned", r.Seq)
		}
		size += int64(len(r.Data))
	}
	if st.Bytes != size {
		t.Fatalf("Stats.Bytes = %d, stored %d", st.Bytes, size)
	}

	// Empty the spool, reopen, and seqs must keep increasing.
	if err := s.Delete(want...); err != nil {
		t.Fatalf("Delete all: %v", err)
	}
	if n := len(all(t, s)); n != 0 || s.Stats().Records != 0 || s.Stats().Bytes != 0 {
		t.Fatalf("after deleting all: %d records, stats %+v", n, s.Stats())
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("reopen empty: %v", err)
	}
	defer s2.Close()
	seqs, err := s2.Append(ev(100))
	if err != nil {
		t.Fatalf("Append after reopen: %v", err)
	}
	if seqs[0] <= want[len(want)-1] {
		t.Fatalf("seq after reopen of emptied spool = %d, want > %d", seqs[0], want[len(want)-1])
	}
	if st := s2.Stats(); st.Appended != uint64(len(want))+1 || st.Deleted != uint64(len(want)) {
		t.Fatalf("counters not kept across reopen: %+v", st)
	}
}

func TestOverflow(t *testing.T) {
	cases := []struct {
		name string
		opts Options
		// batches of event sizes in bytes
		batches [][]int
		// which events (global index in append order) must remain
		keep []int
		// lost per reason: drop-oldest, reject-new, too-large
		dropped, rejected, tooLarge uint64
	}{
		{
			name:    "drop oldest by records",
			opts:    Options{MaxRecords: 4},
			batches: [][]int{{10, 10, 10}, {10, 10}, {10}, {10, 10, 10, 10, 10}},
			keep:    []int{7, 8, 9, 10},
			dropped: 7,
		},
		{
			name:    "drop oldest by bytes",
			opts:    Options{MaxBytes: 100},
			batches: [][]int{{40, 40}, {30}, {50}, {100}},
			keep:    []int{4},
			dropped: 4,
		},
		{
			name:    "drop oldest by bytes keeps what fits",
			opts:    Options{MaxBytes: 100},
			batches: [][]int{{40, 40}, {30}},
			keep:    []int{1, 2},
			dropped: 1,
		},
		{
			name:     "reject new by records, per event",
			opts:     Options{MaxRecords: 4, Overflow: RejectNew},
			batches:  [][]int{{10, 10, 10}, {10, 10}, {10}, {10, 10}},
			keep:     []int{0, 1, 2, 3},
			rejected: 4,
		},
		{
			name:     "reject new by bytes",
			opts:     Options{MaxBytes: 100, Overflow: RejectNew},
			batches:  [][]int{{40, 40}, {30}, {20}, {1}},
			keep:     []int{0, 1, 3},
			rejected: 2,
		},
		{
			name:     "too large, the rest of the batch stored",
			opts:     Options{MaxBytes: 10},
			batches:  [][]int{{5, 11, 4}},
			keep:     []int{0, 2},
			tooLarge: 1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := openT(t, tc.opts)
			var all2 [][]byte
			var seqs []uint64
			idx := 0
			for bi, b := range tc.batches {
				var batch [][]byte
				for _, n := range b {
					d := bytes.Repeat([]byte{byte('a' + idx%26)}, n)
					copy(d, fmt.Sprintf("%d", idx))
					batch = append(batch, d)
					all2 = append(all2, d)
					idx++
				}
				got, err := s.Append(batch...)
				if err != nil {
					t.Fatalf("batch %d: %v", bi, err)
				}
				if len(got) != len(batch) {
					t.Fatalf("batch %d: %d seqs for %d events", bi, len(got), len(batch))
				}
				seqs = append(seqs, got...)
			}
			for i, seq := range seqs {
				if seq != uint64(i+1) {
					t.Fatalf("event %d got seq %d: every event, stored or lost, takes the next number", i, seq)
				}
			}
			got := all(t, s)
			if len(got) != len(tc.keep) {
				t.Fatalf("kept %d records, want %d", len(got), len(tc.keep))
			}
			var size int64
			for i, r := range got {
				if !bytes.Equal(r.Data, all2[tc.keep[i]]) || r.Seq != seqs[tc.keep[i]] {
					t.Fatalf("record %d = seq %d %q, want event %d %q", i, r.Seq, r.Data, tc.keep[i], all2[tc.keep[i]])
				}
				size += int64(len(r.Data))
			}
			st := s.Stats()
			if st.Dropped != tc.dropped || st.Records != len(tc.keep) || st.Bytes != size {
				t.Fatalf("Stats = %+v, want Dropped %d Records %d Bytes %d", st, tc.dropped, len(tc.keep), size)
			}
			want := [NumReasons]uint64{ReasonDropOldest: tc.dropped, ReasonRejectNew: tc.rejected, ReasonTooLarge: tc.tooLarge}
			if st.Lost != want || st.Unreported != tc.dropped+tc.rejected+tc.tooLarge {
				t.Fatalf("Stats.Lost = %v, Unreported %d; want %v", st.Lost, st.Unreported, want)
			}
			checkAccounted(t, s, uint64(len(seqs)))
		})
	}
}

// checkAccounted reports the losses, then checks what a far end would:
// every number from 1 to last is a stored record or inside the seq range
// of a loss report, and the reports' counts add up to the missing numbers.
func checkAccounted(t *testing.T, s *Spool, last uint64) {
	t.Helper()
	checkAccountedExcept(t, s, last, nil)
}

// checkAccountedExcept is checkAccounted where the numbers in delivered
// were deleted (acknowledged) and count as received.
// Earlier are loss reports already delivered.
func checkAccountedExcept(t *testing.T, s *Spool, last uint64, delivered []uint64, earlier ...Loss) {
	t.Helper()
	var reports []Loss
	if _, err := s.ReportLosses(func(l Loss) ([]byte, error) {
		reports = append(reports, l)
		return []byte(fmt.Sprintf("lost %s %d", l.Reason, l.Count)), nil
	}); err != nil {
		t.Fatalf("ReportLosses: %v", err)
	}
	stored := map[uint64]bool{}
	for _, seq := range delivered {
		stored[seq] = true
	}
	nReports := 0
	for _, r := range all(t, s) {
		stored[r.Seq] = true
		if bytes.HasPrefix(r.Data, []byte("lost ")) {
			nReports++
		}
	}
	if nReports != len(reports) {
		t.Fatalf("%d loss reports stored, %d made", nReports, len(reports))
	}
	reports = append(reports, earlier...)
	var missing, counted uint64
	for seq := uint64(1); seq <= last; seq++ {
		if stored[seq] {
			continue
		}
		missing++
		covered := false
		for _, l := range reports {
			covered = covered || (l.FirstSeq <= seq && seq <= l.LastSeq)
		}
		if !covered {
			t.Fatalf("seq %d neither stored nor in a loss report %+v", seq, reports)
		}
	}
	for _, l := range reports {
		counted += l.Count
	}
	if missing != counted {
		t.Fatalf("%d numbers missing, loss reports count %d: %+v", missing, counted, reports)
	}
	if st := s.Stats(); st.Unreported != 0 {
		t.Fatalf("Unreported %d after ReportLosses", st.Unreported)
	}
}

func TestBadArguments(t *testing.T) {
	dir := t.TempDir()
	for _, o := range []Options{{MaxBytes: -1}, {MaxRecords: -1}, {Overflow: 7}} {
		if _, err := Open(filepath.Join(dir, "x.db"), o); err == nil {
			t.Fatalf("Open with %+v succeeded", o)
		}
	}
	s, _ := openT(t, Options{})
	if _, err := s.Next(0, 0); err == nil {
		t.Fatal("Next with max 0 succeeded")
	}
	if recs, err := s.Next(^uint64(0), 5); err != nil || len(recs) != 0 {
		t.Fatalf("Next after max uint64 = %v, %v", recs, err)
	}
	if seqs, err := s.Append(); err != nil || seqs != nil {
		t.Fatalf("empty Append = %v, %v", seqs, err)
	}
	if err := s.Delete(); err != nil {
		t.Fatalf("empty Delete: %v", err)
	}
}

func TestOpenTwiceIsAnError(t *testing.T) {
	_, path := openT(t, Options{})
	if s2, err := Open(path, Options{}); err == nil {
		s2.Close()
		t.Fatal("second Open of a file in use succeeded")
	} else if !strings.Contains(err.Error(), path) {
		t.Fatalf("error %q does not name %s", err, path)
	}
}

func TestCorruptFile(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	for i, n := range []int{1, 100, 4096, 5000, 64 << 10} {
		path := filepath.Join(dir, fmt.Sprintf("corrupt-%d.db", i))
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(rng.UintN(256))
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(path, Options{})
		if err == nil {
			s.Close()
			t.Fatalf("Open of %d random bytes succeeded", n)
		}
		if !strings.Contains(err.Error(), path) || !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error %q does not name %s or wrap ErrCorrupt", err, path)
		}
		after, _ := os.ReadFile(path)
		if !bytes.Equal(after, b) {
			t.Fatalf("Open modified the corrupt file %s", path)
		}
	}
}

// TestCorruptMeta damages a valid spool's counters: Open must refuse it.
func TestCorruptMeta(t *testing.T) {
	s, path := openT(t, Options{})
	if _, err := s.Append(ev(1), ev(2)); err != nil {
		t.Fatal(err)
	}
	// Rewrite the records counter through bbolt, as a bug or a bit flip might.
	s.wmu.Lock()
	err := s.update("test", func(_ *bolt.Tx, _ *bolt.Bucket, st *state) error {
		st.records = 5
		return nil
	})
	s.wmu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(path, Options{}); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open with inconsistent meta: %v, want ErrCorrupt naming the path", err)
	}
}

func TestConcurrentAppendNextDelete(t *testing.T) {
	s, _ := openT(t, Options{NoSync: true})
	const n = 2000
	var wg sync.WaitGroup
	errc := make(chan error, 3)
	wg.Add(3)
	go func() { // appender
		defer wg.Done()
		for i := 0; i < n; i += 10 {
			batch := make([][]byte, 10)
			for j := range batch {
				batch[j] = ev(i + j)
			}
			if _, err := s.Append(batch...); err != nil {
				errc <- err
				return
			}
		}
	}()
	acks := make(chan []uint64, 100)
	go func() { // publisher: reads in order, hands seqs to the deleter
		defer wg.Done()
		defer close(acks)
		var after uint64
		seen := 0
		for seen < n {
			recs, err := s.Next(after, 50)
			if err != nil {
				errc <- err
				return
			}
			var seqs []uint64
			for _, r := range recs {
				if !bytes.Equal(r.Data, ev(seen)) {
					errc <- fmt.Errorf("publisher got %q at position %d", r.Data, seen)
					return
				}
				seen++
				seqs = append(seqs, r.Seq)
				after = r.Seq
			}
			if len(seqs) > 0 {
				acks <- seqs
			}
			_ = s.Stats()
		}
	}()
	go func() { // deleter
		defer wg.Done()
		for seqs := range acks {
			if err := s.Delete(seqs...); err != nil {
				errc <- err
				return
			}
		}
	}()
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Records != 0 || st.Appended != n || st.Deleted != n {
		t.Fatalf("Stats after all delivered = %+v", st)
	}
}

// TestEmptyFileIsANewSpool: a 0-byte file (a creation that never
// finished, or a file touched by hand) is a new spool, and stays one after
// a reopen. Before, Open let bbolt initialise it without buckets and the
// reopen refused it ("bucket records or meta missing").
func TestEmptyFileIsANewSpool(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spool.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 2; round++ {
		s, err := Open(path, Options{})
		if err != nil {
			t.Fatalf("round %d: Open of an empty file: %v", round, err)
		}
		if _, err := s.Append(ev(round)); err != nil {
			t.Fatalf("round %d: Append: %v", round, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if st := s.Stats(); st.Records != 2 || st.LastSeq != 2 {
		t.Fatalf("after two rounds: %+v", st)
	}
}

// TestMoveAside: a damaged file is refused, never rewritten; MoveAside
// keeps it under a timestamped name, and a new spool with a SeqFloor
// hands out numbers above the floor.
func TestMoveAside(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "spool.db")
	junk := bytes.Repeat([]byte("not a spool "), 1000)
	if err := os.WriteFile(path, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{}); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open of junk: %v, want ErrCorrupt naming the file", err)
	}
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	moved, err := MoveAside(path, now)
	if err != nil {
		t.Fatal(err)
	}
	if moved != path+".damaged-20260304T050607Z" {
		t.Fatalf("moved to %s", moved)
	}
	if b, err := os.ReadFile(moved); err != nil || !bytes.Equal(b, junk) {
		t.Fatalf("damaged file not kept as it was: %v", err)
	}
	s, err := Open(path, Options{SeqFloor: 1_000_000})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	seqs, err := s.Append(ev(1))
	if err != nil || seqs[0] != 1_000_001 {
		t.Fatalf("first seq after the floor: %v, %v", seqs, err)
	}
}

// TestStateFollowsStoredEvents: state set with an event is applied only
// if the event is stored.
func TestStateFollowsStoredEvents(t *testing.T) {
	s, path := openT(t, Options{MaxRecords: 2, Overflow: RejectNew})
	kv := func(k, v string) *KV {
		var val []byte
		if v != "" {
			val = []byte(v)
		}
		return &KV{Key: []byte(k), Value: val}
	}
	_, err := s.AppendEvents(
		Event{Data: ev(1), State: kv("a", "1")},
		Event{Data: ev(2), State: kv("b", "2")},
		Event{Data: ev(3), State: kv("c", "3")}, // rejected: its state too
	)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendEvents(Event{Data: ev(4), State: kv("a", "")}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetState(KV{Key: []byte("run"), Value: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	m, err := s2.State()
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 2 || string(m["b"]) != "2" || string(m["run"]) != "x" {
		t.Fatalf("state %q, want b=2 and run=x only", m)
	}
}

// TestLossReportsAreNeverDropped: with drop-oldest at its bound, a loss
// report stays until it is deleted (acknowledged), and the next report
// waits for that while the ledger adds up, so the far end can account for
// every number.
func TestLossReportsAreNeverDropped(t *testing.T) {
	s, _ := openT(t, Options{MaxRecords: 100})
	for i := 0; i < 150; i++ {
		if _, err := s.Append(ev(i)); err != nil {
			t.Fatal(err)
		}
	}
	var reports []Loss
	enc := func(l Loss) ([]byte, error) {
		reports = append(reports, l)
		return []byte("lost"), nil
	}
	if n, err := s.ReportLosses(enc); n != 1 || err != nil {
		t.Fatalf("ReportLosses = %d, %v", n, err)
	}
	if reports[0].Reason != ReasonDropOldest || reports[0].Count != 50 || reports[0].FirstSeq != 1 || reports[0].LastSeq != 50 {
		t.Fatalf("report %+v", reports[0])
	}
	reportSeq := s.Stats().LastSeq
	for i := 0; i < 300; i++ {
		if _, err := s.Append(ev(i)); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := s.ReportLosses(enc); n != 0 {
		t.Fatal("a second report while the first is not acknowledged")
	}
	recs := all(t, s)
	if recs[0].Seq != reportSeq || string(recs[0].Data) != "lost" {
		t.Fatalf("oldest record is seq %d %q, want the report (seq %d) kept", recs[0].Seq, recs[0].Data, reportSeq)
	}
	if st := s.Stats(); st.Records != 100 || st.Unreported != 301 { // 300 appended, and one more dropped for the report
		t.Fatalf("%+v", st)
	}
	if err := s.Delete(reportSeq); err != nil {
		t.Fatal(err)
	}
	checkAccountedExcept(t, s, s.Stats().LastSeq, []uint64{reportSeq}, reports[0])
}

// TestJournalRoundTrip: a journal slot decodes to what was written, and a
// flipped bit is refused.
func TestJournalRoundTrip(t *testing.T) {
	j := journal{id: []byte("12345678"), gen: 9, hw: 77, held: loss{count: 3, firstSeq: 70, lastSeq: 72, first: 1, last: 2}}
	j.pending[ReasonDiskFull] = loss{count: 5, firstSeq: 73, lastSeq: 77, first: 3, last: 4}
	b := j.marshal()
	got, err := unmarshalJournal(b)
	if err != nil || got.gen != 9 || got.hw != 77 || got.held != j.held || got.pending != j.pending || string(got.id) != "12345678" {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	b[40] ^= 1
	if _, err := unmarshalJournal(b); err == nil {
		t.Fatal("damaged slot accepted")
	}
}

// TestDropOldestSparesInFlight: records Next handed to the publisher may
// have reached the broker, so drop-oldest takes the oldest of the others:
// a drop is then surely a loss and a loss report never counts an event
// the far end received.
func TestDropOldestSparesInFlight(t *testing.T) {
	s, _ := openT(t, Options{MaxRecords: 10})
	for i := 0; i < 10; i++ {
		if _, err := s.Append(ev(i)); err != nil {
			t.Fatal(err)
		}
	}
	if recs, err := s.Next(0, 3); err != nil || len(recs) != 3 {
		t.Fatalf("Next: %d, %v", len(recs), err)
	}
	if _, err := s.Append(ev(10), ev(11)); err != nil {
		t.Fatal(err)
	}
	recs := all(t, s)
	var seqs []uint64
	for _, r := range recs {
		seqs = append(seqs, r.Seq)
	}
	want := []uint64{1, 2, 3, 6, 7, 8, 9, 10, 11, 12}
	if fmt.Sprint(seqs) != fmt.Sprint(want) {
		t.Fatalf("after a drop with 1..3 in flight: %v, want %v", seqs, want)
	}
}

// TestRejectNewNeverDrops: a loss report admitted past the bound does not
// make reject-new drop a stored record.
func TestRejectNewNeverDrops(t *testing.T) {
	s, _ := openT(t, Options{MaxRecords: 3, Overflow: RejectNew})
	if _, err := s.Append(ev(1), ev(2), ev(3), ev(4)); err != nil {
		t.Fatal(err)
	}
	if n, err := s.ReportLosses(func(Loss) ([]byte, error) { return []byte("lost"), nil }); n != 1 || err != nil {
		t.Fatalf("ReportLosses: %d, %v", n, err)
	}
	if _, err := s.Append(ev(5)); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Dropped != 0 || st.Records != 4 || st.Lost[ReasonRejectNew] != 2 {
		t.Fatalf("%+v: want the 3 events and the report kept, 2 rejected, none dropped", st)
	}
}

// TestDiscardCountsTheLoss: records a reader cannot use are deleted and
// counted lost in one step, so their gap is reported and survives a reopen.
func TestDiscardCountsTheLoss(t *testing.T) {
	s, path := openT(t, Options{})
	for i := 0; i < 10; i++ {
		if _, err := s.Append(ev(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Discard(ReasonUnreadable, 3, 4, 99); err != nil { // 99 is not stored: ignored
		t.Fatal(err)
	}
	if err := s.Discard(ReasonDropOldest, 5); err == nil {
		t.Fatal("Discard accepted the drop-oldest reason, which only the spool's policy gives")
	}
	st := s.Stats()
	if st.Records != 8 || st.Lost[ReasonUnreadable] != 2 || st.Unreported != 2 {
		t.Fatalf("after Discard: %+v", st)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	var got []Loss
	if n, err := s2.ReportLosses(func(l Loss) ([]byte, error) { got = append(got, l); return []byte("lost"), nil }); n != 1 || err != nil {
		t.Fatalf("ReportLosses = %d, %v", n, err)
	}
	if l := got[0]; l.Reason != ReasonUnreadable || l.Count != 2 || l.FirstSeq != 3 || l.LastSeq != 4 {
		t.Fatalf("report %+v, want 2 unreadable in 3..4", l)
	}
	for _, r := range all(t, s2) {
		if r.Seq == 3 || r.Seq == 4 {
			t.Fatalf("discarded record %d still stored", r.Seq)
		}
	}
}

// TestTruncatedFile cuts a spool file short at many lengths, as an
// interrupted copy or restore does: Open either refuses it as corrupt or
// reads back exactly the records written, never records with wrong numbers
// or contents.
func TestTruncatedFile(t *testing.T) {
	dir := t.TempDir()
	orig := filepath.Join(dir, "orig.db")
	s, err := Open(orig, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	var want []Record
	for i := 1; i <= 200; i++ {
		data := bytes.Repeat([]byte{byte('a' + i%26)}, 300)
		seqs, err := s.Append(data)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, Record{Seq: seqs[0], Data: data})
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	full, err := os.ReadFile(orig)
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for n := len(full) - 1; n > 0; n -= 1021 { // a prime step: page-aligned and odd lengths
		path := filepath.Join(dir, fmt.Sprintf("cut-%d.db", n))
		if err := os.WriteFile(path, full[:n], 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(path, Options{NoSync: true})
		if err != nil {
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
				t.Fatalf("cut to %d bytes: %v, want ErrCorrupt naming the path", n, err)
			}
			refused++
			continue
		}
		got := all(t, s)
		s.Close()
		if len(got) != len(want) {
			t.Fatalf("cut to %d bytes: Open succeeded and read %d records, want %d", n, len(got), len(want))
		}
		for i := range got {
			if got[i].Seq != want[i].Seq || !bytes.Equal(got[i].Data, want[i].Data) {
				t.Fatalf("cut to %d bytes: Open succeeded and record %d reads back as seq %d %q, want seq %d %q",
					n, i, got[i].Seq, got[i].Data[:min(10, len(got[i].Data))], want[i].Seq, want[i].Data[:10])
			}
		}
	}
	if refused == 0 {
		t.Fatal("no cut was refused")
	}
}
