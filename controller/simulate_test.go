package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/snmprec"
	"github.com/ngic/ngic/internal/testenv"
)

func TestSummarizeWarnings(t *testing.T) {
	in := []snmprec.Warning{
		{File: "a.snmprec", Line: 7, Msg: "bad hex"},
		{File: "b.snmprec", Line: 2, Msg: "bad type"},
		{File: "a.snmprec", Line: 3, Msg: "bad oid"},
		{File: "a.snmprec", Line: 9, Msg: "bad hex"},
	}
	got := summarize(in)
	if len(got) != 2 {
		t.Fatalf("%d summaries, want one per file: %+v", len(got), got)
	}
	if got[0].file != "a.snmprec" || got[0].count != 3 || got[0].first.Line != 3 || got[0].first.Msg != "bad oid" {
		t.Errorf("a.snmprec summary %+v", got[0])
	}
	if got[1].file != "b.snmprec" || got[1].count != 1 || got[1].first.Line != 2 {
		t.Errorf("b.snmprec summary %+v", got[1])
	}
	if summarize(nil) != nil {
		t.Error("summary of no warnings is not empty")
	}
}

// TestSimulateLogsOneLinePerDamagedFile starts the simulate command on the
// recordings (cisco_c2950-ios has many undecodable lines) and reads its
// start-up log.
func TestSimulateLogsOneLinePerDamagedFile(t *testing.T) {
	port := testenv.FreeUDPPort(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "simulate", "--recordings", testenv.Recordings(t),
		"--listen", "127.0.0.1:"+strconv.Itoa(port))
	logFile, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	read := func() string { b, _ := os.ReadFile(logFile.Name()); return string(b) }
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait (by content) for the "serving" line, then stop the command.
	for !strings.Contains(read(), "serving recordings") {
		if ctx.Err() != nil {
			t.Fatalf("simulate never served: %s", read())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	_ = cmd.Wait()
	out := read()
	n := strings.Count(out, "cisco_c2950-ios")
	if n != 1 {
		t.Fatalf("cisco_c2950-ios named on %d log lines, want one summary:\n%s", n, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "cisco_c2950-ios") && (!strings.Contains(line, "first_line") || !strings.Contains(line, "lines")) {
			t.Errorf("summary lacks the count or first line: %s", line)
		}
	}
}
