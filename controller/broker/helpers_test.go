package broker

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ngic/ngic/controller/ingest"
	"github.com/ngic/ngic/telemetry"
)

// wait is how long a test waits for a condition before failing.
const wait = 30 * time.Second

// testGateway is the gateway the tests' events come from.
const testGateway = "gw-test"

// eventTopic is the topic of the tests' events.
var eventTopic = telemetry.EventTopic(testGateway, "r1")

// eventPayload returns the published payload of a tag event whose id is
// eventID(i): a recorded-looking event of about 400 bytes.
func eventPayload(t testing.TB, i int) []byte {
	t.Helper()
	at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond)
	rssi := -61
	e := &telemetry.Event{
		V: telemetry.SchemaVersion, ID: eventID(i), Gateway: testGateway, Source: "r1", Type: telemetry.TagArrived, Time: at,
		Tag: &telemetry.Tag{ID: "E28011700000020F1A2B3C4D", Protocol: "magicrf", Antenna: 1, RSSI: &rssi,
			EPC:       &telemetry.EPC{Scheme: "sgtin-96", URI: "urn:epc:id:sgtin:0614141.812345.6789", GTIN: "00614141123452"},
			FirstSeen: at, LastSeen: at},
	}
	b, err := telemetry.EncodeEvent(e)
	if err != nil {
		t.Fatal(err)
	}
	b, err = telemetry.WithSeq(nil, b, uint64(i)+1)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// eventID is the id of the i-th test event.
func eventID(i int) string { return fmt.Sprintf("ev-%08d", i) }

// idOf returns the id in an event payload.
func idOf(payload []byte) (string, error) {
	var e struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(payload, &e); err != nil {
		return "", err
	}
	if e.ID == "" {
		return "", errors.New("no id")
	}
	return e.ID, nil
}

// keyOf is what a test recorder dedupes a message by: the event id, or
// for other payloads the topic and payload.
func keyOf(m ingest.Message) string {
	if id, err := idOf(m.Payload); err == nil {
		return id
	}
	return m.Topic + " " + string(m.Payload)
}

// memRecorder records in memory, deduping, and fails while fail says so.
type memRecorder struct {
	mu      sync.Mutex
	seen    map[string]ingest.Message
	calls   [][]string // the keys of each batch offered, failed or not
	errs    int
	fail    func(call int) error // nil: never fails
	changed chan struct{}
}

func newMemRecorder() *memRecorder {
	return &memRecorder{seen: map[string]ingest.Message{}, changed: make(chan struct{}, 1)}
}

func (r *memRecorder) Record(batch []ingest.Message) error {
	r.mu.Lock()
	defer func() {
		r.mu.Unlock()
		select {
		case r.changed <- struct{}{}:
		default:
		}
	}()
	keys := make([]string, len(batch))
	for i, m := range batch {
		keys[i] = keyOf(m)
	}
	r.calls = append(r.calls, keys)
	if r.fail != nil {
		if err := r.fail(len(r.calls) - 1); err != nil {
			r.errs++
			return err
		}
	}
	for i, m := range batch {
		if _, ok := r.seen[keys[i]]; !ok {
			r.seen[keys[i]] = ingest.Message{Topic: m.Topic, Payload: bytes.Clone(m.Payload), Retained: m.Retained}
		}
	}
	return nil
}

// has tells whether the message of key was recorded.
func (r *memRecorder) has(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.seen[key]
	return ok
}

// count returns the number of distinct messages recorded.
func (r *memRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen)
}

// waitEvents waits until the events 0..n-1 are all recorded.
func (r *memRecorder) waitEvents(t testing.TB, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d events recorded", n), func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for i := range n {
			if _, ok := r.seen[eventID(i)]; !ok {
				return false
			}
		}
		return true
	})
}

// waitFor polls cond until it holds, failing t after wait.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, wait)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// start subscribes with o (to the broker at addr, with client ID id) and
// runs the subscriber until the test ends or the returned stop is called.
func start(t testing.TB, addr, id string, rec ingest.Recorder, set func(*Options)) (*Subscriber, func()) {
	t.Helper()
	o := Options{Broker: "tcp://" + addr, ClientID: id, Recorder: rec}
	if set != nil {
		set(&o)
	}
	s, err := Subscribe(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("Run returned %v, want context.Canceled", err)
			}
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return s, stop
}

// waitSubscribed waits until s's session is up and subscribed.
func waitSubscribed(t testing.TB, s *Subscriber) {
	t.Helper()
	waitFor(t, "subscribed", func() bool { st := s.Stats(); return st.Connected && st.Subscribed })
}

// pahoClient connects a plain paho client to addr, without automatic
// reconnection; handler, when set, receives every message.
func pahoClient(t testing.TB, addr, id string, handler mqtt.MessageHandler) mqtt.Client {
	t.Helper()
	o := mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(id).
		SetCleanSession(true).SetAutoReconnect(false).SetConnectRetry(false).
		SetConnectTimeout(10 * time.Second).SetOrderMatters(true)
	if handler != nil {
		o.SetDefaultPublishHandler(handler)
	}
	c := mqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("connect %s to %s: %v", id, addr, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(0) })
	return c
}

// publish publishes at QoS 1 and waits for the PUBACK.
func publish(t testing.TB, c mqtt.Client, topic string, payload []byte, retained bool) {
	t.Helper()
	tok := c.Publish(topic, 1, retained, payload)
	if !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("publish on %s: %v (or no PUBACK within %v)", topic, tok.Error(), wait)
	}
}

// fileRecorder is a durable recorder: it appends each new event id as a
// line to a file and syncs it before Record returns, deduping by id. A
// line torn by a crash is cut off when it is opened again.
type fileRecorder struct {
	mu   sync.Mutex
	f    *os.File
	seen map[string]bool
	dups *os.File // a line per message offered again, for the test's log
	buf  []byte
}

func openFileRecorder(path string) (*fileRecorder, error) {
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	whole := bytes.LastIndexByte(b, '\n') + 1 // the complete lines
	r := &fileRecorder{seen: map[string]bool{}}
	for _, id := range bytes.Split(b[:whole], []byte("\n")) {
		if len(id) > 0 {
			r.seen[string(id)] = true
		}
	}
	r.f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	r.dups, err = os.OpenFile(path+".dups", os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := r.f.Truncate(int64(whole)); err != nil {
		return nil, err
	}
	if _, err := r.f.Seek(int64(whole), 0); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *fileRecorder) Record(batch []ingest.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf = r.buf[:0]
	fresh := map[string]bool{}
	for _, m := range batch {
		id, err := idOf(m.Payload)
		if err != nil {
			continue // counted as refused: not an event
		}
		if r.seen[id] || fresh[id] {
			fmt.Fprintln(r.dups, id)
			continue
		}
		fresh[id] = true
		r.buf = append(append(r.buf, id...), '\n')
	}
	if len(r.buf) > 0 {
		if _, err := r.f.Write(r.buf); err != nil {
			return err
		}
	}
	if err := r.f.Sync(); err != nil {
		return err
	}
	for id := range fresh {
		r.seen[id] = true
	}
	return nil
}

// readRecord returns how many times each id is in a fileRecorder's file.
func readRecord(t testing.TB, path string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, id := range bytes.Split(b[:bytes.LastIndexByte(b, '\n')+1], []byte("\n")) {
		if len(id) > 0 {
			n[string(id)]++
		}
	}
	return n
}

// tlsConfig is a TLS configuration for option checks.
func tlsConfig() *tls.Config { return &tls.Config{MinVersion: tls.VersionTLS12} }
