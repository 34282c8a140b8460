package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/simulator/simulatortest"
	"github.com/ngic/ngic/internal/testenv"
)

// controllerProc is a running `ngic-controller run`.
type controllerProc struct {
	cmd  *exec.Cmd
	log  string
	http string
	done chan struct{}
	err  error
}

// startController runs the controller on the configuration at cfg, whose
// status server listens on httpAddr, and waits until /healthz answers.
func startController(t testing.TB, cfg, httpAddr string) *controllerProc {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "controller.log")
	lf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"run", "--config", cfg, "--log-level", "debug"}
	if os.Getenv("NGIC_BENCH_PROFILE") != "" {
		args = append(args, "--pprof")
	}
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := testenv.Start(cmd); err != nil {
		t.Fatal(err)
	}
	p := &controllerProc{cmd: cmd, log: logPath, http: httpAddr, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); lf.Close(); close(p.done) }()
	t.Cleanup(func() {
		if !p.exited() {
			cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("controller log:\n%s", p.Log())
		}
	})
	waitUntil(t, "the controller's /healthz", func() bool {
		if p.exited() {
			t.Fatalf("the controller exited: %v\n%s", p.err, p.Log())
		}
		_, err := p.health()
		return err == nil
	})
	return p
}

func (p *controllerProc) Log() string { b, _ := os.ReadFile(p.log); return string(b) }

func (p *controllerProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// health fetches /healthz.
func (p *controllerProc) health() (map[string]any, error) {
	resp, err := http.Get("http://" + p.http + "/healthz")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var h map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		return nil, err
	}
	return h, nil
}

// devicesIn returns the number of devices in state from /healthz.
func (p *controllerProc) devicesIn(t testing.TB, state string) int {
	h, err := p.health()
	if err != nil {
		return -1
	}
	devs, _ := h["devices"].(map[string]any)
	n, _ := devs[state].(float64)
	return int(n)
}

// stop sends SIGTERM and waits for a clean exit.
func (p *controllerProc) stop(t testing.TB) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.cmd.Process.Signal(syscall.SIGQUIT) // its goroutines' stacks, into its log
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
		}
		t.Fatalf("the controller did not stop within 20s of SIGTERM\n%s", p.Log())
	}
	if p.err != nil {
		t.Fatalf("the controller exited with %v\n%s", p.err, p.Log())
	}
}

// waitUntil polls cond until it holds, for at most a minute.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// serveRecordings serves the named recordings with the project's
// simulator on a loopback UDP port and returns its address.
func serveRecordings(t *testing.T, names ...string) string {
	_, addr := simulatortest.Serve(t, names...)
	return addr
}

// writeFile writes content to dir/name.
func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRunPollsWritesReloads: `ngic-controller run` polls the inventory's
// devices (served by the simulator from real recordings), writes their
// points to the real influxd, picks up a changed devices.csv on SIGHUP
// without dropping the other devices' state, stops cleanly on SIGTERM,
// and starts again from its snapshot.
func TestRunPollsWritesReloads(t *testing.T) {
	t.Parallel()
	influxd := testenv.StartInfluxd(t)
	influxd.CreateDatabase(t, "ngic")
	sim := serveRecordings(t, "cisco_c2950-ios", "vsol_v1600d", "arris_c4-cmts")
	dir := t.TempDir()
	inv := filepath.Join(dir, "inventory")
	os.Mkdir(inv, 0o755)
	writeFile(t, inv, "devices.csv", fmt.Sprintf("id,site,address,credentials,parent\n"+
		"sw-1,ex-1,%s,community:cisco_c2950-ios,\nolt-1,ex-1,%s,community:vsol_v1600d,sw-1\n", sim, sim))
	writeFile(t, inv, "gateways.csv", "gateway,site\ngw-1,ex-1\n")
	httpAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cfg := writeFile(t, dir, "controller.yaml", fmt.Sprintf(`inventory: inventory
poll:
  interval: 1s
  timeout: 500ms
mqtt:
  embedded: true
  listen: 127.0.0.1:%d
influxdb:
  url: %s
  bucket: ngic/autogen
http:
  listen: %s
state_dir: %s
`, testenv.FreePort(t), influxd.URL, httpAddr, filepath.Join(dir, "state")))

	c := startController(t, cfg, httpAddr)
	waitUntil(t, "both devices up", func() bool { return c.devicesIn(t, "up") == 2 })
	// The interface points of both devices, with rates once polled twice.
	waitUntil(t, "interface rates of both devices in influxd", func() bool {
		rows, err := influxd.TryQuery("ngic", `SELECT count(in_bps) FROM interface GROUP BY device`)
		return err == nil && len(rows) == 2
	})
	rows := influxd.Query(t, "ngic", `SELECT last(status) FROM poll WHERE device = 'olt-1'`)
	if len(rows) != 1 || rows[0].Values["last"] != "up" {
		t.Fatalf("poll point of olt-1: %+v", rows)
	}
	rows = influxd.Query(t, "ngic", `SELECT last(onts_online) FROM pon_port WHERE device = 'olt-1'`)
	if len(rows) != 1 {
		t.Fatalf("no PON port points of the OLT: %+v", rows)
	}

	// Reload: the OLT leaves, the CMTS comes; the switch keeps its state.
	writeFile(t, inv, "devices.csv", fmt.Sprintf("id,site,address,credentials,parent\n"+
		"sw-1,ex-1,%s,community:cisco_c2950-ios,\ncmts-1,ex-2,%s,community:arris_c4-cmts,\n", sim, sim))
	c.cmd.Process.Signal(syscall.SIGHUP)
	waitUntil(t, "the reload logged", func() bool { return strings.Contains(c.Log(), `"added":1,"removed":1`) })
	waitUntil(t, "the CMTS up", func() bool { return c.devicesIn(t, "up") == 2 && c.devicesIn(t, "unknown") == 0 })

	// A broken devices.csv is refused and the running inventory kept.
	writeFile(t, inv, "devices.csv", "id,site,address,credentials,parent\nsw-1,ex-1,,public,\n")
	c.cmd.Process.Signal(syscall.SIGHUP)
	waitUntil(t, "the refused reload logged", func() bool { return strings.Contains(c.Log(), "reload refused") })
	if n := c.devicesIn(t, "up"); n != 2 {
		t.Fatalf("after a refused reload %d devices up, want 2", n)
	}
	c.stop(t)

	// Started again, it knows the devices' states from its snapshot
	// before polling them (a long interval keeps it from polling now).
	writeFile(t, inv, "devices.csv", fmt.Sprintf("id,site,address,credentials,parent\n"+
		"sw-1,ex-1,%s,community:cisco_c2950-ios,\ncmts-1,ex-2,%s,community:arris_c4-cmts,\n", sim, sim))
	slow := strings.Replace(readFile(t, cfg), "interval: 1s", "interval: 1h", 1)
	writeFile(t, dir, "controller.yaml", slow)
	c = startController(t, cfg, httpAddr)
	if n := c.devicesIn(t, "up"); n != 2 {
		t.Fatalf("after a restart %d devices up from the snapshot, want 2", n)
	}
	c.stop(t)
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
