package alerts

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// runEngine runs e until the test ends or stop is called; stop returns
// Run's error.
func runEngine(t *testing.T, e *Engine) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			err = <-done
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

// receiver is a webhook receiver that can be told to refuse.
type receiver struct {
	mu       sync.Mutex
	status   func(a *telemetry.Alert) int
	got      []telemetry.Alert
	attempts int
	auth     string
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	a, err := telemetry.DecodeAlert(b)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts++
	r.auth = req.Header.Get("Authorization")
	code := http.StatusOK
	switch {
	case err != nil || req.Header.Get("Content-Type") != "application/json":
		code = http.StatusUnsupportedMediaType
	case r.status != nil:
		code = r.status(a)
	}
	if code/100 == 2 {
		r.got = append(r.got, *a)
	}
	w.WriteHeader(code)
}

func (r *receiver) received() []telemetry.Alert {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]telemetry.Alert(nil), r.got...)
}

func (r *receiver) setStatus(f func(a *telemetry.Alert) int) {
	r.mu.Lock()
	r.status = f
	r.mu.Unlock()
}

func dev(i int) Subject { return Subject{Type: SubjectDevice, ID: fmt.Sprintf("dev-%02d", i)} }

// TestWebhookDownThenUp: a receiver refusing connections, then answering
// 503, then 200, gets every alert, in order, none twice; the queue on disk
// keeps them across a restart of the engine.
func TestWebhookDownThenUp(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cfg := Config{
		Rules:    []Rule{{Name: "down", Kind: KindDeviceDown}},
		Webhooks: []Webhook{{URL: "http://" + addr + "/hook", Timeout: 2 * time.Second}},
	}
	cfg.Webhooks[0].token = "tok"
	dir := t.TempDir()
	o := Options{QueueDir: dir, StatePath: dir + "/alerts.json", RetryMin: 2 * time.Millisecond, RetryMax: 20 * time.Millisecond, Tick: 10 * time.Millisecond}
	e1, _ := newTestEngine(t, cfg, o)
	stop := runEngine(t, e1)
	var want []string
	for i := 0; i < 10; i++ {
		e1.Signal(level(KindDeviceDown, dev(i), true, t0))
		want = append(want, dev(i).ID+" firing")
	}
	waitFor(t, "failed attempts", func() bool { return e1.sinks[0].errors.Load() >= 3 })
	// Restart the engine while the receiver is down: the queue is on disk.
	if err := stop(); err != context.Canceled {
		t.Fatalf("Run: %v", err)
	}
	if n := e1.sinks[0].sp.Stats().Records; n != 10 {
		t.Fatalf("%d queued, want 10", n)
	}
	e1.Close()

	e2, _ := newTestEngine(t, cfg, o)
	runEngine(t, e2)
	for i := 0; i < 5; i++ {
		e2.Signal(level(KindDeviceDown, dev(i), false, t0.Add(time.Minute)))
		want = append(want, dev(i).ID+" resolved")
	}
	for i := 10; i < 15; i++ {
		e2.Signal(level(KindDeviceDown, dev(i), true, t0.Add(time.Minute)))
		want = append(want, dev(i).ID+" firing")
	}
	// The receiver comes up answering 503 a few times, then 200.
	rcv := &receiver{}
	n503 := 0
	rcv.setStatus(func(*telemetry.Alert) int {
		if n503 < 5 {
			n503++
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("the port was taken meanwhile: %v", err)
	}
	srv := httptest.NewUnstartedServer(rcv)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	defer srv.Close()
	waitFor(t, "every alert", func() bool { return len(rcv.received()) >= len(want) })
	waitFor(t, "an empty queue", func() bool { return e2.sinks[0].sp.Stats().Records == 0 })
	var got []string
	for _, a := range rcv.received() {
		got = append(got, a.Subject.ID+" "+a.State)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("received\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if rcv.auth != "Bearer tok" {
		t.Fatalf("authorization %q", rcv.auth)
	}
	if v := metricValue(t, e2, "ngic_controller_alerts_delivered_total", "webhook[0] "+addr); v != float64(len(want)) {
		t.Fatalf("delivered_total %v", v)
	}
	if v := metricValue(t, e2, "ngic_controller_alerts_delivery_errors_total", "webhook[0] "+addr); v < 5 {
		t.Fatalf("delivery_errors_total %v", v)
	}
}

// TestWebhookRefused: a 400 sets the alert aside, counted, and the next
// ones go on; 429 and 408 are retried.
func TestWebhookRefused(t *testing.T) {
	rcv := &receiver{}
	retried := map[string]int{}
	rcv.status = func(a *telemetry.Alert) int {
		switch a.Subject.ID {
		case "dev-01":
			return http.StatusBadRequest
		case "dev-02", "dev-03":
			if retried[a.Subject.ID]++; retried[a.Subject.ID] < 3 {
				return map[string]int{"dev-02": http.StatusTooManyRequests, "dev-03": http.StatusRequestTimeout}[a.Subject.ID]
			}
		}
		return http.StatusNoContent
	}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	cfg := Config{Rules: []Rule{{Name: "down", Kind: KindDeviceDown}}, Webhooks: []Webhook{{URL: srv.URL}}}
	e, _ := newTestEngine(t, cfg, Options{QueueDir: t.TempDir(), RetryMin: time.Millisecond, RetryMax: 5 * time.Millisecond})
	runEngine(t, e)
	for i := 0; i < 5; i++ {
		e.Signal(level(KindDeviceDown, dev(i), true, t0))
	}
	waitFor(t, "four alerts", func() bool { return len(rcv.received()) == 4 && e.sinks[0].sp.Stats().Records == 0 })
	var got []string
	for _, a := range rcv.received() {
		got = append(got, a.Subject.ID)
	}
	if strings.Join(got, " ") != "dev-00 dev-02 dev-03 dev-04" {
		t.Fatalf("received %v", got)
	}
	if v := metricValue(t, e, "ngic_controller_alerts_refused_total", "webhook[0] "+srv.Listener.Addr().String()); v != 1 {
		t.Fatalf("refused_total %v", v)
	}
	if v := metricValue(t, e, "ngic_controller_alerts_firing", ""); v != 5 {
		t.Fatalf("firing %v", v)
	}
}

// metricValue returns the sum of the metric's samples whose labels hold
// label (all when label is empty).
func metricValue(t *testing.T, e *Engine, name, label string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(e.Collector()); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := label == ""
			for _, lp := range m.GetLabel() {
				match = match || lp.GetValue() == label
			}
			if !match {
				continue
			}
			if m.Counter != nil {
				sum += m.GetCounter().GetValue()
			} else {
				sum += m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

// pahoPublisher publishes with a paho client, as the controller's broker
// client will.
type pahoPublisher struct{ c mqtt.Client }

func (p pahoPublisher) Publish(ctx context.Context, topic string, payload []byte, retained bool) error {
	tok := p.c.Publish(topic, 1, retained, payload)
	select {
	case <-tok.Done():
		return tok.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}

func connectMQTT(t *testing.T, addr, id string, msgs chan mqtt.Message) mqtt.Client {
	t.Helper()
	o := mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(id).SetCleanSession(true).
		SetAutoReconnect(false).SetOrderMatters(true).SetConnectTimeout(10 * time.Second)
	if msgs != nil {
		o.SetDefaultPublishHandler(func(_ mqtt.Client, m mqtt.Message) { msgs <- m })
	}
	c := mqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect %s: %v", id, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	if msgs != nil {
		if tok := c.Subscribe(telemetry.AlertFilter, 1, nil); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("subscribe %s: %v", id, tok.Error())
		}
	}
	return c
}

// retainedAlerts subscribes a new client and returns the alerts the broker
// keeps retained: it publishes a marker after subscribing, so that every
// retained message has come when the marker does.
func retainedAlerts(t *testing.T, addr, id string) []telemetry.Alert {
	msgs := make(chan mqtt.Message, 100)
	c := connectMQTT(t, addr, id, msgs)
	marker := telemetry.AlertTopic("marker-" + id)
	if tok := c.Publish(marker, 1, false, []byte("x")); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	var out []telemetry.Alert
	for {
		select {
		case m := <-msgs:
			if m.Topic() == marker {
				return out
			}
			if !m.Retained() || len(m.Payload()) == 0 {
				continue
			}
			a, err := telemetry.DecodeAlert(m.Payload())
			if err != nil {
				t.Fatalf("retained %s: %v", m.Topic(), err)
			}
			out = append(out, *a)
		case <-time.After(20 * time.Second):
			t.Fatal("no marker")
		}
	}
}

// TestMQTTRetainedAlerts: against mosquitto, an open alert is retained on
// its topic for a late subscriber; once resolved, a live subscriber sees
// the resolved alert and the topic is cleared.
func TestMQTTRetainedAlerts(t *testing.T) {
	m := testenv.StartMosquitto(t)
	live := make(chan mqtt.Message, 100)
	connectMQTT(t, m.Addr, "live", live)
	pub := pahoPublisher{connectMQTT(t, m.Addr, "ngic-controller", nil)}
	cfg := Config{Rules: []Rule{{Name: "down", Kind: KindDeviceDown}}}
	e, clk := newTestEngine(t, cfg, Options{QueueDir: t.TempDir(), Publisher: pub, RetryMin: time.Millisecond, RetryMax: 10 * time.Millisecond})
	runEngine(t, e)
	e.Signal(level(KindDeviceDown, olt1, true, t0))
	e.Signal(level(KindDeviceDown, ont1, true, t0))
	waitFor(t, "two published", func() bool { return e.sinks[0].delivered.Load() == 2 })
	open := e.Open()
	got := retainedAlerts(t, m.Addr, "late-1")
	if len(got) != 2 || got[0].ID == got[1].ID {
		t.Fatalf("retained %+v", got)
	}
	for _, a := range got {
		if a.State != telemetry.AlertFiring || (a.ID != open[0].ID && a.ID != open[1].ID) {
			t.Fatalf("retained %+v, open %+v", a, open)
		}
	}
	clk.set(t0.Add(time.Minute))
	e.Signal(level(KindDeviceDown, olt1, false, clk.Now()))
	waitFor(t, "the resolve published", func() bool { return e.sinks[0].delivered.Load() == 3 })
	got = retainedAlerts(t, m.Addr, "late-2")
	if len(got) != 1 || got[0].Subject.ID != "ont-1" {
		t.Fatalf("retained after resolve %+v", got)
	}
	// The live subscriber saw: two firing, then the resolved alert, then
	// the empty message clearing its topic.
	var seq []string
	for len(seq) < 4 {
		select {
		case msg := <-live:
			if strings.Contains(msg.Topic(), "marker") {
				continue
			}
			if len(msg.Payload()) == 0 {
				seq = append(seq, "clear "+strings.TrimPrefix(msg.Topic(), "ngic/v1/alerts/"))
				continue
			}
			var a telemetry.Alert
			json.Unmarshal(msg.Payload(), &a)
			seq = append(seq, a.State+" "+a.ID)
		case <-time.After(20 * time.Second):
			t.Fatalf("live subscriber saw %v", seq)
		}
	}
	olt := open[0].ID
	if open[0].Subject.ID != "olt-1" {
		olt = open[1].ID
	}
	if seq[2] != "resolved "+olt || seq[3] != "clear "+olt {
		t.Fatalf("live subscriber saw %v", seq)
	}
}

// fakePublisher records publishes and fails the first few.
type fakePublisher struct {
	mu    sync.Mutex
	fail  int
	calls []string
}

func (p *fakePublisher) Publish(_ context.Context, topic string, payload []byte, retained bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail > 0 {
		p.fail--
		return fmt.Errorf("broker away")
	}
	what := "clear"
	if len(payload) > 0 {
		a, err := telemetry.DecodeAlert(payload)
		if err != nil {
			return err
		}
		what = a.State
	}
	p.calls = append(p.calls, fmt.Sprintf("%s %s retained=%v", strings.TrimPrefix(topic, "ngic/v1/alerts/"), what, retained))
	return nil
}

func (p *fakePublisher) published() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.calls...)
}

// TestMQTTRetried: while the broker is away, alerts wait on disk and are
// published in order once it is back.
func TestMQTTRetried(t *testing.T) {
	pub := &fakePublisher{fail: 4}
	cfg := Config{Rules: []Rule{{Name: "down", Kind: KindDeviceDown}}}
	e, _ := newTestEngine(t, cfg, Options{QueueDir: t.TempDir(), Publisher: pub, RetryMin: time.Millisecond, RetryMax: 4 * time.Millisecond})
	runEngine(t, e)
	e.Signal(level(KindDeviceDown, olt1, true, t0))
	id := e.Open()[0].ID
	e.Signal(level(KindDeviceDown, olt1, false, t0.Add(time.Minute)))
	waitFor(t, "both published", func() bool { return e.sinks[0].delivered.Load() == 2 })
	want := []string{id + " firing retained=true", id + " resolved retained=false", id + " clear retained=true"}
	if got := pub.published(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("published\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if v := metricValue(t, e, "ngic_controller_alerts_delivery_errors_total", "mqtt"); v != 4 {
		t.Fatalf("delivery_errors_total %v", v)
	}
}
