package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"syscall"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/google/uuid"

	"github.com/ngic/ngic/telemetry"
)

// EventPayload is the payload of one tag arrival as the edge publishes it
// (telemetry.EncodeEvent with its sequence number), for the tag the edge
// pipeline benchmark reads (12 bytes, first 0x30) at its gateway gw-test.
func EventPayload(seq uint64, at time.Time) ([]byte, error) {
	raw := make([]byte, 12)
	raw[0] = 0x30
	rssi := -60
	e := &telemetry.Event{V: telemetry.SchemaVersion, ID: uuid.NewString(), Gateway: "gw-test", Source: "r1",
		Type: telemetry.TagArrived, Time: at.UTC(),
		Tag: &telemetry.Tag{ID: strings.ToUpper(hex.EncodeToString(raw)), Protocol: "em4100", Antenna: 1, RSSI: &rssi,
			FirstSeen: at.UTC(), LastSeen: at.UTC()}}
	b, err := telemetry.EncodeEvent(e)
	if err != nil {
		return nil, err
	}
	return telemetry.WithSeq(nil, b, seq)
}

// PublishResult is what one bare publisher run did.
type PublishResult struct {
	// Events were published and acknowledged in Elapsed, in Messages.
	Events, Messages int
	Elapsed          time.Duration
	// PayloadBytes is the size of one event's payload.
	PayloadBytes int
	// CPU is the process's CPU time (user and system) and Mallocs its
	// heap allocations over Elapsed.
	CPU     time.Duration
	Mallocs uint64
}

// CPUPerEvent is the process's CPU time per event, in nanoseconds.
func (r PublishResult) CPUPerEvent() float64 { return float64(r.CPU.Nanoseconds()) / float64(r.Events) }

// AllocsPerEvent is the process's heap allocations per event.
func (r PublishResult) AllocsPerEvent() float64 { return float64(r.Mallocs) / float64(r.Events) }

// PerSecond is the run's acknowledged events per second.
func (r PublishResult) PerSecond() float64 { return float64(r.Events) / r.Elapsed.Seconds() }

// Batch is how the bare publisher groups events into messages, as the
// edge does (mqtt.batch_events and mqtt.batch_bytes): up to Events
// consecutive events in one message, framed by telemetry.AppendToBatch,
// while the message stays within Bytes. Events of 0 or 1 publishes each
// event alone, as its payload.
type Batch struct{ Events, Bytes int }

// messages groups payloads into the messages b makes of them.
func (b Batch) messages(payloads [][]byte) (msgs [][]byte, err error) {
	if b.Events <= 1 {
		return payloads, nil
	}
	if b.Events > telemetry.MaxBatchEvents || b.Bytes < 2+len(payloads[0]) {
		return nil, fmt.Errorf("benchpeers: a batch of %d events, %d bytes: not within 1..%d events, or too small for an event",
			b.Events, b.Bytes, telemetry.MaxBatchEvents)
	}
	var m []byte
	n := 0
	flush := func() {
		if n == 1 { // an event alone goes as its payload, as the edge sends it
			m = m[1 : len(m)-1]
		}
		msgs, m, n = append(msgs, m), nil, 0
	}
	for _, p := range payloads {
		if n > 0 && (n == b.Events || len(m)+1+len(p) > b.Bytes) {
			flush()
		}
		m = telemetry.AppendToBatch(m, p)
		n++
	}
	flush()
	return msgs, nil
}

// BarePublish publishes events tag arrivals at QoS 1 to the broker at
// brokerURL (tcp://host:port) with paho, grouped into messages as batch
// says, at most window events unacknowledged at once (window/events
// messages of a batch), and waits for every acknowledgement: the floor
// the edge pipeline (spool with fsync, then the same paho client) is
// compared with. The payloads and messages are built before the clock
// starts.
func BarePublish(brokerURL string, events, window int, batch Batch) (PublishResult, error) {
	if events <= 0 || window <= 0 {
		return PublishResult{}, errors.New("benchpeers: publish: events and window must be positive")
	}
	now := time.Now()
	payloads := make([][]byte, events)
	for i := range payloads {
		p, err := EventPayload(uint64(i+1), now)
		if err != nil {
			return PublishResult{}, err
		}
		payloads[i] = p
	}
	msgs, err := batch.messages(payloads)
	if err != nil {
		return PublishResult{}, err
	}
	inflight := max(window/(events/len(msgs)), 1) // messages
	topic := telemetry.EventTopic("gw-test", "r1")
	o := mqtt.NewClientOptions().AddBroker(brokerURL).SetClientID("ngic-benchpeers-" + uuid.NewString()[:8]).
		SetCleanSession(true).SetAutoReconnect(false).SetConnectRetry(false).SetOrderMatters(false).
		SetConnectTimeout(10 * time.Second).SetWriteTimeout(10 * time.Second)
	c := mqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
		return PublishResult{}, fmt.Errorf("benchpeers: connect %s: %v", brokerURL, tok.Error())
	}
	defer c.Disconnect(250)
	slots := make(chan struct{}, inflight)
	queue := make(chan mqtt.Token, inflight)
	acked := make(chan error, 1)
	go func() { // acknowledgements, in order, each freeing a slot
		var first error
		for tok := range queue {
			if !tok.WaitTimeout(time.Minute) {
				first = errors.Join(first, errors.New("benchpeers: no PUBACK after a minute"))
			} else if err := tok.Error(); err != nil {
				first = errors.Join(first, err)
			}
			<-slots
		}
		acked <- first
	}()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	cpu0, err := processCPU()
	if err != nil {
		return PublishResult{}, err
	}
	start := time.Now()
	for _, m := range msgs {
		slots <- struct{}{}
		queue <- c.Publish(topic, 1, false, m)
	}
	close(queue)
	if err := <-acked; err != nil {
		return PublishResult{}, fmt.Errorf("benchpeers: publish: %w", err)
	}
	el := time.Since(start)
	cpu1, err := processCPU()
	if err != nil {
		return PublishResult{}, err
	}
	runtime.ReadMemStats(&m1)
	return PublishResult{Events: events, Messages: len(msgs), Elapsed: el, PayloadBytes: len(payloads[0]), CPU: cpu1 - cpu0,
		Mallocs: m1.Mallocs - m0.Mallocs}, nil
}

// processCPU returns the user and system CPU time of this process so far.
func processCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("benchpeers: getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}
