package daemon

import (
	"github.com/ngic/ngic/controller/config"
	"github.com/ngic/ngic/controller/coverage"
	"github.com/ngic/ngic/controller/poller"
)

// statuses returns the status of each device of inv, in its order, from
// the devices' states (list) and the evidence kept, in the buffer of the
// last computation; it forgets the evidence of devices no longer in the
// inventory. The caller holds d.cov.mu.
//
// list is in the inventory's order when it is the poller's: each device
// is then matched by its place, and a map of IDs (200,000 strings for a
// national fleet) is built only when a place differs.
func (d *Daemon) statuses(inv *config.Inventory, list []poller.DeviceState) []coverage.DeviceStatus {
	devs := d.cov.devs
	if cap(devs) < len(inv.Devices) {
		devs = make([]coverage.DeviceStatus, len(inv.Devices))
	}
	devs = devs[:len(inv.Devices)]
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
