package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/drivers/rfid/emulate"
	"github.com/ngic/ngic/edge/internal/edgetest"
	"github.com/ngic/ngic/internal/spool"
	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// buildEdge builds this program into a temporary folder.
func buildEdge(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ngic-edge")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func startEdge(t testing.TB, bin, conf string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "run", "--config", conf)
	logf, err := os.OpenFile(conf+".log", os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		logf.Close()
	})
	return cmd
}

// TestKill9 kills the edge with SIGKILL at random moments while tags move
// through an emulated reader's field, restarts it each time, and checks
// that every event it spooled reaches the broker, uncorrupted, with no gap.
// em4100PTY serves an emulated EM4100 reader on a pseudo-terminal until
// the test ends, returning the emulator and its terminal.
func em4100PTY(t *testing.T) (*emulate.Runner, *emulate.PTY) {
	t.Helper()
	proto, _ := rfid.Lookup("em4100")
	runner, err := emulate.New(proto, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pty, err := runner.ServePTY(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	return runner, pty
}

func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the daemon; not in -short")
	}
	broker := testenv.StartMosquitto(t)
	sub := edgetest.Subscribe(t, broker.Addr, "sub-kill9")
	bin := buildEdge(t)
	runner, pty := em4100PTY(t)
	dir := t.TempDir()
	spoolPath := filepath.Join(dir, "spool.db")
	conf := filepath.Join(dir, "edge.yaml")
	os.WriteFile(conf, []byte(fmt.Sprintf(`gateway: gw-kill
spool:
  path: %s
mqtt:
  broker: tcp://%s
  min_backoff: 50ms
  max_backoff: 500ms
readers:
  - name: gate
    protocol: em4100
    device: %s
    depart_after: 120ms
http:
  listen: off
`, spoolPath, broker.Addr, pty.Path)), 0o644)

	field := edgetest.Cycle(runner, 60*time.Millisecond, func(i int) []byte {
		return []byte{0x20, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)}
	})
	rng := rand.New(rand.NewPCG(1, 2))
	const rounds = 6
	for round := 0; round < rounds; round++ {
		cmd := startEdge(t, bin, conf)
		time.Sleep(time.Duration(300+rng.IntN(1500)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
	}
	// The broker published the retained last will for the killed gateway.
	sawOffline := false
	for _, st := range sub.Statuses() {
		sawOffline = sawOffline || st.State == telemetry.StateOffline
	}
	if !sawOffline {
		t.Error("no offline last will after SIGKILL")
	}
	// A last run, its metrics served, drains the spool and stops cleanly
	// once it is seen to be done: connected with the backlog acknowledged,
	// then, with the field empty, every tag departed at the gateway and at
	// the far end, and nothing left to acknowledge.
	metricsAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	last, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte(strings.Replace(string(last), "listen: off", "listen: "+metricsAddr, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := startEdge(t, bin, conf)
	metrics := "http://" + metricsAddr + "/metrics"
	waitMetrics(t, metrics, 30*time.Second, "the last run connected with the backlog acknowledged", func(m map[string]float64) bool {
		return m["ngic_edge_mqtt_connected"] == 1 && m["ngic_edge_spool_records"] == 0
	})
	field.Stop()
	waitMetrics(t, metrics, 30*time.Second, "every tag departed at the gateway", func(m map[string]float64) bool {
		return m[`ngic_edge_tags_present{reader="gate"}`] == 0
	})
	sub.WaitFor(t, 30*time.Second, "every tag departed at the far end", func(es []*telemetry.Event) bool {
		bySeq, top := map[uint64]*telemetry.Event{}, uint64(0)
		for _, e := range es {
			bySeq[e.Seq], top = e, max(top, e.Seq)
		}
		var distinct []*telemetry.Event
		for seq := uint64(1); seq <= top; seq++ {
			if e := bySeq[seq]; e != nil {
				distinct = append(distinct, e)
			}
		}
		return len(edgetest.Presence(distinct)) == 0
	})
	waitMetrics(t, metrics, 30*time.Second, "every event acknowledged", func(m map[string]float64) bool {
		return m["ngic_edge_spool_records"] == 0
	})
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		b, _ := os.ReadFile(conf + ".log")
		t.Fatalf("clean stop: %v\n%s", err, tail(string(b), 2000))
	}
	sp, err := spool.Open(spoolPath, spool.Options{})
	if err != nil {
		t.Fatalf("spool after %d kills: %v", rounds, err)
	}
	st := sp.Stats()
	sp.Close()
	if st.Records != 0 {
		t.Fatalf("%d events left in the spool after a clean stop with the broker up", st.Records)
	}
	sub.WaitFor(t, 15*time.Second, fmt.Sprintf("all %d spooled events", st.Appended), func(es []*telemetry.Event) bool {
		seen := map[uint64]bool{}
		for _, e := range es {
			seen[e.Seq] = true
		}
		return uint64(len(seen)) >= st.Appended
	})
	distinct, dups := edgetest.Report(t, sub.Events())
	if uint64(len(distinct)) != st.Appended || st.Appended < 20 {
		t.Fatalf("distinct events received %d, spooled %d", len(distinct), st.Appended)
	}
	if bad := sub.Bad(); len(bad) > 0 {
		t.Fatalf("corrupt messages: %v", bad)
	}
	// Tags present at a kill depart after the restart (they are kept in
	// the spool): after the clean stop the far end holds none present.
	if left := edgetest.Presence(distinct); len(left) != 0 {
		t.Fatalf("%d tags arrived at the far end and never departed: %v", len(left), left)
	}
	t.Logf("%d kills: %d events spooled, all delivered, %d duplicate deliveries", rounds, st.Appended, dups)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

func TestCheckConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the daemon")
	}
	bin := buildEdge(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	// check-config checks the spool's directory as run needs it: one that exists.
	os.WriteFile(good, []byte("gateway: gw-1\nspool:\n  path: "+filepath.Join(dir, "spool.db")+"\nmqtt:\n  broker: tcp://127.0.0.1:1883\nreaders:\n  - name: r1\n    protocol: em4100\n    device: /dev/ttyUSB0\n"), 0o644)
	if out, err := exec.Command(bin, "check-config", good).CombinedOutput(); err != nil {
		t.Fatalf("good config: %v\n%s", err, out)
	}
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown protocol", "gateway: gw-1\nmqtt:\n  broker: tcp://127.0.0.1:1883\nreaders:\n  - name: r1\n    protocol: em4101\n    device: /dev/ttyUSB0\n", "line 6: readers[0].protocol"},
		{"unknown key", "gateway: gw-1\nmqtt:\n  broker: tcp://127.0.0.1:1883\n  brokr: x\n", "line 4"},
		{"bad gateway", "gateway: gw/1\nmqtt:\n  broker: tcp://127.0.0.1:1883\n", "line 1: gateway"},
		{"window", "gateway: g\nmqtt:\n  broker: tcp://127.0.0.1:1883\n  window: 70000\n", "line 4: mqtt.window"},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".yaml")
		os.WriteFile(p, []byte(tc.yaml), 0o644)
		out, err := exec.Command(bin, "check-config", p).CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("%s: err=%v output=%s, want it to name %q", tc.name, err, out, tc.want)
		}
	}
}

// TestKill9OnFullDisk fills the disk under the spool while the broker is
// away, kills the edge with SIGKILL while it holds events in memory, and
// restarts it: the far end sees every sequence number either delivered or
// inside an events.lost range whose counts add up (the held events as
// "crash"), the first birth after the kill says presence_reset, and every
// tag that arrived at the far end departs. Before, ~350 held events died
// with the process without a gap in seq, and tags present at the kill
// never departed.
func TestKill9OnFullDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a disk and kills the daemon; not in -short")
	}
	disk := testenv.SmallDisk(t, "2m")
	broker := testenv.StartMosquittoPersistent(t)
	sub := edgetest.Subscribe(t, broker.Addr, "sub-kill9-full")
	bin := buildEdge(t)
	runner, pty := em4100PTY(t)
	dir := t.TempDir()
	spoolPath := filepath.Join(disk, "spool.db")
	conf := filepath.Join(dir, "edge.yaml")
	httpAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	os.WriteFile(conf, []byte(fmt.Sprintf(`gateway: gw-full
spool:
  path: %s
mqtt:
  broker: tcp://%s
  min_backoff: 50ms
  max_backoff: 500ms
readers:
  - name: gate
    protocol: em4100
    device: %s
    depart_after: 120ms
http:
  listen: %s
`, spoolPath, broker.Addr, pty.Path, httpAddr)), 0o644)
	health := func() (h struct {
		Spool struct {
			Held int `json:"held"`
		} `json:"spool"`
		Readers []struct {
			Present []any `json:"present"`
		} `json:"readers"`
	}, ok bool) {
		resp, err := http.Get("http://" + httpAddr + "/healthz")
		if err != nil {
			return h, false
		}
		defer resp.Body.Close()
		return h, json.NewDecoder(resp.Body).Decode(&h) == nil
	}
	waitFor := func(timeout time.Duration, what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(timeout); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				b, _ := os.ReadFile(conf + ".log")
				t.Fatalf("after %v: %s\n%s", timeout, what, tail(string(b), 2000))
			}
		}
	}

	field := edgetest.Cycle(runner, 30*time.Millisecond, func(i int) []byte {
		return []byte{0x30, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)}
	})
	cmd := startEdge(t, bin, conf)
	sub.WaitFor(t, 15*time.Second, "events before the outage", func(es []*telemetry.Event) bool { return len(es) >= 10 })
	broker.Stop()
	// Fill the disk: the spool file must grow (nothing is acknowledged),
	// and cannot.
	filler := filepath.Join(disk, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	for chunk := make([]byte, 16<<10); ; {
		if _, err := f.Write(chunk); err != nil {
			break
		}
	}
	f.Close()
	waitFor(30*time.Second, "the edge holding events on the full disk", func() bool {
		h, ok := health()
		return ok && h.Spool.Held >= 5
	})
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	broker.Restart(t)
	cmd = startEdge(t, bin, conf)
	waitFor(15*time.Second, "the restarted edge serving /healthz", func() bool { _, ok := health(); return ok })
	field.Stop()
	waitFor(15*time.Second, "every tag gone from the field departed", func() bool {
		h, ok := health()
		return ok && len(h.Readers) == 1 && len(h.Readers[0].Present) == 0
	})
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		b, _ := os.ReadFile(conf + ".log")
		t.Fatalf("clean stop: %v\n%s", err, tail(string(b), 2000))
	}
	sp, err := spool.Open(spoolPath, spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := sp.Stats()
	sp.Close()
	if st.Records != 0 || st.Unreported != 0 || st.Lost[spool.ReasonCrash] < 5 {
		t.Fatalf("spool after the clean stop: %+v; want it drained, every loss reported, the held events lost to the crash", st)
	}
	sub.WaitFor(t, 20*time.Second, "every number delivered or reported lost", func(es []*telemetry.Event) bool {
		return edgetest.Accounted(es) >= st.LastSeq
	})
	distinct, _ := edgetest.Report(t, sub.Events())
	lost := edgetest.Lost(distinct)
	if lost[telemetry.LostCrash] != st.Lost[spool.ReasonCrash] {
		t.Fatalf("events.lost crash counts %d, the spool lost %d to the crash", lost[telemetry.LostCrash], st.Lost[spool.ReasonCrash])
	}
	if left := edgetest.Presence(distinct); len(left) != 0 {
		t.Fatalf("%d tags arrived at the far end and never departed: %v", len(left), left)
	}
	reset := false
	for _, s := range sub.Statuses() {
		reset = reset || s.State == telemetry.StateOnline && s.PresenceReset
	}
	if !reset {
		t.Fatal("no birth with presence_reset after the kill")
	}
	if bad := sub.Bad(); len(bad) > 0 {
		t.Fatalf("corrupt messages: %v", bad)
	}
	t.Logf("%d numbers handed out: %d events delivered, lost %v", st.LastSeq, len(distinct), lost)
}
