package daemon

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/config"
	"github.com/ngic/ngic/controller/coverage"
	"github.com/ngic/ngic/controller/inventory"
	"github.com/ngic/ngic/controller/poller"
	"github.com/ngic/ngic/controller/snmp"
)

// mappedStatuses is statuses as it was before devices were matched by
// their place: every ID of list in a map, and the evidence of devices no
// longer in list forgotten.
func mappedStatuses(inv *config.Inventory, list []poller.DeviceState, evidence map[string]polledEvidence) []coverage.DeviceStatus {
	states := make(map[string]int32, len(list))
	for i := range list {
		states[list[i].ID] = int32(i)
	}
	devs := make([]coverage.DeviceStatus, len(inv.Devices))
	for i := range inv.Devices {
		id := inv.Devices[i].ID
		pe := evidence[id]
		devs[i] = coverage.DeviceStatus{PolledAt: pe.at, Evidence: pe.ev}
		if j, ok := states[id]; ok {
			devs[i].State, devs[i].Since = string(list[j].State), list[j].Since
		}
	}
	for id := range evidence {
		if _, ok := states[id]; !ok {
			delete(evidence, id)
		}
	}
	return devs
}

// TestStatusesAsMapped: the devices' statuses, matched by place where
// the states are in the inventory's order, and the evidence kept, are
// those of a map of every ID, whatever the order of the states, devices
// missing from them or added, evidence of devices gone; and the buffer
// of the previous computation is reused.
func TestStatusesAsMapped(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	cases := map[string]func(list []poller.DeviceState) []poller.DeviceState{
		"inventory order": func(l []poller.DeviceState) []poller.DeviceState { return l },
		"shuffled": func(l []poller.DeviceState) []poller.DeviceState {
			rng.Shuffle(len(l), func(i, j int) { l[i], l[j] = l[j], l[i] })
			return l
		},
		"one missing":   func(l []poller.DeviceState) []poller.DeviceState { return append(l[:3], l[4:]...) },
		"last missing":  func(l []poller.DeviceState) []poller.DeviceState { return l[:len(l)-1] },
		"one more":      func(l []poller.DeviceState) []poller.DeviceState { return append(l, poller.DeviceState{ID: "extra"}) },
		"one different": func(l []poller.DeviceState) []poller.DeviceState { l[5].ID = "other"; return l },
		"empty":         func([]poller.DeviceState) []poller.DeviceState { return nil },
	}
	for name, change := range cases {
		for _, gone := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, evidence of a device gone %v", name, gone), func(t *testing.T) {
				inv := &config.Inventory{}
				var list []poller.DeviceState
				evidence := map[string]polledEvidence{}
				for i := range 40 {
					id := fmt.Sprintf("dev-%02d", i)
					inv.Devices = append(inv.Devices, inventory.Device{ID: id})
					list = append(list, poller.DeviceState{ID: id, State: poller.State([]string{"up", "down"}[i%2]),
						Since: base.Add(time.Duration(i) * time.Minute)})
					if i%3 != 0 {
						evidence[id] = polledEvidence{ev: &coverage.Evidence{}, at: base.Add(time.Duration(i) * time.Second)}
					}
				}
				if gone {
					evidence["removed"] = polledEvidence{ev: &coverage.Evidence{}, at: base}
				}
				list = change(list)
				wantEvidence := maps.Clone(evidence)
				want := mappedStatuses(inv, list, wantEvidence)
				d := &Daemon{cov: &coverageRun{evidence: evidence, devs: make([]coverage.DeviceStatus, 3, 64)}}
				buf := d.cov.devs
				got := d.statuses(inv, list)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("statuses differ from the mapped ones:\n%+v\nwant\n%+v", got, want)
				}
				if !maps.Equal(evidence, wantEvidence) {
					t.Fatalf("evidence kept for %d devices, want %d", len(evidence), len(wantEvidence))
				}
				if &got[0] != &buf[:1][0] {
					t.Fatal("the previous computation's buffer was not reused")
				}
			})
		}
	}
}

// BenchmarkStatusesNational is the devices' statuses of a national fleet
// (200,000 devices, nine in ten with evidence) at each recompute:
// "mapped" as before (a map of every ID of a copy of the states, a new
// slice), "placed" from a copy in the inventory's order (matched by
// place, the slice of the previous recompute), "in place" as the daemon
// without a cluster now makes them (a poller's states read in place,
// deviceStatuses). It reports the process's CPU time (cpu-s/op).
func BenchmarkStatusesNational(b *testing.B) {
	inv := &config.Inventory{}
	list := make([]poller.DeviceState, 200_000)
	evidence := make(map[string]polledEvidence, len(list))
	cfgs := make([]config.DeviceConfig, len(list))
	at := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	for i := range list {
		id := fmt.Sprintf("olt-%06d", i)
		inv.Devices = append(inv.Devices, inventory.Device{ID: id})
		list[i] = poller.DeviceState{ID: id, State: poller.StateUp, Since: at}
		cfgs[i] = config.DeviceConfig{ID: id, Interval: time.Hour,
			SNMP: snmp.Config{Target: "127.0.0.1:1", Version: "2c", Community: "x"}}
		if i%10 != 0 {
			evidence[id] = polledEvidence{ev: &coverage.Evidence{}, at: at}
		}
	}
	p, err := poller.New(poller.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := p.SetDevices(cfgs); err != nil {
		b.Fatal(err)
	}
	d := &Daemon{poller: p, cov: &coverageRun{evidence: evidence}}
	for _, bc := range []struct {
		name     string
		statuses func() []coverage.DeviceStatus
	}{
		{"mapped", func() []coverage.DeviceStatus { return mappedStatuses(inv, list, evidence) }},
		{"placed", func() []coverage.DeviceStatus {
			devs := d.statuses(inv, list)
			d.cov.devs = devs
			return devs
		}},
		{"in place", func() []coverage.DeviceStatus {
			devs := d.deviceStatuses(inv)
			d.cov.devs = devs
			return devs
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := benchCPU()
			for b.Loop() {
				if got := bc.statuses(); len(got) != len(list) {
					b.Fatalf("%d statuses", len(got))
				}
			}
			b.ReportMetric((benchCPU()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}

// TestDeviceStatusesFromPoller: the statuses made from a poller's states
// are those of a map of every ID of a copy, whether the poller polls the
// inventory's devices in its order (read in place, with no allocation),
// in another order, one device less or one more, with evidence of a
// device gone (forgotten) or not.
func TestDeviceStatusesFromPoller(t *testing.T) {
	base := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	inv := &config.Inventory{}
	var devs []config.DeviceConfig
	for i := range 40 {
		id := fmt.Sprintf("dev-%02d", i)
		inv.Devices = append(inv.Devices, inventory.Device{ID: id})
		devs = append(devs, config.DeviceConfig{ID: id, Interval: time.Hour,
			SNMP: snmp.Config{Target: "127.0.0.1:1", Version: "2c", Community: "x"}})
	}
	cases := map[string]func(l []config.DeviceConfig) []config.DeviceConfig{
		"inventory order": func(l []config.DeviceConfig) []config.DeviceConfig { return l },
		"reversed":        func(l []config.DeviceConfig) []config.DeviceConfig { slices.Reverse(l); return l },
		"one missing":     func(l []config.DeviceConfig) []config.DeviceConfig { return append(l[:3], l[4:]...) },
		"last missing":    func(l []config.DeviceConfig) []config.DeviceConfig { return l[:len(l)-1] },
		"one more": func(l []config.DeviceConfig) []config.DeviceConfig {
			return append(l, config.DeviceConfig{ID: "extra", Interval: time.Hour, SNMP: l[0].SNMP})
		},
	}
	for name, change := range cases {
		for _, gone := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, evidence of a device gone %v", name, gone), func(t *testing.T) {
				tick := 0
				p, err := poller.New(poller.Options{Now: func() time.Time { tick++; return base.Add(time.Duration(tick) * time.Minute) }})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := p.SetDevices(change(slices.Clone(devs))); err != nil {
					t.Fatal(err)
				}
				evidence := map[string]polledEvidence{}
				for i, dv := range inv.Devices {
					if i%3 != 0 {
						evidence[dv.ID] = polledEvidence{ev: &coverage.Evidence{}, at: base.Add(time.Duration(i) * time.Second)}
					}
				}
				if gone {
					evidence["removed"] = polledEvidence{ev: &coverage.Evidence{}, at: base}
				}
				wantEvidence := maps.Clone(evidence)
				want := mappedStatuses(inv, p.States(), wantEvidence)
				d := &Daemon{poller: p, cov: &coverageRun{evidence: evidence, devs: make([]coverage.DeviceStatus, 3, 64)}}
				buf := d.cov.devs
				got := d.deviceStatuses(inv)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("statuses differ from the mapped ones:\n%+v\nwant\n%+v", got, want)
				}
				if !maps.Equal(evidence, wantEvidence) {
					t.Fatalf("evidence kept for %d devices, want %d", len(evidence), len(wantEvidence))
				}
				if &got[0] != &buf[:1][0] || d.cov.devs != nil {
					t.Fatal("the previous computation's buffer was not taken")
				}
				if name != "inventory order" || gone {
					return
				}
				allocs := testing.AllocsPerRun(10, func() {
					d.cov.devs = d.deviceStatuses(inv)
				})
				if allocs != 0 {
					t.Fatalf("statuses read in place allocated %v times", allocs)
				}
			})
		}
	}
}
