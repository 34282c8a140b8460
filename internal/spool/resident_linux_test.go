package spool

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestBacklogPagesReleased fills a spool with a backlog of 40,000 records
// (some 11 MB) in transactions of 500, publishes it as a publisher does
// (Next, then Delete), and checks that the pages of the file resident in
// this process stay a few MB all along (without the releases they reach
// 12 MB), also when the whole backlog is acknowledged at once (deleted
// releaseRecords a transaction), and that Open, which reads every record,
// releases as it goes and leaves few of them resident.
func TestBacklogPagesReleased(t *testing.T) {
	s, path := openT(t, Options{NoSync: true})
	for i := range 3 * releaseRecords { // a small file: never released
		if _, err := s.Append(ev(i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.releases.Load(); n != 0 {
		t.Fatalf("%d releases of a file below %d bytes, want none", n, releaseFrom)
	}
	var peak uint64 // the most resident while the backlog builds and drains
	fill := func() {
		batch := make([][]byte, 500)
		for i := range batch {
			batch[i] = bytes.Repeat([]byte{'a' + byte(i%26)}, 250)
		}
		for range 80 {
			if _, err := s.Append(batch...); err != nil {
				t.Fatal(err)
			}
			peak = max(peak, mappedResident(t, path))
		}
	}
	fill()
	if fi, err := os.Stat(path); err != nil || fi.Size() < 10<<20 {
		t.Fatalf("the backlog's file: %v, %v (want 10 MB or more)", fi, err)
	}
	before := s.releases.Load()
	var after uint64
	for {
		recs, err := s.Next(after, 512)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			break
		}
		seqs := make([]uint64, len(recs))
		for i, r := range recs {
			seqs[i] = r.Seq
		}
		if err := s.Delete(seqs...); err != nil {
			t.Fatal(err)
		}
		after = seqs[len(seqs)-1]
		peak = max(peak, mappedResident(t, path))
	}
	if n := s.releases.Load() - before; n < 40_000/releaseRecords {
		t.Errorf("%d releases while 40,000 records left the file, want %d or more", n, 40_000/releaseRecords)
	}

	// A backlog acknowledged at once is deleted releaseRecords a
	// transaction, by the appends that follow.
	fill()
	holdAckTimer(s)
	var seqs []uint64
	for _, r := range all(t, s) {
		seqs = append(seqs, r.Seq)
	}
	s.Acknowledge(seqs...)
	for i := 0; s.Stats().Acknowledged > 0; i++ {
		want := max(s.Stats().Acknowledged-releaseRecords, 0)
		if _, err := s.Append(ev(i)); err != nil {
			t.Fatal(err)
		}
		if got := s.Stats().Acknowledged; got != want {
			t.Fatalf("%d acknowledged records left after an append, want %d (%d deleted a transaction)", got, want, releaseRecords)
		}
		peak = max(peak, mappedResident(t, path))
	}
	if peak > residentBound {
		t.Errorf("%d bytes of the file resident at most while the backlog built and drained, want at most %d", peak, residentBound)
	}

	fill()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := s.releases.Load(); n < 40_000/releaseRecords {
		t.Errorf("%d releases while Open read 40,000 records, want %d or more", n, 40_000/releaseRecords)
	}
	if got := mappedResident(t, path); got > residentBound {
		t.Errorf("%d bytes of the file resident after Open read a backlog of 40,000 records, want at most %d", got, residentBound)
	}
}

// residentBound is the most of a spool file TestBacklogPagesReleased
// allows resident: the pages of releaseRecords records (some 300 KB), the
// pages around them the kernel maps with each (fault-around, 64 KiB), and
// the branch pages.
const residentBound = 2 << 20

// mappedResident returns the bytes of the file at path resident in this
// process's maps (/proc/self/smaps).
func mappedResident(t *testing.T, path string) uint64 {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var total uint64
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		switch {
		case len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":"):
			in = f[len(f)-1] == path
		case in && len(f) == 3 && f[0] == "Rss:":
			kb, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				t.Fatalf("smaps: %q: %v", line, err)
			}
			total += kb << 10
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return total
}
