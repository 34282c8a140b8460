package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

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

// simulateProc is a running simulate command.
type simulateProc struct {
	cancel context.CancelFunc
	exited chan struct{}
	log    string
}

// read returns the command's log so far.
func (p *simulateProc) read() string { b, _ := os.ReadFile(p.log); return string(b) }

// stop ends the command (if it still runs) and waits for it.
func (p *simulateProc) stop() {
	p.cancel()
	<-p.exited
}

// launchSimulate runs the simulate command with args, and returns once it
// logs that it serves, or has exited; it is stopped when the test ends.
func launchSimulate(t *testing.T, args ...string) *simulateProc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	cmd := exec.CommandContext(ctx, binary, append([]string{"simulate"}, args...)...)
	logFile, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	p := &simulateProc{cancel: cancel, exited: make(chan struct{}), log: logFile.Name()}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	t.Cleanup(p.stop)
	// Wait (by content) for the "serving" line.
	deadline := time.After(time.Minute)
	for !strings.Contains(p.read(), "serving recordings") {
		select {
		case <-p.exited:
			return p
		case <-deadline:
			t.Fatalf("simulate never served: %s", p.read())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return p
}

// startSimulate runs the simulate command with args until it logs that it
// serves (or exits), stops it, and returns its whole log.
func startSimulate(t *testing.T, args ...string) string {
	t.Helper()
	p := launchSimulate(t, args...)
	p.stop()
	return p.read()
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

// TestSimulateControlTakesAnAgentDown runs the built simulate with two
// agents and its control: one agent is taken down (a GET to it times out)
// and up again (it answers), the other answers throughout.
func TestSimulateControlTakesAnAgentDown(t *testing.T) {
	rec := t.TempDir()
	for _, n := range []string{"olt-a", "olt-b"} {
		if err := os.WriteFile(filepath.Join(rec, n+".snmprec"), []byte("1.3.6.1.2.1.1.5.0|4|"+n+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	udp := testenv.FreeUDPPort(t)
	control := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	p := launchSimulate(t, "--recordings", rec, "--listen", "127.0.0.1:"+strconv.Itoa(udp), "--control", control)
	if !strings.Contains(p.read(), "serving recordings") {
		t.Fatalf("simulate did not serve:\n%s", p.read())
	}
	get := func(community string) error {
		g := &gosnmp.GoSNMP{Target: "127.0.0.1", Port: uint16(udp), Community: community, Version: gosnmp.Version2c,
			Timeout: 500 * time.Millisecond, Retries: 1, Context: context.Background()}
		if err := g.Connect(); err != nil {
			t.Fatal(err)
		}
		defer g.Conn.Close()
		r, err := g.Get([]string{".1.3.6.1.2.1.1.5.0"})
		if err != nil {
			return err
		}
		if v, _ := r.Variables[0].Value.([]byte); string(v) != community {
			t.Fatalf("%s answered sysName %q", community, v)
		}
		return nil
	}
	post := func(path string, wantCode int) {
		t.Helper()
		resp, err := http.Post("http://"+control+path, "", nil)
		if err != nil {
			t.Fatalf("POST %s: %v\n%s", path, err, p.read())
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != wantCode {
			t.Fatalf("POST %s: %d %s; want %d", path, resp.StatusCode, body, wantCode)
		}
	}
	states := func() map[string]string {
		t.Helper()
		resp, err := http.Get("http://" + control + "/agents")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var list []struct{ Community, State string }
		if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, a := range list {
			m[a.Community] = a.State
		}
		return m
	}
	for _, n := range []string{"olt-a", "olt-b"} {
		if err := get(n); err != nil {
			t.Fatalf("%s before any control: %v", n, err)
		}
	}
	post("/agents/olt-a/down", 200)
	if s := states(); s["olt-a"] != "down" || s["olt-b"] != "up" || len(s) != 2 {
		t.Fatalf("GET /agents after down: %v", s)
	}
	if err := get("olt-a"); err == nil {
		t.Fatal("olt-a answered while down")
	} else if !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("olt-a down: %v; want a timeout", err)
	}
	if err := get("olt-b"); err != nil {
		t.Fatalf("olt-b while olt-a is down: %v", err)
	}
	post("/agents/olt-a/up", 200)
	if err := get("olt-a"); err != nil {
		t.Fatalf("olt-a back up: %v", err)
	}
	if err := get("olt-b"); err != nil {
		t.Fatalf("olt-b after olt-a came up: %v", err)
	}
	if s := states(); s["olt-a"] != "up" {
		t.Fatalf("GET /agents after up: %v", s)
	}
	post("/agents/olt-c/down", 404)
}

// TestSimulateControlRefusedBeyondLoopback: --control on every address is
// refused before anything is served.
func TestSimulateControlRefusedBeyondLoopback(t *testing.T) {
	rec := t.TempDir()
	if err := os.WriteFile(filepath.Join(rec, "dev.snmprec"), []byte("1.3.6.1.2.1.1.1.0|4|lab\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := startSimulate(t, "--recordings", rec, "--listen", "127.0.0.1:0", "--control", "0.0.0.0:0")
	if strings.Contains(out, "serving recordings") || !strings.Contains(out, "--control") || !strings.Contains(out, "loopback") {
		t.Fatalf("--control 0.0.0.0:0 was not refused:\n%s", out)
	}
}
