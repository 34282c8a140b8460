// Package publish moves spooled events to an MQTT broker with paho at QoS 1:
// oldest first, a bounded window of unacknowledged events, and deletion
// from the spool only on the broker's PUBACK. After a lost connection it
// reconnects with backoff and replays everything not yet acknowledged, in
// order, so delivery is at least once and per-source order is kept.
//
// Consecutive records of one topic already in the spool go in one message,
// a batch (telemetry.AppendToBatch), up to Opts.BatchEvents and
// Opts.BatchBytes: the publisher never waits for more to arrive, so a
// lone event leaves at once, alone, and a backlog leaves in batches. A
// message's records are deleted together on its PUBACK.
//
// On connect it publishes a retained birth message; the broker publishes the
// retained last will ("offline") when the gateway vanishes.
//
// Snapshots (PublishSnapshot), such as the gateway's periodic health, go
// straight to the broker session when one is up and are dropped otherwise:
// they never enter the spool nor the window of events.
package publish

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ngic/ngic/edge/publish/brokerurl"
	"github.com/ngic/ngic/internal/retry"
	"github.com/ngic/ngic/internal/spool"
	"github.com/ngic/ngic/telemetry"
)

// Store is the part of the spool the publisher uses.
type Store interface {
	// Next returns up to max records with Seq > after, oldest first.
	Next(after uint64, max int) ([]spool.Record, error)
	// Delete removes acknowledged records.
	Delete(seqs ...uint64) error
}

// Message is one MQTT message to publish.
type Message struct {
	// Topic is the MQTT topic.
	Topic string
	// Payload is the message body; the publisher does not reuse it.
	Payload []byte
}

// Opts configures a Publisher.
type Opts struct {
	// Broker is the broker URL: tcp:// or mqtt:// for plain TCP, ssl://,
	// tls:// or mqtts:// for TLS, ws:// or wss:// for WebSocket. It must not
	// carry credentials (user:password@): they go in Username and Password,
	// which are never shown.
	Broker string
	// ClientID is the MQTT client identifier.
	ClientID string
	// Username and Password authenticate to the broker.
	Username, Password string
	// TLS is used for TLS brokers (ssl://, tls://, mqtts://, wss://), nil
	// meaning the system's roots; it must be nil for a plaintext broker
	// (tcp://, mqtt://, ws://), which would not use it.
	TLS *tls.Config
	// KeepAlive is the MQTT keep-alive.
	KeepAlive time.Duration
	// Window bounds the events published and not yet acknowledged
	// (1..65535); the messages carrying them, each holding an MQTT packet
	// identifier until its PUBACK, are then at most as many.
	Window int
	// BatchEvents bounds the events of one message: 0 or 1 sends each
	// event alone, as its payload; at most telemetry.MaxBatchEvents.
	BatchEvents int
	// BatchBytes bounds the size of a message of several events, brackets
	// and commas included (0: DefaultBatchBytes; at least MinBatchBytes).
	// An event larger than that goes alone.
	BatchBytes int
	// MinBackoff and MaxBackoff bound the wait between connection attempts.
	MinBackoff, MaxBackoff time.Duration
	// Will is the retained last will; Birth is made at each connect and
	// Goodbye at a clean stop. Any may be nil.
	Will    *Message
	Birth   func() Message
	Goodbye *Message
	// Decode turns a spooled record into its topic and payload, the
	// payload appended to dst (the returned Payload is the extended
	// slice). The publisher copies the payload into the message and gives
	// the same dst again for the next record, so nothing need be
	// allocated.
	Decode func(dst []byte, r spool.Record) (Message, error)
	// OnAck, when set, is called for each message with the time from its
	// publish to its PUBACK.
	OnAck func(time.Duration)
	// OnBadRecord, when set, is told of a record that Decode rejects; the
	// record is then deleted so it cannot block the spool.
	OnBadRecord func(seq uint64, err error)
	// Subscriptions are subscribed to at each connect (the session is
	// clean, so a retained message is delivered again at each).
	Subscriptions []Subscription
	// OnStateChange, when set, is told of each change of the broker
	// connection, from Run's goroutine: connected with a nil error when a
	// session starts; not connected with the cause when a session is lost or
	// an attempt fails; not connected with a nil error when Run stops while
	// connected. While disconnected, a failure whose cause was already
	// reported since the last change is not reported again, so a broker that
	// stays away with the same cause (unknown CA, not authorised, refused) is
	// reported once.
	OnStateChange func(connected bool, err error)
}

// Stats are the publisher's counters.
type Stats struct {
	// Connected tells whether a broker session is up.
	Connected bool
	// Connects counts successful connections; Reconnects those after the first.
	Connects, Reconnects uint64
	// Published counts the events sent, Acked those acknowledged (both
	// include replays after a reconnect).
	Published, Acked uint64
	// Messages counts the messages that carried them, MessagesAcked those
	// acknowledged: Published/Messages is the mean batch.
	Messages, MessagesAcked uint64
	// InFlight is the number of events sent and not yet acknowledged.
	InFlight int
	// BadRecords counts records Decode rejected.
	BadRecords uint64
	// Snapshots counts the snapshots handed to a broker session
	// (PublishSnapshot); SnapshotsDropped those dropped because no session
	// was up or the session refused them at once.
	Snapshots, SnapshotsDropped uint64
	// LastError is the last connection error.
	LastError string
}

// Subscription is a topic filter a Publisher subscribes to.
type Subscription struct {
	// Topic is the topic filter, QoS the subscription's QoS.
	Topic string
	QoS   byte
	// Handle is called with each message's payload, from the MQTT
	// client's goroutine: it must not block.
	Handle func(payload []byte)
}

// Publisher publishes a spool to a broker.
type Publisher struct {
	opts  Opts
	store Store
	wake  chan struct{}

	mu     sync.Mutex
	stats  Stats
	client mqtt.Client // the session's client while connected, else nil

	// The last snapshot published and its session's client (PublishSnapshot).
	snapMu     sync.Mutex
	snapClient mqtt.Client
	snapTok    mqtt.Token

	// The state last given to OnStateChange; used by Run's goroutine only.
	reported  bool
	connected bool
	causes    map[string]bool // reported since the last change
}

// maxCauses bounds the distinct causes remembered while disconnected.
const maxCauses = 16

// New checks the options and returns a publisher of store.
func New(store Store, opts Opts) (*Publisher, error) {
	if opts.Broker == "" || opts.ClientID == "" {
		return nil, errors.New("publish: broker and client ID are required")
	}
	if err := brokerurl.Check(opts.Broker, opts.TLS != nil); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	if opts.Window < 1 || opts.Window > 65535 {
		return nil, fmt.Errorf("publish: window %d not within 1..65535", opts.Window)
	}
	if opts.Decode == nil {
		return nil, errors.New("publish: no record decoder")
	}
	if opts.BatchEvents < 0 || opts.BatchEvents > telemetry.MaxBatchEvents {
		return nil, fmt.Errorf("publish: batch of %d events not within 1..%d", opts.BatchEvents, telemetry.MaxBatchEvents)
	}
	opts.BatchEvents = max(opts.BatchEvents, 1)
	if opts.BatchBytes == 0 {
		opts.BatchBytes = DefaultBatchBytes
	}
	if opts.BatchBytes < MinBatchBytes {
		return nil, fmt.Errorf("publish: batch of %d bytes below %d", opts.BatchBytes, MinBatchBytes)
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 500 * time.Millisecond
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(30*time.Second, opts.MinBackoff)
	}
	if opts.KeepAlive <= 0 {
		opts.KeepAlive = 30 * time.Second
	}
	return &Publisher{opts: opts, store: store, wake: make(chan struct{}, 1)}, nil
}

// Notify tells the publisher that new records were spooled. It never blocks.
func (p *Publisher) Notify() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Stats returns a snapshot of the counters.
func (p *Publisher) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

func (p *Publisher) update(f func(*Stats)) {
	p.mu.Lock()
	f(&p.stats)
	p.mu.Unlock()
}

// Run connects and publishes until ctx ends, reconnecting after failures.
// At the end it waits briefly for outstanding acknowledgements, publishes
// the goodbye message and disconnects. It returns ctx.Err().
func (p *Publisher) Run(ctx context.Context) error {
	err := retry.Loop(ctx, p.opts.MinBackoff, p.opts.MaxBackoff, p.session, func(err error) {
		if err != nil {
			p.update(func(s *Stats) { s.LastError = err.Error() })
			p.report(false, err)
		}
	})
	if p.connected {
		p.report(false, nil)
	}
	return err
}

// report tells OnStateChange of a state change (see Opts.OnStateChange).
func (p *Publisher) report(connected bool, err error) {
	cause := ""
	if err != nil {
		cause = err.Error()
	}
	if p.reported && connected == p.connected && (connected || p.causes[cause]) {
		return
	}
	if !p.reported || connected != p.connected {
		p.causes = map[string]bool{}
	}
	p.reported, p.connected = true, connected
	if len(p.causes) < maxCauses {
		p.causes[cause] = true
	}
	if p.opts.OnStateChange != nil {
		p.opts.OnStateChange(connected, err)
	}
}

// StableAfter is how long a broker session must last for the next
// reconnect to start again from the shortest backoff.
const StableAfter = 10 * time.Second

// writeTimeout bounds a write to the broker.
const writeTimeout = 10 * time.Second

// pending is a message awaiting its PUBACK.
type pending struct {
	seqs []uint64 // the records it carries
	tok  mqtt.Token
	sent time.Time
}

// session runs one broker connection until it is lost or ctx ends.
func (p *Publisher) session(ctx context.Context, healthy func()) error {
	lost := make(chan error, 1)
	o := mqtt.NewClientOptions().
		AddBroker(p.opts.Broker).
		SetClientID(p.opts.ClientID).
		SetUsername(p.opts.Username).
		SetPassword(p.opts.Password).
		SetCleanSession(true).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetKeepAlive(p.opts.KeepAlive).
		SetPingTimeout(10 * time.Second).
		SetConnectTimeout(10 * time.Second).
		SetWriteTimeout(writeTimeout).
		SetOrderMatters(false).
		SetStore(nullStore{}).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			select {
			case lost <- err:
			default:
			}
		})
	if p.opts.TLS != nil {
		o.SetTLSConfig(p.opts.TLS)
	}
	if coalescable(p.opts.Broker) {
		o.SetCustomOpenConnectionFn(openConn(writeTimeout))
	}
	if w := p.opts.Will; w != nil {
		o.SetBinaryWill(w.Topic, w.Payload, 1, true)
	}
	c := mqtt.NewClient(o)
	tok := c.Connect()
	select {
	case <-tok.Done():
	case <-ctx.Done():
		c.Disconnect(0) // abandons the attempt in progress
		return nil
	}
	if err := tok.Error(); err != nil {
		return fmt.Errorf("publish: connect %s: %w", p.opts.Broker, err)
	}
	connectedAt := time.Now()
	defer func() {
		// A broker that accepts the session and drops it at once (a cloned
		// client ID, an ACL kick) keeps the backoff growing; a session that
		// held keeps the next attempt quick.
		if time.Since(connectedAt) >= StableAfter {
			healthy()
		}
	}()
	p.report(true, nil)
	p.update(func(s *Stats) {
		p.client = c
		s.Connected = true
		s.Connects++
		if s.Connects > 1 {
			s.Reconnects++
		}
		s.LastError = ""
	})
	defer p.update(func(s *Stats) { p.client = nil; s.Connected = false; s.InFlight = 0 })
	if p.opts.Birth != nil {
		b := p.opts.Birth()
		c.Publish(b.Topic, 1, true, b.Payload)
	}
	for _, s := range p.opts.Subscriptions {
		handle := s.Handle
		// Not waited for: a refused subscription (the ACL) must not end
		// the session that publishes the events.
		c.Subscribe(s.Topic, s.QoS, func(_ mqtt.Client, m mqtt.Message) { handle(m.Payload()) })
	}

	// The acknowledgements outlive a stop by a moment (see below), so their
	// context is cancelled here, not by ctx.
	ackCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	queue := make(chan pending, p.opts.Window) // a message holds at least one place of the window
	w := newWindow(p.opts.Window)
	ackErr := make(chan error, 1)
	ackDone := make(chan struct{})
	go func() {
		defer close(ackDone)
		ackErr <- p.acks(ackCtx, queue, w)
	}()

	err := p.publishLoop(ctx, c, queue, w, lost, ackErr)
	p.update(func(*Stats) { p.client = nil }) // no snapshot while the session ends
	if ctx.Err() != nil {
		// Clean stop: let the acks in flight arrive, then say goodbye.
		close(queue)
		select {
		case <-ackDone:
		case <-time.After(2 * time.Second):
		}
		cancel()
		<-ackDone
		if g := p.opts.Goodbye; g != nil && c.IsConnected() {
			c.Publish(g.Topic, 1, true, g.Payload).WaitTimeout(2 * time.Second)
		}
		c.Disconnect(250)
		return nil
	}
	cancel()
	<-ackDone
	c.Disconnect(0)
	return err
}

// PublishSnapshot publishes a message that is a snapshot of a state, not
// an event (the gateway's health), on the broker session if one is up, and
// tells whether it did. It drops the snapshot instead, and counts it
// (Stats.SnapshotsDropped), when no session is up, when the previous
// snapshot still awaits the broker's acknowledgement (so snapshots never
// pile up behind a slow broker: at most one is in flight), or when the
// session refuses it at once. It does not wait for the acknowledgement and
// never retries: the next snapshot replaces it. It takes no slot in the
// window of events and does not touch the spool, so events keep their
// order and pace. It may wait for room in the connection's outgoing queue,
// at most the write timeout (10 s). Safe for concurrent use.
//
// It is sent at QoS 1, except when Window is 65534 or more: events could
// then hold every MQTT packet identifier (the birth holds one too), and a
// snapshot taking the last one would make the next event fail and end
// the session, so snapshots then go at QoS 0, which needs none.
func (p *Publisher) PublishSnapshot(topic string, payload []byte, retained bool) bool {
	p.snapMu.Lock()
	defer p.snapMu.Unlock()
	p.mu.Lock()
	c := p.client
	p.mu.Unlock()
	if c == nil || (c == p.snapClient && p.snapTok != nil && !done(p.snapTok)) {
		p.update(func(s *Stats) { s.SnapshotsDropped++ })
		return false
	}
	qos := byte(1)
	if p.opts.Window >= 65534 {
		qos = 0
	}
	tok := c.Publish(topic, qos, retained, payload)
	if done(tok) && tok.Error() != nil { // refused at once: the session just ended
		p.update(func(s *Stats) { s.SnapshotsDropped++ })
		return false
	}
	p.snapClient, p.snapTok = c, tok
	p.update(func(s *Stats) { s.Snapshots++ })
	return true
}

// done tells whether tok has completed.
func done(tok mqtt.Token) bool {
	select {
	case <-tok.Done():
		return true
	default:
		return false
	}
}

// publishLoop publishes spooled records in order while the window has
// room, consecutive records of one topic in one message.
func (p *Publisher) publishLoop(ctx context.Context, c mqtt.Client, queue chan<- pending, w *window,
	lost <-chan error, ackErr <-chan error) error {
	l := &sender{p: p, ctx: ctx, c: c, queue: queue, w: w, lost: lost, ackErr: ackErr,
		msgs: newBuilder(min(p.opts.BatchEvents, p.opts.Window), p.opts.BatchBytes)}
	for {
		if l.msgs.empty() && ctx.Err() != nil { // a stop is seen even while the spool never empties
			return nil
		}
		r, m, ok, err := l.next()
		if err != nil || !ok {
			return err
		}
		if !l.msgs.empty() && !l.msgs.fits(m.Topic, m.Payload) {
			if err := l.send(); err != nil {
				return err
			}
		}
		for !w.take() { // a place in the window; the message built leaves meanwhile
			if !l.msgs.empty() {
				if err := l.send(); err != nil {
					return err
				}
			}
			if ok, err := l.wait(w.freed, nil); !ok {
				return err
			}
		}
		l.msgs.add(r.Seq, m.Topic, m.Payload)
		l.recs, l.cursor = l.recs[1:], r.Seq
		if l.msgs.full() {
			if err := l.send(); err != nil {
				return err
			}
		}
	}
}

// sender is the state of a session's publishLoop.
type sender struct {
	p            *Publisher
	ctx          context.Context
	c            mqtt.Client
	queue        chan<- pending
	w            *window
	lost, ackErr <-chan error
	msgs         *builder

	cursor  uint64         // the last record taken from the spool
	recs    []spool.Record // read from the spool, not yet taken
	scratch []byte         // Decode's dst
}

// next returns the next good record of the spool, decoded, without taking
// it (recs[0]). Bad records on the way are deleted and counted. When the
// spool holds nothing more, it sends the message built and waits for the
// spool; ok is false when the session ends.
func (l *sender) next() (r spool.Record, m Message, ok bool, err error) {
	for {
		if len(l.recs) == 0 {
			if l.recs, err = l.p.store.Next(l.cursor, min(l.p.opts.Window, 512)); err != nil {
				return r, m, false, fmt.Errorf("publish: read spool: %w", err)
			}
		}
		if len(l.recs) == 0 {
			if !l.msgs.empty() { // leaves now: nothing waits for more
				if err := l.send(); err != nil {
					return r, m, false, err
				}
				continue
			}
			if ok, err := l.wait(l.p.wake, time.After(time.Second)); !ok {
				return r, m, false, err
			}
			continue
		}
		r = l.recs[0]
		if m, err = l.p.opts.Decode(l.scratch[:0], r); err == nil {
			l.scratch = m.Payload[:0]
			return r, m, true, nil
		}
		l.recs, l.cursor = l.recs[1:], r.Seq
		l.p.update(func(s *Stats) { s.BadRecords++ })
		if l.p.opts.OnBadRecord != nil {
			l.p.opts.OnBadRecord(r.Seq, err)
		}
		if err := l.p.store.Delete(r.Seq); err != nil {
			return r, m, false, fmt.Errorf("publish: delete bad record %d: %w", r.Seq, err)
		}
	}
}

// send publishes the message built and queues it for its PUBACK.
func (l *sender) send() error {
	b := l.msgs.take()
	tok := l.c.Publish(b.topic, 1, false, b.payload())
	n := len(b.seqs)
	l.p.update(func(s *Stats) { s.Published += uint64(n); s.Messages++; s.InFlight += n })
	l.queue <- pending{seqs: b.seqs, tok: tok, sent: time.Now()}
	// A publish that failed at once (not connected, write timed out) must
	// not be overtaken by the next one: end the session and replay from
	// the spool.
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			return fmt.Errorf("publish: seqs %d..%d: %w", b.seqs[0], b.seqs[n-1], err)
		}
	default:
	}
	return nil
}

// wait waits for wake (the spool or the window) or timeout; ok is false
// when the session ends instead, err then saying why (nil: ctx ended).
func (l *sender) wait(wake <-chan struct{}, timeout <-chan time.Time) (ok bool, err error) {
	select {
	case <-l.ctx.Done():
		return false, nil
	case err := <-l.lost:
		return false, fmt.Errorf("publish: connection lost: %w", err)
	case err := <-l.ackErr:
		return false, err
	case <-wake:
	case <-timeout:
	}
	return true, nil
}

// acks waits for the PUBACKs in publish order and deletes acknowledged
// records in batches. It returns an error when a publish failed (the
// connection is then replayed from the spool).
func (p *Publisher) acks(ctx context.Context, queue <-chan pending, w *window) error {
	acked := make([]uint64, 0, ackFlush+telemetry.MaxBatchEvents)
	flush := func() error {
		if len(acked) == 0 {
			return nil
		}
		err := p.store.Delete(acked...)
		n := len(acked)
		acked = acked[:0]
		p.update(func(s *Stats) { s.Acked += uint64(n) })
		if err != nil {
			return fmt.Errorf("publish: delete acknowledged records: %w", err)
		}
		return nil
	}
	defer flush()
	for {
		var pd pending
		var ok bool
		select {
		case pd, ok = <-queue:
		default:
			if err := flush(); err != nil {
				return err
			}
			select {
			case pd, ok = <-queue:
			case <-ctx.Done():
				return nil
			}
		}
		if !ok {
			return flush()
		}
		select {
		case <-pd.tok.Done():
		default:
			if err := flush(); err != nil {
				return err
			}
			select {
			case <-pd.tok.Done():
			case <-ctx.Done():
				return nil
			}
		}
		n, err := len(pd.seqs), pd.tok.Error()
		w.release(n)
		p.update(func(s *Stats) {
			s.InFlight -= n
			if err == nil {
				s.MessagesAcked++
			}
		})
		if err != nil {
			return fmt.Errorf("publish: seqs %d..%d: %w", pd.seqs[0], pd.seqs[n-1], err)
		}
		if p.opts.OnAck != nil {
			p.opts.OnAck(time.Since(pd.sent))
		}
		acked = append(acked, pd.seqs...)
		if len(acked) >= ackFlush {
			if err := flush(); err != nil {
				return err
			}
		}
	}
}

// ackFlush is how many acknowledged records are deleted at once at most
// while PUBACKs keep coming.
const ackFlush = 512
