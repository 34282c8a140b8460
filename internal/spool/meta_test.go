package spool

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// checkMeta reads the meta bucket in a transaction of its own and wants
// the state the spool holds: a commit writes only the keys that changed,
// so a key it skipped must already hold its value.
func checkMeta(t *testing.T, s *Spool, after string) {
	t.Helper()
	s.wmu.Lock()
	defer s.wmu.Unlock()
	want := s.st
	err := s.db.View(func(tx *bolt.Tx) error {
		got, err := getState(tx.Bucket(bucketMeta))
		if err != nil {
			return err
		}
		if len(got.reports) == 0 && len(want.reports) == 0 {
			got.reports, want.reports = nil, nil
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("meta %+v, want %+v", got, want)
		}
		if id := tx.Bucket(bucketMeta).Get(keyID); !bytes.Equal(id, s.id) {
			return fmt.Errorf("meta id %x, want %x", id, s.id)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("after %s: %v", after, err)
	}
}

// TestMetaFollowsEveryChange runs every kind of write (appends that drop,
// refuse and store, deletes, discards, loss reports, state) and checks
// after each that the meta bucket holds the spool's state, then that a
// reopened spool reads it back.
func TestMetaFollowsEveryChange(t *testing.T) {
	s, path := openT(t, Options{MaxRecords: 6, MaxBytes: 100})
	checkMeta(t, s, "Open")
	big := bytes.Repeat([]byte("x"), 101)
	steps := []struct {
		name string
		do   func() error
	}{
		{"Append", func() error { _, err := s.Append(ev(1), ev(2), ev(3)); return err }},
		{"Append too large", func() error { _, err := s.Append(big, ev(4)); return err }},
		{"Append beyond the bounds", func() error { _, err := s.Append(ev(5), ev(6), ev(7), ev(8), ev(9)); return err }},
		{"Delete", func() error { return s.Delete(9, 7, 7, 1000) }},
		{"Discard", func() error { return s.Discard(ReasonUnreadable, 8) }},
		{"ReportLosses", func() error {
			_, err := s.ReportLosses(func(l Loss) ([]byte, error) { return []byte("lost " + l.Reason.String()), nil })
			return err
		}},
		{"AppendEvents with state", func() error {
			_, err := s.AppendEvents(Event{Data: ev(10), State: &KV{Key: []byte("k"), Value: []byte("v")}})
			return err
		}},
		{"Delete the reports", func() error {
			var seqs []uint64
			for _, r := range all(t, s) {
				if bytes.HasPrefix(r.Data, []byte("lost ")) {
					seqs = append(seqs, r.Seq)
				}
			}
			if len(seqs) == 0 {
				return fmt.Errorf("no loss report stored")
			}
			return s.Delete(seqs...)
		}},
		{"SetState", func() error { return s.SetState(KV{Key: []byte("k")}) }},
		{"Append", func() error { _, err := s.Append(ev(11)); return err }},
	}
	for _, step := range steps {
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		checkMeta(t, s, step.name)
	}
	s.wmu.Lock()
	want := s.st
	s.wmu.Unlock()
	if want.dropped == 0 || want.lostTotal[ReasonTooLarge] == 0 || want.lostTotal[ReasonUnreadable] == 0 || want.deleted == 0 {
		t.Fatalf("the steps did not reach every counter: %+v", want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, Options{MaxRecords: 6, MaxBytes: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got := s2.st; fmt.Sprint(got) != fmt.Sprint(want) && !(len(got.reports) == 0 && len(want.reports) == 0) {
		t.Fatalf("reopened: %+v, want %+v", got, want)
	}
}

// TestDeleteAnyOrder: Delete takes seqs in any order, repeated or not
// stored, and counts each stored record once.
func TestDeleteAnyOrder(t *testing.T) {
	s, _ := openT(t, Options{})
	for i := 1; i <= 10; i++ {
		if _, err := s.Append(ev(i)); err != nil {
			t.Fatal(err)
		}
	}
	seqs := []uint64{7, 2, 2, 99, 5, 7, 10}
	if err := s.Delete(seqs...); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seqs, []uint64{7, 2, 2, 99, 5, 7, 10}) {
		t.Fatalf("Delete reordered its argument: %v", seqs)
	}
	var left []uint64
	for _, r := range all(t, s) {
		left = append(left, r.Seq)
	}
	if st := s.Stats(); !slices.Equal(left, []uint64{1, 3, 4, 6, 8, 9}) || st.Deleted != 4 || st.Records != 6 || st.Bytes != 6*int64(len(ev(1))) {
		t.Fatalf("left %v, stats %+v; want 1 3 4 6 8 9 left, 4 deleted", left, st)
	}
	checkMeta(t, s, "Delete")
}

// TestAppendAllocations bounds what an append allocates: per event, the
// copy of its key and the search stack bbolt's Put makes; per commit,
// bbolt's transaction and the few meta counters that moved.
func TestAppendAllocations(t *testing.T) {
	s, _ := openT(t, Options{NoSync: true})
	one := [][]byte{ev(1)}
	batch := make([][]byte, 256)
	for i := range batch {
		batch[i] = ev(i)
	}
	for range 20 { // the tree at its depth
		if _, err := s.Append(batch...); err != nil {
			t.Fatal(err)
		}
	}
	perCommit := testing.AllocsPerRun(50, func() {
		if _, err := s.Append(one...); err != nil {
			t.Fatal(err)
		}
	})
	perEvent := testing.AllocsPerRun(20, func() {
		if _, err := s.Append(batch...); err != nil {
			t.Fatal(err)
		}
	}) / float64(len(batch))
	t.Logf("%.0f allocations a commit of one event, %.2f an event in commits of %d", perCommit, perEvent, len(batch))
	if perCommit > 120 || perEvent > 6 {
		t.Fatalf("%.0f allocations a commit of one event (want at most 120), %.2f an event in commits of %d (want at most 6)",
			perCommit, perEvent, len(batch))
	}
}

// TestFileGrowsAsBefore: the first memory map has room for the records at
// MaxBytes (so that a growing file is not mapped again and again), and the
// file still grows as with bbolt's own map: to about twice its data, then
// 16 MiB at a time.
func TestFileGrowsAsBefore(t *testing.T) {
	for _, c := range []struct {
		maxBytes int64
		want     int
	}{{1 << 20, 2 << 20}, {DefaultMaxBytes, 128 << 20}, {4 << 30, maxInitialMmap}} {
		if got := mmapSize(c.maxBytes); got != c.want {
			t.Errorf("mmapSize(%d) = %d, want %d", c.maxBytes, got, c.want)
		}
	}
	s, path := openT(t, Options{})
	data := bytes.Repeat([]byte("x"), 400)
	batch := make([][]byte, 256)
	for i := range batch {
		batch[i] = data
	}
	for _, stored := range []int{1, 1 << 10, 10 << 10} {
		for s.Stats().Records < stored {
			n := min(stored-s.Stats().Records, len(batch))
			if _, err := s.Append(batch[:n]...); err != nil {
				t.Fatal(err)
			}
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		var used int64
		if err := s.db.View(func(tx *bolt.Tx) error { used = tx.Size(); return nil }); err != nil {
			t.Fatal(err)
		}
		t.Logf("%d records: pages %d bytes, file %d bytes", stored, used, fi.Size())
		if fi.Size() > 2*used+2*minGrowStep {
			t.Fatalf("%d records: a file of %d bytes for %d bytes of pages", stored, fi.Size(), used)
		}
	}
}
