package spool

import (
	"errors"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/ngic/ngic/internal/testenv"
)

// TestFullDisk fills a 2 MiB disk: Append then holds events in memory (up
// to MaxHeld) and counts the rest lost, with their numbers; what was
// stored stays readable; once acknowledgements free space, Flush stores
// the held events and every number handed out is stored or in a loss
// report.
func TestFullDisk(t *testing.T) {
	dir := testenv.SmallDisk(t, "2m")
	path := filepath.Join(dir, "spool.db")
	const maxHeld = 40
	s, err := Open(path, Options{MaxHeld: maxHeld})
	if err != nil {
		t.Fatalf("Open on the small disk: %v", err)
	}
	defer func() { _ = s.Close() }()

	rng := rand.New(rand.NewPCG(7, 8))
	var id uint64
	stored := map[uint64]uint64{} // seq -> id of the events that must be readable
	held := map[uint64]uint64{}   // seq -> id of the events Append held
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
			if !errors.Is(err, ErrDiskFull) || !errors.Is(err, ErrFull) {
				t.Fatalf("Append on a full disk: %v, want an error wrapping ErrDiskFull", err)
			}
			after := s.Stats()
			if after.Records != before.Records || after.Appended != before.Appended || after.Held != len(batch) ||
				after.LastSeq != before.LastSeq+uint64(len(batch)) || len(seqs) != len(batch) {
				t.Fatalf("Append on a full disk: Stats from %+v to %+v, seqs %v; want the batch held with numbers, nothing stored",
					before, after, seqs)
			}
			for j, seq := range seqs {
				held[seq] = ids[j]
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

	// More events while the disk is full: held up to MaxHeld, the rest
	// counted lost; the journal takes it without new blocks.
	var lost uint64
	for k := 0; k < 20; k++ {
		batch := [][]byte{makePayload(id+1, 186, rng), makePayload(id+2, 186, rng)}
		seqs, err := s.Append(batch...)
		if !errors.Is(err, ErrDiskFull) {
			t.Fatalf("Append %d while full: %v, want ErrDiskFull", k, err)
		}
		for j, seq := range seqs {
			if len(held) < maxHeld {
				held[seq] = id + 1 + uint64(j)
			} else {
				lost++
			}
		}
		id += 2
	}
	st := s.Stats()
	if st.Held != maxHeld || st.Lost[ReasonDiskFull] != lost || lost == 0 || st.JournalError != "" {
		t.Fatalf("while full: %+v; want %d held, %d lost, the journal written", st, maxHeld, lost)
	}
	if err := s.Flush(); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("Flush on a full disk: %v, want ErrDiskFull", err)
	}

	check := func(when string) []Record {
		t.Helper()
		recs := all(t, s)
		if len(recs) != len(stored) {
			t.Fatalf("%s: %d records readable, %d stored", when, len(recs), len(stored))
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

	// Acknowledge the oldest half: Flush stores the held events in the
	// space freed, and commits the loss.
	var del []uint64
	for _, r := range recs[:len(recs)/2] {
		del = append(del, r.Seq)
		delete(stored, r.Seq)
	}
	if err := s.Delete(del...); err != nil {
		t.Fatalf("Delete on a full disk: %v", err)
	}
	if err := s.Flush(); err != nil {
		t.Fatalf("Flush after freeing space: %v", err)
	}
	for seq, hid := range held {
		stored[seq] = hid
	}
	if st := s.Stats(); st.Held != 0 || st.Lost[ReasonDiskFull] != lost || st.Unreported != lost {
		t.Fatalf("after Flush: %+v", st)
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
	// The numbers acknowledged above were delivered; the rest are stored
	// or reported lost.
	for _, seq := range del {
		stored[seq] = 0
	}
	checkAccountedExcept(t, s, s.Stats().LastSeq, del)
}
