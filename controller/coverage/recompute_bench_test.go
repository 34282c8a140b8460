package coverage_test

import (
	"testing"
	"time"

	"github.com/ngic/ngic/controller/coverage"
	"github.com/ngic/ngic/controller/inventory"
	"github.com/ngic/ngic/controller/poller"
)

// polledEvidence is what the daemon keeps of a device's latest document:
// its evidence and when it was polled.
type polledEvidence struct {
	ev *coverage.Evidence
	at time.Time
}

// daemonState is what the daemon holds between two recomputes: the
// poller's state of each device and the evidence of each, the result it
// serves and the one before, the pool they were computed with, and the
// buffer of the statuses.
type daemonState struct {
	inv      *inventory.Inventory
	states   []poller.DeviceState
	evidence map[string]polledEvidence
	cfg      coverage.Config
	pool     coverage.Pool
	served   *coverage.Result
	older    *coverage.Result
	devs     []coverage.DeviceStatus
}

// newDaemonState gives the poller a state, and the daemon an evidence,
// per device of inv, after devs.
func newDaemonState(inv *inventory.Inventory, devs []coverage.DeviceStatus) *daemonState {
	d := &daemonState{inv: inv, states: make([]poller.DeviceState, len(inv.Devices)),
		evidence: make(map[string]polledEvidence, len(inv.Devices)), cfg: coverage.DefaultConfig()}
	for i := range inv.Devices {
		dev := &inv.Devices[i]
		d.states[i] = poller.DeviceState{ID: dev.ID, Site: dev.Site, Parent: dev.Parent, Target: dev.Address,
			State: poller.State(devs[i].State), Since: devs[i].Since, LastPoll: devs[i].PolledAt,
			LastSuccess: devs[i].PolledAt, Polls: 100}
		d.evidence[dev.ID] = polledEvidence{ev: devs[i].Evidence, at: devs[i].PolledAt}
	}
	return d
}

// recompute is one recompute of the daemon (controller/daemon's
// computeCoverage, without a cluster): the devices' statuses, then the
// pool's ComputeCompact into the memory of the result before the one
// served, which no reader holds any more (released); the result served
// is not touched. The statuses' buffer is cleared for the next.
func (d *daemonState) recompute(now time.Time) *coverage.Result {
	d.pool.Release(d.older)
	devs := d.statuses()
	r := d.pool.ComputeCompact(d.inv, devs, &d.cfg, now)
	clear(devs)
	d.devs = devs
	d.older, d.served = d.served, r
	return r
}

// statuses are the devices' statuses as the daemon makes them before each
// recompute (controller/daemon's deviceStatuses): the poller's states
// read in place in the inventory's order (Poller.EachState), each joined
// with its evidence, into the buffer of the recompute before.
func (d *daemonState) statuses() []coverage.DeviceStatus {
	devs := d.devs
	if cap(devs) < len(d.inv.Devices) {
		devs = make([]coverage.DeviceStatus, len(d.inv.Devices))
	}
	devs = devs[:len(d.inv.Devices)]
	for i := range d.states {
		st := &d.states[i]
		if st.ID != d.inv.Devices[i].ID {
			panic("coverage: the states are not in the inventory's order")
		}
		pe := d.evidence[st.ID]
		devs[i] = coverage.DeviceStatus{State: string(st.State), Since: st.Since, PolledAt: pe.at, Evidence: pe.ev}
	}
	return devs
}

// BenchmarkRecomputeNational is what the daemon runs at each recompute
// of the national inventory (BenchmarkComputeNational's): the devices'
// statuses built from the poller's states and the kept evidence, and a
// Pool's ComputeCompact into the memory of the result before the one
// served (double-buffering). The recompute encodes nothing: the API indexes a result
// when first asked, and a snapshot is written every snapshot_every.
func BenchmarkRecomputeNational(b *testing.B) {
	inv, devs := coverage.National(b, 700_000)
	d := newDaemonState(inv, devs)
	coverage.BenchRecompute(b, inv, func() *coverage.Result { return d.recompute(coverage.BenchNow) })
}

// BenchmarkRecomputeStatusesNational is the part of
// BenchmarkRecomputeNational before ComputeCompact: the statuses of
// 200,000 devices from the poller's states and the kept evidence. It
// reports the CPU time (cpu-s/op) and the bytes allocated.
func BenchmarkRecomputeStatusesNational(b *testing.B) {
	inv, devs := coverage.National(b, 700_000)
	d := newDaemonState(inv, devs)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := coverage.CPUTime()
	for range b.N {
		got := d.statuses()
		if len(got) != len(inv.Devices) {
			b.Fatalf("%d statuses for %d devices", len(got), len(inv.Devices))
		}
		d.devs = got
	}
	b.ReportMetric((coverage.CPUTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
}
