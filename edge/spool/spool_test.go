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
		keep    []int
		dropped uint64
		reject  []bool // per batch: RejectNew must refuse it
	}{
		{
			name:    "drop oldest by records",
			opts:    Options{MaxRecords: 4},
			batches: [][]int{{10, 10, 10}, {10, 10}, {10}, {10, 10, 10, 10, 10}},
			keep:    []int{7, 8, 9, 10},
			dropped: 7,
			reject:  []bool{false, false, false, false},
		},
		{
			name:    "drop oldest by bytes",
			opts:    Options{MaxBytes: 100},
			batches: [][]int{{40, 40}, {30}, {50}, {100}},
			keep:    []int{4},
			dropped: 4,
			reject:  []bool{false, false, false, false},
		},
		{
			name:    "drop oldest by bytes keeps what fits",
			opts:    Options{MaxBytes: 100},
			batches: [][]int{{40, 40}, {30}},
			keep:    []int{1, 2},
			dropped: 1,
			reject:  []bool{false, false},
		},
		{
			name:    "reject new by records",
			opts:    Options{MaxRecords: 4, Overflow: RejectNew},
			batches: [][]int{{10, 10, 10}, {10, 10}, {10}, {10, 10}},
			keep:    []int{0, 1, 2, 5},
			dropped: 0,
			reject:  []bool{false, true, false, true},
		},
		{
			name:    "reject new by bytes",
			opts:    Options{MaxBytes: 100, Overflow: RejectNew},
			batches: [][]int{{40, 40}, {30}, {20}, {1}},
			keep:    []int{0, 1, 3},
			dropped: 0,
			reject:  []bool{false, true, false, true},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := openT(t, tc.opts)
			var all2 [][]byte
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
				_, err := s.Append(batch...)
				if tc.reject[bi] {
					if !errors.Is(err, ErrFull) {
						t.Fatalf("batch %d: err %v, want ErrFull", bi, err)
					}
				} else if err != nil {
					t.Fatalf("batch %d: %v", bi, err)
				}
			}
			got := all(t, s)
			if len(got) != len(tc.keep) {
				t.Fatalf("kept %d records, want %d", len(got), len(tc.keep))
			}
			var size int64
			for i, r := range got {
				if !bytes.Equal(r.Data, all2[tc.keep[i]]) {
					t.Fatalf("record %d = %q, want event %d %q", i, r.Data, tc.keep[i], all2[tc.keep[i]])
				}
				size += int64(len(r.Data))
			}
			st := s.Stats()
			if st.Dropped != tc.dropped || st.Records != len(tc.keep) || st.Bytes != size {
				t.Fatalf("Stats = %+v, want Dropped %d Records %d Bytes %d", st, tc.dropped, len(tc.keep), size)
			}
		})
	}
}

func TestTooLarge(t *testing.T) {
	s, _ := openT(t, Options{MaxBytes: 10})
	if _, err := s.Append(make([]byte, 5), make([]byte, 11)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Append of 11 bytes with MaxBytes 10: %v, want ErrTooLarge", err)
	}
	if st := s.Stats(); st.Records != 0 || st.Appended != 0 {
		t.Fatalf("rejected batch partly stored: %+v", st)
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
	err := s.update("test", func(_ *bolt.Bucket, st *state) error {
		st.records = 5
		return nil
	})
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
