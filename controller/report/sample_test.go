package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/coverage"
	"github.com/ngic/ngic/controller/inventory"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// polled is the time of the sample's polls.
var polled = time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)

// sample is a small result written by hand: a province, a county, three
// villages (one named <script>, one with a Chinese name, one whose name a
// spreadsheet would run as a formula), one region change and one village
// change when compare is set.
func sample(compare bool) (*coverage.Result, Options) {
	tiers := coverage.DefaultTiers()
	share := func(v int, hh, pop, totHH, totPop int64) coverage.Share {
		s := coverage.Share{Villages: v, Households: hh, Population: pop}
		if totHH > 0 {
			s.ShareHouseholds = float64(hh) / float64(totHH)
		}
		if totPop > 0 {
			s.SharePopulation = float64(pop) / float64(totPop)
		}
		return s
	}
	// Villages: 上庄村 400 hh served measured; <script> 100 hh underserved
	// declared; =1+2 50 hh unserved none, priority.
	all := coverage.Subset{Villages: 3, Households: 550, Population: 1800,
		Tiers: []coverage.TierShare{
			{Name: "unserved", Share: share(1, 50, 200, 550, 1800)},
			{Name: "underserved", Share: share(1, 100, 300, 550, 1800)},
			{Name: "served", Share: share(1, 400, 1300, 550, 1800)},
		},
		Measured: share(1, 400, 1300, 550, 1800), Declared: share(1, 100, 300, 550, 1800),
		NoEvidence: share(1, 50, 200, 550, 1800), DigitalTV: share(1, 400, 1300, 550, 1800),
		Converged: share(1, 400, 1300, 550, 1800), Voice: share(1, 400, 1300, 550, 1800),
		SubscribersOnline: 43, NextGenSubscribers: 43, NextGenShare: 1, TakeUp: 43.0 / 550, DigitalProgress: 1}
	prio := coverage.Subset{Villages: 1, Households: 50, Population: 200,
		Tiers: []coverage.TierShare{
			{Name: "unserved", Share: share(1, 50, 200, 50, 200)},
			{Name: "underserved", Share: share(0, 0, 0, 50, 200)},
			{Name: "served", Share: share(0, 0, 0, 50, 200)},
		},
		NoEvidence: share(1, 50, 200, 50, 200)}
	villages := []coverage.Village{
		{Region: &inventory.Region{Code: "630101001000", Name: "上庄村", Parent: "630100000000", Households: 400,
			Population: 1300, Lat: 36.621, Lon: 101.779}, Broadband: "served", Tier: 2, Evidence: coverage.EvidenceMeasured,
			DownMbps: 2488, UpMbps: 1244, Technology: "gpon", SubscribersOnline: 43, NextGenSubscribers: 43,
			TakeUp: 0.1075, DigitalTV: true, TV: coverage.TVDigital, TVEvidence: coverage.BasisMeasured,
			Voice: true, VoiceEvidence: coverage.BasisMeasured, Converged: true, Network: "hekou-ftth",
			Trail: []coverage.TrailEntry{
				{Service: "data", Source: coverage.EvidenceMeasured, Line: 2, Device: "olt-1", Port: "111",
					Technology: "gpon", Figure: coverage.FigureONTsOnline, Value: 43, Unit: coverage.UnitSubscribers,
					DownMbps: 2488, UpMbps: 1244, Class: "served", PolledAt: polled, State: "up", Used: true},
				{Service: "data", Source: coverage.EvidenceMeasured, Line: 3, Device: "olt-2", Port: "*",
					Rejected: "subscribers online not given by the device", PolledAt: polled, State: "up"},
				{Service: "voice", Source: coverage.EvidenceMeasured, Line: 4, Device: "olt-1", Port: "111",
					Figure: coverage.FigureDeviceUp, Value: 1, Unit: coverage.UnitBool, Class: "served",
					PolledAt: polled, State: "up", Used: true},
				{Service: "video", Source: coverage.EvidenceMeasured, Line: 5, Device: "olt-1", Port: "111",
					Figure: coverage.FigureSubscribers, Value: 43, Unit: coverage.UnitSubscribers,
					Class: "digital", Why: "IPTV over the access network", PolledAt: polled, State: "up", Used: true},
			}},
		{Region: &inventory.Region{Code: "630101002000", Name: "<script>alert(1)</script>", Parent: "630100000000",
			Households: 100, Population: 300, Lat: 36.605, Lon: 101.766}, Broadband: "underserved", Tier: 1,
			Evidence: coverage.EvidenceDeclared, DownMbps: 30, UpMbps: 5, Technology: "4g",
			TV: coverage.TVAnalogue, TVEvidence: coverage.BasisDeclared, VoiceEvidence: coverage.BasisNone,
			Overrides: []coverage.OverrideInfo{{Service: "video", Class: "analogue", Reason: "survey \"2024\", a & b",
				Until: time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.UTC), Measured: "none",
				MeasuredEvidence: coverage.EvidenceNone, Line: 2}},
			Trail: []coverage.TrailEntry{
				{Service: "data", Source: coverage.EvidenceDeclared, Line: 2, Technology: "4g",
					Figure: coverage.FigureDeclared, DownMbps: 30, UpMbps: 5, Class: "underserved",
					Why: "<b>filing</b>", Used: true},
				{Service: "video", Source: coverage.EvidenceOverride, Line: 2, Figure: coverage.FigureOverride,
					Class: "analogue", Why: "survey \"2024\", a & b", Used: true},
			}},
		{Region: &inventory.Region{Code: "630101003000", Name: "=1+2", Parent: "630100000000", Households: 50,
			Population: 200, Lat: -0.5, Lon: -70.25, Priority: true}, Broadband: "unserved", Evidence: coverage.EvidenceNone,
			TV: coverage.TVNone, TVEvidence: coverage.BasisNone, VoiceEvidence: coverage.BasisNone,
			Trail: []coverage.TrailEntry{}},
	}
	res := &coverage.Result{
		Computed: polled.Add(5 * time.Minute),
		Tiers:    tiers,
		Villages: villages,
		Regions: []coverage.Region{
			{Code: "630000000000", Name: "青海示范省", Level: "province", Villages: 3, Households: 550,
				Population: 1800, All: all, Priority: prio},
			{Code: "630100000000", Name: "东川县", Level: "county", Parent: "630000000000", Villages: 3,
				Households: 550, Population: 1800, All: all, Priority: prio},
		},
		Gaps: []coverage.Gap{
			{Village: &villages[1], Site: &inventory.Site{ID: "so-1", Name: "河口镇端局"}, SiteServes: &villages[0],
				DistanceKm: 1.9},
			{Village: &villages[2]},
		},
	}
	o := Options{Source: "3 of 3 devices answered a poll at 2026-11-29T06:00:00Z"}
	if compare {
		o.Compare = &coverage.Diff{From: polled.Add(-30 * 24 * time.Hour), To: res.Computed,
			Villages: []coverage.VillageChange{{Code: "630101001000", Name: "上庄村", Households: 400,
				FromBroadband: "underserved", ToBroadband: "served", Direction: "up",
				FromEvidence: coverage.EvidenceDeclared, ToEvidence: coverage.EvidenceMeasured,
				FromTV: coverage.TVNone, ToTV: coverage.TVDigital}},
			Regions: []coverage.RegionChange{{Code: "630100000000", Name: "东川县", Level: "county",
				Subset: coverage.SubsetAll, Figure: "tier:served", From: 0, To: 400.0 / 550, Delta: 400.0 / 550}}}
	}
	return res, o
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update once, then check the file by hand)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it; check the diff by hand)\ngot:\n%s", name, got)
	}
}

// write runs one writer into a buffer.
func write(t *testing.T, f Format, res *coverage.Result, o Options) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, f, res, o); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
