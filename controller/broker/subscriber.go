// Package broker is the controller's MQTT side: a Subscriber that takes
// the gateways' status, event and health messages from an external broker
// (mosquitto) and acknowledges each only after the ingest recorded it
// durably, a mochi-mqtt hook that gives the embedded broker the same
// guarantee before it acknowledges a gateway's publish, and publishers for
// the controller's alerts on either broker.
//
// With the external broker, the controller's session is persistent (clean
// session off, fixed client ID): messages that arrive while the controller
// is away wait on the broker, and messages delivered but not acknowledged
// when a connection or the process ends are delivered again (DUP) on the
// next connection. Delivery is at least once; the Recorder dedupes.
package broker

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ngic/ngic/controller/ingest"
	"github.com/ngic/ngic/edge/publish/brokerurl"
	"github.com/ngic/ngic/internal/retry"
	"github.com/ngic/ngic/telemetry"
)

// Options configures a Subscriber.
type Options struct {
	// Broker is the broker URL: tcp:// or mqtt:// for plain TCP, ssl://,
	// tls:// or mqtts:// for TLS, ws:// or wss:// for WebSocket. It must not
	// carry credentials: they go in Username and Password.
	Broker string
	// TLS is the TLS configuration of a TLS broker, nil meaning the
	// system's roots; it must be nil for a plaintext broker.
	TLS *tls.Config
	// Username and Password authenticate to the broker.
	Username, Password string
	// ClientID is the MQTT client identifier. It must stay the same from
	// one run to the next: the broker keeps the session (subscriptions and
	// messages not yet acknowledged) under it.
	ClientID string
	// Recorder records the messages; a message is acknowledged to the
	// broker only after Record returned nil for the batch holding it.
	Recorder ingest.Recorder
	// ShareGroup, when set, takes the events through the shared
	// subscription $share/<ShareGroup>/... so that the replicas of a
	// cluster split them (controller/cluster); status and health stay
	// plain, so every replica knows every gateway.
	ShareGroup string
	// MaxBatch is the most messages given to one Record call (default
	// DefaultMaxBatch, at most 65535).
	MaxBatch int
	// MaxBatchBytes bounds the payload bytes given to one Record call
	// (default DefaultMaxBatchBytes; a larger message goes alone), and
	// four times it the payload bytes waiting in the queue: a gateway
	// sends up to telemetry.MaxBatchEvents events a message, so a bound in
	// messages alone would let the queue hold hundreds of MB.
	MaxBatchBytes int
	// MaxDelay is the least time from the start of one batch to the
	// start of the next, unless a full batch is queued already: a message
	// waits at most MaxDelay for its batch to start (or for the batch in
	// hand to be recorded, when that takes longer). Under a steady load
	// the batches are then MaxDelay apart however fast Record is, and a
	// message after a quiet spell is recorded at once. Default
	// DefaultMaxDelay; negative: no wait, record what has arrived.
	MaxDelay time.Duration
	// OnState, when set, is told of each change of the broker connection:
	// connected with a nil error when a session starts; connected with an
	// error when the session is up but the broker refused a subscription;
	// not connected with the cause when a session is lost or an attempt
	// fails; not connected with a nil error at Close. While disconnected, a
	// cause already reported since the last change is not reported again,
	// so a broker that stays away is reported once. Calls never overlap.
	OnState func(connected bool, err error)
}

// Defaults of Options.
const (
	DefaultMaxBatch      = 2000
	DefaultMaxBatchBytes = 1 << 20
	DefaultMaxDelay      = 30 * time.Millisecond
)

// Timing of the connection and of Record retries.
const (
	keepAlive      = 30 * time.Second
	connectTimeout = 10 * time.Second
	writeTimeout   = 10 * time.Second
	// retryInterval is the wait between attempts of the first connection;
	// maxReconnect bounds paho's backoff between reconnection attempts.
	retryInterval = 2 * time.Second
	maxReconnect  = 30 * time.Second
	// recordMinBackoff and recordMaxBackoff bound the wait between
	// attempts of a batch that Record refused.
	recordMinBackoff = 100 * time.Millisecond
	recordMaxBackoff = 5 * time.Second
	// stallLimit is the longest paho's router waits for room in the
	// queue before the message is left unacknowledged for redelivery.
	stallLimit = 5 * time.Second
)

// filters are the topic filters the Subscriber subscribes to, at QoS 1.
var filters = []string{telemetry.StatusFilter, telemetry.EventFilter, telemetry.HealthFilter}

// delivery is one message as paho delivered it, with the number of the
// connection that delivered it.
type delivery struct {
	m   mqtt.Message
	gen uint64
}

// Subscriber receives the gateways' messages from a broker, records them
// and acknowledges them.
type Subscriber struct {
	o Options
	c mqtt.Client

	// in is the queue between paho's router (handle) and Run; queued
	// counts the payload bytes in it, at most maxQueued (but always one
	// message), and room tells a waiting enqueue that Run took some.
	in        chan delivery
	queued    atomic.Int64
	maxQueued int64
	room      chan struct{}
	// carry is the message Run took from in that did not fit its batch's
	// bytes: the first of the next batch. Used by Run only.
	carry    delivery
	hasCarry bool
	// gen numbers the connections: it grows before each (re)connection
	// attempt, after the previous connection's router stopped, so a
	// delivery of an ended connection is told apart and never acknowledged.
	gen atomic.Uint64
	// overflow is gen+1 of a connection on which a message was left
	// unacknowledged because the queue stayed full; 0 when none.
	overflow atomic.Uint64
	kick     chan struct{} // tells Run of an overflow
	// conn is the buffered plain TCP connection of the latest connection
	// attempt, with the connection number it was opened under (see ack);
	// nil on TLS and WebSocket.
	conn     atomic.Pointer[numberedConn]
	acks     []byte // the PUBACKs of a batch, reused by Run
	closing  chan struct{}
	closeOne sync.Once
	running  atomic.Bool
	resyncMu sync.Mutex // one resync or Close at a time

	n     counters
	state reporter

	// epoch is when Subscribe ran, and due when the next batch may start
	// (see fill), in nanoseconds since epoch (monotonic), for the
	// connection's reader (see readPause).
	epoch time.Time
	due   atomic.Int64
}

// counters are the Subscriber's statistics, updated without a lock.
type counters struct {
	connected, subscribed                         atomic.Bool
	connects                                      atomic.Uint64
	received, redelivered, deferred, resyncs      atomic.Uint64
	recorded, batches, recordErrors, acked, stale atomic.Uint64
	published, publishErrors                      atomic.Uint64
	lastError                                     atomic.Value // string
}

// Subscribe checks the options, starts connecting to the broker (retrying
// in the background until Close) and subscribes at QoS 1 to the status,
// event and health filters of every gateway (telemetry.StatusFilter,
// EventFilter, HealthFilter) on every connection. Messages wait in a
// bounded queue until Run records and acknowledges them.
func Subscribe(o Options) (*Subscriber, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	s := &Subscriber{
		o:         o,
		in:        make(chan delivery, 4*o.MaxBatch),
		maxQueued: 4 * int64(o.MaxBatchBytes),
		room:      make(chan struct{}, 1),
		kick:      make(chan struct{}, 1),
		closing:   make(chan struct{}),
		epoch:     time.Now(),
	}
	s.n.lastError.Store("")
	s.state.on = o.OnState
	co := mqtt.NewClientOptions().
		AddBroker(o.Broker).
		SetClientID(o.ClientID).
		SetUsername(o.Username).
		SetPassword(o.Password).
		SetCleanSession(false).
		SetAutoAckDisabled(true).
		SetStore(newOutboundStore()). // the broker, not paho, keeps what is received
		SetOrderMatters(true).        // handle runs in paho's router, in the broker's order, and never blocks long
		SetAutoReconnect(true).
		SetResumeSubs(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(retryInterval).
		SetMaxReconnectInterval(maxReconnect).
		SetKeepAlive(keepAlive).
		SetPingTimeout(10 * time.Second).
		SetConnectTimeout(connectTimeout).
		SetWriteTimeout(writeTimeout).
		// Every message goes to handle, including those of the persistent
		// session that arrive before the subscriptions are renewed.
		SetDefaultPublishHandler(s.handle).
		SetOnConnectHandler(s.onConnect).
		SetReconnectingHandler(func(mqtt.Client, *mqtt.ClientOptions) { s.gen.Add(1) }).
		SetConnectionNotificationHandler(s.onNotification)
	if o.TLS != nil {
		co.SetTLSConfig(o.TLS)
	}
	if plainTCP(o.Broker) {
		co.SetCustomOpenConnectionFn(func(uri *url.URL, o mqtt.ClientOptions) (net.Conn, error) {
			gen := s.gen.Load() // the reconnecting handler numbered the attempt
			c, err := openBuffered(uri, o, s.readPause)
			if err != nil {
				return nil, err
			}
			c.deliver = func(m *inboundMessage) { s.enqueue(delivery{m: m, gen: gen}) }
			s.conn.Store(&numberedConn{gen: gen, c: c})
			return c, nil
		})
	}
	s.c = mqtt.NewClient(co)
	s.c.Connect() // retries in the background; the outcome comes through onNotification
	return s, nil
}

// check validates the options and sets the defaults.
func (o *Options) check() error {
	if o.Broker == "" || o.ClientID == "" {
		return errors.New("broker: broker URL and client ID are required")
	}
	if err := brokerurl.Check(o.Broker, o.TLS != nil); err != nil {
		return fmt.Errorf("broker: %w", err)
	}
	if o.Recorder == nil {
		return errors.New("broker: no recorder")
	}
	if o.ShareGroup != "" && telemetry.ValidateName(o.ShareGroup) != nil {
		return fmt.Errorf("broker: share group %q is not a topic level", o.ShareGroup)
	}
	if o.MaxBatch == 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.MaxBatch < 1 || o.MaxBatch > 65535 {
		return fmt.Errorf("broker: max batch %d not within 1..65535", o.MaxBatch)
	}
	if o.MaxBatchBytes == 0 {
		o.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if o.MaxBatchBytes < 1 {
		return fmt.Errorf("broker: max batch bytes %d not positive", o.MaxBatchBytes)
	}
	if o.MaxDelay == 0 {
		o.MaxDelay = DefaultMaxDelay
	}
	return nil
}

// handle is paho's publish handler; it runs in paho's router. It queues
// the message for Run, waiting at most stallLimit for room. A message
// that finds no room is left unacknowledged (the broker keeps it in
// flight) and the connection is marked for a resync, after which the
// broker delivers it again; until then, further messages of the same
// connection are left unacknowledged at once, so the router never stalls
// long and memory stays bounded.
func (s *Subscriber) handle(_ mqtt.Client, m mqtt.Message) {
	s.enqueue(delivery{m: m, gen: s.gen.Load()})
}

// enqueue is handle's queueing of d, also called by a plain TCP
// connection's reader for the messages it decodes itself (see
// bufferedConn.Read), numbered with that connection's number.
func (s *Subscriber) enqueue(d delivery) {
	s.n.received.Add(1)
	if d.m.Duplicate() {
		s.n.redelivered.Add(1)
	}
	if s.overflow.Load() != d.gen+1 {
		switch s.queue(d) {
		case queuedOK:
			return
		case queueClosing:
			return // not acknowledged: delivered again to the next run
		}
		s.overflow.Store(d.gen + 1)
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
	s.n.deferred.Add(1)
}

// Outcomes of queue.
const (
	queuedOK = iota
	queueFull
	queueClosing
)

// queue puts d in the queue when it has room for it, in messages and in
// payload bytes (an empty queue always takes one), waiting for Run to take
// some at most stallLimit.
func (s *Subscriber) queue(d delivery) int {
	size := int64(len(d.m.Payload()))
	var t *time.Timer
	for {
		if q := s.queued.Add(size); q == size || q <= s.maxQueued {
			select {
			case s.in <- d:
				if t != nil {
					t.Stop()
				}
				return queuedOK
			default:
			}
		}
		s.queued.Add(-size)
		if t == nil {
			t = time.NewTimer(stallLimit)
			defer t.Stop()
		}
		select {
		case <-s.room:
		case <-t.C:
			return queueFull
		case <-s.closing:
			return queueClosing
		}
	}
}

// taken tells the queue that Run took bytes of payloads from it.
func (s *Subscriber) taken(bytes int64) {
	s.queued.Add(-bytes)
	select {
	case s.room <- struct{}{}:
	default:
	}
}

// onConnect renews the subscriptions on each connection: the broker keeps
// them in the persistent session, but a broker that lost the session (a
// restart without persistence) needs them again.
func (s *Subscriber) onConnect(c mqtt.Client) {
	gen := s.gen.Load()
	s.n.subscribed.Store(false)
	qos := make(map[string]byte, len(filters))
	for _, f := range filters {
		if f == telemetry.EventFilter && s.o.ShareGroup != "" {
			f = "$share/" + s.o.ShareGroup + "/" + f
		}
		qos[f] = 1
	}
	tok := c.SubscribeMultiple(qos, nil)
	select {
	case <-tok.Done():
	case <-s.closing:
		return
	}
	if s.gen.Load() != gen {
		return // the connection ended meanwhile; the next one subscribes again
	}
	err := tok.Error()
	if err == nil {
		var refused []string
		for f, q := range tok.(*mqtt.SubscribeToken).Result() {
			if q > 2 {
				refused = append(refused, f)
			}
		}
		if len(refused) > 0 {
			slices.Sort(refused)
			err = fmt.Errorf("broker %s refused the subscription to %s", brokerurl.Redact(s.o.Broker), strings.Join(refused, ", "))
		}
	} else {
		err = fmt.Errorf("subscribe on %s: %w", brokerurl.Redact(s.o.Broker), err)
	}
	if err != nil {
		s.n.lastError.Store(err.Error())
		s.state.report(true, err)
		return
	}
	s.n.subscribed.Store(true)
}

// onNotification follows paho's connection notifications.
func (s *Subscriber) onNotification(_ mqtt.Client, n mqtt.ConnectionNotification) {
	switch n := n.(type) {
	case mqtt.ConnectionNotificationConnected:
		s.n.connects.Add(1)
		s.n.connected.Store(true)
		s.n.lastError.Store("")
		s.state.report(true, nil)
	case mqtt.ConnectionNotificationLost:
		s.n.connected.Store(false)
		s.n.subscribed.Store(false)
		err := n.Reason
		if err == nil {
			err = errors.New("connection lost")
		}
		err = fmt.Errorf("broker %s: %w", brokerurl.Redact(s.o.Broker), err)
		s.n.lastError.Store(err.Error())
		if !s.c.IsConnectionOpen() { // not already connected again
			s.state.report(false, err)
		}
	case mqtt.ConnectionNotificationFailed:
		err := fmt.Errorf("connect %s: %w", brokerurl.Redact(s.o.Broker), n.Reason)
		s.n.lastError.Store(err.Error())
		s.state.report(false, err)
	}
}

// Run records the queued messages in batches of up to MaxBatch and
// acknowledges each batch once Record returned nil for it, in the order
// the broker delivered them. A batch that Record refuses is offered again
// with backoff, and nothing further is taken meanwhile (the broker keeps
// the rest). It returns ctx.Err() when ctx ends, after the batch in hand
// was recorded and acknowledged, or abandoned unacknowledged while Record
// still refuses it. Only one Run at a time.
func (s *Subscriber) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("broker: Run already running")
	}
	defer s.running.Store(false)
	batch := make([]delivery, 0, s.o.MaxBatch)
	msgs := make([]ingest.Message, 0, s.o.MaxBatch)
	var timer *time.Timer
	var began time.Time // when the previous batch started
	for {
		batch, msgs = batch[:0], msgs[:0]
		var bytes int
		if s.hasCarry {
			batch, bytes = append(batch, s.carry), len(s.carry.m.Payload())
			s.carry, s.hasCarry = delivery{}, false
		} else {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case d := <-s.in:
				batch, bytes = append(batch, d), len(d.m.Payload())
				s.taken(int64(bytes))
			case <-s.kick:
				s.resyncIfDrained()
				continue
			}
		}
		batch = s.fill(batch, bytes, &timer, began)
		began = time.Now()
		s.due.Store(int64(began.Add(s.o.MaxDelay).Sub(s.epoch)))
		for _, d := range batch {
			msgs = append(msgs, ingest.Message{Topic: d.m.Topic(), Payload: d.m.Payload(), Retained: d.m.Retained()})
		}
		if !s.record(ctx, msgs) {
			return ctx.Err()
		}
		s.ack(batch)
		clear(msgs) // let the payloads go
		s.resyncIfDrained()
	}
}

// fill adds queued messages to batch, which holds bytes of payloads,
// until it holds MaxBatch messages or MaxBatchBytes, or MaxDelay has
// passed since the previous batch began (at began). It waits once, until
// then, rather than waking for every message that arrives meanwhile (the
// queue holds four batches, so none waits for room), then takes what
// came: a wake per batch instead of one per message when the messages
// come slower than they are recorded. The batches of a steady load are
// thus MaxDelay apart: a Record that commits faster does not make them
// more and smaller, each paying its commit and wakes for fewer messages.
func (s *Subscriber) fill(batch []delivery, bytes int, timer **time.Timer, began time.Time) []delivery {
	batch, bytes = s.takeQueued(batch, bytes)
	if len(batch) == cap(batch) || s.hasCarry || s.o.MaxDelay < 0 {
		return batch
	}
	wait := time.Until(began.Add(s.o.MaxDelay))
	if wait <= 0 {
		return batch
	}
	if *timer == nil {
		*timer = time.NewTimer(wait)
	} else {
		(*timer).Reset(wait)
	}
	<-(*timer).C
	batch, _ = s.takeQueued(batch, bytes)
	return batch
}

// readPause is how long the connection's reader waits after a read that
// drained the connection: until readLead before the next batch is due,
// so that what comes during a batch's wait is read in one wake just
// before it starts (and the last millisecond's with Run's own wake); or
// readLead when no batch is due later (Run records at once, or waits for
// a first message: the reader then waits in its next read for one).
// Under a steady load a message thus waits for its batch as long as
// without the pause, MaxDelay at most.
func (s *Subscriber) readPause() time.Duration {
	d := time.Duration(s.due.Load()) - time.Since(s.epoch) - readLead
	if d < readLead {
		return readLead
	}
	return min(d, max(s.o.MaxDelay, readLead))
}

// takeQueued adds the messages queued to batch, which holds bytes of
// payloads, up to the batch's capacity and MaxBatchBytes; a message that
// would pass the bytes is carried to the next batch. It returns the batch
// and its bytes.
func (s *Subscriber) takeQueued(batch []delivery, bytes int) ([]delivery, int) {
	var took int64
	defer func() {
		if took > 0 {
			s.taken(took)
		}
	}()
	for len(batch) < cap(batch) && !s.hasCarry {
		select {
		case d := <-s.in:
			n := len(d.m.Payload())
			took += int64(n)
			if bytes+n > s.o.MaxBatchBytes {
				s.carry, s.hasCarry = d, true
				return batch, bytes
			}
			batch, bytes = append(batch, d), bytes+n
		default:
			return batch, bytes
		}
	}
	return batch, bytes
}

// record calls Record until it accepts msgs, with backoff between
// attempts. It returns false when ctx ended first.
func (s *Subscriber) record(ctx context.Context, msgs []ingest.Message) bool {
	backoff := recordMinBackoff
	for {
		err := s.o.Recorder.Record(msgs)
		if err == nil {
			s.n.batches.Add(1)
			s.n.recorded.Add(uint64(len(msgs)))
			return true
		}
		s.n.recordErrors.Add(1)
		s.n.lastError.Store(fmt.Sprintf("broker: record %d messages: %v", len(msgs), err))
		t := time.NewTimer(retry.Jitter(backoff))
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		backoff = min(2*backoff, recordMaxBackoff)
	}
}

// numberedConn is a buffered connection and the number of the connection
// attempt that opened it.
type numberedConn struct {
	gen uint64
	c   *bufferedConn
}

// ack acknowledges the recorded batch, in order. A message delivered by a
// connection that has ended since is not acknowledged: the broker
// delivers it again on the current one (and the Recorder dedupes it).
//
// On plain TCP the PUBACKs are written straight to the connection that
// delivered the messages, the batch's in one write: paho's Ack hands each
// one through three goroutines over unbuffered channels, a few µs of CPU
// per message. (paho keeps no state of a received QoS 1 message that its
// Ack would clear: see outboundStore; and it writes each of its own
// packets in one Write, so PUBACKs never land inside one.)
func (s *Subscriber) ack(batch []delivery) {
	gen := s.gen.Load()
	nc := s.conn.Load()
	direct := nc != nil && nc.gen == gen
	acks := s.acks[:0]
	for i, d := range batch {
		batch[i] = delivery{}
		switch {
		case d.m.Qos() == 0:
			continue
		case d.gen != gen:
			s.n.stale.Add(1)
			continue
		case direct:
			id := d.m.MessageID()
			acks = append(acks, pubackType, 2, byte(id>>8), byte(id)) // PUBACK, remaining length 2, packet identifier
		default:
			d.m.Ack()
		}
		s.n.acked.Add(1)
	}
	if len(acks) > 0 {
		// A failed write closes the connection: paho reconnects and the
		// broker delivers again what was not acknowledged.
		_ = nc.c.WriteNow(acks)
	}
	s.acks = acks
}

// pubackType is the first byte of an MQTT 3.1.1 PUBACK (type 4, no flags).
const pubackType = 0x40

// resyncIfDrained reconnects after an overflow once every message queued
// from the overflowing connection is recorded and acknowledged: the
// broker then delivers again, on the new connection, what was left
// unacknowledged.
func (s *Subscriber) resyncIfDrained() {
	gen := s.gen.Load()
	if s.overflow.Load() != gen+1 || len(s.in) > 0 || s.hasCarry {
		return
	}
	s.resyncMu.Lock()
	defer s.resyncMu.Unlock()
	select {
	case <-s.closing:
		return
	default:
	}
	// Disconnect returns once paho's router has stopped (at most after the
	// quiesce time), so the deliveries of the next connection get the
	// next number.
	s.c.Disconnect(uint(writeTimeout / time.Millisecond))
	s.n.connected.Store(false)
	s.n.subscribed.Store(false)
	s.gen.Add(1)
	s.n.resyncs.Add(1)
	s.c.Connect()
}

// Publish publishes payload on topic at QoS 1 and waits for the broker's
// PUBACK or the end of ctx. While the connection is down, the message
// waits in the client and goes out after the reconnection; a ctx that
// ends first returns its error, and the message may still be delivered.
func (s *Subscriber) Publish(ctx context.Context, topic string, payload []byte, retained bool) error {
	if err := checkTopic(topic); err != nil {
		return err
	}
	tok := s.c.Publish(topic, 1, retained, payload)
	select {
	case <-tok.Done():
	case <-ctx.Done():
		s.n.publishErrors.Add(1)
		return fmt.Errorf("broker: publish %s: %w", topic, ctx.Err())
	}
	if err := tok.Error(); err != nil {
		s.n.publishErrors.Add(1)
		return fmt.Errorf("broker: publish %s: %w", topic, err)
	}
	s.n.published.Add(1)
	return nil
}

// checkTopic checks that topic can be published to.
func checkTopic(topic string) error {
	if topic == "" || strings.ContainsAny(topic, "+#\x00") {
		return fmt.Errorf("broker: %q is not a topic one can publish to", topic)
	}
	return nil
}

// Close disconnects from the broker. Messages queued or in a batch not yet
// acknowledged stay with the broker, which delivers them again to the
// next session with the same client ID. Call it after Run returned.
func (s *Subscriber) Close() error {
	s.closeOne.Do(func() {
		close(s.closing)
		s.resyncMu.Lock()
		defer s.resyncMu.Unlock()
		s.c.Disconnect(250)
		s.n.connected.Store(false)
		s.n.subscribed.Store(false)
		s.state.report(false, nil)
	})
	return nil
}
