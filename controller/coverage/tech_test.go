package coverage

import (
	"strconv"
	"sync"
	"testing"

	"github.com/ngic/ngic/controller/device"
)

// TestTechOf: the known names give the constants; a new name gets the
// next value and keeps it, read back by String, also when goroutines meet
// it at once; past 254 names, TechOther.
func TestTechOf(t *testing.T) {
	for tech := TechGPON; tech <= TechVDSL2; tech++ {
		if got := TechOf(tech.String()); got != tech || tech.String() == "" {
			t.Errorf("TechOf(%q) = %d, want %d", tech.String(), got, tech)
		}
	}
	if TechOf("") != 0 || Tech(0).String() != "" {
		t.Errorf("the empty name is not the zero value")
	}
	tt := newTechTable()
	var wg sync.WaitGroup
	got := make([]Tech, 8)
	for i := range got {
		wg.Go(func() { got[i] = tt.of("g.fast") })
	}
	wg.Wait()
	for _, g := range got {
		if g != got[0] || g != TechVDSL2+1 || tt.name(g) != "g.fast" {
			t.Fatalf("g.fast: %v", got)
		}
	}
	for i := len(knownTechs) + 1; i < int(TechOther); i++ {
		if v := tt.of("t" + strconv.Itoa(i)); int(v) != i || tt.name(v) != "t"+strconv.Itoa(i) {
			t.Fatalf("name %d: %d %q", i, v, tt.name(v))
		}
	}
	if v := tt.of("one too many"); v != TechOther || tt.name(v) != "other" {
		t.Errorf("past the table: %d %q", v, tt.name(v))
	}
	if v := tt.of("g.fast"); v != TechVDSL2+1 {
		t.Errorf("g.fast again: %d", v)
	}
}

// TestUnknownTechnology: DSL lines of a technology none of the constants
// names count at the capability configured for its name, which the trail
// and the village give.
func TestUnknownTechnology(t *testing.T) {
	inv := writeInventory(t, map[string]string{
		"regions.csv":       "code,name,parent,level,population,households,lat,lon\nT,T,,township,,,,\nA,A,T,village,,10,30,120\n",
		"sites.csv":         "id,name,region,lat,lon,kind\nS,S,T,30,120,cabinet\n",
		"devices.csv":       "id,site,address,credentials\ndslam,S,127.0.0.1,community:x\n",
		"service_areas.csv": "device,port,village,service\ndslam,*,A,data\n",
	})
	doc := &device.Document{Class: device.ClassDSLAM, Access: &device.Access{DSL: &device.DSL{Lines: []device.DSLLine{
		{IfIndex: 1, Name: "line-1", Technology: "g.fast-test", Showtime: true}}}}}
	devs := []DeviceStatus{{State: StateUp, PolledAt: now, Evidence: Summarize(doc)}}
	cfg := DefaultConfig()
	cfg.Capability["g.fast-test"] = Rate{DownMbps: 500, UpMbps: 100}
	cfg.NextGeneration = append(cfg.NextGeneration, "g.fast-test")
	v := &ComputeCompact(inv, devs, &cfg, now).Villages[0]
	if v.Technology != "g.fast-test" || v.DownMbps != 500 || v.Broadband != "served" || v.NextGenSubscribers != 1 {
		t.Errorf("%s %v %s next gen %v", v.Technology, v.DownMbps, v.Broadband, v.NextGenSubscribers)
	}
	if tr := v.TrailEntries(); len(tr) != 1 || tr[0].Technology != "g.fast-test" || !tr[0].Used {
		t.Errorf("trail %+v", tr)
	}
}
