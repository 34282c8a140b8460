package spool

import (
	"testing"
	"time"
)

// holdAckTimer keeps the spool from starting its own deletion of
// acknowledged records, so that only a write transaction can delete them.
func holdAckTimer(s *Spool) {
	s.acks.mu.Lock()
	s.acks.armed = true
	s.acks.mu.Unlock()
}

// TestAcknowledgeRidesWithAppend: acknowledged records are never returned
// by Next again, stay counted until deleted, and the next AppendEvents
// deletes them in its own transaction.
func TestAcknowledgeRidesWithAppend(t *testing.T) {
	s, _ := openT(t, Options{})
	seqs, err := s.Append(ev(1), ev(2), ev(3), ev(4))
	if err != nil {
		t.Fatal(err)
	}
	holdAckTimer(s)
	s.Acknowledge(seqs[0], seqs[2], seqs[2], 999)
	st := s.Stats()
	if st.Acknowledged != 3 || st.Records != 4 || st.Deleted != 0 {
		t.Fatalf("after Acknowledge: %+v", st)
	}
	recs, err := s.Next(0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Seq != seqs[1] || recs[1].Seq != seqs[3] {
		t.Fatalf("Next returned %+v, want only seqs %d and %d", recs, seqs[1], seqs[3])
	}
	if _, err := s.Append(ev(5)); err != nil {
		t.Fatal(err)
	}
	st = s.Stats()
	if st.Acknowledged != 0 || st.Records != 3 || st.Deleted != 2 || st.AckError != "" {
		t.Fatalf("after the append: %+v, want 3 records, 2 deleted, none waiting", st)
	}
	if got := all(t, s); len(got) != 3 || got[0].Seq != seqs[1] || got[1].Seq != seqs[3] {
		t.Fatalf("stored after the append: %+v", got)
	}
}

// TestAcknowledgeWithoutAppends: with no append to ride with, the spool
// deletes acknowledged records itself, about AckDelay later.
func TestAcknowledgeWithoutAppends(t *testing.T) {
	s, _ := openT(t, Options{})
	seqs, err := s.Append(ev(1), ev(2))
	if err != nil {
		t.Fatal(err)
	}
	s.Acknowledge(seqs...)
	deadline := time.Now().Add(time.Minute)
	for s.Stats().Deleted < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("acknowledged records not deleted within a minute: %+v", s.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st := s.Stats(); st.Records != 0 || st.Acknowledged != 0 || st.AckError != "" {
		t.Fatalf("after the spool's own deletion: %+v", st)
	}
	s.Acknowledge(seqs...) // already deleted: ignored
	if _, err := s.Append(ev(3)); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Records != 1 || st.Deleted != 2 {
		t.Fatalf("acknowledging deleted records again: %+v", st)
	}
}

// TestAcknowledgeClose: Close deletes what waits, durably, and the spool
// opened again does not have them.
func TestAcknowledgeClose(t *testing.T) {
	s, path := openT(t, Options{})
	seqs, err := s.Append(ev(1), ev(2), ev(3))
	if err != nil {
		t.Fatal(err)
	}
	holdAckTimer(s)
	s.Acknowledge(seqs[:2]...)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, st := all(t, s2), s2.Stats()
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Seq != seqs[2] || st.Deleted != 2 {
		t.Fatalf("after reopening: %+v (%+v), want only seq %d, 2 deleted", got, st, seqs[2])
	}
}

// TestAcknowledgeBurstFreed: once a burst of acknowledgements larger than
// ackKeep is deleted, the set's memory goes, and the set works again
// after; a small set is kept.
func TestAcknowledgeBurstFreed(t *testing.T) {
	s, _ := openT(t, Options{NoSync: true})
	data := make([][]byte, 2*ackKeep)
	for i := range data {
		data[i] = ev(i)
	}
	seqs, err := s.Append(data...)
	if err != nil {
		t.Fatal(err)
	}
	holdAckTimer(s)
	s.Acknowledge(seqs[:len(seqs)-2]...)
	appended := 0
	for ; s.Stats().Acknowledged > 0; appended++ { // releaseRecords a transaction
		if _, err := s.Append(ev(-1)); err != nil {
			t.Fatal(err)
		}
	}
	if s.acks.set != nil || s.acks.seqs != nil {
		t.Fatalf("after a burst of %d deleted: set of %d, seqs of room %d kept, want none", len(seqs)-2, len(s.acks.set), cap(s.acks.seqs))
	}
	s.Acknowledge(seqs[len(seqs)-2])
	if recs, err := s.Next(0, 100); err != nil || len(recs) != 1+appended || recs[0].Seq != seqs[len(seqs)-1] {
		t.Fatalf("Next after a new acknowledgement: %+v, %v; want seq %d and the %d appended", recs, err, seqs[len(seqs)-1], appended)
	}
	if _, err := s.Append(ev(-2)); err != nil {
		t.Fatal(err)
	}
	if s.acks.set == nil {
		t.Fatal("a set of one freed after its deletion, want it kept")
	}
	if st := s.Stats(); st.Records != 2+appended || st.Acknowledged != 0 {
		t.Fatalf("stats %+v, want %d records, none waiting", st, 2+appended)
	}
}
