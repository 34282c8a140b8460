package main

import (
	"context"
	"encoding/json"
	"fmt"
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

// startSimulate runs the simulate command with args until it logs that it
// serves (or exits), stops it, and returns its whole log.
func startSimulate(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append([]string{"simulate"}, args...)...)
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
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	// Wait (by content) for the "serving" line, then stop the command.
	for !strings.Contains(read(), "serving recordings") {
		select {
		case <-exited:
			return read()
		case <-ctx.Done():
			t.Fatalf("simulate never served: %s", read())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	<-exited
	return read()
}

// TestSimulateLogsOneLinePerDamagedFile starts the simulate command on the
// recordings (cisco_c2950-ios has many undecodable lines) and reads its
// start-up log.
func TestSimulateLogsOneLinePerDamagedFile(t *testing.T) {
	out := startSimulate(t, "--recordings", testenv.Recordings(t),
		"--listen", "127.0.0.1:"+strconv.Itoa(testenv.FreeUDPPort(t)))
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

// beyondLoopback is the start of the warning for a listener that is not on
// loopback.
const beyondLoopback = "listening beyond loopback"

// TestSimulateWarnsBeyondLoopback: listening on every address logs a WARN
// naming the address before serving; on loopback (the default's address,
// and localhost) it does not. The "serving" line comes after the check, so
// its presence proves the moment for the warning has passed.
func TestSimulateWarnsBeyondLoopback(t *testing.T) {
	rec := t.TempDir()
	if err := os.WriteFile(filepath.Join(rec, "dev.snmprec"), []byte("1.3.6.1.2.1.1.1.0|4|lab\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		listen string
		warn   bool
	}{
		{"0.0.0.0:0", true},
		{"127.0.0.1:0", false},
		{"localhost:0", false},
	} {
		t.Run(c.listen, func(t *testing.T) {
			out := startSimulate(t, "--recordings", rec, "--listen", c.listen)
			if !strings.Contains(out, "serving recordings") {
				t.Fatalf("simulate did not serve:\n%s", out)
			}
			var warn, serving map[string]any
			for _, l := range logLines(t, out) {
				switch msg, _ := l["msg"].(string); {
				case strings.HasPrefix(msg, beyondLoopback):
					warn = l
				case msg == "serving recordings":
					serving = l
				}
			}
			switch {
			case c.warn && warn == nil:
				t.Fatalf("no warning for --listen %s:\n%s", c.listen, out)
			case c.warn && (warn["level"] != "WARN" || warn["listen"] != serving["listen"]):
				t.Errorf("warning %v is not a WARN naming the address served (%v)", warn, serving["listen"])
			case !c.warn && warn != nil:
				t.Errorf("warning on loopback: %v", warn)
			}
		})
	}
}

// TestSimulateLogsSkippedRecordings: a folder and an empty file named like
// recordings are skipped with one WARN each, and the good one is served.
func TestSimulateLogsSkippedRecordings(t *testing.T) {
	rec := t.TempDir()
	if err := os.WriteFile(filepath.Join(rec, "dev.snmprec"), []byte("1.3.6.1.2.1.1.1.0|4|lab\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(rec, "folder.snmprec"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rec, "empty.snmprec"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out := startSimulate(t, "--recordings", rec, "--listen", "127.0.0.1:0")
	skipped := map[string]int{}
	served := false
	for _, l := range logLines(t, out) {
		switch l["msg"] {
		case "recording skipped":
			if l["level"] != "WARN" || l["problem"] == "" {
				t.Errorf("skip line %v is not a WARN with the problem", l)
			}
			skipped[fmt.Sprint(l["file"])]++
		case "serving recordings":
			served = l["devices"] == 1.0
		}
	}
	if !served {
		t.Fatalf("simulate did not serve the good recording:\n%s", out)
	}
	if len(skipped) != 2 || skipped["folder.snmprec"] != 1 || skipped["empty.snmprec"] != 1 {
		t.Errorf("skip warnings per file %v, want one for folder.snmprec and one for empty.snmprec:\n%s", skipped, out)
	}
}

// logLines decodes the command's JSON log, one object per line.
func logLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		lines = append(lines, m)
	}
	return lines
}
