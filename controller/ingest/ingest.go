// Package ingest is the controller's durable ingest of the messages edge
// gateways publish (see telemetry): it validates every payload, writes the
// InfluxDB lines of events and health messages, and keeps in a bbolt file
// the state derived from them (gateways online or offline, sequence
// numbers, gaps and losses, tags present per reader, doors, passages), so
// that a message is acknowledged to the broker only once it is recorded
// and a redelivery counts nothing twice. It knows nothing of MQTT: the
// broker side hands it batches through the Recorder interface.
package ingest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ngic/ngic/controller/alerts"
	"github.com/ngic/ngic/telemetry"
)

// Defaults of Options.
const (
	DefaultOfflineAfter = 3 * time.Minute
	DefaultMaxPayload   = 64 << 10
)

// Bounds of the site state per gateway: past them a new tag, door or pair
// is not kept (counted in Counts.OverBound).
const (
	MaxTagsPerGateway    = 100_000
	MaxSourcesPerGateway = 1024
)

// maxRefusals bounds the refusals kept for Refusals.
const maxRefusals = 64

// Options configures an Ingester.
type Options struct {
	// StatePath is the bbolt file holding the durable ingest state; its
	// folder must exist.
	StatePath string
	// Lines durably writes InfluxDB lines (the influx writer's Write); it
	// must not keep the slice. Nil writes no time series.
	Lines func(lines []byte) error
	// Signals receives the alert signals; nil sends none.
	Signals alerts.Sink
	// SignalKinds, when set, tells the kinds of signal Signals takes (those
	// of its rules): signals of other kinds are not even built. A tag's
	// departure, for one, is a signal per event that no default rule
	// takes. Nil: every kind.
	SignalKinds func(kind string) bool
	// SharedEvents: the events come through a shared subscription with
	// other controllers (a cluster), so each sees only its share of a
	// gateway's sequence. Duplicates are still told from the sequence,
	// but a hole in it is another controller's event, not a loss: no gap
	// is counted, reported missing or signalled.
	SharedEvents bool
	// OfflineAfter is how long a gateway may stay silent (no event,
	// health or status) before it counts as offline; 0 means
	// DefaultOfflineAfter.
	OfflineAfter time.Duration
	// MaxPayload bounds a payload's size; larger ones are refused. 0
	// means DefaultMaxPayload.
	MaxPayload int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Ingester records edge gateway messages; it implements Recorder. It is
// safe for concurrent use; Record calls are serialised.
type Ingester struct {
	o  Options
	db *bolt.DB
	// opened is when Open ran: the quiet timeout of a gateway starts no
	// earlier, so a controller down for a while does not find every
	// gateway quiet.
	opened time.Time

	// recMu serialises the writers (Record, the quiet check, Close).
	recMu    sync.Mutex
	closed   bool
	linesBuf []byte
	items    []parsed               // a batch's valid messages, reused
	topics   map[string]parsedTopic // valid topics parsed (see parseTopic)
	ids      map[string]*idRing     // recent event IDs per gateway
	idh      idHasher
	// wantsDeparted: the signals of a tag's departure are sent (one per
	// event, so asked once).
	wantsDeparted bool

	// mu guards what the readers see: st and sites are replaced or
	// changed only under mu.Lock by the holder of recMu, who may read
	// them without mu.
	mu       sync.RWMutex
	st       *state
	sites    map[string]string
	refusals []Refusal
	stats    Stats

	// onStatus is OnStatus's function, nil before.
	onStatus atomic.Pointer[func(st *telemetry.Status)]
}

var _ Recorder = (*Ingester)(nil)

// ErrDamaged is wrapped by Open's error when the state file cannot be
// read (not a bbolt file, a bad checksum, records that do not decode):
// move it aside to start afresh, knowing that events seen before may then
// be counted again when they are delivered again.
var ErrDamaged = errors.New("ingest: state file damaged")

// boltOptions are the state file's options. Its freelist is not written
// at each commit (NoFreelistSync) but rebuilt when the file is opened, a
// scan of a small file: a commit then writes only the pages it changed,
// one pwrite fewer per batch and no freelist page to allocate.
func boltOptions() *bolt.Options {
	return &bolt.Options{Timeout: time.Second, NoFreelistSync: true, FreelistType: bolt.FreelistMapType}
}

// Open opens (or creates) the state file and loads the state.
func Open(o Options) (*Ingester, error) {
	if o.StatePath == "" {
		return nil, errors.New("ingest: options: StatePath is empty")
	}
	if o.OfflineAfter < 0 || o.MaxPayload < 0 {
		return nil, errors.New("ingest: options: OfflineAfter and MaxPayload may not be negative")
	}
	if o.OfflineAfter == 0 {
		o.OfflineAfter = DefaultOfflineAfter
	}
	if o.MaxPayload == 0 {
		o.MaxPayload = DefaultMaxPayload
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	db, err := bolt.Open(o.StatePath, 0o600, boltOptions())
	if err != nil {
		if errors.Is(err, bolt.ErrInvalid) || errors.Is(err, bolt.ErrChecksum) ||
			errors.Is(err, bolt.ErrVersionMismatch) {
			return nil, fmt.Errorf("ingest: state %s: %w: %w", o.StatePath, ErrDamaged, err)
		}
		return nil, fmt.Errorf("ingest: state %s: %w", o.StatePath, err)
	}
	in := &Ingester{o: o, db: db, opened: o.Now(), topics: map[string]parsedTopic{}}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if meta.Get(keyIDSeed) == nil {
			if err := meta.Put(keyIDSeed, newIDSeed()); err != nil {
				return err
			}
		}
		var err error
		if in.idh, err = loadIDHasher(meta.Get(keyIDSeed)); err != nil {
			return err
		}
		if in.ids, err = loadIDs(tx.Bucket(bucketIDs)); err != nil {
			return err
		}
		in.st, err = load(tx)
		return err
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("ingest: state %s: %w: %w", o.StatePath, ErrDamaged, err)
	}
	in.wantsDeparted = in.wants(alerts.KindTagDeparted)
	return in, nil
}

// wants tells whether signals of kind are sent.
func (in *Ingester) wants(kind string) bool {
	return in.o.Signals != nil && (in.o.SignalKinds == nil || in.o.SignalKinds(kind))
}

// Close closes the state file. Record fails after it.
func (in *Ingester) Close() error {
	in.recMu.Lock()
	defer in.recMu.Unlock()
	if in.closed {
		return nil
	}
	in.closed = true
	if err := in.db.Close(); err != nil {
		return fmt.Errorf("ingest: closing state %s: %w", in.o.StatePath, err)
	}
	return nil
}

// SetGateways sets the inventory: gateway name -> site (gateways.csv).
// Payloads of gateways not in it are refused (ReasonUnknownGateway). It
// may be called again when the inventory is reloaded; the state of a
// gateway that left the inventory is kept (under site "").
func (in *Ingester) SetGateways(site map[string]string) {
	m := make(map[string]string, len(site))
	for k, v := range site {
		m[k] = v
	}
	in.mu.Lock()
	in.sites = m
	in.mu.Unlock()
}

// Record records a batch: it writes the InfluxDB lines of the whole batch
// with one call of Options.Lines, then the state changes in one bbolt
// transaction (fsync), and only then changes what Gateways, Sites and
// Stats show and sends the signals. A payload that is not valid is
// counted as refused and recorded as such. On an error nothing changed
// (but lines may have been written, which a retry writes again to the
// same points), and the same batch may be offered again.
func (in *Ingester) Record(batch []Message) error {
	if len(batch) == 0 {
		return nil
	}
	in.recMu.Lock()
	defer in.recMu.Unlock()
	if in.closed {
		return errors.New("ingest: record: closed")
	}
	in.mu.RLock()
	sites := in.sites
	in.mu.RUnlock()
	t := in.newTxn(sites, in.linesBuf[:0])
	t.stage(batch)
	in.linesBuf = t.lines[:0]
	if len(t.lines) > 0 && in.o.Lines != nil {
		if err := in.o.Lines(t.lines); err != nil {
			return in.failed(fmt.Errorf("ingest: writing %d bytes of lines: %w", len(t.lines), err))
		}
	}
	if err := in.db.Update(t.store); err != nil {
		return in.failed(fmt.Errorf("ingest: state %s: %w", in.o.StatePath, err))
	}
	in.apply(t)
	if f := in.onStatus.Load(); f != nil {
		for _, st := range t.statuses {
			(*f)(st)
		}
	}
	return nil
}

// OnStatus has f called with every valid status message once its batch
// is committed, stale ones (a retained status delivered again) included:
// the rollouts follow the update reports in them. f must not block, nor
// keep or change st beyond the call.
func (in *Ingester) OnStatus(f func(st *telemetry.Status)) { in.onStatus.Store(&f) }

// failed counts a failed batch.
func (in *Ingester) failed(err error) error {
	in.mu.Lock()
	in.stats.BatchErrors++
	in.stats.LastError = err.Error()
	in.mu.Unlock()
	return err
}

// apply makes the committed changes of t visible, then sends its signals.
func (in *Ingester) apply(t *txn) {
	in.mu.Lock()
	st := in.st
	for name, g := range t.gws {
		st.gws[name] = g
	}
	if t.unknown != nil {
		st.unknown = *t.unknown
	}
	for gw, m := range t.tags {
		cur := st.tags[gw]
		for k, p := range m {
			switch {
			case p != nil && cur == nil:
				cur = map[tagKey]*PresentTag{k: p}
				st.tags[gw] = cur
			case p != nil:
				cur[k] = p
			case cur != nil:
				delete(cur, k)
			}
		}
		if cur != nil && len(cur) == 0 {
			delete(st.tags, gw)
		}
	}
	applySources(st.doors, t.doors)
	applySources(st.passages, t.passages)
	for _, r := range t.refusals {
		if len(in.refusals) >= maxRefusals {
			in.stats.RefusalsDropped++
			continue
		}
		in.refusals = append(in.refusals, r)
	}
	in.stats.Batches++
	in.mu.Unlock()
	for gw, g := range t.gt {
		if len(g.idList) == 0 {
			continue
		}
		r := g.ring
		if r == nil {
			r = newIDRing()
			in.ids[gw] = r
		}
		for _, h := range g.idList {
			r.add(h)
		}
		r.batchList = g.idList[:0]
		r.log, r.next = g.log.log, g.log.next
	}
	if in.o.Signals != nil {
		for _, s := range t.signals {
			in.o.Signals.Signal(s)
		}
	}
}

func applySources[T any](dst, src map[srcKey]*T) {
	for k, v := range src {
		dst[k] = v
	}
}

// Refusals returns the refusals kept since the last call (at most 64;
// Stats.RefusalsDropped counts the others), for the caller to log at a
// bounded rate.
func (in *Ingester) Refusals() []Refusal {
	in.mu.Lock()
	defer in.mu.Unlock()
	r := in.refusals
	in.refusals = nil
	return r
}
