package broker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	mqttserver "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ngic/ngic/controller/ingest"
	"github.com/ngic/ngic/internal/mqttembed"
	"github.com/ngic/ngic/telemetry"
)

// gatewayPrefix starts every topic the embedded broker records.
const gatewayPrefix = telemetry.Root + "/gw/"

// maxCommit bounds the messages of concurrent publishers recorded by one
// Record call of the embedded broker.
const maxCommit = DefaultMaxBatch

// ErrHookStopped is the error a publish meets once the hook has stopped.
var ErrHookStopped = errors.New("broker: embedded broker's recorder stopped")

// RecordingHook is the mochi-mqtt hook that gives the embedded broker the
// Subscriber's guarantee: every message published on a topic under
// ngic/v1/gw/ is recorded durably before the broker acknowledges it
// (mochi sends the PUBACK right after its OnPublish hooks return, and only
// then delivers the message to subscribers). Publishes from several
// clients arriving together share one Record call (group commit); each
// client has at most one publish in the hook at a time, since mochi reads
// a client's next packet only after the hook returns.
//
// When Record fails, the publish is not acknowledged, not delivered and
// not retained, and the client's connection is closed: an MQTT 3.1.1
// client (the edge) has no other way to learn of the failure, and it
// sends every unacknowledged publish again after it reconnects.
//
// The last will a client left (a gateway's retained "offline") is recorded
// too, before mochi publishes it; if that Record fails the will is still
// published but not recorded (WillErrors).
type RecordingHook struct {
	mqttserver.HookBase
	r    ingest.Recorder
	reqs chan *commitReq
	stop chan struct{}
	once sync.Once
	done chan struct{}

	recorded, batches, recordErrors, refused, willErrors atomic.Uint64
}

// commitReq is one message waiting for the committer.
type commitReq struct {
	msg  ingest.Message
	done chan error
}

// NewRecordingHook returns a hook recording with r, and starts its
// committer; mochi stops it when the broker closes (Stop).
func NewRecordingHook(r ingest.Recorder) *RecordingHook {
	h := &RecordingHook{r: r, reqs: make(chan *commitReq, maxCommit), stop: make(chan struct{}), done: make(chan struct{})}
	go h.commit()
	return h
}

// Hook returns a recording hook of r for mqttembed.Start (see
// RecordingHook; NewRecordingHook keeps a handle for its statistics).
func Hook(r ingest.Recorder) mqttembed.Hook { return NewRecordingHook(r).Hook() }

// Hook returns h for mqttembed.Start.
func (h *RecordingHook) Hook() mqttembed.Hook { return mqttembed.Hook{Hook: h} }

// ID names the hook.
func (h *RecordingHook) ID() string { return "ngic-record" }

// Provides tells mochi which events the hook handles.
func (h *RecordingHook) Provides(b byte) bool {
	return b == mqttserver.OnPublish || b == mqttserver.OnWill
}

// Stop ends the committer; publishes still waiting fail with
// ErrHookStopped (their clients are disconnected unacknowledged).
func (h *RecordingHook) Stop() error {
	h.once.Do(func() { close(h.stop) })
	<-h.done
	return nil
}

// OnPublish records a message under ngic/v1/gw/ before mochi acknowledges
// it. On failure it closes the client's connection and rejects the
// packet, so that mochi neither acknowledges, delivers nor retains it.
func (h *RecordingHook) OnPublish(cl *mqttserver.Client, pk packets.Packet) (packets.Packet, error) {
	if !strings.HasPrefix(pk.TopicName, gatewayPrefix) {
		return pk, nil
	}
	// A live publish: a subscriber with a standing subscription gets it
	// with the retain flag off.
	if err := h.record(ingest.Message{Topic: pk.TopicName, Payload: pk.Payload}); err != nil {
		h.refused.Add(1)
		cl.Stop(fmt.Errorf("broker: publish on %s not recorded: %w", pk.TopicName, err))
		return pk, packets.ErrRejectPacket
	}
	return pk, nil
}

// OnWill records a client's last will under ngic/v1/gw/ before mochi
// publishes it.
func (h *RecordingHook) OnWill(_ *mqttserver.Client, will mqttserver.Will) (mqttserver.Will, error) {
	if strings.HasPrefix(will.TopicName, gatewayPrefix) {
		if err := h.record(ingest.Message{Topic: will.TopicName, Payload: will.Payload}); err != nil {
			h.willErrors.Add(1)
		}
	}
	return will, nil
}

// record hands m to the committer and waits until it is recorded.
func (h *RecordingHook) record(m ingest.Message) error {
	req := &commitReq{msg: m, done: make(chan error, 1)}
	select {
	case h.reqs <- req:
	case <-h.stop:
		return ErrHookStopped
	}
	return <-req.done
}

// commit records the waiting messages, all that are there at once (up to
// maxCommit), one Record call at a time: while a call runs, the next
// publishes gather for the next one.
func (h *RecordingHook) commit() {
	defer close(h.done)
	batch := make([]*commitReq, 0, maxCommit)
	msgs := make([]ingest.Message, 0, maxCommit)
	for {
		batch, msgs = batch[:0], msgs[:0]
		select {
		case r := <-h.reqs:
			batch = append(batch, r)
		case <-h.stop:
			h.failWaiting()
			return
		}
	gather:
		for len(batch) < maxCommit {
			select {
			case r := <-h.reqs:
				batch = append(batch, r)
			default:
				break gather
			}
		}
		for _, r := range batch {
			msgs = append(msgs, r.msg)
		}
		err := h.r.Record(msgs)
		if err != nil {
			h.recordErrors.Add(1)
		} else {
			h.batches.Add(1)
			h.recorded.Add(uint64(len(msgs)))
		}
		for _, r := range batch {
			r.done <- err
		}
		clear(msgs)
		clear(batch)
	}
}

// failWaiting answers the requests queued when the hook stops.
func (h *RecordingHook) failWaiting() {
	for {
		select {
		case r := <-h.reqs:
			r.done <- ErrHookStopped
		default:
			return
		}
	}
}

// HookStats are a RecordingHook's counters.
type HookStats struct {
	// Recorded counts messages recorded, Batches the Record calls that
	// recorded them, RecordErrors those that failed.
	Recorded, Batches, RecordErrors uint64
	// Refused counts publishes not acknowledged because Record failed
	// (their clients were disconnected and send them again).
	Refused uint64
	// WillErrors counts last wills published without being recorded.
	WillErrors uint64
}

// Stats returns a snapshot of the counters.
func (h *RecordingHook) Stats() HookStats {
	return HookStats{Recorded: h.recorded.Load(), Batches: h.batches.Load(), RecordErrors: h.recordErrors.Load(),
		Refused: h.refused.Load(), WillErrors: h.willErrors.Load()}
}

// hookMetrics are the metrics of a RecordingHook.
var hookMetrics = []metric[HookStats]{
	counter("ngic_controller_mqtt_embedded_recorded_total", "Messages the embedded broker recorded before acknowledging them.",
		func(s *HookStats) uint64 { return s.Recorded }),
	counter("ngic_controller_mqtt_embedded_record_batches_total", "Record calls of the embedded broker that succeeded (publishes of several clients share one).",
		func(s *HookStats) uint64 { return s.Batches }),
	counter("ngic_controller_mqtt_embedded_record_errors_total", "Record calls of the embedded broker that failed.",
		func(s *HookStats) uint64 { return s.RecordErrors }),
	counter("ngic_controller_mqtt_embedded_refused_total", "Publishes left unacknowledged (client disconnected) because Record failed.",
		func(s *HookStats) uint64 { return s.Refused }),
	counter("ngic_controller_mqtt_embedded_will_errors_total", "Last wills published without being recorded.",
		func(s *HookStats) uint64 { return s.WillErrors }),
}

// Collector returns the hook's metrics (ngic_controller_mqtt_embedded_*),
// read at scrape time.
func (h *RecordingHook) Collector() prometheus.Collector {
	return &collector[HookStats]{stats: h.Stats, metrics: hookMetrics}
}

// Publisher publishes the controller's own messages (alerts).
type Publisher interface {
	// Publish publishes payload on topic at QoS 1 and returns once the
	// broker has taken it (PUBACK), or ctx's error.
	Publish(ctx context.Context, topic string, payload []byte, retained bool) error
}

var (
	_ Publisher = (*Subscriber)(nil)
	_ Publisher = embeddedPublisher{}
)

// embeddedPublisher publishes through mochi's inline client.
type embeddedPublisher struct{ b *mqttembed.Broker }

// EmbeddedPublisher returns a Publisher on the embedded broker b, through
// mochi's inline client: Publish returns once mochi has delivered the
// message to its subscribers' queues (and retained it, if asked).
func EmbeddedPublisher(b *mqttembed.Broker) Publisher { return embeddedPublisher{b: b} }

func (p embeddedPublisher) Publish(ctx context.Context, topic string, payload []byte, retained bool) error {
	if err := checkTopic(topic); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("broker: publish %s: %w", topic, err)
	}
	if err := p.b.Server().Publish(topic, payload, retained, 1); err != nil {
		return fmt.Errorf("broker: publish %s on the embedded broker: %w", topic, err)
	}
	return nil
}
