package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ngic/ngic/controller/ingest"
	"github.com/ngic/ngic/internal/mqttembed"
	"github.com/ngic/ngic/telemetry"
)

// startEmbedded starts the embedded broker on a free loopback port with
// h, and closes it when the test ends.
func startEmbedded(t testing.TB, addr string, h *RecordingHook) *mqttembed.Broker {
	t.Helper()
	b, err := mqttembed.Start(addr, slog.New(slog.DiscardHandler), h.Hook())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// TestHookRecordsBeforePuback: when a publisher holds the PUBACK of a
// gateway message, it is recorded; retained statuses are still retained
// and delivered; other topics are not recorded.
func TestHookRecordsBeforePuback(t *testing.T) {
	rec := newMemRecorder()
	h := NewRecordingHook(rec)
	b := startEmbedded(t, "127.0.0.1:0", h)
	pub := pahoClient(t, b.Addr(), "gw-test", nil)
	for i := range 20 {
		publish(t, pub, eventTopic, eventPayload(t, i), false)
		if !rec.has(eventID(i)) {
			t.Fatalf("event %d acknowledged before it was recorded", i)
		}
	}
	status := telemetry.StatusTopic(testGateway)
	publish(t, pub, status, []byte(`{"v":1,"state":"online"}`), true)
	if !rec.has(status + ` {"v":1,"state":"online"}`) {
		t.Fatal("retained status acknowledged before it was recorded")
	}
	publish(t, pub, "elsewhere/x", []byte("not ours"), false)
	if rec.has("elsewhere/x not ours") {
		t.Fatal("a message outside ngic/v1/gw/ was recorded")
	}
	readRetained(t, b.Addr(), status, `{"v":1,"state":"online"}`)
	if st := h.Stats(); st.Recorded != 21 || st.RecordErrors != 0 || st.Refused != 0 {
		t.Fatalf("stats %+v, want 21 recorded", st)
	}
}

// TestHookRecordFailureDisconnects: a publish that Record refuses gets no
// PUBACK, is neither delivered nor retained, and its client is
// disconnected; sent again once Record works, it is recorded.
func TestHookRecordFailureDisconnects(t *testing.T) {
	var broken atomic.Bool
	broken.Store(true)
	rec := newMemRecorder()
	rec.fail = func(int) error {
		if broken.Load() {
			return errors.New("disk full")
		}
		return nil
	}
	h := NewRecordingHook(rec)
	b := startEmbedded(t, "127.0.0.1:0", h)
	got := make(chan mqtt.Message, 10)
	watcher := pahoClient(t, b.Addr(), "watcher", func(_ mqtt.Client, m mqtt.Message) { got <- m })
	if tok := watcher.Subscribe(telemetry.Root+"/gw/#", 1, nil); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}

	lost := make(chan error, 1)
	o := mqtt.NewClientOptions().AddBroker("tcp://" + b.Addr()).SetClientID("gw-test").
		SetAutoReconnect(false).SetConnectionLostHandler(func(_ mqtt.Client, err error) { lost <- err })
	pub := mqtt.NewClient(o)
	if tok := pub.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	status := telemetry.StatusTopic(testGateway)
	tok := pub.Publish(status, 1, true, []byte("online"))
	select {
	case err := <-lost:
		t.Logf("publisher disconnected: %v", err)
	case <-time.After(wait):
		t.Fatal("the publisher was not disconnected after Record failed")
	}
	if tok.WaitTimeout(wait) && tok.Error() == nil {
		t.Fatal("the publish was acknowledged although Record failed")
	}
	if st := h.Stats(); st.Refused != 1 || st.RecordErrors != 1 {
		t.Fatalf("stats %+v, want 1 refused", st)
	}

	// Record works again: the publisher sends it again, and now it is
	// recorded and delivered, and it is the first the watcher sees.
	broken.Store(false)
	pub2 := pahoClient(t, b.Addr(), "gw-test", nil)
	publish(t, pub2, status, []byte("online"), true)
	if !rec.has(status + " online") {
		t.Fatal("not recorded after Record recovered")
	}
	select {
	case m := <-got:
		if string(m.Payload()) != "online" || rec.count() != 1 {
			t.Fatalf("watcher got %q first", m.Payload())
		}
	case <-time.After(wait):
		t.Fatal("watcher got nothing")
	}
	select {
	case m := <-got:
		t.Fatalf("watcher got a second message %q: the refused publish was delivered", m.Payload())
	default:
	}
}

// blockingRecorder holds its first Record call until release is closed.
type blockingRecorder struct {
	calls   atomic.Int32
	entered chan struct{}
	release chan struct{}
	mu      sync.Mutex
	sizes   []int
}

func (r *blockingRecorder) Record(batch []ingest.Message) error {
	if r.calls.Add(1) == 1 {
		close(r.entered)
		<-r.release
	}
	r.mu.Lock()
	r.sizes = append(r.sizes, len(batch))
	r.mu.Unlock()
	return nil
}

// TestHookGroupCommit: publishes of several gateways that arrive while a
// Record call runs share the next one.
func TestHookGroupCommit(t *testing.T) {
	const gateways = 12
	rec := &blockingRecorder{entered: make(chan struct{}), release: make(chan struct{})}
	h := NewRecordingHook(rec)
	b := startEmbedded(t, "127.0.0.1:0", h)
	first := pahoClient(t, b.Addr(), "gw-first", nil)
	firstTok := first.Publish(telemetry.EventTopic("gw-first", "r1"), 1, false, eventPayload(t, 0))
	<-rec.entered // the first Record call runs and holds
	var toks []mqtt.Token
	for g := range gateways {
		c := pahoClient(t, b.Addr(), fmt.Sprintf("gw-%d", g), nil)
		toks = append(toks, c.Publish(telemetry.EventTopic(fmt.Sprintf("gw-%d", g), "r1"), 1, false, eventPayload(t, g+1)))
	}
	waitFor(t, "every gateway's publish waiting", func() bool { return len(h.reqs) == gateways })
	close(rec.release)
	for _, tok := range append(toks, firstTok) {
		if !tok.WaitTimeout(wait) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.sizes) != 2 || rec.sizes[0] != 1 || rec.sizes[1] != gateways {
		t.Fatalf("Record calls of sizes %v, want [1 %d]", rec.sizes, gateways)
	}
	if st := h.Stats(); st.Batches != 2 || st.Recorded != gateways+1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestHookRecordsWill: a gateway's last will is recorded before it is
// published.
func TestHookRecordsWill(t *testing.T) {
	rec := newMemRecorder()
	b := startEmbedded(t, "127.0.0.1:0", NewRecordingHook(rec))
	status := telemetry.StatusTopic(testGateway)
	// The gateway vanishes without a DISCONNECT: its connection closes
	// under it, the broker's read fails and it publishes the will. (Stopping
	// the client on the broker's side instead races with mochi's read loop,
	// which ends without a will when it starts on a stopped client.)
	var conn net.Conn
	o := mqtt.NewClientOptions().AddBroker("tcp://"+b.Addr()).SetClientID("gw-test").
		SetAutoReconnect(false).SetWill(status, "offline", 1, true).
		SetCustomOpenConnectionFn(func(u *url.URL, _ mqtt.ClientOptions) (net.Conn, error) {
			c, err := net.Dial("tcp", u.Host)
			conn = c
			return c, err
		})
	c := mqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	conn.Close()
	waitFor(t, "the will recorded", func() bool { return rec.has(status + " offline") })
	// mochi retains the will after the hook recorded it: a reader that
	// subscribed in between would get it live, not retained.
	waitFor(t, "the will retained", func() bool { return len(b.Server().Topics.Messages(status)) == 1 })
	readRetained(t, b.Addr(), status, "offline")
	c.Disconnect(0)
}

// TestEmbeddedPublishRetained: an alert published retained through the
// embedded broker's inline client is read back by a client that
// subscribes afterwards; it is not recorded (not a gateway topic).
func TestEmbeddedPublishRetained(t *testing.T) {
	rec := newMemRecorder()
	h := NewRecordingHook(rec)
	b := startEmbedded(t, "127.0.0.1:0", h)
	p := EmbeddedPublisher(b)
	topic := telemetry.AlertTopic("a1")
	if err := p.Publish(context.Background(), topic, []byte(`{"state":"firing"}`), true); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Publish(ctx, topic, nil, true); !errors.Is(err, context.Canceled) {
		t.Fatalf("publish with an ended context: %v", err)
	}
	readRetained(t, b.Addr(), topic, `{"state":"firing"}`)
	if rec.count() != 0 {
		t.Fatal("the alert was recorded")
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(h.Collector())
	if mfs, err := reg.Gather(); err != nil || len(mfs) != len(hookMetrics) {
		t.Fatalf("%d metrics (%v), want %d", len(mfs), err, len(hookMetrics))
	}
}
