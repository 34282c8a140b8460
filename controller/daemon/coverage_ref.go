package daemon

import (
	"sync/atomic"
	"time"

	"github.com/ngic/ngic/controller/coverage"
)

// coverageRef is a coverage result with the count of those holding it:
// the daemon while it is the latest (one), the computation that made it
// until it has stored its snapshot, and every reader between
// AcquireCoverage and its release. The last release gives the result's
// memory to the pool it was computed with, for the computation after the
// next (double-buffering): nothing may read it any more.
type coverageRef struct {
	res  *coverage.Result
	pool *coverage.Pool
	// computed, villages and gaps are res's time and counts, copied so
	// that /healthz and the cluster's state read them without a hold.
	computed       time.Time
	villages, gaps int
	// refs counts the holders; at zero the result is released. It is
	// raised only under coverageRun.refMu while c is the latest.
	refs atomic.Int64
	// discard, set when the daemon drops its inventory (a reload),
	// gives the result to the garbage collector instead of the pool: the
	// pool's memory would keep the old inventory alive.
	discard atomic.Bool
	// released is told when the result went back to the pool (nil: not
	// counted).
	released func()
}

// newCoverageRef holds r for holders (the daemon, the computation).
func newCoverageRef(r *coverage.Result, pool *coverage.Pool, holders int64, released func()) *coverageRef {
	c := &coverageRef{res: r, pool: pool, computed: r.Computed, villages: len(r.Villages), gaps: len(r.Gaps),
		released: released}
	c.refs.Store(holders)
	return c
}

// release removes a holder; the last one gives the memory to the pool.
func (c *coverageRef) release() {
	switch n := c.refs.Add(-1); {
	case n > 0:
		return
	case n < 0:
		panic("daemon: a coverage result released more often than held")
	}
	if c.discard.Load() || c.pool == nil {
		return
	}
	c.pool.Release(c.res)
	if c.released != nil {
		c.released()
	}
}

// releaser returns a function that releases c once, however often it is
// called.
func (c *coverageRef) releaser() func() {
	var done atomic.Bool
	return func() {
		if done.CompareAndSwap(false, true) {
			c.release()
		}
	}
}

// noRelease is the release of no result.
func noRelease() {}

// AcquireCoverage returns the latest coverage figures, or nil before the
// first computation, when the inventory has no regions.csv and on a
// replica that does not hold the coverage lease, and a function that
// releases them (never nil; calling it again does nothing). The result
// and everything read from it (villages, regions, gaps, trails) stay as
// they are until the release; after it, the daemon may compute the next
// result into their memory. Every reader must release what it acquires:
// a result never released is never reused, only left to the garbage
// collector.
func (d *Daemon) AcquireCoverage() (*coverage.Result, func()) {
	d.cov.refMu.Lock()
	c := d.cov.current.Load()
	if c != nil {
		c.refs.Add(1) // the daemon's hold keeps it above zero while it is the latest
	}
	d.cov.refMu.Unlock()
	if c == nil {
		return nil, noRelease
	}
	return c.res, c.releaser()
}

// setCoverage makes c the latest result (nil: none), and returns the
// previous, whose daemon's hold the caller releases.
func (d *Daemon) setCoverage(c *coverageRef) *coverageRef {
	d.cov.refMu.Lock()
	defer d.cov.refMu.Unlock()
	return d.cov.current.Swap(c)
}

// coverageState returns when the latest result was computed and its
// counts of villages and gaps (ok false without one), without holding it.
func (d *Daemon) coverageState() (computed time.Time, villages, gaps int, ok bool) {
	c := d.cov.current.Load()
	if c == nil {
		return time.Time{}, 0, 0, false
	}
	return c.computed, c.villages, c.gaps, true
}

// hasCoverage tells whether there is a latest result.
func (d *Daemon) hasCoverage() bool { return d.cov.current.Load() != nil }

// publishCoverage makes c the latest result, tells the API (whose index
// lets the previous go), and releases the daemon's hold on the previous:
// its memory goes to the pool once its last reader releases it.
func (d *Daemon) publishCoverage(c *coverageRef) {
	old := d.setCoverage(c)
	if d.web != nil {
		d.web.srv.CoverageChanged()
	}
	if old != nil {
		old.release()
	}
}

// dropCoverage lets the latest result go, and with it the inventory it
// was computed from: after a reload, the previous inventory would
// otherwise stay in memory beside the new one until the next result (a
// national inventory is some 400 MB). Until then there is no result. The
// dropped result, and the memory the pool keeps, are left to the garbage
// collector: the next computation starts a new pool.
func (d *Daemon) dropCoverage() {
	d.cov.mu.Lock()
	d.cov.pool = &coverage.Pool{}
	d.cov.mu.Unlock()
	old := d.setCoverage(nil)
	if old != nil {
		old.discard.Store(true)
	}
	if d.web != nil {
		d.web.srv.CoverageChanged()
	}
	if old != nil {
		old.release()
	}
}
