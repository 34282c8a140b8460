package cluster

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/coverage"
	"github.com/ngic/ngic/controller/inventory"
	"github.com/ngic/ngic/controller/inventory/inventorytest"
	"github.com/ngic/ngic/controller/poller"
)

// fleetStatuses makes one status per device of inv: up, down or never
// answered, with access ports (PON, DSL or cable) or a TV source.
func fleetStatuses(inv *inventory.Inventory, now time.Time) []coverage.DeviceStatus {
	out := make([]coverage.DeviceStatus, len(inv.Devices))
	for i := range out {
		rng := rand.New(rand.NewPCG(uint64(i), 3))
		ev := &coverage.Evidence{}
		switch rng.IntN(4) {
		case 0:
			for p := range 8 {
				ev.Ports = append(ev.Ports, coverage.Port{Kind: coverage.KindPON, Technology: coverage.TechGPON,
					IfIndex: uint32(p + 1), Online: int32(rng.IntN(40))})
			}
		case 1:
			for p := range 24 {
				ev.Ports = append(ev.Ports, coverage.Port{Kind: coverage.KindDSL, Technology: coverage.TechVDSL2,
					IfIndex: uint32(p + 1), Online: int32(rng.IntN(2)), DownKbps: uint32(4000 + rng.IntN(90_000))})
			}
		case 2:
			ev.Ports = []coverage.Port{{Kind: coverage.KindCable, Technology: coverage.TechDOCSIS30, Online: int32(rng.IntN(300))}}
		default:
			ev.TV = &coverage.TVSource{Known: true, Up: rng.IntN(10) != 0, Why: "on air"}
		}
		s := coverage.DeviceStatus{State: string(poller.StateUp), Since: now.Add(-48 * time.Hour),
			PolledAt: now.Add(-time.Duration(1+rng.IntN(120)) * time.Second), Evidence: ev}
		switch rng.IntN(20) {
		case 0:
			s.State, s.Since = string(poller.StateDown), now.Add(-3*time.Hour)
		case 1:
			s = coverage.DeviceStatus{State: string(poller.StateUnknown)}
		}
		out[i] = s
	}
	return out
}

// TestCoverageSingleEqualsClustered: one fleet's state, given whole to
// the single controller's path and split over three replicas by Owner
// (each replica's share published as a State, encoded and read back),
// gives each replica's merged path (Merge for the states, FillEvidence
// for the evidence, as the daemon computes coverage) the same result as
// the single controller: every village's classes and every region's
// figures, byte for byte in the snapshot's JSON.
func TestCoverageSingleEqualsClustered(t *testing.T) {
	dir := t.TempDir()
	if err := inventorytest.WriteNational(dir, 400); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load(dir, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	fleet := fleetStatuses(inv, now)
	cfg := coverage.DefaultConfig()
	single := coverage.ComputeCompact(inv, fleet, &cfg, now)
	var want bytes.Buffer
	if err := single.WriteJSON(&want); err != nil {
		t.Fatal(err)
	}
	classes := map[string]int{}
	for _, v := range single.Villages {
		classes[string(v.Broadband)]++
	}
	if len(classes) < 3 {
		t.Fatalf("the fleet gives too few broadband classes to compare: %v", classes)
	}

	members := []int{0, 1, 2}
	shares := make([][]Device, len(members))
	for i, d := range inv.Devices {
		s := fleet[i]
		dv := Device{DeviceState: poller.DeviceState{ID: d.ID, Site: d.Site, State: poller.State(s.State), Since: s.Since,
			LastPoll: s.PolledAt}, Evidence: s.Evidence, PolledAt: s.PolledAt}
		if s.State == string(poller.StateUnknown) {
			dv.State, dv.Evidence = poller.StateUnknown, nil
		}
		o := Owner(d.ID, members)
		shares[o] = append(shares[o], dv)
	}
	states := make([]*State, len(members))
	for r, share := range shares {
		b, err := (&State{V: 1, Ordinal: r, Time: now, Devices: share}).Encode()
		if err != nil {
			t.Fatal(err)
		}
		if states[r], err = ParseState(b); err != nil {
			t.Fatal(err)
		}
	}
	for self := range members {
		var others []*State
		for r, s := range states {
			if r != self {
				others = append(others, s)
			}
		}
		merged := map[string]Device{}
		for _, d := range Merge(shares[self], others) {
			merged[d.ID] = d
		}
		own := map[string]Device{}
		for _, d := range shares[self] {
			own[d.ID] = d
		}
		devs := make([]coverage.DeviceStatus, len(inv.Devices))
		for i, d := range inv.Devices {
			m := merged[d.ID]
			devs[i] = coverage.DeviceStatus{State: string(m.State), Since: m.Since}
			if o, ok := own[d.ID]; ok {
				devs[i].Evidence, devs[i].PolledAt = o.Evidence, o.PolledAt
			}
		}
		FillEvidence(devs, func(i int) string { return inv.Devices[i].ID }, func(id string) bool { _, ok := own[id]; return ok }, others)
		got := coverage.ComputeCompact(inv, devs, &cfg, now)
		var b bytes.Buffer
		if err := got.WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b.Bytes(), want.Bytes()) {
			g, w := b.Bytes(), want.Bytes()
			i := 0
			for i < min(len(g), len(w)) && g[i] == w[i] {
				i++
			}
			t.Errorf("replica %d's coverage differs from the single controller's at byte %d:\n got %.200s\nwant %.200s",
				self, i, g[max(i-100, 0):], w[max(i-100, 0):])
		}
	}
}
