package coverage

import (
	"testing"
	"time"
)

func TestCompare(t *testing.T) {
	inv, devs := smallWorld(t)
	cfg := DefaultConfig()
	old := Compute(inv, devs, &cfg, now)
	// A day later: dslam2 (V04) has been down past down_after, so V04
	// falls to its declared 4G (same tier, evidence declared); olt1 has
	// lost every ONT of port 1, so V01 and V02 have nothing measured: V01
	// falls to unserved (none), V02 too.
	later := now.Add(24 * time.Hour)
	devs[0].Evidence = &Evidence{Ports: []Port{
		{Name: "GPON 0/1", Technology: TechGPON, IfIndex: 1, Online: 0, Kind: KindPON},
		{Name: "GPON 0/2", Technology: TechGPON, IfIndex: 2, Online: 0, Kind: KindPON},
		{Name: "xgspon 0/3", Technology: TechXGSPON, IfIndex: 3, Online: 5, Kind: KindPON},
	}}
	for i := range devs {
		if devs[i].State == StateUp {
			devs[i].PolledAt = later.Add(-time.Minute)
		}
	}
	cur := Compute(inv, devs, &cfg, later)
	d := Compare(old, cur)
	if !d.From.Equal(now) || !d.To.Equal(later) {
		t.Errorf("from %v to %v", d.From, d.To)
	}
	got := map[string]VillageChange{}
	for _, c := range d.Villages {
		got[c.Code] = c
	}
	want := map[string]VillageChange{
		"V01": {Code: "V01", FromBroadband: "served", ToBroadband: "unserved", Direction: DirectionDown,
			FromEvidence: "measured", ToEvidence: "none", FromTV: TVDigital, ToTV: TVDigital},
		"V02": {Code: "V02", FromBroadband: "served", ToBroadband: "unserved", Direction: DirectionDown,
			FromEvidence: "measured", ToEvidence: "none", FromTV: TVNone, ToTV: TVNone},
		"V04": {Code: "V04", FromBroadband: "underserved", ToBroadband: "underserved", Direction: DirectionSame,
			FromEvidence: "measured", ToEvidence: "declared", FromTV: TVNone, ToTV: TVNone},
		// olt2 was stale and is fresh again, which changes no class.
	}
	if len(got) != len(want) {
		t.Errorf("changes %+v", d.Villages)
	}
	for code, w := range want {
		g := got[code]
		g.Name, g.Households = "", 0
		if g != w {
			t.Errorf("%s: %+v, want %+v", code, g, w)
		}
	}
	// T1's served share goes from 150/300 to 0; its unserved share from
	// 30/300 to (100+50+30)/300.
	moved := map[string]RegionChange{}
	for _, c := range d.Regions {
		if c.Code == "T1" && c.Subset == SubsetAll {
			moved[c.Figure] = c
		}
	}
	if c := moved["tier:served"]; !near(c.From, 0.5) || !near(c.To, 0) || !near(c.Delta, -0.5) {
		t.Errorf("T1 served %+v", c)
	}
	if c := moved["tier:unserved"]; !near(c.From, 0.1) || !near(c.To, 0.6) {
		t.Errorf("T1 unserved %+v", c)
	}
	if _, ok := moved["digital_tv"]; ok {
		t.Error("T1 digital TV did not move, but is listed")
	}
	// Nothing changed: nothing listed.
	if d := Compare(cur, cur); len(d.Villages) != 0 || len(d.Regions) != 0 {
		t.Errorf("self-compare %+v", d)
	}
	// A village only in one result is listed with an empty side.
	short := *cur
	short.Villages = cur.Villages[1:]
	d = Compare(cur, &short)
	if len(d.Villages) != 1 || d.Villages[0].Code != "V01" || d.Villages[0].ToBroadband != "" {
		t.Errorf("removed village: %+v", d.Villages)
	}
}
