package spool

import (
	"bufio"
	"errors"
	"fmt"
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

	"github.com/ngic/ngic/internal/testenv"
)

const envFullChild = "NGIC_SPOOL_FULL_CHILD_PATH"

// TestHelperFullDiskWriter is not a test: it is the child process of
// TestKill9OnFullDisk. It appends until the disk is full and goes on,
// printing "S seq" for each stored event and "H seq" for each event
// Append held or counted lost, until it is killed.
func TestHelperFullDiskWriter(t *testing.T) {
	path := os.Getenv(envFullChild)
	if path == "" {
		return
	}
	s, err := Open(path, Options{MaxHeld: 25})
	if err != nil {
		fmt.Fprintf(os.Stderr, "child open: %v\n", err)
		os.Exit(3)
	}
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	var id uint64
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		batch := make([][]byte, 1+rng.IntN(8))
		for i := range batch {
			id++
			batch[i] = makePayload(id, 186, rng)
		}
		seqs, err := s.Append(batch...)
		tag := "S"
		if errors.Is(err, ErrDiskFull) {
			tag = "H"
		} else if err != nil {
			fmt.Fprintf(os.Stderr, "child append: %v\n", err)
			os.Exit(4)
		}
		var b strings.Builder
		for _, seq := range seqs {
			fmt.Fprintf(&b, "%s %d\n", tag, seq)
		}
		os.Stdout.WriteString(b.String())
	}
	os.Exit(6)
}

// TestKill9OnFullDisk kills a process while the disk is full and it holds
// events in memory: the next Open finds them in the journal and counts
// them lost (crash), with those counted lost while it ran (disk-full), so
// every number handed out is a stored record or inside a reported loss.
func TestKill9OnFullDisk(t *testing.T) {
	dir := testenv.SmallDisk(t, "1m")
	path := filepath.Join(dir, "spool.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperFullDiskWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), envFullChild+"="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill once the child has had 100 events held or lost.
	type report struct{ stored, notStored map[uint64]bool }
	done := make(chan report, 1)
	enough := make(chan struct{})
	go func() {
		r := report{stored: map[uint64]bool{}, notStored: map[uint64]bool{}}
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 2 {
				continue
			}
			seq, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				continue
			}
			switch f[0] {
			case "S":
				r.stored[seq] = true
			case "H":
				r.notStored[seq] = true
				if len(r.notStored) == 100 {
					close(enough)
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		done <- r
	}()
	select {
	case <-enough:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the child never had 100 events held or lost; stderr:\n%s", stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	rep := <-done
	cmd.Wait()

	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("reopen after the kill on a full disk: %v", err)
	}
	defer s.Close()
	st := s.Stats()
	if st.Lost[ReasonCrash] == 0 || st.Lost[ReasonDiskFull] == 0 {
		t.Fatalf("after the kill: %+v; want events lost to the crash (held) and to the full disk", st)
	}
	recs := all(t, s)
	for seq := range rep.stored {
		found := false
		for _, r := range recs {
			found = found || r.Seq == seq
		}
		if !found {
			t.Fatalf("seq %d reported stored is gone", seq)
		}
	}
	for seq := range rep.notStored {
		if seq > st.LastSeq {
			t.Fatalf("seq %d handed out before the kill; the reopened spool would hand it out again (last %d)", seq, st.LastSeq)
		}
	}
	// Free space as acknowledgements would, commit, report, and account.
	var del []uint64
	for _, r := range recs[:len(recs)/2] {
		del = append(del, r.Seq)
	}
	if err := s.Delete(del...); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := s.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	checkAccountedExcept(t, s, s.Stats().LastSeq, del)
	t.Logf("killed with %d events reported not stored: lost %d to the crash, %d to the full disk",
		len(rep.notStored), st.Lost[ReasonCrash], st.Lost[ReasonDiskFull])
}
