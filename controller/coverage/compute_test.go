package coverage

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/inventory"
)

// now is the time the small world's figures are for.
var now = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// smallWorld loads testdata/small and gives its devices (in devices.csv's
// order) the states and evidence that README.md's worked example uses:
//
//	olt1   up, polled 1 min ago: GPON 0/1 (ifIndex 1) 30 ONTs online,
//	       GPON 0/2 (2) none, xgspon 0/3 (3) 5
//	cmts1  up: DOCSIS 3.0, 40 modems online
//	dslam1 up: ADSL lines 1-3 in showtime at 10/1, 20/2, 30/4 Mbit/s
//	       attainable, line 4 not in showtime; VDSL2 lines 5-6 at 60/15, 40/10
//	dslam2 down for 1 h (< down_after 6 h): one ADSL line at 30/5
//	dslam3 down for 7 h (> down_after)
//	olt2   up, but polled 30 h ago (> stale_after 24 h): 10 ONTs online
//	tx1    up: on air
//	hd1    up: status alarm
//	olt3   auth-failed, never read
func smallWorld(t testing.TB) (*inventory.Inventory, []DeviceStatus) {
	t.Helper()
	inv, err := inventory.Load("testdata/small", inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	up := func(ev *Evidence) DeviceStatus {
		return DeviceStatus{State: StateUp, Since: now.Add(-48 * time.Hour), PolledAt: now.Add(-time.Minute), Evidence: ev}
	}
	dsl := func(ifIndex uint32, tech Tech, showtime bool, down, upk uint32) Port {
		p := Port{Name: "line-" + string(rune('0'+ifIndex)), Technology: tech, IfIndex: ifIndex, DownKbps: down, UpKbps: upk, Kind: KindDSL}
		if showtime {
			p.Online = 1
		}
		return p
	}
	olt1 := &Evidence{Ports: []Port{
		{Name: "GPON 0/1", Technology: TechGPON, IfIndex: 1, Online: 30, Kind: KindPON},
		{Name: "GPON 0/2", Technology: TechGPON, IfIndex: 2, Online: 0, Kind: KindPON},
		{Name: "xgspon 0/3", Technology: TechXGSPON, IfIndex: 3, Online: 5, Kind: KindPON},
	}}
	cmts1 := &Evidence{Ports: []Port{{Technology: TechDOCSIS30, Online: 40, Kind: KindCable}}}
	dslam1 := &Evidence{Ports: []Port{
		dsl(1, TechADSL, true, 10000, 1000), dsl(2, TechADSL, true, 20000, 2000), dsl(3, TechADSL, true, 30000, 4000),
		dsl(4, TechADSL, false, 8000, 800), dsl(5, TechVDSL2, true, 60000, 15000), dsl(6, TechVDSL2, true, 40000, 10000),
	}}
	dslam2 := &Evidence{Ports: []Port{dsl(1, TechADSL, true, 30000, 5000)}}
	dslam3 := &Evidence{Ports: []Port{dsl(1, TechVDSL2, true, 90000, 30000)}}
	olt2 := &Evidence{Ports: []Port{{Name: "GPON 0/1", Technology: TechGPON, IfIndex: 1, Online: 10, Kind: KindPON}}}
	devs := []DeviceStatus{
		up(olt1),
		up(cmts1),
		up(dslam1),
		{State: StateDown, Since: now.Add(-time.Hour), PolledAt: now.Add(-61 * time.Minute), Evidence: dslam2},
		{State: StateDown, Since: now.Add(-7 * time.Hour), PolledAt: now.Add(-421 * time.Minute), Evidence: dslam3},
		{State: StateUp, Since: now.Add(-48 * time.Hour), PolledAt: now.Add(-30 * time.Hour), Evidence: olt2},
		up(&Evidence{TV: &TVSource{Known: true, Up: true, Why: "on air"}}),
		up(&Evidence{TV: &TVSource{Known: true, Why: "status alarm"}}),
		{State: StateAuthFailed, Since: now.Add(-time.Hour)},
	}
	if len(devs) != len(inv.Devices) {
		t.Fatalf("%d statuses for %d devices", len(devs), len(inv.Devices))
	}
	return inv, devs
}

func computeSmall(t testing.TB) *Result {
	inv, devs := smallWorld(t)
	cfg := DefaultConfig()
	return Compute(inv, devs, &cfg, now)
}

func village(t *testing.T, r *Result, code string) *Village {
	t.Helper()
	for i := range r.Villages {
		if r.Villages[i].Code == code {
			return &r.Villages[i]
		}
	}
	t.Fatalf("no village %s", code)
	return nil
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// TestVillages checks every village of the small world against the
// figures worked out by hand (README.md, "Worked example").
func TestVillages(t *testing.T) {
	r := computeSmall(t)
	type want struct {
		broadband, evidence string
		down, up            float64
		tech                string
		stale, outage       bool
		subs, nextGen       float64
		tv, tvEvidence      string
		voice               bool
		converged           bool
	}
	cases := map[string]want{
		// GPON port 1, 30 ONTs online, counted at GPON's 2488/1244. Port 1
		// also serves V02 (by name): 30 ONTs split 100:50 by households,
		// 30*100/150 = 20 here, 30*50/150 = 10 there. IPTV over olt1 "*"
		// (30+0+5 = 35 online) is digital TV; voice on olt1; all three on
		// network "fibre": converged.
		"V01": {"served", "measured", 2488, 1244, "gpon", false, false, 20, 20, "digital", "measured", true, true},
		"V02": {"served", "measured", 2488, 1244, "gpon", false, false, 10, 10, "none", "none", false, false},
		// ADSL lines in showtime 10/1, 20/2, 30/4: median 20/2 (unserved);
		// VDSL2 60/15, 40/10: median (60+40)/2 = 50, (15+10)/2 = 12.5
		// (underserved, the better). 5 lines in showtime, 2 of them VDSL2
		// (next generation). TV: declared analogue.
		"V03": {"underserved", "measured", 50, 12.5, "vdsl2", false, false, 5, 2, "analogue", "declared", false, false},
		// dslam2 down 1 h < 6 h: keeps 30/5 (underserved) as an outage;
		// its subscribers are not online; the declared 4G is not used.
		"V04": {"underserved", "measured", 30, 5, "adsl", false, true, 0, 0, "none", "none", false, false},
		// dslam3 down 7 h > 6 h: rejected; declared 4G 30/5 beats
		// satellite 25/3 (same tier, faster). Still an outage: dslam3
		// delivers data here and is down.
		"V05": {"underserved", "declared", 30, 5, "4g", false, true, 0, 0, "none", "none", false, false},
		// Nothing; the override to served expired on 2026-01-01.
		"V06": {"unserved", "none", 0, 0, "", false, false, 0, 0, "none", "none", false, false},
		// olt2 polled 30 h ago > 24 h: served but stale; tx1 on air;
		// voice declared (so not converged).
		"V07": {"served", "measured", 2488, 1244, "gpon", true, false, 10, 10, "digital", "measured", true, false},
		// cmts1 "*": DOCSIS 3.0 343/122; 40 modems split with V09 30:10 =
		// 30 here. hd1 in alarm: rejected; declared DVB-T2: digital.
		"V08": {"served", "measured", 343, 122, "docsis3.0", false, false, 30, 30, "digital", "declared", false, false},
		// Measured served, overridden to underserved until 2099-12-31.
		"V09": {"underserved", "override", 343, 122, "docsis3.0", false, false, 10, 10, "none", "none", false, false},
		// olt3 unread, olt1 port 2 without ONTs, port 99 not on olt1:
		// nothing; video overridden to digital.
		"V10": {"unserved", "none", 0, 0, "", false, false, 0, 0, "digital", "override", false, false},
		// XGS-PON port 3, 5 ONTs: data, voice and IPTV on "fibre".
		"V11": {"served", "measured", 9953, 9953, "xgs-pon", false, false, 5, 5, "digital", "measured", true, true},
		// Declared satellite 25/3; voice on dslam3 rejected (down past
		// down_after), declared PSTN; DVB-T2 declared beside analogue.
		// An outage: dslam3 delivers its voice and is down.
		"V12": {"underserved", "declared", 25, 3, "satellite", false, true, 0, 0, "digital", "declared", true, false},
	}
	if len(r.Villages) != len(cases) {
		t.Fatalf("%d villages, want %d", len(r.Villages), len(cases))
	}
	for code, w := range cases {
		v := village(t, r, code)
		got := want{v.Broadband, v.Evidence, v.DownMbps, v.UpMbps, v.Technology, v.Stale, v.Outage,
			v.SubscribersOnline, v.NextGenSubscribers, v.TV.String(), v.TVEvidence.String(), v.Voice, v.Converged}
		if !near(got.subs, w.subs) || !near(got.nextGen, w.nextGen) {
			t.Errorf("%s: subscribers %v (next gen %v), want %v (%v)", code, got.subs, got.nextGen, w.subs, w.nextGen)
		}
		got.subs, got.nextGen = w.subs, w.nextGen
		if got != w {
			t.Errorf("%s:\n got  %+v\n want %+v", code, got, w)
		}
		if v.DigitalTV != (v.TV == TVDigital) {
			t.Errorf("%s: digital_tv %v with tv %s", code, v.DigitalTV, v.TV)
		}
		if tier, ok := r.Tiers[v.Tier], true; !ok || tier.Name != v.Broadband {
			t.Errorf("%s: tier %d is %s, broadband %s", code, v.Tier, tier.Name, v.Broadband)
		}
	}
	// Take-up: V01 20 subscribers / 100 households; V12 has none.
	if v := village(t, r, "V01"); !near(v.TakeUp, 0.2) || v.Network != "fibre" {
		t.Errorf("V01 take-up %v network %q", v.TakeUp, v.Network)
	}
	if v := village(t, r, "V12"); v.TakeUp != 0 {
		t.Errorf("V12 take-up %v", v.TakeUp)
	}
}

// trailOf returns the entries of a village's trail for a service.
func trailOf(v *Village, service string) []TrailEntry {
	var out []TrailEntry
	for _, e := range v.Trail {
		if e.Service == service {
			out = append(out, e)
		}
	}
	return out
}

// TestTrail checks that each village says which rows it used and why the
// others were rejected.
func TestTrail(t *testing.T) {
	r := computeSmall(t)
	check := func(code, service string, want []string) {
		t.Helper()
		es := trailOf(village(t, r, code), service)
		var got []string
		for _, e := range es {
			s := e.Source + " " + e.Device + " " + e.Technology
			switch {
			case e.Used:
				s += " used"
			case e.Rejected != "":
				s += " rejected: " + e.Rejected
			default:
				s += " beaten"
			}
			got = append(got, strings.TrimSpace(strings.Join(strings.Fields(s), " ")))
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s %s trail:\n%s\nwant:\n%s", code, service, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	check("V03", "data", []string{"measured dslam1 adsl beaten", "measured dslam1 vdsl2 used"})
	check("V04", "data", []string{"measured dslam2 adsl used", "declared 4g rejected: measured evidence exists"})
	check("V05", "data", []string{"measured dslam3 rejected: down since 2026-11-29T05:00:00Z, past down_after 6h0m0s",
		"declared 4g used", "declared satellite beaten"})
	check("V06", "data", []string{"override rejected: expired 2026-01-01T23:59:59Z"})
	check("V09", "data", []string{"measured cmts1 docsis3.0 used", "override used"})
	check("V10", "data", []string{"measured olt3 rejected: no evidence polled yet",
		"measured olt1 gpon rejected: no subscribers online", "measured olt1 rejected: port 99 not found on the device"})
	check("V08", "video", []string{"measured hd1 rejected: source down: status alarm", "declared dvb-t2 used"})
	check("V12", "video", []string{"declared analogue beaten", "declared dvb-t2 used"})
	check("V02", "voice", []string{"override rejected: class maybe is not one of voice's classes"})

	// The used data entry of V01 gives the figure, its unit, and when and
	// how the device was polled.
	e := trailOf(village(t, r, "V01"), "data")[0]
	if e.Figure != FigureONTsOnline || e.Value != 30 || e.Unit != UnitSubscribers || e.Port != "1" || e.Line != 2 ||
		!e.PolledAt.Equal(now.Add(-time.Minute)) || e.State != StateUp || e.Class != "served" {
		t.Errorf("V01 data trail %+v", e)
	}
	// The override of V09 keeps the measured class beside it.
	ov := village(t, r, "V09").Overrides
	if len(ov) != 1 || ov[0].Measured != "served" || ov[0].MeasuredEvidence != EvidenceMeasured || ov[0].Class != "underserved" ||
		ov[0].Until.Format(time.DateOnly) != "2099-12-31" {
		t.Errorf("V09 overrides %+v", ov)
	}
}

// TestExpiredOverride: an override applies until its end and not after.
func TestOverrideUntil(t *testing.T) {
	inv, devs := smallWorld(t)
	cfg := DefaultConfig()
	// On 2026-01-01 the override of V06 to served is in force.
	r := Compute(inv, devs, &cfg, time.Date(2026, 1, 1, 23, 0, 0, 0, time.UTC))
	v := village(t, r, "V06")
	if v.Broadband != "served" || v.Evidence != EvidenceOverride || len(v.Overrides) != 1 || v.Overrides[0].Measured != "unserved" {
		t.Errorf("V06 before the end of its override: %s %s %+v", v.Broadband, v.Evidence, v.Overrides)
	}
}

// TestDownAfter: a device down keeps its class as an outage until
// down_after, then the village falls back to what else there is.
func TestDownAfter(t *testing.T) {
	inv, devs := smallWorld(t)
	cfg := DefaultConfig()
	for _, tc := range []struct {
		down     time.Duration
		class    string
		evidence string
		outage   bool
	}{
		{time.Minute, "underserved", EvidenceMeasured, true},
		{6 * time.Hour, "underserved", EvidenceMeasured, true},
		// Past 6 h: the declared 4G 50/10 (underserved) takes over; the
		// device is still down: an outage.
		{6*time.Hour + time.Second, "underserved", EvidenceDeclared, true},
	} {
		devs[3].Since = now.Add(-tc.down)
		v := village(t, Compute(inv, devs, &cfg, now), "V04")
		if v.Broadband != tc.class || v.Evidence != tc.evidence || v.Outage != tc.outage {
			t.Errorf("down %v: %s %s outage %v, want %s %s %v", tc.down, v.Broadband, v.Evidence, v.Outage, tc.class, tc.evidence, tc.outage)
		}
	}
	// Back up: no outage, and its subscriber (1 line in showtime) counts.
	devs[3].State = StateUp
	v := village(t, Compute(inv, devs, &cfg, now), "V04")
	if v.Outage || v.Evidence != EvidenceMeasured || v.SubscribersOnline != 1 {
		t.Errorf("up again: %+v", v)
	}
}

// TestDownNeverAnswered: a device down within down_after that never
// answered has no last class to keep: its rows are rejected, the village
// falls back to what else there is, and it is still an outage.
func TestDownNeverAnswered(t *testing.T) {
	inv, devs := smallWorld(t)
	cfg := DefaultConfig()
	devs[3].Evidence, devs[3].PolledAt = nil, time.Time{}
	v := village(t, Compute(inv, devs, &cfg, now), "V04")
	// The declared 4G 50/10 (underserved) takes over.
	if v.Broadband != "underserved" || v.Evidence != EvidenceDeclared || v.Technology != "4g" || !v.Outage {
		t.Errorf("V04: %s %s %s outage %v", v.Broadband, v.Evidence, v.Technology, v.Outage)
	}
	e := trailOf(v, "data")[0]
	if e.Device != "dslam2" || e.Rejected != "down, never answered" || !e.Outage || e.Used {
		t.Errorf("V04's dslam2 entry: %+v", e)
	}
}

// TestDegradedSource: a TV source up with a major alarm naming its input
// gives no digital TV; the village falls back to what else there is.
func TestDegradedSource(t *testing.T) {
	inv, devs := smallWorld(t)
	cfg := DefaultConfig()
	devs[7].Evidence = &Evidence{TV: &TVSource{Known: true, Up: true, Degraded: true, Why: "major alarm gbe-loss-of-input-stream"}}
	v := village(t, Compute(inv, devs, &cfg, now), "V08")
	// hd1 degraded: rejected; the declared DVB-T2 gives digital TV.
	if v.TV != TVDigital || v.TVEvidence != BasisDeclared || v.Outage {
		t.Errorf("V08: tv %s %s outage %v", v.TV, v.TVEvidence, v.Outage)
	}
	e := trailOf(v, "video")[0]
	if e.Device != "hd1" || e.Rejected != "source degraded: major alarm gbe-loss-of-input-stream" || e.Value != 1 || e.Used {
		t.Errorf("V08's hd1 entry: %+v", e)
	}
}

// TestRegions checks the roll-ups, weighted by households and by
// population, for all villages and for priority ones.
func TestRegions(t *testing.T) {
	r := computeSmall(t)
	regions := map[string]*Region{}
	for i := range r.Regions {
		regions[r.Regions[i].Code] = &r.Regions[i]
	}
	if len(r.Regions) != 4 {
		t.Fatalf("%d regions, want P1, C1, T1, T2", len(r.Regions))
	}
	tier := func(s Subset, name string) Share {
		for _, ts := range s.Tiers {
			if ts.Name == name {
				return ts.Share
			}
		}
		t.Fatalf("no tier %s", name)
		return Share{}
	}
	shareIs := func(what string, got Share, villages int, hh, pop, hhTotal, popTotal int64) {
		t.Helper()
		want := Share{Villages: villages, Households: hh, Population: pop}
		if hhTotal > 0 {
			want.ShareHouseholds = float64(hh) / float64(hhTotal)
		}
		if popTotal > 0 {
			want.SharePopulation = float64(pop) / float64(popTotal)
		}
		if got.Villages != want.Villages || got.Households != want.Households || got.Population != want.Population ||
			!near(got.ShareHouseholds, want.ShareHouseholds) || !near(got.SharePopulation, want.SharePopulation) {
			t.Errorf("%s: %+v, want %+v", what, got, want)
		}
	}
	// T1: V01..V06, households 100+50+40+20+60+30 = 300, population
	// 300+150+120+60+200+90 = 920. Served V01, V02: 150 hh (0.5), 450
	// people (450/920); underserved V03, V04, V05: 120 hh (0.4), 380;
	// unserved V06: 30 hh (0.1), 90.
	t1 := regions["T1"]
	if t1.Households != 300 || t1.Population != 920 || t1.Villages != 6 || t1.Level != "township" || t1.Parent != "C1" {
		t.Errorf("T1 %+v", t1)
	}
	shareIs("T1 served", tier(t1.All, "served"), 2, 150, 450, 300, 920)
	shareIs("T1 underserved", tier(t1.All, "underserved"), 3, 120, 380, 300, 920)
	shareIs("T1 unserved", tier(t1.All, "unserved"), 1, 30, 90, 300, 920)
	// T2: V07..V12, 80+30+10+200+50+0 = 370 hh, 250+100+20+500+100+0 =
	// 970 people. Served V07, V08, V11: 160 hh, 450; underserved V09,
	// V12: 10, 20; unserved V10: 200, 500.
	t2 := regions["T2"]
	shareIs("T2 served", tier(t2.All, "served"), 3, 160, 450, 370, 970)
	shareIs("T2 underserved", tier(t2.All, "underserved"), 2, 10, 20, 370, 970)
	shareIs("T2 unserved", tier(t2.All, "unserved"), 1, 200, 500, 370, 970)
	// C1 and P1: all twelve, 670 hh, 1890 people; served 310 hh, 900.
	for _, code := range []string{"C1", "P1"} {
		g := regions[code]
		shareIs(code+" served", tier(g.All, "served"), 5, 310, 900, 670, 1890)
		shareIs(code+" underserved", tier(g.All, "underserved"), 5, 130, 400, 670, 1890)
		shareIs(code+" unserved", tier(g.All, "unserved"), 2, 230, 590, 670, 1890)
		// Priority: V01 (100 hh, 300, served), V05 (60, 200,
		// underserved), V06 (30, 90, unserved), V11 (50, 100, served):
		// 240 hh, 690 people; served 150 hh = 0.625, 400 people.
		shareIs(code+" priority served", tier(g.Priority, "served"), 2, 150, 400, 240, 690)
		shareIs(code+" priority underserved", tier(g.Priority, "underserved"), 1, 60, 200, 240, 690)
		shareIs(code+" priority unserved", tier(g.Priority, "unserved"), 1, 30, 90, 240, 690)
		// Digital TV: V01 100, V07 80, V08 30, V10 200, V11 50, V12 0 =
		// 460 hh; 300+250+100+500+100+0 = 1250 people. Analogue only:
		// V03, 40 hh, 120 people. Progress 460 / (460+40) = 0.92.
		shareIs(code+" digital TV", g.All.DigitalTV, 6, 460, 1250, 670, 1890)
		shareIs(code+" analogue TV", g.All.AnalogueTV, 1, 40, 120, 670, 1890)
		if !near(g.All.DigitalProgress, 0.92) {
			t.Errorf("%s digital progress %v, want 0.92", code, g.All.DigitalProgress)
		}
		// Converged: V01 and V11: 150 hh, 400 people.
		shareIs(code+" converged", g.All.Converged, 2, 150, 400, 670, 1890)
		// Voice: V01, V07, V11, V12: 230 hh, 650 people.
		shareIs(code+" voice", g.All.Voice, 4, 230, 650, 670, 1890)
		// Outage: a device delivering a service is down: V04 (dslam2,
		// 20 hh, 60 people), V05 and V12 (dslam3, 60 + 0 hh, 200 + 0
		// people): 80 hh, 260 people.
		shareIs(code+" outage", g.All.Outage, 3, 80, 260, 670, 1890)
		shareIs(code+" stale", g.All.Stale, 1, 80, 250, 670, 1890)
		// Evidence: measured V01-V04, V07, V08, V11; declared V05, V12;
		// override V09; none V06, V10. Measured: 100+50+40+20+80+30+50 =
		// 370 hh, 300+150+120+60+250+100+100 = 1080 people.
		shareIs(code+" measured", g.All.Measured, 7, 370, 1080, 670, 1890)
		shareIs(code+" declared", g.All.Declared, 2, 60, 200, 670, 1890)
		shareIs(code+" override", g.All.Override, 1, 10, 20, 670, 1890)
		shareIs(code+" none", g.All.NoEvidence, 2, 230, 590, 670, 1890)
		// Subscribers: 20+10+5+0+0+0 + 10+30+10+0+5+0 = 90; next
		// generation 20+10+2 + 10+30+10+5 = 87 (the 3 ADSL lines are not).
		if !near(g.All.SubscribersOnline, 90) || !near(g.All.NextGenSubscribers, 87) || !near(g.All.NextGenShare, 87.0/90) ||
			!near(g.All.TakeUp, 90.0/670) {
			t.Errorf("%s subscribers %v next gen %v share %v take-up %v", code, g.All.SubscribersOnline,
				g.All.NextGenSubscribers, g.All.NextGenShare, g.All.TakeUp)
		}
	}
	// T1's subscribers: 20+10+5 = 35, 32 next generation.
	if !near(t1.All.SubscribersOnline, 35) || !near(t1.All.NextGenSubscribers, 32) {
		t.Errorf("T1 subscribers %v / %v", t1.All.SubscribersOnline, t1.All.NextGenSubscribers)
	}
}

// TestGaps checks the ranking and the nearest better site.
func TestGaps(t *testing.T) {
	r := computeSmall(t)
	type want struct {
		code, class, site, siteClass, village string
	}
	// Below served: V10 200 hh, V05 60, V03 40, V06 30, V04 20, V09 10,
	// V12 0. Sites serving a served village (measured): S1 (V01 first),
	// S2 (V08), S4 (V07); serving underserved: S3 (V03). An unserved
	// village may go to any of them, an underserved one to S1, S2, S4.
	wants := []want{
		{"V10", "unserved", "S1", "served", "V01"},
		{"V05", "underserved", "S2", "served", "V08"},
		{"V03", "underserved", "S1", "served", "V01"},
		{"V06", "unserved", "S1", "served", "V01"},
		{"V04", "underserved", "S1", "served", "V01"},
		{"V09", "underserved", "S2", "served", "V08"},
		{"V12", "underserved", "S2", "served", "V08"},
	}
	if len(r.Gaps) != len(wants) {
		t.Fatalf("%d gaps: %+v", len(r.Gaps), r.Gaps)
	}
	for i, w := range wants {
		g := r.Gaps[i]
		got := want{g.Code, g.Broadband, g.NearestSite(), g.NearestSiteClass(), g.NearestVillage()}
		if got != w {
			t.Errorf("gap %d: %+v, want %+v", i, got, w)
		}
	}
	// V10 (30.00 N, 120.10 E) to S1 (30.00 N, 120.00 E): along the
	// parallel, h = cos²30° · sin²(0.05°) = 0.75 · 7.6154e-7 = 5.7116e-7,
	// d = 2 · 6371.0088 · asin(√h) = 9.6298 km.
	if d := r.Gaps[0].DistanceKm; math.Abs(d-9.6298) > 0.001 {
		t.Errorf("V10 to S1: %v km, want 9.6298", d)
	}
	// V09 (30.52 N, 120.50 E) to S2 (30.50, 120.50): 0.02° of latitude =
	// 0.02 · π/180 · 6371.0088 = 2.2239 km.
	if d := r.Gaps[5].DistanceKm; math.Abs(d-2.2239) > 0.001 {
		t.Errorf("V09 to S2: %v km, want 2.2239", d)
	}
}

// TestDeterministic: the same input gives the same result, whatever the
// parallelism.
func TestDeterministic(t *testing.T) {
	a, b := computeSmall(t), computeSmall(t)
	ja, jb := mustJSON(t, a), mustJSON(t, b)
	if ja != jb {
		t.Error("two computations differ")
	}
}

// TestCheckOverrides: the small world's override of V02's voice to
// "maybe" (line 5) is named with its file and line.
func TestCheckOverrides(t *testing.T) {
	inv, _ := smallWorld(t)
	cfg := DefaultConfig()
	err := CheckOverrides(inv, &cfg)
	want := `testdata/small/overrides.csv:5: class: "maybe" is not one of served, unserved`
	if err == nil || err.Error() != want {
		t.Errorf("%v, want %s", err, want)
	}
	// With tiers that do not name underserved, V09's override is wrong too.
	cfg.Tiers = []Tier{{Name: "none"}, {Name: "ten", DownMbps: 10, UpMbps: 1}}
	err = CheckOverrides(inv, &cfg)
	if err == nil || !strings.Contains(err.Error(), `overrides.csv:2: class: "underserved" is not one of none, ten`) {
		t.Errorf("custom tiers: %v", err)
	}
}

// TestTakeUpOverlappingRows: a village with a "*" row and a port row of
// the same device counts the device once.
func TestTakeUpOverlappingRows(t *testing.T) {
	inv, devs := smallWorld(t)
	v01, _ := inv.Region("V01")
	olt1, _ := inv.Device("olt1")
	inv.ServiceAreas = append(inv.ServiceAreas, inventory.ServiceArea{Device: "olt1", Port: "*", Village: "V01",
		Service: inventory.ServiceData, Line: 99, DeviceIx: olt1, VillageIx: v01})
	cfg := DefaultConfig()
	r := Compute(inv, devs, &cfg, now)
	// Port 1 (30 ONTs) serves V01 (100 hh) and V02 (50): 20 and 10, as
	// before. Port 3 (5 ONTs) now serves V01 and V11 (50 hh): 5·100/150 =
	// 3.333 and 5·50/150 = 1.667. Port 2 has none.
	for code, want := range map[string]float64{"V01": 20 + 5.0*100/150, "V02": 10, "V11": 5.0 * 50 / 150} {
		if got := village(t, r, code).SubscribersOnline; !near(got, want) {
			t.Errorf("%s: %v subscribers, want %v", code, got, want)
		}
	}
}

// FuzzParseIfIndex: a port cell is an ifIndex exactly when
// strconv.ParseUint reads it in 32 bits, with the same value.
func FuzzParseIfIndex(f *testing.F) {
	for _, s := range []string{"", "0", "7", "007", "4294967295", "4294967296", "00000000001", "gpon0/1/3", "+1", "1_000", "-1", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := parseIfIndex(s)
		want, err := strconv.ParseUint(s, 10, 32)
		if ok != (err == nil) || ok && uint64(n) != want {
			t.Errorf("parseIfIndex(%q) = %d, %v; strconv: %d, %v", s, n, ok, want, err)
		}
	})
}

// TestTakeUpSplit: a port's subscribers are split over the villages it
// delivers data to in proportion to their households; when none of them
// has households, equally.
func TestTakeUpSplit(t *testing.T) {
	inv := writeInventory(t, map[string]string{
		"regions.csv": "code,name,parent,level,population,households,lat,lon\n" +
			"T,T,,township,,,,\n" +
			"A,A,T,village,,0,30,120\nB,B,T,village,,0,30,120.1\n" + // port 1: no households
			"C,C,T,village,,0,30,120.2\nD,D,T,village,,100,30,120.3\n", // port 2: D's 100
		"sites.csv":         "id,name,region,lat,lon,kind\nS,S,T,30,120,cabinet\n",
		"devices.csv":       "id,site,address,credentials\nolt,S,127.0.0.1,community:x\n",
		"service_areas.csv": "device,port,village,service\nolt,1,A,data\nolt,1,B,data\nolt,2,C,data\nolt,2,D,data\n",
	})
	ev := &Evidence{Ports: []Port{{Name: "p1", Technology: TechGPON, IfIndex: 1, Online: 30, Kind: KindPON},
		{Name: "p2", Technology: TechGPON, IfIndex: 2, Online: 40, Kind: KindPON}}}
	devs := []DeviceStatus{{State: StateUp, PolledAt: now, Evidence: ev}}
	for _, compute := range []func(*inventory.Inventory, []DeviceStatus, *Config, time.Time) *Result{Compute, ComputeCompact} {
		r := compute(inv, devs, nil, now)
		// 30 / 2 villages; 40 * 0/100 and 40 * 100/100.
		for code, want := range map[string]float64{"A": 15, "B": 15, "C": 0, "D": 40} {
			if got := village(t, r, code).SubscribersOnline; got != want {
				t.Errorf("%s: %v subscribers online, want %v", code, got, want)
			}
		}
	}
}

// writeInventory writes the files of an inventory folder and loads it.
func writeInventory(t *testing.T, files map[string]string) *inventory.Inventory {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	inv, err := inventory.Load(dir, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// TestDSLPoolAcrossRows: a village's DSL lines of one technology are
// pooled over its rows, and the pool counts at their medians, while each
// row's entry gives its own lines' medians; a village with one row counts
// at that row's.
func TestDSLPoolAcrossRows(t *testing.T) {
	inv := writeInventory(t, map[string]string{
		"regions.csv": "code,name,parent,level,population,households,lat,lon\n" +
			"T,T,,township,,,,\nA,A,T,village,,10,30,120\nB,B,T,village,,10,30,120.1\n",
		"sites.csv":         "id,name,region,lat,lon,kind\nS,S,T,30,120,cabinet\n",
		"devices.csv":       "id,site,address,credentials\nd1,S,127.0.0.1,community:x\nd2,S,127.0.0.2,community:x\n",
		"service_areas.csv": "device,port,village,service\nd1,1,A,data\nd1,2,A,data\nd2,*,A,data\nd2,*,B,data\n",
	})
	line := func(ifIndex uint32, down uint32) Port {
		return Port{Name: "line-" + strconv.Itoa(int(ifIndex)), Technology: TechVDSL2, IfIndex: ifIndex, Online: 1,
			DownKbps: down * 1000, UpKbps: down * 100, Kind: KindDSL}
	}
	d1 := &Evidence{Ports: []Port{line(1, 10), line(2, 30)}}
	d2 := &Evidence{Ports: []Port{line(1, 90), line(2, 50), line(3, 70)}}
	devs := []DeviceStatus{{State: StateUp, PolledAt: now, Evidence: d1}, {State: StateUp, PolledAt: now, Evidence: d2}}
	for _, compute := range []func(*inventory.Inventory, []DeviceStatus, *Config, time.Time) *Result{Compute, ComputeCompact} {
		r := compute(inv, devs, nil, now)
		// A: 10, 30 and 50, 70, 90 pooled: 50/5; B: d2's lines alone, 70/7.
		for code, want := range map[string][2]float64{"A": {50, 5}, "B": {70, 7}} {
			if v := village(t, r, code); v.DownMbps != want[0] || v.UpMbps != want[1] || v.Evidence != EvidenceMeasured {
				t.Errorf("%s: %s %v/%v, want measured %v/%v", code, v.Evidence, v.DownMbps, v.UpMbps, want[0], want[1])
			}
		}
		var rows []float64
		for _, e := range village(t, r, "A").TrailEntries() {
			rows = append(rows, e.DownMbps)
		}
		if want := []float64{10, 30, 70}; !slices.Equal(rows, want) {
			t.Errorf("A's entries at %v Mbit/s down, want %v", rows, want)
		}
	}
}
