// Package publish moves spooled events to an MQTT broker with paho at QoS 1:
// oldest first, a bounded window of unacknowledged publishes, and deletion
// from the spool only on the broker's PUBACK. After a lost connection it
// reconnects with backoff and replays everything not yet acknowledged, in
// order, so delivery is at least once and per-source order is kept.
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
	// Window bounds unacknowledged QoS 1 publishes (1..65535).
	Window int
	// MinBackoff and MaxBackoff bound the wait between connection attempts.
	MinBackoff, MaxBackoff time.Duration
	// Will is the retained last will; Birth is made at each connect and
	// Goodbye at a clean stop. Any may be nil.
	Will    *Message
	Birth   func() Message
	Goodbye *Message
	// Decode turns a spooled record into a message.
	Decode func(spool.Record) (Message, error)
	// OnAck, when set, is called with the time from publish to PUBACK.
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
	// Published counts publishes sent, Acked those acknowledged (both
	// include replays after a reconnect).
	Published, Acked uint64
	// InFlight is the number of unacknowledged publishes.
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

type pending struct {
	seq  uint64
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
	queue := make(chan pending, p.opts.Window)
	slots := make(chan struct{}, p.opts.Window)
	ackErr := make(chan error, 1)
	ackDone := make(chan struct{})
	go func() {
		defer close(ackDone)
		ackErr <- p.acks(ackCtx, queue, slots)
	}()

	err := p.publishLoop(ctx, c, queue, slots, lost, ackErr)
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

// publishLoop publishes spooled records in order while slots in the window
// are free.
func (p *Publisher) publishLoop(ctx context.Context, c mqtt.Client, queue chan<- pending, slots chan struct{},
	lost <-chan error, ackErr <-chan error) error {
	var cursor uint64
	batch := min(p.opts.Window, 512)
	for {
		recs, err := p.store.Next(cursor, batch)
		if err != nil {
			return fmt.Errorf("publish: read spool: %w", err)
		}
		if len(recs) == 0 {
			select {
			case <-ctx.Done():
				return nil
			case err := <-lost:
				return fmt.Errorf("publish: connection lost: %w", err)
			case err := <-ackErr:
				return err
			case <-p.wake:
			case <-time.After(time.Second):
			}
			continue
		}
		for _, r := range recs {
			cursor = r.Seq
			m, err := p.opts.Decode(r)
			if err != nil {
				p.update(func(s *Stats) { s.BadRecords++ })
				if p.opts.OnBadRecord != nil {
					p.opts.OnBadRecord(r.Seq, err)
				}
				if err := p.store.Delete(r.Seq); err != nil {
					return fmt.Errorf("publish: delete bad record %d: %w", r.Seq, err)
				}
				continue
			}
			select { // take a slot in the window
			case slots <- struct{}{}:
			case <-ctx.Done():
				return nil
			case err := <-lost:
				return fmt.Errorf("publish: connection lost: %w", err)
			case err := <-ackErr:
				return err
			}
			tok := c.Publish(m.Topic, 1, false, m.Payload)
			p.update(func(s *Stats) { s.Published++; s.InFlight++ })
			queue <- pending{seq: r.Seq, tok: tok, sent: time.Now()}
			// A publish that failed at once (not connected, write timed out)
			// must not be overtaken by the next one: end the session and
			// replay from the spool.
			select {
			case <-tok.Done():
				if err := tok.Error(); err != nil {
					return fmt.Errorf("publish: seq %d: %w", r.Seq, err)
				}
			default:
			}
		}
	}
}

// acks waits for the PUBACKs in publish order and deletes acknowledged
// records in batches. It returns an error when a publish failed (the
// connection is then replayed from the spool).
func (p *Publisher) acks(ctx context.Context, queue <-chan pending, slots <-chan struct{}) error {
	acked := make([]uint64, 0, 512)
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
		<-slots
		p.update(func(s *Stats) { s.InFlight-- })
		if err := pd.tok.Error(); err != nil {
			return fmt.Errorf("publish: seq %d: %w", pd.seq, err)
		}
		if p.opts.OnAck != nil {
			p.opts.OnAck(time.Since(pd.sent))
		}
		acked = append(acked, pd.seq)
		if len(acked) == cap(acked) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
}
