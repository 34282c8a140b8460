package grafana_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ngic/ngic/controller/coverage"
	"github.com/ngic/ngic/controller/inventory/inventorytest"
	"github.com/ngic/ngic/controller/simulator/simulatortest"
	"github.com/ngic/ngic/drivers/rfid"
	_ "github.com/ngic/ngic/drivers/rfid/all" // the emulated reader's protocol
	"github.com/ngic/ngic/drivers/rfid/emulate"
	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// The end-to-end run whose InfluxDB data the dashboards' queries are
// checked against: ngic-controller run polls the sample inventory's four
// devices (served by the project's simulator from real recordings) and
// ingests the events of ngic-edge, which reads an emulated EM4100 reader
// on a pseudo-terminal and emulated photo-eyes (a door, a pair of beams),
// through a real mosquitto; both write to a real influxd.

// Recordings served for the sample inventory's devices.
var recordings = map[string]string{
	"olt-01":     "vsol_v1600d",
	"cmts-01":    "arris_c4-cmts",
	"dslam-07":   "zyxel_ies-5005",
	"headend-01": "terra_sdi480",
	"tx-01":      "televes_tredess-tx",
	"tx-02":      "protelevision_dvb-t-transmitter",
	"dslam-08":   "huawei_ma5603t",
	"dslam-09":   "zyxel_ies52xxm-msc1240qa",
	"hd-02":      "wisi_tangram",
	"hd-03":      "teleste_luminato-4x4",
}

// gatewayName is the sample inventory's gateway the edge runs as.
const gatewayName = "cabinet-0142"

// patience bounds each wait of the run.
const patience = 90 * time.Second

// run is what the end-to-end run produced, as seen outside InfluxDB.
type run struct {
	influxd *testenv.Influxd
	// from and to bound every point the run wrote.
	from, to time.Time
	// devices maps each inventory device to its site.
	devices map[string]string
	// events are the distinct events the edge published, by ID.
	events map[string]*telemetry.Event
	// health is the last health message the edge published.
	health *telemetry.Health
	// healths counts the health messages published.
	healths int
	// snapshot is the controller's last stored coverage snapshot.
	snapshot *coverage.Result
}

var (
	buildOnce sync.Once
	bins      map[string]string
	buildErr  error
	buildDir  string
)

// binaries builds ngic-controller and ngic-edge once.
func binaries(t *testing.T) map[string]string {
	t.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "ngic-grafana-bin-"); buildErr != nil {
			return
		}
		bins = map[string]string{}
		for name, pkg := range map[string]string{"controller": "../../controller", "edge": "../../edge"} {
			out := filepath.Join(buildDir, name)
			if b, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
				return
			}
			bins[name] = out
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return bins
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// eventually polls cond until it holds, failing t after patience.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", patience, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// proc is a running daemon whose output goes to a log file.
type proc struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

func startProc(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	p := &proc{log: filepath.Join(t.TempDir(), filepath.Base(name)+".log"), done: make(chan struct{})}
	lf, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(name, args...)
	p.cmd.Stdout, p.cmd.Stderr = lf, lf
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); lf.Close(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			b, _ := os.ReadFile(p.log)
			t.Logf("%s log:\n%s", name, b)
		}
	})
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(patience):
		t.Fatalf("%s did not stop within %v of SIGTERM", p.cmd.Path, patience)
	}
	if p.err != nil {
		t.Fatalf("%s exited with %v", p.cmd.Path, p.err)
	}
}

// watcher records what the edge publishes.
type watcher struct {
	mu      sync.Mutex
	events  map[string]*telemetry.Event
	health  *telemetry.Health
	healths int
}

func watch(t *testing.T, addr string) *watcher {
	t.Helper()
	w := &watcher{events: map[string]*telemetry.Event{}}
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID("dashboard-test-watcher").
		SetOrderMatters(true))
	if tok := c.Connect(); !tok.WaitTimeout(patience) || tok.Error() != nil {
		t.Fatalf("watcher: connect: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	onEvent := func(_ mqtt.Client, m mqtt.Message) {
		evs, err := telemetry.DecodeEvents(m.Payload())
		if err != nil {
			t.Errorf("the edge published a bad event on %s: %v", m.Topic(), err)
			return
		}
		w.mu.Lock()
		for _, ev := range evs {
			w.events[ev.ID] = ev
		}
		w.mu.Unlock()
	}
	onHealth := func(_ mqtt.Client, m mqtt.Message) {
		h, err := telemetry.DecodeHealth(m.Payload())
		if err != nil {
			t.Errorf("the edge published a bad health message: %v", err)
			return
		}
		w.mu.Lock()
		w.health, w.healths = h, w.healths+1
		w.mu.Unlock()
	}
	for filter, h := range map[string]mqtt.MessageHandler{telemetry.EventFilter: onEvent, telemetry.HealthFilter: onHealth} {
		if tok := c.Subscribe(filter, 1, h); !tok.WaitTimeout(patience) || tok.Error() != nil {
			t.Fatalf("watcher: subscribe %s: %v", filter, tok.Error())
		}
	}
	return w
}

// count returns how many distinct events of type typ (and source, when
// not empty) were published.
func (w *watcher) count(typ, source string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, ev := range w.events {
		if ev.Type == typ && (source == "" || ev.Source == source) {
			n++
		}
	}
	return n
}

func (w *watcher) healthCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.healths
}

// healthz returns the controller's /healthz.
func healthz(addr string) (map[string]any, error) {
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var h map[string]any
	return h, json.NewDecoder(resp.Body).Decode(&h)
}

// devicesIn returns the number of devices in state, -1 when /healthz does
// not answer.
func devicesIn(addr, state string) int {
	h, err := healthz(addr)
	if err != nil {
		return -1
	}
	devs, _ := h["devices"].(map[string]any)
	n, _ := devs[state].(float64)
	return int(n)
}

// lab drives the edge's emulated photo-eye pins.
type lab string

func (l lab) set(t *testing.T, pin, level string) {
	t.Helper()
	resp, err := http.Post(fmt.Sprintf("http://%s/pins/%s?level=%s", l, pin, level), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("lab pin %s %s: %s", pin, level, resp.Status)
	}
}

// count returns the number of points of field in measurement in influxd.
func count(d *testenv.Influxd, measurement, field string) int {
	rows, err := d.TryQuery("ngic", fmt.Sprintf(`SELECT count(%q) FROM %q`, field, measurement))
	if err != nil || len(rows) != 1 {
		return 0
	}
	n, _ := rows[0].Values["count"].(json.Number).Int64()
	return int(n)
}

// endToEnd performs the run and returns what it produced.
func endToEnd(t *testing.T) *run {
	t.Helper()
	b := binaries(t)
	mosq := testenv.StartMosquitto(t)
	influxd := testenv.StartInfluxd(t)
	influxd.CreateDatabase(t, "ngic")
	names := make([]string, 0, len(recordings))
	for _, r := range recordings {
		names = append(names, r)
	}
	_, simAddr := simulatortest.Serve(t, names...)
	w := watch(t, mosq.Addr)
	r := &run{influxd: influxd, from: time.Now().Add(-time.Minute)}

	dir := t.TempDir()
	inv := filepath.Join(dir, "inventory")
	if err := os.Mkdir(inv, 0o755); err != nil {
		t.Fatal(err)
	}
	inventorytest.CopyAt(t, "../controller/inventory", inv, "", "")
	devices := "id,site,address,credentials,parent\n"
	r.devices = map[string]string{"olt-01": "exchange-north", "cmts-01": "exchange-north",
		"dslam-07": "cabinet-0142", "headend-01": "headend-east", "tx-01": "transmitter-hill", "tx-02": "transmitter-hill",
		"dslam-08": "cabinet-0142", "dslam-09": "cabinet-0142", "hd-02": "headend-east", "hd-03": "headend-east"}
	for id := range r.devices {
		parent := ""
		if id == "dslam-07" {
			parent = "olt-01"
		}
		devices += fmt.Sprintf("%s,%s,%s,community:%s,%s\n", id, r.devices[id], simAddr, recordings[id], parent)
	}
	write(t, filepath.Join(inv, "devices.csv"), devices)
	httpAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	stateDir := filepath.Join(dir, "state")
	cfg := filepath.Join(dir, "controller.yaml")
	write(t, cfg, fmt.Sprintf(`inventory: inventory
poll:
  interval: 1s
  timeout: 500ms
  retries: 1
mqtt:
  broker: tcp://%s
  client_id: ngic-controller-dashboards
influxdb:
  url: %s
  bucket: ngic/autogen
http:
  listen: %s
state_dir: %s
`, mosq.Addr, influxd.URL, httpAddr, stateDir))
	ctl := startProc(t, b["controller"], "run", "--config", cfg)
	eventually(t, "the controller's /healthz", func() bool { _, err := healthz(httpAddr); return err == nil })

	proto, err := rfid.Lookup("em4100")
	if err != nil {
		t.Fatal(err)
	}
	reader, err := emulate.New(proto, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pty, err := reader.ServePTY(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	labAddr := lab(fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)))
	edgeConf := filepath.Join(dir, "edge.yaml")
	write(t, edgeConf, fmt.Sprintf(`gateway: %s
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
    depart_after: 300ms
sensors:
  - name: door
    pin: lab:door
    debounce: 5ms
    held_after: 1s
  - name: outer
    pin: lab:outer
    debounce: 5ms
  - name: inner
    pin: lab:inner
    debounce: 5ms
pairs:
  - name: entrance
    outer: outer
    inner: inner
health:
  interval: 5s
http:
  listen: off
`, gatewayName, filepath.Join(dir, "spool.db"), mosq.Addr, pty.Path))
	edge := startProc(t, b["edge"], "run", "--config", edgeConf, "--lab-control", string(labAddr))
	eventually(t, "every device up and the gateway online", func() bool {
		h, err := healthz(httpAddr)
		if err != nil {
			return false
		}
		if edge.exited() || ctl.exited() {
			t.Fatal("a daemon exited")
		}
		gws, _ := h["gateways"].(map[string]any)
		return devicesIn(httpAddr, "up") == len(recordings) && gws["online"] == float64(1)
	})

	// Three tags come and go, each seen to arrive and depart on MQTT.
	for i := 1; i <= 3; i++ {
		if err := reader.SetTags([][]byte{{0x10, 0, 0, 0, byte(i)}}); err != nil {
			t.Fatal(err)
		}
		eventually(t, fmt.Sprintf("tag %d arrived", i), func() bool { return w.count(telemetry.TagArrived, "gate") == i })
		if err := reader.SetTags(nil); err != nil {
			t.Fatal(err)
		}
		eventually(t, fmt.Sprintf("tag %d departed", i), func() bool { return w.count(telemetry.TagDeparted, "gate") == i })
	}
	// The door is held open, then closed.
	labAddr.set(t, "door", "low")
	eventually(t, "the door held", func() bool { return w.count(telemetry.BeamHeld, "door") == 1 })
	labAddr.set(t, "door", "high")
	eventually(t, "the door closed", func() bool { return w.count(telemetry.BeamCleared, "door") == 1 })
	// Two passages in, one out.
	for i, dir := range []string{"in", "in", "out"} {
		first, second := "outer", "inner"
		if dir == "out" {
			first, second = "inner", "outer"
		}
		for _, step := range [][2]string{{first, "low"}, {second, "low"}, {first, "high"}, {second, "high"}} {
			before := w.count(telemetry.BeamCleared, step[0]) + w.count(telemetry.BeamBlocked, step[0])
			labAddr.set(t, step[0], step[1])
			eventually(t, "beam "+step[0]+" "+step[1], func() bool {
				return w.count(telemetry.BeamCleared, step[0])+w.count(telemetry.BeamBlocked, step[0]) == before+1
			})
		}
		eventually(t, fmt.Sprintf("passage %d", i+1), func() bool { return w.count(telemetry.Passage, "entrance") == i+1 })
	}

	// A coverage snapshot of every device polled; then enough polls for
	// rates (two polls each at least) and a few health messages.
	if err := ctl.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	store, err := coverage.OpenStore(filepath.Join(stateDir, "coverage"), 1000)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the last coverage snapshot in influxd", func() bool {
		times, err := store.List()
		if err != nil || len(times) == 0 {
			return false
		}
		rows, err := influxd.TryQuery("ngic", fmt.Sprintf(`SELECT last(%q) FROM %q`,
			telemetry.FieldConvergedShare, telemetry.MeasCoverageRegion))
		// The store names snapshots to the millisecond.
		return err == nil && len(rows) == 1 && rows[0].Time.Truncate(time.Millisecond).Equal(times[len(times)-1])
	})
	eventually(t, "two health messages", func() bool { return w.healthCount() >= 2 })
	edge.stop(t)
	w.mu.Lock()
	events, healths := len(w.events), w.healths
	w.mu.Unlock()
	eventually(t, "every event and health message in influxd", func() bool {
		return count(influxd, telemetry.MeasEdgeEvent, telemetry.FieldSeq)+count(influxd, telemetry.MeasPassage, telemetry.FieldSeq) == events &&
			count(influxd, telemetry.MeasGatewayHealth, telemetry.FieldUptimeS) == healths
	})
	ctl.stop(t)
	r.to = time.Now().Add(time.Minute)

	w.mu.Lock()
	r.events, r.health, r.healths = w.events, w.health, w.healths
	w.mu.Unlock()
	times, err := store.List()
	if err != nil || len(times) == 0 {
		t.Fatalf("coverage snapshots: %v, %v", times, err)
	}
	if r.snapshot, err = store.At(times[len(times)-1]); err != nil {
		t.Fatal(err)
	}
	return r
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
