package daemon

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ngic/ngic/controller/config"
	"github.com/ngic/ngic/controller/coverage"
	"github.com/ngic/ngic/controller/poller"
)

// Bounds on how often coverage is computed: after each poll cycle
// (poll.interval), but never more often than every minRecompute.
const minRecompute = time.Second

// coverageRun keeps what coverage needs between two computations: the
// evidence summary of each device's latest document (kept while the device
// is down, so that it keeps its class until coverage.down_after), the
// latest result, the pool of released results' memory and the snapshot
// store.
type coverageRun struct {
	store *coverage.Store

	mu       sync.Mutex
	evidence map[string]polledEvidence
	seeded   bool
	last     time.Time // time of the latest stored snapshot
	lastErr  string    // the last failure to compute or store, "" after a success
	// pool computes into the memory of the results no one holds any
	// more (a new one after each drop); devs is the devices' statuses of
	// the last computation, kept for the next.
	pool *coverage.Pool
	devs []coverage.DeviceStatus

	// current is the latest result, nil without one; refMu orders its
	// changes with the holds taken on it (coverage_ref.go).
	current atomic.Pointer[coverageRef]
	refMu   sync.Mutex
	kick    chan struct{} // compute now (reload)
	snapNow chan chan error
	// computing is told of each computation as it starts, before it
	// computes (tests hold it there); nil in production.
	computing func()

	computeSeconds prometheus.Gauge
	computations   prometheus.Counter
	reused         prometheus.Counter
	snapshots      prometheus.Counter
	snapshotErrors prometheus.Counter
}

// polledEvidence is a device's evidence and when it was polled.
type polledEvidence struct {
	ev *coverage.Evidence
	at time.Time
}

// openCoverage opens the snapshot store under state_dir.
func (d *Daemon) openCoverage(cfg *config.Config) error {
	st, err := coverage.OpenStore(cfg.StatePath(config.CoverageDir), cfg.Coverage.Keep)
	if err != nil {
		return err
	}
	c := &coverageRun{store: st, evidence: map[string]polledEvidence{}, pool: &coverage.Pool{},
		kick: make(chan struct{}, 1), snapNow: make(chan chan error),
		computeSeconds: prometheus.NewGauge(prometheus.GaugeOpts{Name: "ngic_coverage_compute_seconds",
			Help: "Time the latest coverage computation took."}),
		computations: prometheus.NewCounter(prometheus.CounterOpts{Name: "ngic_coverage_computations_total",
			Help: "Coverage computations this controller made (in a cluster, only the coverage lease holder makes them)."}),
		reused: prometheus.NewCounter(prometheus.CounterOpts{Name: "ngic_coverage_results_reused_total",
			Help: "Coverage results whose memory, once no reader held them, went to the next computation."}),
		snapshots: prometheus.NewCounter(prometheus.CounterOpts{Name: "ngic_coverage_snapshots_total",
			Help: "Coverage snapshots stored."}),
		snapshotErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "ngic_coverage_snapshot_errors_total",
			Help: "Coverage snapshots that could not be stored."}),
	}
	times, err := st.List()
	if err != nil {
		return err
	}
	if len(times) > 0 {
		c.last = times[len(times)-1]
	}
	d.reg.MustRegister(c.computeSeconds, c.computations, c.reused, c.snapshots, c.snapshotErrors)
	d.cov = c
	return nil
}

// SnapshotCoverage computes coverage now and stores the result as a
// snapshot (and writes it to InfluxDB when configured), whatever the time
// since the last one. It waits for Run's coverage loop.
func (d *Daemon) SnapshotCoverage(ctx context.Context) error {
	done := make(chan error, 1)
	select {
	case d.cov.snapNow <- done:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// coveragePolled keeps the evidence of a poll's new document.
func (d *Daemon) coveragePolled(p *poller.Poll) {
	if p.Document == nil {
		return
	}
	ev := coverage.Summarize(p.Document)
	d.cov.mu.Lock()
	d.cov.evidence[p.Device.ID] = polledEvidence{ev: ev, at: p.Start}
	d.cov.mu.Unlock()
}

// recomputeCoverage asks the loop for a computation now.
func (d *Daemon) recomputeCoverage() {
	select {
	case d.cov.kick <- struct{}{}:
	default:
	}
}

// runCoverage computes coverage after each poll cycle and at a reload, and
// stores a snapshot every coverage.snapshot_every once a whole poll cycle
// has run since the start (so that a snapshot never rests on a half-polled
// network), and on demand. A computation runs on its own goroutine so that
// the loop returns as soon as ctx ends: a national recompute takes many
// seconds, and one in flight then ends without storing anything.
func (d *Daemon) runCoverage(ctx context.Context) error {
	if !d.awaitCoverage(ctx, nil, func() error {
		d.seedCoverage(ctx)
		return d.computeCoverage(ctx, false)
	}) {
		return nil
	}
	for {
		d.mu.Lock()
		every := max(d.cfg.Poll.Interval, minRecompute)
		d.mu.Unlock()
		t := time.NewTimer(every)
		var reply chan error
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		case <-d.cov.kick:
		case reply = <-d.cov.snapNow:
		}
		t.Stop()
		force := reply != nil
		if !d.awaitCoverage(ctx, reply, func() error { return d.computeCoverage(ctx, force) }) {
			return nil
		}
	}
}

// awaitCoverage runs compute on a goroutine and waits for it, or for ctx
// to end (false). Its error goes to reply, if any.
func (d *Daemon) awaitCoverage(ctx context.Context, reply chan error, compute func() error) bool {
	done := make(chan error, 1)
	go func() {
		if d.cov.computing != nil {
			d.cov.computing()
		}
		done <- compute()
	}()
	select {
	case <-ctx.Done():
		return false
	case err := <-done:
		if reply != nil {
			reply <- err
		}
		return true
	}
}

// seedCoverage summarises the documents the poller kept from before a
// restart, so that coverage does not start from nothing.
func (d *Daemon) seedCoverage(ctx context.Context) {
	for _, s := range d.poller.States() {
		if ctx.Err() != nil {
			return
		}
		d.cov.mu.Lock()
		_, have := d.cov.evidence[s.ID]
		d.cov.mu.Unlock()
		if have {
			continue
		}
		full, ok := d.poller.Device(s.ID)
		if !ok || full.Document == nil {
			continue
		}
		ev := coverage.Summarize(full.Document)
		d.cov.mu.Lock()
		if _, have := d.cov.evidence[s.ID]; !have {
			d.cov.evidence[s.ID] = polledEvidence{ev: ev, at: full.LastSuccess}
		}
		d.cov.mu.Unlock()
	}
}

// errNoRegions: the inventory has no regions.csv, so there is no coverage
// to compute.
var errNoRegions = errors.New("the inventory has no regions.csv")

// computeCoverage computes coverage from the inventory, the devices' states
// and their evidence, and stores a snapshot when one is due (or forced).
// Once ctx has ended it stores nothing: neither the result nor a snapshot.
func (d *Daemon) computeCoverage(ctx context.Context, force bool) error {
	d.mu.Lock()
	cfg := d.cfg
	d.mu.Unlock()
	inv := cfg.LoadedInventory()
	if !inv.HasRegions() {
		d.dropCoverage()
		if force {
			return fmt.Errorf("coverage: %w", errNoRegions)
		}
		return nil
	}
	if !d.holdsCoverageLease() { // the holder computes, and this replica's API forwards to it
		if d.hasCoverage() {
			d.dropCoverage()
		}
		if force {
			return fmt.Errorf("coverage: replica %d holds the coverage lease and computes it, not this one",
				d.cluster.node.LeaseHolder())
		}
		return nil
	}
	devs := d.deviceStatuses(inv) // this computation's buffer; back once computed
	d.cov.mu.Lock()
	pool := d.cov.pool
	d.cov.mu.Unlock()
	d.fleetEvidence(inv, devs)
	began := time.Now()
	r := pool.ComputeCompact(inv, devs, &cfg.Coverage, began)
	d.cov.computations.Inc()
	clear(devs) // no evidence kept alive by the buffer
	d.cov.mu.Lock()
	d.cov.devs = devs
	d.cov.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err // r is left to the garbage collector: no one read it
	}
	d.mu.Lock()
	stale := d.cfg != cfg
	d.mu.Unlock()
	if stale && !force {
		return nil // a reload came meanwhile, and its computation follows: this one would keep the old inventory
	}
	d.cov.computeSeconds.Set(time.Since(began).Seconds())
	// Held by the daemon as the latest, and by this computation until its
	// snapshot is written: a reload may drop it meanwhile.
	ref := newCoverageRef(r, pool, 2, d.cov.reused.Inc)
	defer ref.release()
	d.publishCoverage(ref)
	d.log.Debug("coverage computed", "villages", len(r.Villages), "seconds", time.Since(began).Seconds())

	d.cov.mu.Lock()
	due := force || (r.Computed.Sub(d.cov.last) >= cfg.Coverage.SnapshotEvery &&
		r.Computed.Sub(d.started) >= cfg.Poll.Interval)
	d.cov.mu.Unlock()
	if !due || ctx.Err() != nil {
		return ctx.Err()
	}
	err := d.cov.store.Save(r)
	d.cov.mu.Lock()
	if err != nil {
		d.cov.lastErr = err.Error()
	} else {
		d.cov.last, d.cov.lastErr = r.Computed, ""
	}
	d.cov.mu.Unlock()
	if err != nil {
		d.cov.snapshotErrors.Inc()
		d.log.Error("coverage snapshot not stored", "err", err)
		return err
	}
	d.cov.snapshots.Inc()
	d.log.Info("coverage snapshot stored", "at", r.Computed.UTC().Format(time.RFC3339), "villages", len(r.Villages),
		"gaps", len(r.Gaps))
	if d.influx != nil {
		lines, err := r.AppendLines(nil)
		if err != nil {
			d.log.Warn("some coverage points not written", "err", err)
		}
		d.polls.add(lines)
	}
	return nil
}

// coverageHealth is the coverage part of /healthz.
func (d *Daemon) coverageHealth() *CoverageHealth {
	computed, villages, gaps, ok := d.coverageState()
	d.cov.mu.Lock()
	defer d.cov.mu.Unlock()
	h := &CoverageHealth{SnapshotError: d.cov.lastErr}
	if !d.cov.last.IsZero() {
		t := d.cov.last
		h.LastSnapshot = &t
	}
	if ok {
		h.Computed, h.Villages, h.Gaps = &computed, villages, gaps
	}
	return h
}

// CoverageHealth tells when coverage was last computed and stored.
type CoverageHealth struct {
	// Computed is when the current figures were computed (absent before
	// the first, and without regions.csv).
	Computed *time.Time `json:"computed,omitempty"`
	// Villages and Gaps count the current figures' villages and gaps.
	Villages int `json:"villages"`
	Gaps     int `json:"gaps"`
	// LastSnapshot is the time of the latest stored snapshot.
	LastSnapshot *time.Time `json:"last_snapshot,omitempty"`
	// SnapshotError is the last failure to store a snapshot.
	SnapshotError string `json:"snapshot_error,omitempty"`
}
