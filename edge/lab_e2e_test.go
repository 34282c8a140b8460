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
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ngic/ngic/drivers/gpio/labpin"
	"github.com/ngic/ngic/edge/internal/edgetest"
	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// labConfig writes a configuration with one photo-eye on the lab pin
// lab:door-1 (sensors[0]), held after 200ms, publishing to broker.
func labConfig(t *testing.T, broker string) string {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "edge.yaml")
	y := fmt.Sprintf(`gateway: gw-lab
spool:
  path: %s
mqtt:
  broker: tcp://%s
  min_backoff: 50ms
  max_backoff: 500ms
sensors:
  - name: door
    pin: lab:door-1
    debounce: 5ms
    held_after: 200ms
http:
  listen: off
`, filepath.Join(dir, "spool.db"), broker)
	if err := os.WriteFile(conf, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return conf
}

// runEdge runs the edge binary with args to its end (a minute at most)
// and returns its output and exit code.
func runEdge(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("ngic-edge %v still running after a minute:\n%s", args, out)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// TestLabPinRefusedWithoutFlag: the same configuration is refused by run
// and check-config without the lab flag, naming the field; check-config
// --lab accepts it; a control address beyond loopback is refused.
func TestLabPinRefusedWithoutFlag(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the daemon; not in -short")
	}
	bin := buildEdge(t)
	conf := labConfig(t, "127.0.0.1:1")
	for _, args := range [][]string{{"run", "--config", conf}, {"check-config", conf}} {
		out, code := runEdge(t, bin, args...)
		if code == 0 {
			t.Errorf("%v accepted a lab pin without the lab flag:\n%s", args, out)
		}
		for _, want := range []string{"sensors[0].pin", "lab:door-1", "--lab-control"} {
			if !strings.Contains(out, want) {
				t.Errorf("%v: output does not say %q:\n%s", args, want, out)
			}
		}
	}
	if out, code := runEdge(t, bin, "check-config", "--lab", conf); code != 0 || !strings.Contains(out, "ok") {
		t.Errorf("check-config --lab: exit %d:\n%s", code, out)
	}
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:9999"} {
		out, code := runEdge(t, bin, "run", "--config", conf, "--lab-control", addr)
		if code == 0 || !strings.Contains(out, "--lab-control") || !strings.Contains(out, "not loopback") {
			t.Errorf("--lab-control %s: exit %d:\n%s", addr, code, out)
		}
	}
}

// labClient talks to a lab control at addr (host:port).
type labClient struct {
	t    *testing.T
	base string
}

// post sends POST path and fails the test unless it answers 200.
func (c labClient) post(path string) labpin.State {
	c.t.Helper()
	resp, err := http.Post(c.base+path, "", nil)
	if err != nil {
		c.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var s labpin.State
	if resp.StatusCode != 200 || json.Unmarshal(body, &s) != nil {
		c.t.Fatalf("POST %s: %d %s", path, resp.StatusCode, body)
	}
	return s
}

// pins returns GET /pins, or an error while the daemon is not serving.
func (c labClient) pins() ([]labpin.State, error) {
	resp, err := http.Get(c.base + "/pins")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var st []labpin.State
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, err
	}
	return st, nil
}

// TestLabPinEndToEnd runs the built daemon with a lab pin and a real
// mosquitto: the beam is blocked past its held time and cleared over the
// control, then pulsed; the events arrive on MQTT.
func TestLabPinEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon; not in -short")
	}
	broker := testenv.StartMosquitto(t)
	sub := edgetest.Subscribe(t, broker.Addr, "sub-lab")
	bin := buildEdge(t)
	conf := labConfig(t, broker.Addr)
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cmd := exec.Command(bin, "run", "--config", conf, "--lab-control", addr)
	logf, err := os.Create(conf + ".log")
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
	})
	logs := func() string { b, _ := os.ReadFile(conf + ".log"); return string(b) }
	lab := labClient{t: t, base: "http://" + addr}
	// The control serves once the gateway has opened its pins.
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := lab.pins()
		if err == nil {
			if len(st) != 1 || st[0] != (labpin.State{Pin: "lab:door-1", Level: "high"}) {
				t.Fatalf("GET /pins = %+v; want lab:door-1 high, unchanged", st)
			}
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("ngic-edge exited: %v\n%s", err, logs())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("lab control never answered: %v\n%s", err, logs())
		}
	}
	if !strings.Contains(logs(), "LAB ONLY") {
		t.Errorf("no LAB ONLY warning in the log:\n%s", logs())
	}
	count := func(es []*telemetry.Event, typ string) int {
		n := 0
		for _, e := range es {
			if e.Gateway == "gw-lab" && e.Source == "door" && e.Type == typ {
				n++
			}
		}
		return n
	}
	waitCount := func(typ string, n int) {
		t.Helper()
		sub.WaitFor(t, 20*time.Second, fmt.Sprintf("%d %s events", n, typ), func(es []*telemetry.Event) bool {
			return count(es, typ) >= n
		})
	}
	if s := lab.post("/pins/door-1?level=low"); s.Level != "low" {
		t.Fatalf("after level=low: %+v", s)
	}
	waitCount(telemetry.BeamBlocked, 1)
	waitCount(telemetry.BeamHeld, 1)
	lab.post("/pins/door-1?level=high")
	waitCount(telemetry.BeamCleared, 1)
	// A pulse is one more blocked and cleared, too short to be held.
	if s := lab.post("/pins/door-1/pulse?ms=50"); s.Level != "high" || s.Changes != 4 {
		t.Fatalf("after the pulse: %+v", s)
	}
	waitCount(telemetry.BeamCleared, 2)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-exited; err != nil {
		t.Fatalf("ngic-edge did not stop cleanly: %v\n%s", err, logs())
	}
	es := sub.Events()
	if b, h, c := count(es, telemetry.BeamBlocked), count(es, telemetry.BeamHeld), count(es, telemetry.BeamCleared); b != 2 || h != 1 || c != 2 {
		t.Errorf("blocked %d, held %d, cleared %d; want 2, 1, 2", b, h, c)
	}
	var cleared []*telemetry.Event
	for _, e := range es {
		if e.Source == "door" && e.Type == telemetry.BeamCleared {
			cleared = append(cleared, e)
		}
		if e.Source == "door" && e.Beam == nil {
			t.Errorf("%s event without its beam payload", e.Type)
		}
	}
	if cleared[0].Beam.DurationS < 0.2 {
		t.Errorf("first clear after %.3fs of blocking, but it was held past 0.2s", cleared[0].Beam.DurationS)
	}
	if bad := sub.Bad(); len(bad) > 0 {
		t.Errorf("undecodable messages: %v", bad)
	}
}
