// Package gateway is the ngic-edge daemon assembled: readers and photo-eyes
// produce events, which are persisted in the spool before anything else
// happens to them, then published to MQTT and deleted on the broker's ack.
// It also serves the gateway's /healthz and /metrics.
package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/ngic/ngic/drivers/gpio/gpiopins"
	"github.com/ngic/ngic/drivers/gpio/photoeye"
	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/drivers/rfid/link"
	"github.com/ngic/ngic/edge/config"
	"github.com/ngic/ngic/edge/publish"
	"github.com/ngic/ngic/edge/publish/brokerurl"
	"github.com/ngic/ngic/edge/reading"
	"github.com/ngic/ngic/edge/smooth"
	"github.com/ngic/ngic/internal/buildinfo"
	"github.com/ngic/ngic/internal/mqttembed"
	"github.com/ngic/ngic/internal/spool"
	"github.com/ngic/ngic/internal/yamlconf"
	"github.com/ngic/ngic/telemetry"
)

// Opts are what the daemon's main hands the gateway besides its config.
type Opts struct {
	// Logger receives the gateway's logs; nil discards them.
	Logger *slog.Logger
	// OpenPin opens a GPIO pin by name; nil uses the Linux character device.
	OpenPin func(name string) (gpio.PinIO, error)
	// OpenPort opens a reader's serial port; nil uses tarm/serial.
	OpenPort link.Opener
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// UpdateCommand, when set, is given the payload of each message on
	// the gateway's update command topic (telemetry.CommandTopic); it must
	// not block.
	UpdateCommand func(payload []byte)
}

// Gateway is a configured edge daemon.
type Gateway struct {
	cfg  *config.Config
	opts Opts
	log  *slog.Logger
	now  func() time.Time

	spool   *spool.Spool
	pub     *publish.Publisher
	readers []*reader
	sensors []*sensor
	pairs   []*pair
	metrics *metrics
	// enc encodes events as spool records; the spooler's only.
	enc *encoder

	events   chan queued
	spoolErr atomic.Value // string: the last spool append error, "" once it stores again
	started  time.Time

	// presenceReset is true when the last run did not end cleanly; births
	// say so until one has been made (see birth).
	presenceReset bool
	births        atomic.Uint64
	// reportFailing is set while loss reports cannot be spooled (used by
	// the spooler, and by Run once the spooler has ended).
	reportFailing bool
	// orphans are tags present before the restart at readers no longer
	// configured; they depart when Run starts.
	orphans []orphan
	// movedAside names the damaged spool file New moved aside, if any.
	movedAside string
	// lostAtStart are the spool's loss counts when New opened it (see
	// healthMessage).
	lostAtStart [spool.NumReasons]uint64
	httpAddr    atomic.Value // string
	broker      *mqttembed.Broker
	// update is the latest update report (SetUpdate), carried in the
	// status; statusWake asks statusLoop to republish it.
	update     atomic.Pointer[telemetry.UpdateReport]
	statusWake chan struct{}
}

type reader struct {
	cfg    config.Reader
	proto  rfid.Protocol
	link   *link.Link
	smooth *smooth.Smoother
}

type sensor struct {
	cfg    config.Sensor
	s      *photoeye.Sensor
	inPair bool
	mu     sync.Mutex
	last   photoeye.Event
}

type pair struct {
	cfg config.Pair
	p   *photoeye.Pair
}

// New opens the spool, the readers' links and the sensors' pins. It fails
// with an error naming the part that could not be set up.
func New(cfg *config.Config, opts Opts) (*Gateway, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.OpenPin == nil {
		opts.OpenPin = gpiopins.Open
	}
	g := &Gateway{cfg: cfg, opts: opts, log: opts.Logger, now: opts.Now,
		events: make(chan queued, 4096), started: opts.Now(), statusWake: make(chan struct{}, 1)}
	g.spoolErr.Store("")
	g.httpAddr.Store("")
	for _, rc := range cfg.Readers {
		proto, err := rfid.Lookup(rc.Protocol)
		if err != nil {
			return nil, fmt.Errorf("gateway: reader %s: %w", rc.Name, err)
		}
		l, err := link.New(proto, link.Opts{Device: rc.Device, Baud: rc.Baud, Session: rc.SessionOptions(), Open: opts.OpenPort})
		if err != nil {
			return nil, fmt.Errorf("gateway: reader %s: %w", rc.Name, err)
		}
		g.readers = append(g.readers, &reader{cfg: rc, proto: proto, link: l, smooth: smooth.New(rc.DepartAfter)})
	}
	inPair := map[string]bool{}
	for _, pc := range cfg.Pairs {
		inPair[pc.Outer], inPair[pc.Inner] = true, true
	}
	byName := map[string]*sensor{}
	for _, sc := range cfg.Sensors {
		pin, err := opts.OpenPin(sc.Pin)
		if err != nil {
			return nil, fmt.Errorf("gateway: sensor %s: %w", sc.Name, err)
		}
		so := photoeye.DefaultOpts
		so.Name = sc.Name
		so.Debounce = sc.Debounce
		so.HeldAfter = sc.HeldAfter
		so.Now = opts.Now
		if sc.Active == "high" {
			so.ActiveLevel = gpio.High
		}
		switch sc.Pull {
		case "up":
			so.Pull = gpio.PullUp
		case "down":
			so.Pull = gpio.PullDown
		case "float":
			so.Pull = gpio.Float
		case "none", "":
			so.Pull = gpio.PullNoChange
		}
		s, err := photoeye.New(pin, &so)
		if err != nil {
			return nil, fmt.Errorf("gateway: sensor %s: %w", sc.Name, err)
		}
		sn := &sensor{cfg: sc, s: s, inPair: inPair[sc.Name]}
		g.sensors = append(g.sensors, sn)
		byName[sc.Name] = sn
	}
	for _, pc := range cfg.Pairs {
		p, err := photoeye.NewPair(&photoeye.PairOpts{Outer: pc.Outer, Inner: pc.Inner, Simultaneous: 2 * time.Millisecond})
		if err != nil {
			return nil, fmt.Errorf("gateway: pair %s: %w", pc.Name, err)
		}
		g.pairs = append(g.pairs, &pair{cfg: pc, p: p})
	}
	ov := spool.DropOldest
	if cfg.Spool.Overflow == "reject-new" {
		ov = spool.RejectNew
	}
	so := spool.Options{MaxBytes: cfg.Spool.MaxBytes, MaxRecords: cfg.Spool.MaxRecords, Overflow: ov, EventTime: recordTime}
	sp, err := spool.Open(cfg.Spool.Path, so)
	if errors.Is(err, spool.ErrCorrupt) {
		// Never repaired: kept aside for inspection, and a new spool
		// numbers its events above any the damaged one can have used.
		moved, merr := spool.MoveAside(cfg.Spool.Path, opts.Now())
		if merr != nil {
			return nil, fmt.Errorf("gateway: %w; moving it aside: %w", err, merr)
		}
		g.log.Error("spool file is damaged: moved aside, starting a new spool; its unpublished events are lost",
			"file", cfg.Spool.Path, "moved_to", moved, "err", err)
		g.movedAside = moved
		so.SeqFloor = uint64(opts.Now().UnixMicro())
		sp, err = spool.Open(cfg.Spool.Path, so)
	}
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	g.spool = sp
	g.lostAtStart = sp.Stats().Lost
	if err := g.restorePresence(); err != nil {
		sp.Close()
		return nil, err
	}
	g.metrics = newMetrics(g)
	g.enc = newEncoder(cfg.Gateway, g.metrics.events)
	pub, err := g.newPublisher()
	if err != nil {
		sp.Close()
		return nil, err
	}
	g.pub = pub
	return g, nil
}

func (g *Gateway) newPublisher() (*publish.Publisher, error) {
	m := g.cfg.MQTT
	broker := m.Broker
	if broker == "embedded" {
		broker = "tcp://" + m.EmbeddedListen
	}
	password, err := yamlconf.Secret(m.PasswordFile, "NGIC_MQTT_PASSWORD")
	if err != nil {
		return nil, fmt.Errorf("gateway: mqtt.password_file: %w", err)
	}
	var tlsConf *tls.Config
	if brokerurl.IsTLS(broker) {
		c, key, err := m.TLS.Config()
		if err != nil {
			return nil, fmt.Errorf("gateway: mqtt.tls.%s: %w", key, err)
		}
		tlsConf = c
	}
	will, _ := telemetry.EncodeStatus(&telemetry.Status{V: telemetry.SchemaVersion, Gateway: g.cfg.Gateway, State: telemetry.StateOffline})
	topic := telemetry.StatusTopic(g.cfg.Gateway)
	return publish.New(ackStore{g.spool}, publish.Opts{
		Broker: broker, ClientID: m.ClientID, Username: m.Username, Password: password, TLS: tlsConf,
		KeepAlive: m.KeepAlive, Window: m.Window, MinBackoff: m.MinBackoff, MaxBackoff: m.MaxBackoff,
		BatchEvents: m.BatchEvents, BatchBytes: m.BatchBytes,
		Will:          &publish.Message{Topic: topic, Payload: will},
		Goodbye:       &publish.Message{Topic: topic, Payload: will},
		Birth:         func() publish.Message { return publish.Message{Topic: topic, Payload: g.birth()} },
		Decode:        newRecordDecoder().decode,
		Subscriptions: g.subscriptions(),
		OnAck:         func(d time.Duration) { g.metrics.publishLatency.Observe(d.Seconds()) },
		// A record that cannot be read back is discarded and counted
		// lost, so the far end is told of the gap by an events.lost event.
		OnBadRecord: func(seq uint64, err error) {
			g.log.Error("discarding unreadable spooled record; reported as lost", "seq", seq, "err", err)
			if derr := g.spool.Discard(spool.ReasonUnreadable, seq); derr != nil {
				g.log.Error("cannot record the unreadable record as lost", "seq", seq, "err", derr)
			}
		},
		// Each change of the broker connection is logged once, with its cause
		// (publish.New refuses a broker URL with credentials in it).
		OnStateChange: func(connected bool, err error) {
			switch {
			case connected:
				g.log.Info("broker connected", "broker", brokerurl.Redact(broker))
			case err != nil:
				g.log.Warn("broker unavailable", "broker", brokerurl.Redact(broker), "err", err)
			default:
				g.log.Info("broker disconnected", "broker", brokerurl.Redact(broker))
			}
		},
	})
}

// ackStore is the spool as the publisher's store: a record the broker
// acknowledged is deleted by the spool's next write, with the events it
// appends (spool.Acknowledge), rather than by a commit and fsync of its own.
type ackStore struct{ *spool.Spool }

// Delete acknowledges seqs; it cannot fail.
func (a ackStore) Delete(seqs ...uint64) error {
	a.Acknowledge(seqs...)
	return nil
}

// subscriptions are the gateway's command topics it has a handler for.
func (g *Gateway) subscriptions() []publish.Subscription {
	if g.opts.UpdateCommand == nil {
		return nil
	}
	return []publish.Subscription{{Topic: telemetry.CommandTopic(g.cfg.Gateway, telemetry.CommandUpdate), QoS: 1,
		Handle: g.opts.UpdateCommand}}
}

func (g *Gateway) birth() []byte { return g.status(true) }

// status returns the online status; connect is true for the birth made at
// each connect, false for a republish within a session (SetUpdate).
func (g *Gateway) status(connect bool) []byte {
	now := g.now().UTC()
	st := &telemetry.Status{V: telemetry.SchemaVersion, Gateway: g.cfg.Gateway, State: telemetry.StateOnline,
		Time: &now, Version: buildinfo.String(), Update: g.update.Load()}
	// Only the first birth of a run resets presence: a consumer that
	// forgot on a later one would not hear of the tags re-announced since.
	st.PresenceReset = connect && g.presenceReset && g.births.Add(1) == 1
	for _, r := range g.cfg.Readers {
		st.Readers = append(st.Readers, telemetry.ReaderInfo{Name: r.Name, Protocol: r.Protocol, Device: r.Device})
	}
	for _, s := range g.cfg.Sensors {
		st.Sensors = append(st.Sensors, telemetry.SensorInfo{Name: s.Name, Pin: s.Pin})
	}
	b, _ := telemetry.EncodeStatus(st)
	return b
}

// HTTPAddr returns the address the status server listens on, once Run has
// started it ("" before, or when disabled).
func (g *Gateway) HTTPAddr() string { return g.httpAddr.Load().(string) }

// Run runs the gateway until ctx ends, then stops the readers and sensors,
// spools what they produced, publishes a last time and closes the spool.
func (g *Gateway) Run(ctx context.Context) error {
	defer g.spool.Close() // after the clean close below, a no-op
	if g.cfg.MQTT.Broker == "embedded" {
		if err := g.startEmbeddedBroker(); err != nil {
			return err
		}
		defer g.broker.Close()
	}
	var srv *http.Server
	if g.cfg.HTTP.Listen != "off" {
		ln, err := net.Listen("tcp", g.cfg.HTTP.Listen)
		if err != nil {
			return fmt.Errorf("gateway: http.listen: %w", err)
		}
		g.httpAddr.Store(ln.Addr().String())
		srv = &http.Server{Handler: g.Handler(), ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		g.log.Info("status server listening", "addr", ln.Addr().String())
	}

	pubCtx, stopPub := context.WithCancel(context.WithoutCancel(ctx))
	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		g.pub.Run(pubCtx)
	}()
	// Until a clean stop says otherwise, the next start is told this run
	// did not end cleanly.
	if err := g.spool.SetState(spool.KV{Key: []byte(keyRun), Value: []byte(runRunning)}); err != nil {
		g.log.Warn("cannot mark the spool as in use; a crash of this run may go unnoticed by the next", "err", err)
	}
	spoolDone := make(chan struct{})
	go func() {
		defer close(spoolDone)
		g.spooler()
	}()
	statusDone := make(chan struct{})
	go func() {
		defer close(statusDone)
		g.statusLoop(ctx)
	}()
	healthDone := make(chan struct{})
	go func() {
		defer close(healthDone)
		if every := g.cfg.Health.Every; every > 0 {
			g.healthLoop(ctx, every)
		}
	}()
	for _, o := range g.orphans {
		g.emit(o.departure(g))
	}

	var producers sync.WaitGroup
	for _, r := range g.readers {
		producers.Add(2)
		go func() { defer producers.Done(); g.runReader(ctx, r) }()
		go func() { defer producers.Done(); g.expireLoop(ctx, r) }()
	}
	paired := map[string]*sensor{}
	for _, s := range g.sensors {
		paired[s.cfg.Name] = s
		if s.inPair {
			continue
		}
		producers.Add(2)
		go func() {
			defer producers.Done()
			if err := s.s.Run(ctx); err != nil && ctx.Err() == nil {
				g.log.Error("sensor stopped", "sensor", s.cfg.Name, "err", err)
			}
		}()
		go func() {
			defer producers.Done()
			for {
				select {
				case ev, ok := <-s.s.Events():
					if !ok { // the sensor stopped
						return
					}
					g.sensorEvent(s, ev)
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	for _, p := range g.pairs {
		producers.Add(1)
		go func() {
			defer producers.Done()
			outer, inner := paired[p.cfg.Outer], paired[p.cfg.Inner]
			err := p.p.Run(ctx, outer.s, inner.s, func(ev photoeye.Event) {
				g.sensorEvent(paired[ev.Sensor], ev)
			}, func(ps photoeye.Passage) { g.passage(p, ps) })
			if err != nil && ctx.Err() == nil {
				g.log.Error("sensor pair stopped", "pair", p.cfg.Name, "err", err)
			}
		}()
	}
	g.log.Info("gateway running", "gateway", g.cfg.Gateway, "readers", len(g.readers), "sensors", len(g.sensors),
		"broker", brokerurl.Redact(g.cfg.MQTT.Broker), "spool", g.cfg.Spool.Path)

	<-ctx.Done()
	producers.Wait()
	<-healthDone
	<-statusDone
	// Tags still present depart with the reader.
	for _, r := range g.readers {
		for _, p := range r.smooth.Flush() {
			g.emit(g.tagEvent(r, p, telemetry.TagDeparted, g.now()))
		}
	}
	// The spooler stores what is in hand; if the disk stays full it gives
	// up after StopGrace and the spool counts the held events lost.
	close(g.events)
	<-spoolDone
	g.pub.Notify()
	// Give the publisher a moment to drain what is acknowledged quickly;
	// the rest stays spooled for the next start.
	// Losses counted while an earlier report was in flight are reported
	// once it is acknowledged (the spooler has ended: no other writer).
	drain := time.Now().Add(2 * time.Second)
	for time.Now().Before(drain) && g.pub.Stats().Connected {
		st := g.spool.Stats()
		if st.Records == 0 && st.Unreported == 0 {
			break
		}
		if st.Unreported > 0 {
			g.reportLosses()
			g.pub.Notify()
		}
		time.Sleep(20 * time.Millisecond)
	}
	stopPub()
	<-pubDone
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		srv.Shutdown(sctx)
		cancel()
	}
	if st := g.spool.Stats(); st.Held == 0 {
		if err := g.spool.SetState(spool.KV{Key: []byte(keyRun), Value: []byte(runStopped)}); err != nil {
			g.log.Warn("cannot mark the spool as cleanly stopped; the next start will reset presence", "err", err)
		}
	}
	if err := g.spool.Close(); err != nil {
		g.log.Error("closing the spool", "err", err)
	}
	g.log.Info("gateway stopped", "spooled", g.spool.Stats().Records)
	return nil
}

func (g *Gateway) startEmbeddedBroker() error {
	b, err := mqttembed.Start(g.cfg.MQTT.EmbeddedListen, g.log.With("component", "broker"))
	if err != nil {
		return fmt.Errorf("gateway: embedded broker: %w", err)
	}
	g.broker = b
	g.log.Info("embedded broker listening", "addr", b.Addr())
	return nil
}

// runReader runs a reader's link, turning arrivals into events.
func (g *Gateway) runReader(ctx context.Context, r *reader) {
	reads := g.metrics.reads.WithLabelValues(r.cfg.Name)
	err := r.link.Run(ctx, func(rd rfid.Read) {
		reads.Inc()
		g.onRead(r, rd)
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		g.log.Error("reader stopped", "reader", r.cfg.Name, "err", err)
	}
}

// onRead smooths one raw read; an arrival becomes an event.
func (g *Gateway) onRead(r *reader, rd rfid.Read) {
	now := g.now()
	if p, arrived := r.smooth.Observe(rd, now); arrived {
		g.emit(g.tagEvent(r, p, telemetry.TagArrived, now))
	}
}

// expireLoop turns tags unseen for DepartAfter into departures.
func (g *Gateway) expireLoop(ctx context.Context, r *reader) {
	tick := max(r.smooth.DepartAfter()/8, 10*time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	wasConnected := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st := r.link.State()
		if st.Connected != wasConnected {
			if st.Connected {
				// Tags present before a restart depart from now on unless read.
				r.smooth.Release(g.now())
				g.log.Info("reader connected", "reader", r.cfg.Name, "device", r.cfg.Device)
			} else {
				g.log.Warn("reader disconnected", "reader", r.cfg.Name, "device", r.cfg.Device, "err", st.LastError)
			}
			wasConnected = st.Connected
		}
		now := g.now()
		for _, p := range r.smooth.Expire(now) {
			g.emit(g.tagEvent(r, p, telemetry.TagDeparted, now))
		}
	}
}

// queued is an event on its way to the spooler. A tag event's Tag and RSSI
// travel in it by value, costing no allocation: the spooler copies them
// into its one Tag and points the event at it while it encodes it.
type queued struct {
	e       telemetry.Event
	tag     telemetry.Tag
	rssi    int
	hasTag  bool
	hasRSSI bool
}

func (g *Gateway) tagEvent(r *reader, p smooth.Presence, typ string, at time.Time) queued {
	q := queued{e: telemetry.Event{Source: r.cfg.Name, Type: typ, Time: at.UTC()}, hasTag: true,
		tag: telemetry.Tag{ID: p.Tag, Protocol: r.cfg.Protocol, Antenna: p.Antenna,
			FirstSeen: p.FirstSeen.UTC(), LastSeen: p.LastSeen.UTC(), EPC: reading.EPC(r.cfg.Protocol, p.Raw)},
		rssi: p.MaxRSSI, hasRSSI: p.HasRSSI}
	if typ == telemetry.TagDeparted {
		q.tag.Reads = p.Reads
	}
	return q
}

func (g *Gateway) sensorEvent(s *sensor, ev photoeye.Event) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.last = ev
	s.mu.Unlock()
	var typ string
	switch ev.Kind {
	case photoeye.Blocked:
		typ = telemetry.BeamBlocked
	case photoeye.Cleared:
		typ = telemetry.BeamCleared
	case photoeye.Held:
		typ = telemetry.BeamHeld
		g.log.Warn("beam held", "sensor", s.cfg.Name, "for", ev.Duration.String())
	default:
		return
	}
	g.emit(queued{e: telemetry.Event{Source: s.cfg.Name, Type: typ, Time: ev.At.UTC(), Beam: &telemetry.Beam{DurationS: ev.Duration.Seconds()}}})
}

func (g *Gateway) passage(p *pair, ps photoeye.Passage) {
	c := p.p.Counts()
	g.emit(queued{e: telemetry.Event{Source: p.cfg.Name, Type: telemetry.Passage, Time: ps.At.UTC(),
		PassageInfo: &telemetry.PassageInfo{Direction: ps.Direction.String(), DurationS: ps.Duration.Seconds(), In: c.In, Out: c.Out}}})
}

// emit stamps an event and hands it to the spooler, which gives it its ID;
// it blocks when the spooler is behind (back-pressure to the readers,
// never a drop). The spooler never waits for a full disk, so this wait is
// short.
func (g *Gateway) emit(q queued) {
	q.e.V = telemetry.SchemaVersion
	q.e.ID = ""
	q.e.Gateway = g.cfg.Gateway
	g.events <- q
}

// maxBatch bounds the events the spooler stores in one commit. Larger
// batches mean fewer commits (each with two fsyncs) while a backlog
// drains, at the cost of longer transactions: at 2048, about one commit
// per 1,000 events under full load, against four at 512.
const maxBatch = 2048

// StopGrace is how long a stop waits for a full disk to take the events
// held in memory before they are counted lost.
const StopGrace = 10 * time.Second

// spooler hands events to the spool in batches, one fsync per batch. The
// spool gives every event a sequence number; on a full disk it holds a
// bounded number in memory and counts the rest lost, and the spooler
// retries (Flush) with backoff while it goes on taking events, so readers
// never wait for the disk. It also turns the spool's loss ledger into
// events.lost records as soon as the spool can take them.
func (g *Gateway) spooler() {
	// A batch is whatever waits, up to maxBatch: one commit and its
	// fsyncs, so the slower the disk, the larger the batches.
	batch := make([]spool.Event, 0, maxBatch)
	kinds := make([][2]string, 0, maxBatch)
	var tag telemetry.Tag // a tag event's, while it is encoded
	var rssi int
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	retry := newBackoff()
	for {
		select {
		case e, ok := <-g.events:
			if !ok {
				g.finishSpooling(retry)
				return
			}
			batch, kinds = batch[:0], kinds[:0]
			add := func(q queued) {
				e := q.e
				if q.hasTag { // into the spooler's one Tag: the encoder keeps nothing of it
					tag, tag.RSSI = q.tag, nil
					if q.hasRSSI {
						rssi = q.rssi
						tag.RSSI = &rssi
					}
					e.Tag = &tag
				}
				rec, err := g.spoolEvent(&e)
				if err != nil {
					g.log.Error("dropping an invalid event", "source", q.e.Source, "type", q.e.Type, "err", err)
					return
				}
				batch = append(batch, rec)
				kinds = append(kinds, [2]string{q.e.Source, q.e.Type}) // q's, not e's: e would then leave the stack
			}
			add(e)
		more:
			for len(batch) < cap(batch) {
				select {
				case e, ok := <-g.events:
					if !ok {
						break more
					}
					add(e)
				default:
					break more
				}
			}
			if len(batch) == 0 {
				continue
			}
			g.append(batch, retry)
			for _, k := range kinds {
				g.enc.count(k[0], k[1])
			}
			clear(batch) // keeps no record (nor its buffer) alive till the next batch
		case <-tick.C:
			g.flush(retry)
		}
		g.reportLosses()
		g.pub.Notify()
	}
}

// append hands a batch to the spool.
func (g *Gateway) append(batch []spool.Event, retry *backoff) {
	_, err := g.spool.AppendEvents(batch...)
	switch {
	case err == nil:
	case errors.Is(err, spool.ErrDiskFull):
		if g.spoolErr.Load().(string) == "" {
			g.log.Error("cannot spool events: holding some in memory, counting the rest lost, retrying",
				"max_held", spool.DefaultMaxHeld, "err", err)
			retry.start()
		}
		g.spoolErr.Store(err.Error())
	default:
		g.spoolErr.Store(err.Error())
		g.log.Error("cannot spool events", "events", len(batch), "err", err)
	}
}

// flush retries storing held events when the backoff allows.
func (g *Gateway) flush(retry *backoff) {
	// Losses a restart found while the disk was full wait for a Flush too
	// (Flush is a no-op when nothing waits).
	if st := g.spool.Stats(); st.Held == 0 && st.Unreported == 0 && g.spoolErr.Load().(string) == "" {
		return
	}
	if !retry.due() {
		return
	}
	if err := g.spool.Flush(); err != nil {
		g.spoolErr.Store(err.Error())
		retry.fail()
		return
	}
	if g.spoolErr.Load().(string) != "" {
		st := g.spool.Stats()
		g.log.Info("spool stores events again", "lost_disk_full", st.Lost[spool.ReasonDiskFull])
	}
	g.spoolErr.Store("")
	retry.reset()
}

// finishSpooling gives held events StopGrace to reach the disk at a stop.
func (g *Gateway) finishSpooling(retry *backoff) {
	deadline := time.Now().Add(StopGrace)
	for g.spool.Stats().Held > 0 && time.Now().Before(deadline) {
		if err := g.spool.Flush(); err == nil {
			g.spoolErr.Store("")
			break
		}
		time.Sleep(min(retry.wait(), time.Until(deadline)))
		retry.fail()
	}
	if n := g.spool.Stats().Held; n > 0 {
		g.log.Error("stopping with events the full disk did not take: counted lost", "events", n)
	}
	g.reportLosses()
}

// reportLosses spools an events.lost record per reason for the losses the
// spool counted, and logs them.
func (g *Gateway) reportLosses() {
	if g.spool.Stats().Unreported == 0 {
		return
	}
	var reported []spool.Loss
	_, err := g.spool.ReportLosses(func(l spool.Loss) ([]byte, error) {
		reported = append(reported, l)
		return g.lossRecord(l)
	})
	if err != nil {
		// Retried every flush while the disk stays full: said once.
		if !g.reportFailing {
			g.log.Error("cannot spool the report of lost events; retrying until the disk takes it", "err", err)
			g.reportFailing = true
		}
		return
	}
	if g.reportFailing {
		g.log.Info("report of lost events spooled again")
		g.reportFailing = false
	}
	for _, l := range reported {
		g.log.Warn("events lost", "reason", lossReason(l.Reason), "count", l.Count,
			"first_seq", l.FirstSeq, "last_seq", l.LastSeq)
	}
}

// backoff paces retries of a full disk: 100 ms doubling to 5 s.
type backoff struct {
	now  func() time.Time
	d    time.Duration
	next time.Time
}

// newBackoff paces on the real clock (Opts.Now may be a test's fake).
func newBackoff() *backoff { return &backoff{now: time.Now, d: 100 * time.Millisecond} }

func (b *backoff) start()              { b.d = 100 * time.Millisecond; b.next = b.now().Add(b.d) }
func (b *backoff) due() bool           { return !b.now().Before(b.next) }
func (b *backoff) wait() time.Duration { return b.d }
func (b *backoff) reset()              { b.d = 100 * time.Millisecond; b.next = time.Time{} }
func (b *backoff) fail() {
	b.d = min(b.d*2, 5*time.Second)
	b.next = b.now().Add(b.d)
}
