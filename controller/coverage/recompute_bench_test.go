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
// serves and the one before, and the pool they were computed with.
type daemonState struct {
	inv      *inventory.Inventory
	states   []poller.DeviceState
	evidence map[string]polledEvidence
	cfg      coverage.Config
	pool     coverage.Pool
	served   *coverage.Result
	older    *coverage.Result
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
// is not touched.
func (d *daemonState) recompute(now time.Time) *coverage.Result {
	d.pool.Release(d.older)
	r := d.pool.ComputeCompact(d.inv, d.statuses(), &d.cfg, now)
	d.older, d.served = d.served, r
	return r
}

// statuses are the devices' statuses as the daemon makes them before each
// recompute (controller/daemon's computeCoverage): the poller's states
// copied (Poller.States), each ID mapped to its place in the copy, joined
// with the evidence in inventory order.
func (d *daemonState) statuses() []coverage.DeviceStatus {
	list := append([]poller.DeviceState(nil), d.states...) // Poller.States copies
	states := make(map[string]int32, len(list))
	for i := range list {
		states[list[i].ID] = int32(i)
	}
	devs := make([]coverage.DeviceStatus, len(d.inv.Devices))
	for i := range d.inv.Devices {
		id := d.inv.Devices[i].ID
		pe := d.evidence[id]
		devs[i] = coverage.DeviceStatus{PolledAt: pe.at, Evidence: pe.ev}
		if j, ok := states[id]; ok {
			devs[i].State, devs[i].Since = string(list[j].State), list[j].Since
		}
	}
	for id := range d.evidence { // devices no longer in the inventory
		if _, ok := states[id]; !ok {
			delete(d.evidence, id)
		}
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
		if got := d.statuses(); len(got) != len(inv.Devices) {
			b.Fatalf("%d statuses for %d devices", len(got), len(inv.Devices))
		}
	}
	b.ReportMetric((coverage.CPUTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
}
