package spool

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Environment of the child process run by TestKill9.
const (
	envChildPath  = "NGIC_SPOOL_CHILD_PATH"
	envChildRound = "NGIC_SPOOL_CHILD_ROUND"
)

// A crash-test payload is self-checking and independent of the seq:
//
//	0..7    id, big-endian: round<<32 | counter, increasing in append order
//	8..9    filler length n, big-endian
//	10..    n filler bytes
//	last 4  CRC-32 (IEEE) of everything before, big-endian
func makePayload(id uint64, n int, rng *rand.Rand) []byte {
	b := make([]byte, 10+n, 14+n)
	binary.BigEndian.PutUint64(b, id)
	binary.BigEndian.PutUint16(b[8:], uint16(n))
	for i := 10; i < len(b); i++ {
		b[i] = byte(rng.UintN(256))
	}
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

// parsePayload returns the id of a crash-test payload, or an error if it
// is malformed or its CRC does not match.
func parsePayload(b []byte) (uint64, error) {
	if len(b) < 14 {
		return 0, fmt.Errorf("payload of %d bytes, want at least 14", len(b))
	}
	n := int(binary.BigEndian.Uint16(b[8:]))
	if len(b) != 14+n {
		return 0, fmt.Errorf("payload of %d bytes, filler length %d says %d", len(b), n, 14+n)
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if got := crc32.ChecksumIEEE(body); got != sum {
		return 0, fmt.Errorf("payload CRC %08x, computed %08x", sum, got)
	}
	return binary.BigEndian.Uint64(b), nil
}

func FuzzParsePayload(f *testing.F) {
	rng := rand.New(rand.NewPCG(3, 4))
	f.Add(makePayload(1, 0, rng))
	f.Add(makePayload(7<<32|9, 200, rng))
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := parsePayload(b)
		if err != nil {
			return
		}
		// A valid payload re-encodes to itself.
		n := len(b) - 14
		again := append([]byte{}, b[:len(b)-4]...)
		again = binary.BigEndian.AppendUint32(again, crc32.ChecksumIEEE(again))
		if !bytes.Equal(again, b) || binary.BigEndian.Uint64(b) != id || int(binary.BigEndian.Uint16(b[8:])) != n {
			t.Fatalf("payload %x parsed as id %d but does not re-encode", b, id)
		}
	})
}

// TestHelperSpoolWriter is not a test: it is the child process of
// TestKill9, and returns at once when run without its environment. It
// appends batches forever and prints "A id seq" for each record once
// Append returned, deletes some, printing "P seq" before and "D seq" once
// Delete returned.
func TestHelperSpoolWriter(t *testing.T) {
	path := os.Getenv(envChildPath)
	if path == "" {
		return
	}
	round, _ := strconv.ParseUint(os.Getenv(envChildRound), 10, 32)
	s, err := Open(path, Options{})
	if err != nil {
		fmt.Fprintf(os.Stderr, "child open: %v\n", err)
		os.Exit(3)
	}
	rng := rand.New(rand.NewPCG(round, uint64(time.Now().UnixNano())))
	var live []uint64 // seqs appended by this child and not deleted
	var counter uint64
	deadline := time.Now().Add(10 * time.Second) // in case the parent is gone
	for time.Now().Before(deadline) {
		batch := make([][]byte, 1+rng.IntN(16))
		ids := make([]uint64, len(batch))
		for i := range batch {
			counter++
			ids[i] = round<<32 | counter
			batch[i] = makePayload(ids[i], rng.IntN(300), rng)
		}
		seqs, err := s.Append(batch...)
		if err != nil {
			fmt.Fprintf(os.Stderr, "child append: %v\n", err)
			os.Exit(4)
		}
		var out bytes.Buffer
		for i := range seqs {
			fmt.Fprintf(&out, "A %d %d\n", ids[i], seqs[i])
		}
		live = append(live, seqs...)
		os.Stdout.Write(out.Bytes())
		if rng.IntN(3) == 0 && len(live) > 0 {
			rng.Shuffle(len(live), func(i, j int) { live[i], live[j] = live[j], live[i] })
			k := 1 + rng.IntN(len(live))
			del := live[:k]
			out.Reset()
			for _, seq := range del {
				fmt.Fprintf(&out, "P %d\n", seq)
			}
			os.Stdout.Write(out.Bytes())
			if err := s.Delete(del...); err != nil {
				fmt.Fprintf(os.Stderr, "child delete: %v\n", err)
				os.Exit(5)
			}
			out.Reset()
			for _, seq := range del {
				fmt.Fprintf(&out, "D %d\n", seq)
			}
			os.Stdout.Write(out.Bytes())
			live = append([]uint64{}, live[k:]...)
		}
	}
	os.Exit(6)
}

// childReport is what a killed child printed in complete lines.
type childReport struct {
	appended map[uint64]uint64 // id -> seq
	deleted  map[uint64]bool   // seq
	pending  map[uint64]bool   // seq being deleted at the kill
	maxID    uint64
}

func parseReport(t *testing.T, out []byte) childReport {
	t.Helper()
	r := childReport{appended: map[uint64]uint64{}, deleted: map[uint64]bool{}, pending: map[uint64]bool{}}
	// Only complete lines count: the kill may cut the last one.
	if i := bytes.LastIndexByte(out, '\n'); i >= 0 {
		out = out[:i+1]
	} else {
		out = nil
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 3 && f[0] == "A":
			id, err1 := strconv.ParseUint(f[1], 10, 64)
			seq, err2 := strconv.ParseUint(f[2], 10, 64)
			if err1 != nil || err2 != nil {
				t.Fatalf("bad child line %q", sc.Text())
			}
			r.appended[id] = seq
			r.maxID = max(r.maxID, id)
		case len(f) == 2 && (f[0] == "D" || f[0] == "P"):
			seq, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				t.Fatalf("bad child line %q", sc.Text())
			}
			if f[0] == "D" {
				r.deleted[seq] = true
				delete(r.pending, seq)
			} else {
				r.pending[seq] = true
			}
		default:
			// The test binary may print its own lines (PASS, coverage...).
		}
	}
	return r
}

// TestKill9 kills a writing child process with SIGKILL at random instants,
// many times on the same file, and checks after each kill that everything
// the child was told is stored is there, intact, in order, exactly once.
func TestKill9(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spool.db")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 5))
	expect := map[uint64]uint64{} // id -> seq of records that must be present
	var maxSeq uint64             // highest seq ever handed out and seen
	var totalAppended, totalDeleted, rounds int
	start := time.Now()
	for round := 1; round <= 30 && time.Since(start) < 20*time.Second; round++ {
		rounds++
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSpoolWriter$", "-test.count=1")
		cmd.Env = append(os.Environ(), envChildPath+"="+path, envChildRound+"="+strconv.Itoa(round))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		outc := make(chan []byte, 1)
		go func() { b, _ := io.ReadAll(stdout); outc <- b }()
		time.Sleep(time.Duration(20+rng.IntN(250)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatalf("round %d: kill: %v", round, err)
		}
		out := <-outc
		err = cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: child ended with %v, not by SIGKILL; stderr:\n%s", round, err, stderr.Bytes())
		}
		rep := parseReport(t, out)
		totalAppended += len(rep.appended)
		totalDeleted += len(rep.deleted)

		s, err := Open(path, Options{})
		if err != nil {
			t.Fatalf("round %d: reopen after kill: %v", round, err)
		}
		recs := all(t, s)
		present := map[uint64]uint64{} // id -> seq
		var prevSeq, prevID uint64
		for i, r := range recs {
			id, err := parsePayload(r.Data)
			if err != nil {
				t.Fatalf("round %d: record %d (seq %d) corrupt: %v", round, i, r.Seq, err)
			}
			if r.Seq <= prevSeq || id <= prevID {
				t.Fatalf("round %d: record %d seq %d id %x follows seq %d id %x: order or uniqueness broken",
					round, i, r.Seq, id, prevSeq, prevID)
			}
			prevSeq, prevID = r.Seq, id
			present[id] = r.Seq
		}
		for id, seq := range expect {
			if present[id] != seq {
				t.Fatalf("round %d: record id %x seq %d from an earlier round is gone", round, id, seq)
			}
		}
		// A delete cut by the kill is one transaction: all or nothing.
		pendingGone := 0
		for id, seq := range rep.appended {
			if rep.pending[seq] {
				if _, ok := present[id]; !ok {
					pendingGone++
				}
			}
		}
		if pendingGone != 0 && pendingGone != len(rep.pending) {
			t.Fatalf("round %d: delete cut by the kill removed %d of its %d records", round, pendingGone, len(rep.pending))
		}
		for id, seq := range rep.appended {
			if seq <= maxSeq {
				t.Fatalf("round %d: seq %d handed out again (highest before the round %d)", round, seq, maxSeq)
			}
			if rep.deleted[seq] {
				if _, ok := present[id]; ok {
					t.Fatalf("round %d: record seq %d reported deleted is still present", round, seq)
				}
			} else if present[id] != seq && !rep.pending[seq] {
				t.Fatalf("round %d: record id %x seq %d reported appended is missing", round, id, seq)
			}
		}
		for id, seq := range present {
			if _, known := expect[id]; known {
				continue
			}
			if _, reported := rep.appended[id]; reported {
				continue
			}
			// Appended but not reported: only the batch being written at
			// the kill, after every reported one.
			if id>>32 != uint64(round) || id <= rep.maxID {
				t.Fatalf("round %d: unexpected record id %x seq %d", round, id, seq)
			}
		}
		if st := s.Stats(); st.Records != len(recs) {
			t.Fatalf("round %d: Stats.Records %d, Next returned %d", round, st.Records, len(recs))
		}
		for _, seq := range present {
			maxSeq = max(maxSeq, seq)
		}
		for _, seq := range rep.appended {
			maxSeq = max(maxSeq, seq)
		}
		// Acknowledge about half of what is there, across the restart.
		expect = map[uint64]uint64{}
		var del []uint64
		for id, seq := range present {
			if rng.IntN(2) == 0 {
				del = append(del, seq)
			} else {
				expect[id] = seq
			}
		}
		if err := s.Delete(del...); err != nil {
			t.Fatalf("round %d: delete: %v", round, err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("round %d: close: %v", round, err)
		}
	}
	t.Logf("%d rounds, %d appends and %d deletes reported by killed children", rounds, totalAppended, totalDeleted)
	if totalAppended == 0 {
		t.Fatal("no child reported any append before being killed: the test checked nothing")
	}
}
