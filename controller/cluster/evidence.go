package cluster

import "github.com/ngic/ngic/controller/coverage"

// FillEvidence gives each device of devs (id(i) is devs[i]'s ID) that
// this replica does not poll (polled false), or has not polled since it
// took it over (no evidence yet), the coverage evidence the others last
// shared: the newest by LastPoll, as Merge chooses. With it a clustered
// replica computes coverage from the same inputs as a single controller
// polling the whole fleet.
func FillEvidence(devs []coverage.DeviceStatus, id func(i int) string, polled func(id string) bool, others []*State) {
	remote := map[string]Device{}
	for _, dv := range Merge(nil, others) {
		if dv.Evidence != nil {
			remote[dv.ID] = dv
		}
	}
	for i := range devs {
		d := id(i)
		if devs[i].Evidence != nil && polled(d) {
			continue
		}
		if dv, ok := remote[d]; ok {
			devs[i].Evidence, devs[i].PolledAt = dv.Evidence, dv.PolledAt
		}
	}
}
