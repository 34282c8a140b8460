package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// connectMQTT connects a plain client to the broker at addr.
func connectMQTT(t *testing.T, addr, clientID string) mqtt.Client {
	t.Helper()
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(clientID))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect %s: %v", clientID, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

func publish(t *testing.T, c mqtt.Client, topic string, payload []byte) {
	t.Helper()
	if tok := c.Publish(topic, 1, false, payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// refused returns /healthz's refused counts.
func (p *controllerProc) refused() map[string]float64 {
	h, err := p.health()
	if err != nil {
		return nil
	}
	ing, _ := h["ingest"].(map[string]any)
	r, _ := ing["refused"].(map[string]any)
	out := map[string]float64{}
	for k, v := range r {
		out[k], _ = v.(float64)
	}
	return out
}

// startEmbedded starts a controller with its embedded broker and one
// gateway, gw-k, and connects a client to the broker as clientID. It
// returns the controller, the client and the controller's HTTP address.
func startEmbedded(t *testing.T, clientID string) (*controllerProc, mqtt.Client, string) {
	httpAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	brokerAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cfg := killConfigIn(t, t.TempDir(), "  embedded: true\n  listen: "+brokerAddr, "", httpAddr)
	return startController(t, cfg, httpAddr), connectMQTT(t, brokerAddr, clientID), httpAddr
}

// duplicates returns /healthz's count of duplicate events.
func (p *controllerProc) duplicates() float64 {
	h, _ := p.health()
	ing, _ := h["ingest"].(map[string]any)
	d, _ := ing["duplicates"].(float64)
	return d
}

// TestHostilePayloadsAndReplay: the embedded broker's controller gets
// bad JSON, a wrong schema version, a huge payload, a gateway not in the
// inventory, a payload naming another gateway than its topic and a topic
// outside the schema, on every subscribed topic: each is counted, the log
// says so, and the controller goes on. Then a gateway's whole history is
// published again (the edge's replay after a broker outage): no count
// changes.
func TestHostilePayloadsAndReplay(t *testing.T) {
	t.Parallel()
	c, cl, httpAddr := startEmbedded(t, "hostile")

	good := eventPayload(t, "gw-k", 1)
	huge := bytes.Repeat([]byte("x"), 100<<10)
	wrongV := bytes.Replace(good, []byte(`"v":1`), []byte(`"v":9`), 1)
	for _, kind := range []string{"status", "health", "event/gate"} {
		topic := telemetry.Root + "/gw/gw-k/" + kind
		for _, p := range [][]byte{[]byte("{not json"), wrongV, huge, []byte(`[]`), {}, []byte("\xff\xfe"), []byte(`{"v":1}`)} {
			publish(t, cl, topic, p)
		}
	}
	publish(t, cl, telemetry.EventTopic("gw-stranger", "gate"), eventPayload(t, "gw-stranger", 1))
	publish(t, cl, telemetry.EventTopic("gw-k", "gate"), eventPayload(t, "gw-other", 1))
	publish(t, cl, telemetry.Root+"/gw/gw-k/event/gate/extra", good)
	publish(t, cl, telemetry.Root+"/gw/gw-k/nonsense", good)
	waitUntil(t, "every hostile payload counted", func() bool {
		var n float64
		for _, v := range c.refused() {
			n += v
		}
		return n >= 3*7+4
	})
	r := c.refused()
	for _, reason := range []string{"json", "version", "too-large", "unknown-gateway", "topic", "mismatch", "invalid"} {
		found := false
		for k := range r {
			found = found || strings.Contains(k, reason)
		}
		if !found {
			t.Errorf("no refusal counted as %q: %v", reason, r)
		}
	}

	// The controller goes on: real events are counted, then a replay of
	// all of them counts nothing twice.
	for seq := uint64(1); seq <= 50; seq++ {
		publish(t, cl, telemetry.EventTopic("gw-k", "gate"), eventPayload(t, "gw-k", seq))
	}
	waitUntil(t, "50 events", func() bool { n, _ := c.ingested(); return n == 50 })
	for seq := uint64(1); seq <= 50; seq++ {
		publish(t, cl, telemetry.EventTopic("gw-k", "gate"), eventPayload(t, "gw-k", seq))
	}
	waitUntil(t, "the replay seen", func() bool { return c.duplicates() == 50 })
	if n, missing := c.ingested(); n != 50 || missing != 0 {
		t.Fatalf("after the replay %v events, %v missing; want 50, 0", n, missing)
	}
	waitUntil(t, "the refusals logged", func() bool { return strings.Contains(c.Log(), "payloads refused") })
	resp, err := http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(b, []byte("ngic_controller_ingest_")) {
		t.Fatal("no ingest metrics on /metrics")
	}
	c.stop(t)
}

// TestDamagedStateMovedAside: a state file the controller cannot read (a
// torn disk, a hand edit) is moved aside with an error in the log naming
// what it costs, and the controller starts afresh rather than not at all.
func TestDamagedStateMovedAside(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	httpAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	brokerAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cfg := killConfigIn(t, dir, "  embedded: true\n  listen: "+brokerAddr, "", httpAddr)
	state := filepath.Join(dir, "state")
	os.MkdirAll(state, 0o750)
	for _, f := range []string{"ingest.db", "alerts.json", "devices.snapshot"} {
		writeFile(t, state, f, "not what it should be")
	}
	c := startController(t, cfg, httpAddr)
	for _, f := range []string{"ingest.db", "alerts.json", "devices.snapshot"} {
		m, _ := filepath.Glob(filepath.Join(state, f+".damaged-*"))
		if len(m) != 1 {
			t.Errorf("%s not moved aside: %v", f, m)
		}
	}
	if n := strings.Count(c.Log(), "state file unreadable: moved aside"); n != 3 {
		t.Errorf("%d state files reported moved aside, want 3", n)
	}
	cl := connectMQTT(t, brokerAddr, "after-damage")
	publish(t, cl, telemetry.EventTopic("gw-k", "gate"), eventPayload(t, "gw-k", 1))
	waitUntil(t, "an event counted", func() bool { n, _ := c.ingested(); return n == 1 })
	c.stop(t)
}

// TestHostileBatches: event batches built to hurt (nesting 30,000 deep,
// 1,025 elements, an array of arrays, seqs going back, an element of
// another gateway, an element of the wrong shape) are refused with their
// reason, each bad element on its own and a bad framing whole, and every
// good event around them and beside them in their batches is recorded;
// the good batches published again count nothing twice.
func TestHostileBatches(t *testing.T) {
	t.Parallel()
	c, cl, _ := startEmbedded(t, "hostile-batches")
	topic := telemetry.EventTopic("gw-k", "gate")
	batch := func(payloads ...[]byte) []byte {
		var b []byte
		for _, p := range payloads {
			b = telemetry.AppendToBatch(b, p)
		}
		return b
	}
	seqs := func(from, to uint64) [][]byte {
		var ps [][]byte
		for s := from; s <= to; s++ {
			ps = append(ps, eventPayload(t, "gw-k", s))
		}
		return ps
	}
	deep := strings.Repeat("[", 30_000) + strings.Repeat("]", 30_000)
	var small [][]byte
	for range telemetry.MaxBatchEvents + 1 {
		small = append(small, []byte(`{"seq":1}`))
	}
	good := [][]byte{batch(seqs(1, 10)...), batch(seqs(11, 18)...)}
	for _, p := range [][]byte{
		good[0],
		[]byte(deep),                   // json: element 0 is not an object
		[]byte(`[{"x":` + deep + `}]`), // json: nested deeper than encoding/json reads
		batch(small...),                // json: more than 1024 elements
		append(append([]byte(`[`), good[0]...), ']'), // json: an array of arrays
		good[1],
		batch(append(seqs(19, 19), append(seqs(5, 5), seqs(20, 20)...)...)...),                       // invalid: seq 5 after 19
		batch(append(seqs(21, 22), eventPayload(t, "gw-other", 23))...),                              // mismatch: the third
		batch(eventPayload(t, "gw-k", 23), []byte(`{"seq":"x","v":1}`), eventPayload(t, "gw-k", 24)), // json: the second
	} {
		publish(t, cl, topic, p)
	}
	want := map[string]float64{"json": 5, "invalid": 1, "mismatch": 1}
	waitUntil(t, "every good event recorded and every bad one refused", func() bool {
		n, missing := c.ingested()
		return n == 24 && missing == 0 && fmt.Sprint(c.refused()) == fmt.Sprint(want)
	})
	waitUntil(t, "the refused elements logged by name", func() bool {
		return strings.Contains(c.Log(), "batch element 1 (seq 5)") && strings.Contains(c.Log(), "telemetry: event batch")
	})

	for _, p := range good {
		publish(t, cl, topic, p)
	}
	waitUntil(t, "the good batches seen again", func() bool { return c.duplicates() == 18 })
	if n, missing := c.ingested(); n != 24 || missing != 0 || fmt.Sprint(c.refused()) != fmt.Sprint(want) {
		t.Fatalf("after the replay: %v events, %v missing, refused %v", n, missing, c.refused())
	}
	c.stop(t)
}
