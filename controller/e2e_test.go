package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ngic/ngic/controller/simulator/simulatortest"
	"github.com/ngic/ngic/drivers/rfid"
	_ "github.com/ngic/ngic/drivers/rfid/all" // the emulated reader's protocol
	"github.com/ngic/ngic/drivers/rfid/emulate"
	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

var (
	edgeOnce sync.Once
	edgeBin  string
	edgeErr  error
)

// buildEdgeBinary builds ngic-edge once for the tests of this package.
func buildEdgeBinary(t *testing.T) string {
	t.Helper()
	edgeOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ngic-edge-bin")
		if err != nil {
			edgeErr = err
			return
		}
		edgeBin = filepath.Join(dir, "ngic-edge")
		if out, err := exec.Command("go", "build", "-o", edgeBin, "../edge").CombinedOutput(); err != nil {
			edgeErr = fmt.Errorf("go build ../edge: %v\n%s", err, out)
		}
	})
	if edgeErr != nil {
		t.Fatal(edgeErr)
	}
	return edgeBin
}

// alertWatcher records the alerts the controller publishes on MQTT.
type alertWatcher struct {
	mu     sync.Mutex
	alerts []*telemetry.Alert
}

func watchAlerts(t *testing.T, addr string) *alertWatcher {
	t.Helper()
	w := &alertWatcher{}
	o := mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID("alert-watcher").SetCleanSession(true)
	c := mqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("alert watcher: connect: %v", tok.Error())
	}
	tok := c.Subscribe(telemetry.AlertFilter, 1, func(_ mqtt.Client, m mqtt.Message) {
		if len(m.Payload()) == 0 {
			return // a resolved alert's retained message cleared
		}
		a, err := telemetry.DecodeAlert(m.Payload())
		if err != nil {
			t.Errorf("alert payload on %s: %v", m.Topic(), err)
			return
		}
		w.mu.Lock()
		w.alerts = append(w.alerts, a)
		w.mu.Unlock()
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("alert watcher: subscribe: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return w
}

// states returns the states an alert of kind on subject went through.
func (w *alertWatcher) states(kind, subject string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, a := range w.alerts {
		if a.Kind == kind && a.Subject.ID == subject {
			out = append(out, a.State)
		}
	}
	return out
}

func (w *alertWatcher) all() []*telemetry.Alert {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]*telemetry.Alert(nil), w.alerts...)
}

// eventWatcher records the distinct events the edge published, by seq.
type eventWatcher struct {
	mu     sync.Mutex
	events map[uint64]*telemetry.Event
}

func watchEvents(t *testing.T, addr string) *eventWatcher {
	t.Helper()
	w := &eventWatcher{events: map[uint64]*telemetry.Event{}}
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID("event-watcher"))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("event watcher: connect: %v", tok.Error())
	}
	tok := c.Subscribe(telemetry.EventFilter, 1, func(_ mqtt.Client, m mqtt.Message) {
		evs, err := telemetry.DecodeEvents(m.Payload())
		if err != nil {
			t.Errorf("the edge published a bad event on %s: %v", m.Topic(), err)
			return
		}
		w.mu.Lock()
		for _, ev := range evs {
			w.events[ev.Seq] = ev
		}
		w.mu.Unlock()
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("event watcher: subscribe: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return w
}

// byType counts the distinct events by type.
func (w *eventWatcher) byType() map[string]float64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]float64{}
	for _, ev := range w.events {
		out[ev.Type]++
	}
	return out
}

// webhookReceiver records the alerts POSTed to it.
type webhookReceiver struct {
	mu     sync.Mutex
	alerts []*telemetry.Alert
}

func (r *webhookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	a, err := telemetry.DecodeAlert(b)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.alerts = append(r.alerts, a)
	r.mu.Unlock()
}

func (r *webhookReceiver) got() []*telemetry.Alert {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*telemetry.Alert(nil), r.alerts...)
}

// post sends a POST to url and fails t unless it succeeds.
func post(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Post(url, "", nil)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %s: %s", url, resp.Status, b)
	}
}

// TestEndToEnd runs the whole chain on real peers: ngic-edge on an
// emulated EM4100 reader and an emulated photo-eye publishes to mosquitto;
// ngic-controller run ingests the events, polls an OLT and a CMTS served
// by the project's simulator from real recordings, and writes everything
// to influxd. A query of influxd shows the events the edge published (each
// once), the interface rates and the access figures; a door held open and
// a device that goes down and comes back each raise one alert and resolve
// it, on MQTT and on a webhook that was down for the first 30 s.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole system for a minute; not in -short")
	}
	t.Parallel()
	mosq := testenv.StartMosquittoPersistent(t)
	influxd := testenv.StartInfluxd(t)
	influxd.CreateDatabase(t, "ngic")
	sim, simAddr := simulatortest.Serve(t, "vsol_v1600d", "arris_c4-cmts")
	alertsSeen := watchAlerts(t, mosq.Addr)
	published := watchEvents(t, mosq.Addr)
	edgeBin := buildEdgeBinary(t)

	// The webhook receiver's port is reserved now and served 30 s later.
	hookLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hookAddr := hookLn.Addr().String()
	hookLn.Close()
	hook := &webhookReceiver{}
	started := time.Now()

	dir := t.TempDir()
	inv := filepath.Join(dir, "inventory")
	os.Mkdir(inv, 0o755)
	writeFile(t, inv, "devices.csv", fmt.Sprintf("id,site,address,credentials,parent\n"+
		"olt-1,exchange,%s,community:vsol_v1600d,\ncmts-1,exchange,%s,community:arris_c4-cmts,\n", simAddr, simAddr))
	writeFile(t, inv, "gateways.csv", "gateway,site\ngw-e2e,cabinet-7\n")
	httpAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cfg := writeFile(t, dir, "controller.yaml", fmt.Sprintf(`inventory: inventory
poll:
  interval: 1s
  timeout: 300ms
  retries: 0
mqtt:
  broker: tcp://%s
  client_id: ngic-controller-e2e
influxdb:
  url: %s
  bucket: ngic/autogen
http:
  listen: %s
alerts:
  rules:
    - {name: down, kind: device-down, after: 2s}
    - {name: door, kind: door-held}
  webhooks:
    - {url: "http://%s/hook"}
state_dir: %s
`, mosq.Addr, influxd.URL, httpAddr, hookAddr, filepath.Join(dir, "state")))
	c := startController(t, cfg, httpAddr)

	// The edge: an EM4100 reader on a pseudo-terminal, a photo-eye on a
	// lab pin driven over its loopback control.
	proto, _ := rfid.Lookup("em4100")
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
	labAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	edgeConf := writeFile(t, dir, "edge.yaml", fmt.Sprintf(`gateway: gw-e2e
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
health:
  interval: 5s
http:
  listen: off
`, filepath.Join(dir, "spool.db"), mosq.Addr, pty.Path))
	edge := exec.Command(edgeBin, "run", "--config", edgeConf, "--lab-control", labAddr)
	edgeLog, _ := os.Create(filepath.Join(dir, "edge.log"))
	edge.Stdout, edge.Stderr = edgeLog, edgeLog
	if err := edge.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		edge.Process.Signal(os.Interrupt)
		edge.Wait()
		edgeLog.Close()
		if t.Failed() {
			b, _ := os.ReadFile(edgeLog.Name())
			t.Logf("edge log:\n%s", b)
		}
	})
	waitUntil(t, "the lab control", func() bool {
		resp, err := http.Get("http://" + labAddr + "/pins")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	})
	waitUntil(t, "both devices up, the gateway online", func() bool {
		h, err := c.health()
		if err != nil {
			return false
		}
		gws, _ := h["gateways"].(map[string]any)
		return c.devicesIn(t, "up") == 2 && gws["online"] == float64(1)
	})

	// Three tags come and go; the door is held open, then closed.
	for i := 0; i < 3; i++ {
		if err := reader.SetTags([][]byte{{0x10, 0, 0, 0, byte(i + 1)}}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(400 * time.Millisecond) // a tag in the field for a while
		reader.SetTags(nil)
		time.Sleep(500 * time.Millisecond) // departs after 300 ms
	}
	post(t, "http://"+labAddr+"/pins/door?level=low")
	waitUntil(t, "the door alert raised", func() bool {
		return len(alertsSeen.states("door-held", "gw-e2e")) >= 1
	})
	post(t, "http://"+labAddr+"/pins/door?level=high")
	waitUntil(t, "the door alert resolved", func() bool {
		s := alertsSeen.states("door-held", "gw-e2e")
		return len(s) >= 2 && s[len(s)-1] == telemetry.AlertResolved
	})

	// The CMTS goes down and comes back.
	if err := sim.SetDown("arris_c4-cmts", true); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the device-down alert raised", func() bool {
		return len(alertsSeen.states("device-down", "cmts-1")) >= 1
	})
	if err := sim.SetDown("arris_c4-cmts", false); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the device-down alert resolved", func() bool {
		s := alertsSeen.states("device-down", "cmts-1")
		return len(s) >= 2 && s[len(s)-1] == telemetry.AlertResolved
	})
	for _, k := range [][2]string{{"door-held", "gw-e2e"}, {"device-down", "cmts-1"}} {
		if s := alertsSeen.states(k[0], k[1]); len(s) != 2 || s[0] != telemetry.AlertFiring {
			t.Errorf("%s of %s went through %v, want firing then resolved, once", k[0], k[1], s)
		}
	}
	if s := alertsSeen.states("device-down", "olt-1"); len(s) != 0 {
		t.Errorf("the OLT, never down, had alerts %v", s)
	}

	// The webhook comes up 30 s after the start and gets every alert.
	time.Sleep(time.Until(started.Add(30 * time.Second)))
	ln, err := net.Listen("tcp", hookAddr)
	if err != nil {
		t.Fatalf("webhook port taken meanwhile: %v", err)
	}
	srv := &http.Server{Handler: hook}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	want := alertsSeen.all()
	waitUntil(t, "every alert at the webhook", func() bool { return len(hook.got()) >= len(want) })
	got := hook.got()
	if len(got) != len(want) {
		t.Fatalf("webhook got %d alerts, MQTT %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID || got[i].State != want[i].State {
			t.Fatalf("webhook alert %d: %s %s, want %s %s (in MQTT order)", i, got[i].ID, got[i].State, want[i].ID, want[i].State)
		}
	}

	// InfluxDB holds each event the edge published once, the interface
	// rates of both devices and the access figures.
	var h map[string]any
	var events float64
	var rows []testenv.Row
	deadline := time.Now().Add(time.Minute)
	for {
		h, _ = c.health()
		ing, _ := h["ingest"].(map[string]any)
		events, _ = ing["events"].(float64)
		rows, err = influxd.TryQuery("ngic", `SELECT count(seq) FROM edge_event WHERE gateway = 'gw-e2e'`)
		if err == nil && events >= 9 && len(rows) == 1 && num(rows[0].Values["count"]) == events {
			break
		}
		if time.Now().After(deadline) {
			b, _ := json.Marshal(h)
			t.Fatalf("events: ingest counted %v, influxd holds %+v (err %v)\nhealthz %s", events, rows, err, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	rows = influxd.Query(t, "ngic", `SELECT count(seq) FROM edge_event WHERE gateway = 'gw-e2e' GROUP BY "type"`)
	byType := map[string]float64{}
	for _, r := range rows {
		byType[r.Tags["type"]] = num(r.Values["count"])
	}
	// What influxd holds is what the edge published, each once: three
	// tags at least (a reader that stalls past the departure time under
	// load makes a tag leave and come back), each departed, one door held.
	pub := published.byType()
	if fmt.Sprint(byType) != fmt.Sprint(pub) || pub[telemetry.TagArrived] < 3 ||
		pub[telemetry.TagDeparted] != pub[telemetry.TagArrived] || pub[telemetry.BeamHeld] != 1 ||
		pub[telemetry.BeamBlocked] != 1 || pub[telemetry.BeamCleared] != 1 {
		t.Errorf("edge events in influxd by type: %v; the edge published %v", byType, pub)
	}
	for _, q := range []string{
		`SELECT count(in_bps) FROM interface WHERE device = 'olt-1'`,
		`SELECT count(in_bps) FROM interface WHERE device = 'cmts-1'`,
		`SELECT last(onts_online) FROM pon_port WHERE device = 'olt-1'`,
		`SELECT count(snr_db) FROM cable_channel WHERE device = 'cmts-1'`,
		`SELECT last(uptime_s) FROM gateway_health WHERE gateway = 'gw-e2e'`,
	} {
		if rows := influxd.Query(t, "ngic", q); len(rows) != 1 {
			t.Errorf("%s: %+v", q, rows)
		}
	}
	if b, _ := json.Marshal(h); t.Failed() {
		t.Logf("healthz: %s", b)
	}
	c.stop(t)
}

// num reads a number of an influxd row (json.Number), -1 when it is none.
func num(v any) float64 {
	n, ok := v.(json.Number)
	if !ok {
		return -1
	}
	f, err := n.Float64()
	if err != nil {
		return -1
	}
	return f
}
