package ingest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ngic/ngic/telemetry"
)

const (
	envKillChild   = "NGIC_INGEST_KILL_CHILD"
	envKillBatched = "NGIC_INGEST_KILL_BATCHED"
)

// killBatch is batch n of TestKill9: 50 passages of gw1, seqs n*50+1...,
// one per message, or with batched five messages of ten events each.
func killBatch(t testing.TB, n int, batched bool) []Message {
	msgs := make([]Message, 50)
	for i := range msgs {
		msgs[i] = event(t, "gw1", "gate", telemetry.Passage, uint64(n*50+i+1), nil)
	}
	if !batched {
		return msgs
	}
	var out []Message
	for i := 0; i < len(msgs); i += 10 {
		out = append(out, batchMsg(msgs[i:i+10]...))
	}
	return out
}

// TestHelperKillChild records batches into the state file named by the
// environment, printing "ok N" once batch N was recorded, until killed.
func TestHelperKillChild(t *testing.T) {
	path := os.Getenv(envKillChild)
	if path == "" {
		return
	}
	in, err := Open(Options{StatePath: path})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	in.SetGateways(inventory)
	first := int(in.Stats().Total.Events / 50)
	deadline := time.Now().Add(20 * time.Second) // in case the parent is gone
	for n := first; time.Now().Before(deadline); n++ {
		if err := in.Record(killBatch(t, n, os.Getenv(envKillBatched) != "")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(4)
		}
		fmt.Fprintf(os.Stdout, "ok %d\n", n)
	}
	os.Exit(5)
}

// TestKill9 kills a recording child with SIGKILL while it records, three
// times on the same state file: every batch it reported recorded is there
// (nothing acknowledged is lost), a batch is all there or not at all, and
// the broker's redelivery of what was not acknowledged ends with every
// event counted once. The events come one per message, and then ten per
// message (event batches).
func TestKill9(t *testing.T) {
	t.Run("single", func(t *testing.T) { kill9(t, false) })
	t.Run("batched", func(t *testing.T) { kill9(t, true) })
}

func kill9(t *testing.T, batched bool) {
	path := filepath.Join(t.TempDir(), "ingest.db")
	for round := 1; round <= 3; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperKillChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), envKillChild+"="+path, envKillBatched+"=")
		if batched {
			cmd.Env = append(cmd.Env, envKillBatched+"=1")
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		acked, seen := -1, 0
		for sc.Scan() {
			n, ok := strings.CutPrefix(sc.Text(), "ok ")
			if !ok {
				continue
			}
			if acked, err = strconv.Atoi(n); err != nil {
				t.Fatal(err)
			}
			if seen++; seen == 5 {
				// Kill while it records the next batches.
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
			}
		}
		err = cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: child ended with %v, not by SIGKILL; stderr:\n%s", round, err, stderr.String())
		}
		f := &fixture{path: path, sink: &sink{}, clock: newClock(t0), o: Options{StatePath: path}}
		f.open(t)
		g := f.gateway(t, "gw1")
		events := int(g.Counts.Events)
		if events < (acked+1)*50 || events > (acked+2)*50 || events%50 != 0 {
			t.Fatalf("round %d: %d events stored, %d batches reported recorded (and at most one more cut by the kill)", round, events, acked+1)
		}
		t.Logf("round %d: %d batches reported, %d events stored", round, acked+1, events)
		checkConsistent(t, f.Ingester)
		// An event of an acknowledged batch sent again under another seq
		// is known by its ID: the recent IDs were recorded with it.
		dup := event(t, "gw1", "gate", telemetry.Passage, 1<<40, func(e *telemetry.Event) { e.ID = fmt.Sprintf("gw1-%d", acked*50+1) })
		f.record(t, dup)
		if g2 := f.gateway(t, "gw1"); g2.Counts.Duplicates != g.Counts.Duplicates+1 || int(g2.Counts.Events) != events {
			t.Fatalf("round %d: an acknowledged event under a new seq after the kill: %+v", round, g2.Counts)
		}
		// The broker offers again what was not acknowledged.
		for n := acked + 1; n <= events/50; n++ {
			f.record(t, killBatch(t, n, batched)...)
		}
		g = f.gateway(t, "gw1")
		if want := uint64((events/50 + 1) * 50); g.Counts.Events != want || g.Missing != 0 || g.SeqLow != want {
			t.Fatalf("round %d: after the redelivery: %+v, want %d events", round, g, want)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
