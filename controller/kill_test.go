package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// gatewayPublisher plays an edge gateway: events are made at a steady
// rate whatever happens to the broker, and each is published (QoS 1) until
// the broker acknowledges it, as the edge's spool does.
type gatewayPublisher struct {
	gateway string
	rate    int // events per second
	made    atomic.Uint64
	acked   atomic.Uint64
	stop    chan struct{}
	done    chan struct{}
}

func startPublisher(t *testing.T, broker, gateway string, rate int) *gatewayPublisher {
	t.Helper()
	p := &gatewayPublisher{gateway: gateway, rate: rate, stop: make(chan struct{}), done: make(chan struct{})}
	o := mqtt.NewClientOptions().AddBroker("tcp://" + broker).SetClientID("edge-" + gateway).
		// A clean session, as the edge's publisher: the loop below sends
		// again what was not acknowledged (paho's own resume of its store
		// races with its writer on a reconnect).
		SetCleanSession(true).SetAutoReconnect(true).SetConnectRetry(true).
		SetConnectRetryInterval(100 * time.Millisecond).SetMaxReconnectInterval(200 * time.Millisecond)
	c := mqtt.NewClient(o)
	c.Connect()
	start := time.Now()
	go func() {
		defer close(p.done)
		defer c.Disconnect(100)
		for seq := uint64(1); ; seq++ {
			// Make events at the rate, whether or not they can be sent.
			for {
				due := uint64(time.Since(start).Seconds()*float64(rate)) + 1
				if due >= seq {
					break
				}
				select {
				case <-p.stop:
					return
				case <-time.After(time.Second / time.Duration(rate)):
				}
			}
			// Behind the rate the loop above never waits: stop here too.
			select {
			case <-p.stop:
				return
			default:
			}
			p.made.Store(seq)
			payload := eventPayload(t, gateway, seq)
			for {
				tok := c.Publish(telemetry.EventTopic(gateway, "gate"), 1, false, payload)
				if tok.WaitTimeout(2*time.Second) && tok.Error() == nil {
					break
				}
				select {
				case <-p.stop:
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
			p.acked.Store(seq)
		}
	}()
	t.Cleanup(p.halt)
	return p
}

// halt stops making events; those made and not yet acknowledged are
// abandoned (the test compares with Acked).
func (p *gatewayPublisher) halt() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	<-p.done
}

// eventPayload is the published payload of the gateway's event seq.
func eventPayload(t testing.TB, gateway string, seq uint64) []byte {
	now := time.Now().UTC()
	ev := &telemetry.Event{V: telemetry.SchemaVersion, ID: fmt.Sprintf("%s-%08d", gateway, seq), Gateway: gateway,
		Source: "gate", Type: telemetry.TagArrived, Time: now,
		Tag: &telemetry.Tag{ID: fmt.Sprintf("%010X", seq), Protocol: "em4100", FirstSeen: now, LastSeen: now}}
	b, err := telemetry.EncodeEvent(ev)
	if err != nil {
		t.Error(err)
		return nil
	}
	out, err := telemetry.WithSeq(nil, b, seq)
	if err != nil {
		t.Error(err)
	}
	return out
}

// ingested returns the events the controller counted for gateway, its
// duplicates and the seqs it misses, from /healthz (-1 when it does not
// answer).
func (p *controllerProc) ingested() (events, missing float64) {
	h, err := p.health()
	if err != nil {
		return -1, -1
	}
	ing, _ := h["ingest"].(map[string]any)
	events, _ = ing["events"].(float64)
	missing, _ = ing["missing"].(float64)
	return events, missing
}

// killConfig writes the configuration of a kill test: no device, one
// gateway, the given mqtt section, InfluxDB.
func killConfig(t *testing.T, mqttSection, influxURL, httpAddr string) string {
	return killConfigIn(t, t.TempDir(), mqttSection, influxURL, httpAddr)
}

// killConfigIn is killConfig in dir; without influxURL, no InfluxDB.
func killConfigIn(t testing.TB, dir, mqttSection, influxURL, httpAddr string) string {
	influx := ""
	if influxURL != "" {
		influx = fmt.Sprintf("influxdb:\n  url: %s\n  bucket: ngic/autogen\n", influxURL)
	}
	inv := filepath.Join(dir, "inventory")
	os.Mkdir(inv, 0o755)
	writeFile(t, inv, "devices.csv", "id,site,address,credentials,parent\n")
	writeFile(t, inv, "gateways.csv", "gateway,site\ngw-k,cabinet-1\n")
	return writeFile(t, dir, "controller.yaml", fmt.Sprintf(`inventory: inventory
mqtt:
%s
%shttp:
  listen: %s
state_dir: %s
`, mqttSection, influx, httpAddr, filepath.Join(dir, "state")))
}

// killAndCheck kills the controller with SIGKILL five times at random
// moments while events flow at 100/s, runs outage (with the controller
// up) if not nil, keeps the controller down for down, and checks at the end
// that every event the gateway got acknowledged is counted exactly once
// by the controller and is in influxd once.
func killAndCheck(t *testing.T, cfg, httpAddr, broker string, influxd *testenv.Influxd, outage func(), down time.Duration) {
	rng := rand.New(rand.NewPCG(7, uint64(time.Now().UnixNano())))
	c := startController(t, cfg, httpAddr)
	pub := startPublisher(t, broker, "gw-k", 100)
	for i := 0; i < 5; i++ {
		time.Sleep(time.Duration(500+rng.IntN(2500)) * time.Millisecond)
		c.cmd.Process.Signal(syscall.SIGKILL)
		<-c.done
		c = startController(t, cfg, httpAddr)
	}
	if outage != nil {
		outage()
	}
	time.Sleep(time.Second)
	c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
	time.Sleep(down) // events go on being made meanwhile
	c = startController(t, cfg, httpAddr)
	time.Sleep(2 * time.Second)
	pub.halt()
	acked := float64(pub.acked.Load())
	t.Logf("events made %d, acknowledged by the broker %.0f", pub.made.Load(), acked)
	waitUntil(t, "every acknowledged event counted", func() bool {
		n, _ := c.ingested()
		return n >= acked
	})
	n, missing := c.ingested()
	// Events made but not acknowledged when the publisher stopped may
	// have reached the controller too (one at most is in flight).
	if n != acked && n != acked+1 || missing != 0 {
		t.Fatalf("controller counted %.0f events, missing %.0f; the broker acknowledged %.0f", n, missing, acked)
	}
	waitUntil(t, "every event in influxd", func() bool {
		rows, err := influxd.TryQuery("ngic", `SELECT count(seq) FROM edge_event WHERE gateway = 'gw-k'`)
		return err == nil && len(rows) == 1 && num(rows[0].Values["count"]) == n
	})
	rows := influxd.Query(t, "ngic", `SELECT count(seq), min(seq), max(seq) FROM edge_event WHERE gateway = 'gw-k'`)
	if num(rows[0].Values["min"]) != 1 || num(rows[0].Values["max"]) != n {
		t.Fatalf("influxd: %+v, want seqs 1..%.0f", rows[0].Values, n)
	}
	c.stop(t)
}

// TestKillControllerMosquitto: with mosquitto, the controller killed five
// times while 100 events/s flow, influxd stopped for 60 s meanwhile, then
// the controller kept down for 2 minutes: every event counted once, every
// point in influxd once.
func TestKillControllerMosquitto(t *testing.T) {
	if testing.Short() {
		t.Skip("four minutes of kills and outages; not in -short")
	}
	t.Parallel()
	mosq := testenv.StartMosquittoPersistent(t)
	influxd := testenv.StartInfluxd(t)
	influxd.CreateDatabase(t, "ngic")
	httpAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cfg := killConfig(t, fmt.Sprintf("  broker: tcp://%s\n  client_id: ngic-controller-k", mosq.Addr), influxd.URL, httpAddr)
	killAndCheck(t, cfg, httpAddr, mosq.Addr, influxd, func() {
		influxd.Stop()
		time.Sleep(60 * time.Second)
		influxd.Restart(t)
	}, 2*time.Minute)
}

// TestKillControllerEmbedded: the same with the embedded broker, which
// dies with the controller: what it acknowledged was recorded first.
func TestKillControllerEmbedded(t *testing.T) {
	if testing.Short() {
		t.Skip("three minutes of kills and outages; not in -short")
	}
	t.Parallel()
	influxd := testenv.StartInfluxd(t)
	influxd.CreateDatabase(t, "ngic")
	httpAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	brokerAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cfg := killConfig(t, "  embedded: true\n  listen: "+brokerAddr, influxd.URL, httpAddr)
	killAndCheck(t, cfg, httpAddr, brokerAddr, influxd, nil, 2*time.Minute)
}

// fillDisk writes a file in dir until the disk is full and returns its
// path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "filler")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	f.Sync()
	return p
}

// TestFullDiskController: the disk of the controller's state fills while
// events flow into the embedded broker. What cannot be recorded is not
// acknowledged (the gateway keeps it and sends it again), the controller
// stays up and says why, and once there is room again every event the
// gateway got acknowledged is counted exactly once.
func TestFullDiskController(t *testing.T) {
	t.Parallel()
	disk := testenv.SmallDisk(t, "16m")
	httpAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	brokerAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cfg := killConfigIn(t, disk, "  embedded: true\n  listen: "+brokerAddr, "", httpAddr)
	c := startController(t, cfg, httpAddr)
	pub := startPublisher(t, brokerAddr, "gw-k", 100)
	waitUntil(t, "events flowing", func() bool { n, _ := c.ingested(); return n >= 50 })
	filler := fillDisk(t, disk)
	waitUntil(t, "the full disk noticed", func() bool {
		h, err := c.health()
		if err != nil {
			return false
		}
		ing, _ := h["ingest"].(map[string]any)
		e, _ := ing["last_error"].(string)
		return e != ""
	})
	// (bbolt may still record a few in the free pages of its file: those
	// are acknowledged, and recorded.)
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	full := pub.acked.Load()
	waitUntil(t, "events acknowledged again", func() bool { return pub.acked.Load() > full+100 })
	pub.halt()
	acked := float64(pub.acked.Load())
	waitUntil(t, "every acknowledged event counted", func() bool { n, _ := c.ingested(); return n >= acked })
	if n, missing := c.ingested(); (n != acked && n != acked+1) || missing != 0 {
		t.Fatalf("controller counted %.0f events, missing %.0f; the broker acknowledged %.0f", n, missing, acked)
	}
	c.stop(t)
}
