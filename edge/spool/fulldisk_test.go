package spool

import (
	"errors"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/ngic/ngic/internal/testenv"
)

func TestFullDisk(t *testing.T) {
	dir := testenv.SmallDisk(t, "2m")
	path := filepath.Join(dir, "spool.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open on the small disk: %v", err)
	}
	defer func() { _ = s.Close() }()

	rng := rand.New(rand.NewPCG(7, 8))
	var id uint64
	stored := map[uint64]uint64{} // seq -> id
	var fullErr error
	for i := 0; i < 10_000 && fullErr == nil; i++ { // 2 MiB holds far fewer than 160,000 events
		batch := make([][]byte, 16)
		ids := make([]uint64, len(batch))
		for j := range batch {
			id++
			ids[j] = id
			batch[j] = makePayload(id, 186, rng) // 200 bytes
		}
		before := s.Stats()
		seqs, err := s.Append(batch...)
		if err != nil {
			if !errors.Is(err, ErrFull) {
				t.Fatalf("Append on a full disk: %v, want an error wrapping ErrFull", err)
			}
			if after := s.Stats(); after != before {
				t.Fatalf("failed Append changed Stats from %+v to %+v", before, after)
			}
			fullErr = err
			break
		}
		for j, seq := range seqs {
			stored[seq] = ids[j]
		}
	}
	if fullErr == nil {
		t.Fatal("Append never reported a full disk")
	}
	t.Logf("disk full after %d events: %v", len(stored), fullErr)

	check := func(when string) []Record {
		t.Helper()
		recs := all(t, s)
		if len(recs) != len(stored) {
			t.Fatalf("%s: %d records readable, %d appended", when, len(recs), len(stored))
		}
		for _, r := range recs {
			got, err := parsePayload(r.Data)
			if err != nil || got != stored[r.Seq] {
				t.Fatalf("%s: record seq %d: id %d, %v; want id %d", when, r.Seq, got, err, stored[r.Seq])
			}
		}
		return recs
	}
	recs := check("after the disk filled")

	// Acknowledge the oldest half: the space is reused by new appends.
	var del []uint64
	for _, r := range recs[:len(recs)/2] {
		del = append(del, r.Seq)
		delete(stored, r.Seq)
	}
	if err := s.Delete(del...); err != nil {
		t.Fatalf("Delete on a full disk: %v", err)
	}
	for k := 0; k < 8; k++ {
		batch := [][]byte{makePayload(id+1, 186, rng), makePayload(id+2, 186, rng)}
		seqs, err := s.Append(batch...)
		if err != nil {
			t.Fatalf("Append %d after freeing space: %v", k, err)
		}
		stored[seqs[0]], stored[seqs[1]] = id+1, id+2
		id += 2
	}
	check("after freeing space")

	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if s, err = Open(path, Options{}); err != nil {
		t.Fatalf("reopen after the disk filled: %v", err)
	}
	check("after reopen")
}
