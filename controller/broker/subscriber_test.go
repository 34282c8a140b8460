package broker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ngic/ngic/controller/ingest"
	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

func TestOptionsCheck(t *testing.T) {
	rec := newMemRecorder()
	for _, tc := range []struct {
		name string
		o    Options
		want string // "" when valid
	}{
		{"valid", Options{Broker: "tcp://127.0.0.1:1883", ClientID: "c", Recorder: rec}, ""},
		{"no broker", Options{ClientID: "c", Recorder: rec}, "broker URL and client ID are required"},
		{"no client ID", Options{Broker: "tcp://127.0.0.1:1883", Recorder: rec}, "broker URL and client ID are required"},
		{"credentials in URL", Options{Broker: "tcp://u:secret@127.0.0.1:1883", ClientID: "c", Recorder: rec}, "carries credentials"},
		{"TLS on plaintext", Options{Broker: "tcp://127.0.0.1:1883", ClientID: "c", Recorder: rec, TLS: tlsConfig()}, "plaintext"},
		{"no recorder", Options{Broker: "tcp://127.0.0.1:1883", ClientID: "c"}, "no recorder"},
		{"batch too big", Options{Broker: "tcp://127.0.0.1:1883", ClientID: "c", Recorder: rec, MaxBatch: 70000}, "max batch 70000"},
		{"negative batch", Options{Broker: "tcp://127.0.0.1:1883", ClientID: "c", Recorder: rec, MaxBatch: -1}, "max batch -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			err := o.check()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("check: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("check: %v, want an error holding %q", err, tc.want)
			case err != nil && strings.Contains(err.Error(), "secret"):
				t.Fatalf("error %q shows the password", err)
			case err == nil && (o.MaxBatch != DefaultMaxBatch || o.MaxDelay != DefaultMaxDelay):
				t.Fatalf("defaults not set: %+v", o)
			}
		})
	}
}

// TestReporter: each change is told once; a cause repeated while
// disconnected is not; Close's clean disconnect only after a connection.
func TestReporter(t *testing.T) {
	var got []string
	r := reporter{on: func(c bool, err error) { got = append(got, fmt.Sprint(c, " ", err)) }}
	refused := errors.New("refused")
	r.report(false, refused)
	r.report(false, refused)
	r.report(false, errors.New("timeout"))
	r.report(false, nil)
	r.report(true, nil)
	r.report(true, nil)
	r.report(true, errors.New("subscription refused"))
	r.report(false, refused)
	r.report(false, nil)
	// The same network failure from another local port is no news.
	reset := func(port int) error {
		return fmt.Errorf("connect: %w", &net.OpError{Op: "read", Net: "tcp",
			Source: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port},
			Addr:   &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1883}, Err: errors.New("connection reset by peer")})
	}
	r.report(false, reset(40001))
	r.report(false, reset(40002))
	want := []string{"false refused", "false timeout", "true <nil>", "true subscription refused", "false refused",
		"false connect: read tcp 127.0.0.1:40001->127.0.0.1:1883: connection reset by peer"}
	if !slices.Equal(got, want) {
		t.Fatalf("reported %q, want %q", got, want)
	}
}

// TestPersistentSession: messages published while the subscriber is away
// (closed, and the broker restarted meanwhile) are delivered when it
// returns with the same client ID; once recorded and acknowledged they
// are not delivered again.
func TestPersistentSession(t *testing.T) {
	m := testenv.StartMosquittoPersistent(t)
	const id, n = "ngic-controller-session", 50
	s, stop := start(t, m.Addr, id, newMemRecorder(), nil)
	waitSubscribed(t, s)
	stop()

	pub := pahoClient(t, m.Addr, "gw-test", nil)
	for i := range n {
		publish(t, pub, eventTopic, eventPayload(t, i), false)
	}
	pub.Disconnect(250)
	m.Stop()
	m.Restart(t)

	rec := newMemRecorder()
	s, stop = start(t, m.Addr, id, rec, nil)
	rec.waitEvents(t, n)
	waitFor(t, "acknowledgements", func() bool { return s.Stats().Acked == n })
	st := s.Stats()
	if st.Received != n || st.Recorded != n || st.Stale != 0 {
		t.Fatalf("stats %+v, want %d received and recorded, none stale", st, n)
	}
	stop()
	onlyMarkerArrives(t, m.Addr, id, n)
}

// onlyMarkerArrives checks that the session id holds no message: a new
// subscriber gets a marker event (number marker) published now, and
// nothing before it.
func onlyMarkerArrives(t *testing.T, addr, id string, marker int) {
	t.Helper()
	pub := pahoClient(t, addr, "gw-marker", nil)
	publish(t, pub, eventTopic, eventPayload(t, marker), false)
	rec := newMemRecorder()
	s, stop := start(t, addr, id, rec, nil)
	waitFor(t, "the marker", func() bool { return rec.has(eventID(marker)) })
	if c := rec.count(); c != 1 || s.Stats().Received != 1 {
		t.Fatalf("after the marker: %d recorded, %d received; acknowledged messages came again", c, s.Stats().Received)
	}
	stop()
}

// gateRecorder holds its first Record call until release is closed.
type gateRecorder struct {
	*memRecorder
	calls   atomic.Int32
	entered chan struct{}
	release chan struct{}
}

func (r *gateRecorder) Record(batch []ingest.Message) error {
	if r.calls.Add(1) == 1 {
		close(r.entered)
		<-r.release
	}
	return r.memRecorder.Record(batch)
}

// TestAckAfterReconnect: a batch whose connection ended while Record ran
// is not acknowledged when Record returns (its packet identifiers
// belonged to the dead connection); the broker delivers the messages
// again on the new connection, where they are acknowledged. Afterwards
// the session holds nothing.
func TestAckAfterReconnect(t *testing.T) {
	m := testenv.StartMosquittoPersistent(t)
	const id, n = "ngic-controller-reconnect", 5
	rec := &gateRecorder{memRecorder: newMemRecorder(), entered: make(chan struct{}), release: make(chan struct{})}
	s, stop := start(t, m.Addr, id, rec, nil)
	waitSubscribed(t, s)
	pub := pahoClient(t, m.Addr, "gw-test", nil)
	for i := range n {
		publish(t, pub, eventTopic, eventPayload(t, i), false)
	}
	<-rec.entered
	m.Stop()
	m.Restart(t)
	waitFor(t, "the redeliveries on the new connection", func() bool {
		st := s.Stats()
		return st.Connects == 2 && st.Redelivered >= 1
	})
	close(rec.release)
	rec.waitEvents(t, n)
	waitFor(t, "acknowledgements", func() bool { return s.Stats().Acked == n })
	st := s.Stats()
	if st.Stale == 0 || st.Acked != n {
		t.Fatalf("stats %+v: want the first batch stale and every message acknowledged once", st)
	}
	stop()
	onlyMarkerArrives(t, m.Addr, id, n)
}

// TestRecordErrorsRetrySameBatch: while Record fails, the same batch is
// offered again and nothing is acknowledged: a new session gets every
// message again (DUP), and records them once Record succeeds.
func TestRecordErrorsRetrySameBatch(t *testing.T) {
	m := testenv.StartMosquittoPersistent(t)
	const id, n = "ngic-controller-errors", 20
	failing := newMemRecorder()
	failing.fail = func(int) error { return errors.New("disk on fire") }
	s, stop := start(t, m.Addr, id, failing, func(o *Options) { o.MaxBatch = 8 })
	waitSubscribed(t, s)
	pub := pahoClient(t, m.Addr, "gw-test", nil)
	for i := range n {
		publish(t, pub, eventTopic, eventPayload(t, i), false)
	}
	waitFor(t, "received and retried", func() bool { st := s.Stats(); return st.Received == n && st.RecordErrors >= 3 })
	st := s.Stats()
	if st.Acked != 0 || st.Recorded != 0 || st.Batches != 0 {
		t.Fatalf("stats %+v while Record fails: something was acknowledged or counted recorded", st)
	}
	if !strings.Contains(st.LastError, "disk on fire") {
		t.Fatalf("last error %q does not name the Record error", st.LastError)
	}
	failing.mu.Lock()
	calls := slices.Clone(failing.calls)
	failing.mu.Unlock()
	first := []string{eventID(0), eventID(1), eventID(2), eventID(3), eventID(4), eventID(5), eventID(6), eventID(7)}
	if len(calls[0]) == 0 || !slices.Equal(calls[0], first[:len(calls[0])]) {
		t.Fatalf("first batch %q, want the first messages in order", calls[0])
	}
	for i, c := range calls {
		if !slices.Equal(c, calls[0]) {
			t.Fatalf("Record call %d got %q, want the same batch again %q", i, c, calls[0])
		}
	}
	stop()

	// A new session (new process): the broker delivers all of them again;
	// two more failures, then they are recorded.
	rec := newMemRecorder()
	rec.fail = func(call int) error {
		if call < 2 {
			return errors.New("still warming up")
		}
		return nil
	}
	s, _ = start(t, m.Addr, id, rec, nil)
	rec.waitEvents(t, n)
	waitFor(t, "acknowledgements", func() bool { return s.Stats().Acked == n })
	if st := s.Stats(); st.Redelivered != n || st.RecordErrors != 2 {
		t.Fatalf("stats %+v: want all %d redelivered (DUP) and 2 Record errors", st, n)
	}
}

// TestQueueFullDefersAndResyncs: while Record fails, paho's router waits
// for room in the bounded queue only for a moment; the messages that find
// none stay unacknowledged with the broker, and once Record works again
// the subscriber reconnects and the broker delivers them again. None is
// lost, each is acknowledged.
func TestQueueFullDefersAndResyncs(t *testing.T) {
	m := testenv.StartMosquitto(t)
	const n = 40
	rec, healthy := gatedRecorder()
	s, _ := start(t, m.Addr, "ngic-controller-full", rec, func(o *Options) { o.MaxBatch = 2 }) // queue of 8
	waitSubscribed(t, s)
	pub := pahoClient(t, m.Addr, "gw-test", nil)
	for i := range n {
		publish(t, pub, eventTopic, eventPayload(t, i), false)
	}
	waitFor(t, "messages deferred", func() bool { return s.Stats().Deferred > 0 })
	if q := s.Stats().Queued; q > 8 {
		t.Fatalf("%d messages queued, want at most 8", q)
	}
	healthy.Store(true)
	rec.waitEvents(t, n)
	waitFor(t, "every message acknowledged", func() bool { st := s.Stats(); return st.Acked >= n && st.Resyncs >= 1 })
	st := s.Stats()
	if st.Redelivered == 0 || !st.Connected {
		t.Fatalf("stats %+v: want redeliveries after the resync, connected", st)
	}
}

// TestPublishRetained: an alert published retained through the
// Subscriber is read back by a client that subscribes afterwards.
func TestPublishRetained(t *testing.T) {
	m := testenv.StartMosquitto(t)
	s, _ := start(t, m.Addr, "ngic-controller-alerts", newMemRecorder(), nil)
	waitSubscribed(t, s)
	topic := telemetry.AlertTopic("a1")
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := s.Publish(ctx, topic, []byte(`{"state":"firing"}`), true); err != nil {
		t.Fatal(err)
	}
	if err := s.Publish(ctx, "ngic/v1/alerts/+", nil, false); err == nil {
		t.Fatal("publish on a wildcard topic: no error")
	}
	readRetained(t, m.Addr, topic, `{"state":"firing"}`)
	if st := s.Stats(); st.Published != 1 {
		t.Fatalf("published %d, want 1", st.Published)
	}
}

// readRetained subscribes to topic on the broker at addr and checks that
// the retained message there is want.
func readRetained(t *testing.T, addr, topic, want string) {
	t.Helper()
	got := make(chan mqtt.Message, 1)
	c := pahoClient(t, addr, "reader", func(_ mqtt.Client, m mqtt.Message) {
		select {
		case got <- m:
		default:
		}
	})
	if tok := c.Subscribe(topic, 1, nil); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("subscribe %s: %v", topic, tok.Error())
	}
	select {
	case m := <-got:
		if string(m.Payload()) != want || !m.Retained() {
			t.Fatalf("got %q (retained %v), want %q retained", m.Payload(), m.Retained(), want)
		}
	case <-time.After(wait):
		t.Fatalf("no retained message on %s within %v", topic, wait)
	}
}

// TestStateAndMetrics: OnState hears of the connection once, of the
// broker's loss, and of the stop; the metrics follow the stats.
func TestStateAndMetrics(t *testing.T) {
	m := testenv.StartMosquitto(t)
	var mu sync.Mutex
	var states []string
	rec := newMemRecorder()
	s, stop := start(t, m.Addr, "ngic-controller-state", rec, func(o *Options) {
		o.OnState = func(c bool, err error) {
			mu.Lock()
			defer mu.Unlock()
			states = append(states, fmt.Sprint(c, err != nil))
		}
	})
	waitSubscribed(t, s)
	pub := pahoClient(t, m.Addr, "gw-test", nil)
	publish(t, pub, eventTopic, eventPayload(t, 0), false)
	rec.waitEvents(t, 1)
	waitFor(t, "ack", func() bool { return s.Stats().Acked == 1 })
	m.Stop()
	waitFor(t, "disconnected", func() bool { return !s.Stats().Connected })
	m.Restart(t)
	waitSubscribed(t, s)

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(s.Collector())
	for name, want := range map[string]float64{
		"ngic_controller_mqtt_connected":      1,
		"ngic_controller_mqtt_recorded_total": 1,
		"ngic_controller_mqtt_acked_total":    1,
	} {
		got, err := gatherOne(reg, name)
		if err != nil || got != want {
			t.Errorf("%s = %v (%v), want %v", name, got, err, want)
		}
	}
	if mfs, err := reg.Gather(); err != nil || len(mfs) != len(subscriberMetrics) {
		t.Errorf("%d metrics (%v), want %d", len(mfs), err, len(subscriberMetrics))
	}
	stop()
	mu.Lock()
	defer mu.Unlock()
	// Connected, lost and failing with causes (each told once), connected
	// again, closed.
	ok := len(states) >= 4 && states[0] == "true false" && states[1] == "false true" &&
		states[len(states)-2] == "true false" && states[len(states)-1] == "false false"
	for _, st := range states[2 : len(states)-2] {
		ok = ok && st == "false true"
	}
	if !ok {
		t.Fatalf("states %q, want connected, lost with causes, connected, closed", states)
	}
	if st := s.Stats(); st.Reconnects != 1 {
		t.Fatalf("reconnects %d, want 1", st.Reconnects)
	}
}

// gatherOne returns the value of the metric name (without labels).
func gatherOne(reg *prometheus.Registry, name string) (float64, error) {
	mfs, err := reg.Gather()
	if err != nil {
		return 0, err
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		m := mf.GetMetric()[0]
		if c := m.GetCounter(); c != nil {
			return c.GetValue(), nil
		}
		return m.GetGauge().GetValue(), nil
	}
	return 0, fmt.Errorf("no metric %s", name)
}

// TestStateOnceWhileAway: a broker that keeps refusing (here: closing
// every connection after the CONNECT) is reported once, however many
// attempts fail (each from a new local port), and Close then reports
// nothing more.
func TestStateOnceWhileAway(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var attempts atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			attempts.Add(1)
			// Read the CONNECT first, so that the close is a FIN (EOF),
			// not a reset.
			_ = c.SetReadDeadline(time.Now().Add(wait))
			_, _ = c.Read(make([]byte, 256))
			c.Close()
		}
	}()
	var mu sync.Mutex
	var states []string
	s, stop := start(t, l.Addr().String(), "ngic-controller-away", newMemRecorder(), func(o *Options) {
		o.OnState = func(c bool, err error) {
			mu.Lock()
			defer mu.Unlock()
			states = append(states, fmt.Sprint(c, " ", err))
		}
	})
	waitFor(t, "three failed attempts", func() bool { return attempts.Load() >= 3 })
	stop()
	mu.Lock()
	defer mu.Unlock()
	if len(states) != 1 || !strings.HasPrefix(states[0], "false connect tcp://") {
		t.Fatalf("states %q after %d attempts, want one failure", states, attempts.Load())
	}
	if st := s.Stats(); st.Connected || st.Connects != 0 || st.LastError == "" {
		t.Fatalf("stats %+v", st)
	}
}

// TestBatchBytesBound: a Record call takes at most MaxBatchBytes of
// payloads (a larger message alone), and the queue holds at most four
// times that while Record refuses; every message is still recorded, in
// order, and acknowledged.
func TestBatchBytesBound(t *testing.T) {
	size := len(eventPayload(t, 0))
	for _, tc := range []struct {
		name     string
		maxBytes int
		perCall  int // messages a Record call may hold at most
	}{
		{"two and a half messages", 2*size + size/2, 2},
		{"smaller than a message", size / 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := testenv.StartMosquitto(t)
			const n = 40
			rec, healthy := gatedRecorder()
			s, _ := start(t, m.Addr, "ngic-controller-bytes", rec, func(o *Options) { o.MaxBatchBytes = tc.maxBytes })
			waitSubscribed(t, s)
			pub := pahoClient(t, m.Addr, "gw-test", nil)
			for i := range n {
				publish(t, pub, eventTopic, eventPayload(t, i), false)
			}
			// While Record refuses, the queue fills to its bytes and no more.
			maxQueued := max(4*tc.maxBytes/size, 1)
			waitFor(t, "the queue full or messages deferred", func() bool {
				st := s.Stats()
				return st.Deferred > 0 || st.Queued >= maxQueued
			})
			if q := s.Stats().Queued; q > maxQueued {
				t.Fatalf("%d messages queued, want at most %d (%d bytes)", q, maxQueued, 4*tc.maxBytes)
			}
			healthy.Store(true)
			rec.waitEvents(t, n)
			waitFor(t, "every message acknowledged", func() bool { return s.Stats().Acked >= n })
			rec.mu.Lock()
			defer rec.mu.Unlock()
			var order []string
			for i, c := range rec.calls {
				if len(c) > tc.perCall {
					t.Fatalf("Record call %d got %d messages of %d bytes, want at most %d (max batch bytes %d)",
						i, len(c), size, tc.perCall, tc.maxBytes)
				}
				if i == 0 || !slices.Equal(c, rec.calls[i-1]) { // a refused batch is offered again
					order = append(order, c...)
				}
			}
			seen := map[string]bool{}
			var first []string
			for _, k := range order {
				if !seen[k] {
					seen[k] = true
					first = append(first, k)
				}
			}
			if !slices.IsSorted(first) {
				t.Fatalf("messages recorded out of order: %q", first)
			}
		})
	}
}

// gatedRecorder returns a memRecorder that refuses every batch until
// healthy is set.
func gatedRecorder() (rec *memRecorder, healthy *atomic.Bool) {
	rec, healthy = newMemRecorder(), new(atomic.Bool)
	rec.fail = func(int) error {
		if !healthy.Load() {
			return errors.New("not yet")
		}
		return nil
	}
	return rec, healthy
}
