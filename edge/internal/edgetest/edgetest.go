// Package edgetest holds helpers for the edge's end-to-end tests: an MQTT
// subscriber that records every event it receives, one that records the
// gateways' health messages, and a tag field that changes over time in
// front of an emulated reader.
package edgetest

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ngic/ngic/drivers/rfid/emulate"
	"github.com/ngic/ngic/telemetry"
)

// Subscriber records the events and status messages published on a
// broker, the events of a batch one by one.
type Subscriber struct {
	c mqtt.Client

	mu       sync.Mutex
	events   []*telemetry.Event // in order of receipt, duplicates included
	messages int                // the messages that carried them
	statuses []*telemetry.Status
	bad      []string
}

// Subscribe connects to the broker at addr (host:port) with a persistent
// session (clean session off) and subscribes to every event and status at
// QoS 1, so that messages published while it is away are kept for it.
func Subscribe(t testing.TB, addr, clientID string) *Subscriber {
	t.Helper()
	return SubscribeWith(t, "tcp://"+addr, clientID, nil)
}

// SubscribeWith is Subscribe to a broker URL, with a hook to set TLS and
// credentials on the client options.
func SubscribeWith(t testing.TB, broker, clientID string, set func(*mqtt.ClientOptions)) *Subscriber {
	t.Helper()
	s := &Subscriber{}
	handler := func(_ mqtt.Client, m mqtt.Message) {
		_, kind, _, err := telemetry.ParseTopic(m.Topic())
		s.mu.Lock()
		defer s.mu.Unlock()
		switch {
		case err != nil:
			s.bad = append(s.bad, fmt.Sprintf("%s: %v", m.Topic(), err))
		case kind == "status":
			st, err := telemetry.DecodeStatus(m.Payload())
			if err != nil {
				s.bad = append(s.bad, fmt.Sprintf("%s: %v", m.Topic(), err))
				return
			}
			s.statuses = append(s.statuses, st)
		default: // one event, or a batch of them
			es, err := telemetry.DecodeEvents(m.Payload())
			if err != nil {
				s.bad = append(s.bad, fmt.Sprintf("%s: %v: %s", m.Topic(), err, m.Payload()))
				return
			}
			for _, e := range es {
				if want := telemetry.EventTopic(e.Gateway, e.Source); want != m.Topic() {
					s.bad = append(s.bad, fmt.Sprintf("event of %s on topic %s", want, m.Topic()))
				}
				s.events = append(s.events, e)
			}
			s.messages++
		}
	}
	o := mqtt.NewClientOptions().AddBroker(broker).SetClientID(clientID).
		SetCleanSession(false).SetAutoReconnect(true).SetMaxReconnectInterval(200 * time.Millisecond).
		SetConnectRetry(true).SetConnectRetryInterval(200 * time.Millisecond).SetOrderMatters(true).
		SetDefaultPublishHandler(handler)
	if set != nil {
		set(o)
	}
	o.SetOnConnectHandler(func(c mqtt.Client) {
		c.SubscribeMultiple(map[string]byte{telemetry.EventFilter: 1, telemetry.StatusFilter: 1}, handler)
	})
	s.c = mqtt.NewClient(o)
	tok := s.c.Connect()
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("edgetest: subscriber connect %s: %v", broker, tok.Error())
	}
	// Wait for the subscriptions to be in place (the connect handler's
	// are not awaited), so that a broker stopped right after this call
	// keeps the session's subscriptions.
	deadline := time.Now().Add(10 * time.Second)
	for {
		tok := s.c.SubscribeMultiple(map[string]byte{telemetry.EventFilter: 1, telemetry.StatusFilter: 1}, handler)
		if tok.WaitTimeout(time.Second) && tok.Error() == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("edgetest: subscribe on %s: %v", broker, tok.Error())
		}
	}
	t.Cleanup(func() { s.c.Disconnect(100) })
	return s
}

// Events returns a copy of the events received so far, in order of receipt.
func (s *Subscriber) Events() []*telemetry.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*telemetry.Event(nil), s.events...)
}

// Messages returns how many messages carried the events received so far
// (a batch is one message).
func (s *Subscriber) Messages() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.messages
}

// Statuses returns the status messages received so far.
func (s *Subscriber) Statuses() []*telemetry.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*telemetry.Status(nil), s.statuses...)
}

// Bad returns the messages that did not decode.
func (s *Subscriber) Bad() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bad...)
}

// WaitFor polls until cond holds for the events received, or fails t after
// timeout with msg.
func (s *Subscriber) WaitFor(t testing.TB, timeout time.Duration, msg string, cond func([]*telemetry.Event) bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if cond(s.Events()) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("edgetest: after %v: %s (received %d events)", timeout, msg, len(s.Events()))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Report checks the events of one gateway as a consumer would: the first
// receipt of each sequence number came in increasing order, a number
// always carries the same event ID, and every number from 1 to the highest
// received either arrived or lies in the seq range of a received
// events.lost event, whose counts add up to exactly the numbers missing.
// It returns the distinct events in sequence order (events.lost included)
// and the count of duplicate deliveries.
func Report(t testing.TB, events []*telemetry.Event) (distinct []*telemetry.Event, dups int) {
	t.Helper()
	bySeq := map[uint64]*telemetry.Event{}
	var last uint64
	for _, e := range events {
		if prev, ok := bySeq[e.Seq]; ok {
			if prev.ID != e.ID {
				t.Errorf("seq %d delivered with two ids: %s and %s", e.Seq, prev.ID, e.ID)
			}
			dups++
			continue
		}
		if e.Seq < last {
			t.Errorf("first delivery of seq %d came after seq %d", e.Seq, last)
		}
		last = e.Seq
		bySeq[e.Seq] = e
	}
	var losses []*telemetry.Lost
	var counted uint64
	for _, e := range bySeq {
		if e.Type == telemetry.EventsLost {
			losses = append(losses, e.Lost)
			counted += e.Lost.Count
		}
	}
	var missing uint64
	for seq := uint64(1); seq <= last; seq++ {
		if bySeq[seq] != nil {
			continue
		}
		missing++
		covered := false
		for _, l := range losses {
			covered = covered || (l.FirstSeq <= seq && seq <= l.LastSeq)
		}
		if !covered {
			t.Errorf("seq %d never delivered (highest %d) and in no events.lost range", seq, last)
		}
	}
	if missing != counted {
		t.Errorf("%d sequence numbers missing, events.lost counts %d", missing, counted)
	}
	for _, e := range bySeq {
		distinct = append(distinct, e)
	}
	sort.Slice(distinct, func(i, j int) bool { return distinct[i].Seq < distinct[j].Seq })
	return distinct, dups
}

// Accounted returns how many sequence numbers the events account for: the
// distinct seqs received plus the counts of the events.lost among them. A
// far end has heard of every event a gateway numbered up to N once it is N.
func Accounted(events []*telemetry.Event) uint64 {
	seen := map[uint64]bool{}
	var lost uint64
	for _, e := range events {
		if !seen[e.Seq] && e.Type == telemetry.EventsLost && e.Lost != nil {
			lost += e.Lost.Count
		}
		seen[e.Seq] = true
	}
	return uint64(len(seen)) + lost
}

// Lost sums the counts of the events.lost events among events, per
// reason (duplicates are counted once per sequence number).
func Lost(events []*telemetry.Event) map[string]uint64 {
	seen := map[uint64]bool{}
	out := map[string]uint64{}
	for _, e := range events {
		if e.Type == telemetry.EventsLost && !seen[e.Seq] {
			seen[e.Seq] = true
			out[e.Lost.Reason] += e.Lost.Count
		}
	}
	return out
}

// Presence replays the distinct tag events of one gateway (in sequence
// order, as Report returns them) as a consumer that keeps its presence
// state across restarts, and returns the tags it believes present, as
// "source/antenna/tag".
func Presence(distinct []*telemetry.Event) map[string]bool {
	present := map[string]bool{}
	for _, e := range distinct {
		if e.Tag == nil {
			continue
		}
		k := fmt.Sprintf("%s/%d/%s", e.Source, e.Tag.Antenna, e.Tag.ID)
		switch e.Type {
		case telemetry.TagArrived:
			present[k] = true
		case telemetry.TagDeparted:
			delete(present, k)
		}
	}
	return present
}

// HealthSubscriber records the health messages published on a broker.
type HealthSubscriber struct {
	c mqtt.Client

	mu     sync.Mutex
	health []*telemetry.Health // in order of receipt
	topics []string            // the topic of each
	bad    []string
}

// SubscribeHealth connects to the broker at addr (host:port) with a clean
// session and subscribes to every gateway's health at QoS 1. It returns
// once the subscription is in place; after a broker restart it reconnects
// and subscribes again.
func SubscribeHealth(t testing.TB, addr, clientID string) *HealthSubscriber {
	t.Helper()
	s := &HealthSubscriber{}
	handler := func(_ mqtt.Client, m mqtt.Message) {
		h, err := telemetry.DecodeHealth(m.Payload())
		s.mu.Lock()
		defer s.mu.Unlock()
		if err != nil {
			s.bad = append(s.bad, fmt.Sprintf("%s: %v: %s", m.Topic(), err, m.Payload()))
			return
		}
		s.health = append(s.health, h)
		s.topics = append(s.topics, m.Topic())
	}
	o := mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(clientID).
		SetCleanSession(true).SetAutoReconnect(true).SetMaxReconnectInterval(200 * time.Millisecond).
		SetConnectRetry(true).SetConnectRetryInterval(200 * time.Millisecond).
		SetDefaultPublishHandler(handler)
	o.SetOnConnectHandler(func(c mqtt.Client) { c.Subscribe(telemetry.HealthFilter, 1, handler) })
	s.c = mqtt.NewClient(o)
	tok := s.c.Connect()
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("edgetest: health subscriber connect %s: %v", addr, tok.Error())
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		tok := s.c.Subscribe(telemetry.HealthFilter, 1, handler)
		if tok.WaitTimeout(time.Second) && tok.Error() == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("edgetest: subscribe to health on %s: %v", addr, tok.Error())
		}
	}
	t.Cleanup(func() { s.c.Disconnect(100) })
	return s
}

// Health returns the health messages received so far, in order of
// receipt, and the topic of each.
func (s *HealthSubscriber) Health() ([]*telemetry.Health, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*telemetry.Health(nil), s.health...), append([]string(nil), s.topics...)
}

// Bad returns the health messages that did not decode.
func (s *HealthSubscriber) Bad() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bad...)
}

// WaitFor polls until cond holds for the health messages received, or
// fails t after timeout with msg; it returns the messages cond accepted.
func (s *HealthSubscriber) WaitFor(t testing.TB, timeout time.Duration, msg string, cond func([]*telemetry.Health) bool) []*telemetry.Health {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		hs, _ := s.Health()
		if cond(hs) {
			return hs
		}
		if time.Now().After(deadline) {
			t.Fatalf("edgetest: after %v: %s (received %d health messages, %d bad)", timeout, msg, len(hs), len(s.Bad()))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Field moves tags through an emulated reader's field: every period a new
// tag enters and the previous one leaves.
type Field struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	n      int
}

// Cycle starts changing the runner's tags every period; the i-th is tag(i).
func Cycle(r *emulate.Runner, period time.Duration, tag func(i int) []byte) *Field {
	ctx, cancel := context.WithCancel(context.Background())
	f := &Field{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(f.done)
		t := time.NewTicker(period)
		defer t.Stop()
		for i := 1; ; i++ {
			r.SetTags([][]byte{tag(i)})
			f.mu.Lock()
			f.n = i
			f.mu.Unlock()
			select {
			case <-ctx.Done():
				r.SetTags(nil)
				return
			case <-t.C:
			}
		}
	}()
	return f
}

// Stop empties the field and returns how many tags went through it.
func (f *Field) Stop() int {
	f.cancel()
	<-f.done
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}
