package daemon

import (
	"github.com/ngic/ngic/controller/config"
	"github.com/ngic/ngic/controller/coverage"
	"github.com/ngic/ngic/controller/poller"
)

// deviceStatuses returns the status of each device of inv, in its order,
// in the buffer of the last computation (now this computation's): from
// the poller's states read in place, without a copy, when it polls inv's
// devices in inv's order (a controller without a cluster, once SetDevices
// has followed the inventory); else from a copy of the states (the
// fleet's with a cluster) matched by ID, forgetting the evidence of
// devices no longer polled.
func (d *Daemon) deviceStatuses(inv *config.Inventory) []coverage.DeviceStatus {
	if d.cluster == nil {
		d.cov.mu.Lock()
		devs, ok := d.polledStatuses(inv)
		d.cov.devs = devs // this computation's if ok; back for the copy's if not
		if ok {
			d.cov.devs = nil // back once computed
		}
		d.cov.mu.Unlock()
		if ok {
			return devs
		}
	}
	var list []poller.DeviceState
	if d.cluster == nil {
		list = d.poller.States() // without the histories Devices unpacks
	} else {
		list = d.coverageStates() // the fleet's (cluster.go)
	}
	d.cov.mu.Lock()
	defer d.cov.mu.Unlock()
	devs := d.statuses(inv, list)
	d.cov.devs = nil // back once computed
	return devs
}

// polledStatuses fills the buffer of the last computation with the
// status of each device of inv from the poller's states, read in place
// (EachState), and the evidence kept. It reports false when the poller's
// devices are not inv's in inv's order, or when evidence is kept of a
// device not in inv: statuses then matches a copy by ID and forgets that
// evidence. The caller holds d.cov.mu.
func (d *Daemon) polledStatuses(inv *config.Inventory) ([]coverage.DeviceStatus, bool) {
	devs := d.statusBuffer(len(inv.Devices))
	n, withEvidence, inOrder := 0, 0, true
	d.poller.EachState(func(i int, st *poller.DeviceState) {
		n = i + 1
		if !inOrder || i >= len(devs) || st.ID != inv.Devices[i].ID {
			inOrder = false
			return
		}
		pe, ok := d.cov.evidence[st.ID]
		if ok {
			withEvidence++
		}
		devs[i] = coverage.DeviceStatus{State: string(st.State), Since: st.Since, PolledAt: pe.at, Evidence: pe.ev}
	})
	return devs, inOrder && n == len(devs) && withEvidence == len(d.cov.evidence)
}

// statusBuffer is the buffer of the last computation's statuses for n
// devices (a new one when it is too short). The caller holds d.cov.mu.
func (d *Daemon) statusBuffer(n int) []coverage.DeviceStatus {
	devs := d.cov.devs
	if cap(devs) < n {
		devs = make([]coverage.DeviceStatus, n)
	}
	return devs[:n]
}

// statuses returns the status of each device of inv, in its order, from
// the devices' states (list) and the evidence kept, in the buffer of the
// last computation; it forgets the evidence of devices no longer in the
// inventory. The caller holds d.cov.mu.
//
// When list is in the inventory's order each device is matched by its
// place, and a map of IDs (200,000 strings for a national fleet) is built
// only when a place differs.
func (d *Daemon) statuses(inv *config.Inventory, list []poller.DeviceState) []coverage.DeviceStatus {
	devs := d.statusBuffer(len(inv.Devices))
	var states map[string]int32 // each ID to its state's place in list, once a place differs
	withEvidence := 0
	for i := range inv.Devices {
		id := inv.Devices[i].ID
		pe, ok := d.cov.evidence[id]
		if ok {
			withEvidence++
		}
		devs[i] = coverage.DeviceStatus{PolledAt: pe.at, Evidence: pe.ev}
		j := int32(i)
		if states == nil && (i >= len(list) || list[i].ID != id) {
			states = placesOf(list)
		}
		if states != nil {
			if j, ok = states[id]; !ok {
				continue
			}
		}
		devs[i].State, devs[i].Since = string(list[j].State), list[j].Since
	}
	if states == nil && len(list) == len(inv.Devices) && withEvidence == len(d.cov.evidence) {
		return devs // list is the inventory's devices, and each evidence is one of theirs
	}
	if states == nil {
		states = placesOf(list)
	}
	for id := range d.cov.evidence { // devices no longer in the inventory
		if _, ok := states[id]; !ok {
			delete(d.cov.evidence, id)
		}
	}
	return devs
}

// placesOf maps each ID of list to its place: to the place, not to a copy
// of the state (a national fleet's 200,000 copies cost a tenth of a
// second and 50 MB).
func placesOf(list []poller.DeviceState) map[string]int32 {
	states := make(map[string]int32, len(list))
	for i := range list {
		states[list[i].ID] = int32(i)
	}
	return states
}
