package telemetry

import (
	"errors"
	"strings"
	"testing"
	"time"

	lp "github.com/influxdata/line-protocol/v2/lineprotocol"
)

// coverageT2 is township T2 of controller/coverage's small world: 6
// villages, 370 households, 970 people; served 160 hh (160/370), 450
// people; underserved 10 hh, 20; unserved 200 hh, 500.
func coverageT2() *CoverageRegionPoint {
	return &CoverageRegionPoint{Region: "T2", Level: "township", Subset: CoverageSubsetAll, Villages: 6, Households: 370, Population: 970,
		Tiers: []CoverageTier{
			{Name: "unserved", Households: 200, ShareHouseholds: 0.5, SharePopulation: 0.5},
			{Name: "underserved", Households: 10, ShareHouseholds: 0.025, SharePopulation: 0.02},
			{Name: "served", Households: 160, ShareHouseholds: 0.475, SharePopulation: 0.48},
		},
		DigitalTVShare: 0.75, ConvergedShare: 0.125, VoiceShare: 0.5, StaleShare: 0.25,
		SubscribersOnline: 55, NextGenSubscribers: 55, NextGenShare: 1, TakeUp: 0.125, DigitalProgress: 1,
		Time: pollTime}
}

func TestCoverageRegionLine(t *testing.T) {
	b, err := coverageT2().AppendLine(nil)
	if err != nil {
		t.Fatal(err)
	}
	const want = `coverage_region,level=township,region=T2,subset=all villages=6i,households=370i,population=970i,` +
		`households_unserved=200i,share_households_unserved=0.5,share_population_unserved=0.5,` +
		`households_underserved=10i,share_households_underserved=0.025,share_population_underserved=0.02,` +
		`households_served=160i,share_households_served=0.475,share_population_served=0.48,` +
		`digital_tv_share=0.75,analogue_tv_share=0,converged_share=0.125,voice_share=0.5,outage_share=0,stale_share=0.25,` +
		`subscribers_online=55,next_gen_subscribers=55,next_gen_share=1,take_up=0.125,digital_progress=1 1795773600000000000` + "\n"
	if string(b) != want {
		t.Errorf("line\n%s\nwant\n%s", b, want)
	}
	// What InfluxDB's own parser reads back: the tags and one tier field.
	dec := lp.NewDecoderWithBytes(b)
	if !dec.Next() {
		t.Fatal("no line")
	}
	m, err := dec.Measurement()
	if err != nil || string(m) != MeasCoverageRegion {
		t.Fatalf("measurement %q %v", m, err)
	}
	var tags []string
	for {
		k, v, err := dec.NextTag()
		if err != nil {
			t.Fatal(err)
		}
		if k == nil {
			break
		}
		tags = append(tags, string(k)+"="+string(v))
	}
	if strings.Join(tags, ",") != "level=township,region=T2,subset=all" {
		t.Errorf("tags %v", tags)
	}
	for {
		k, v, err := dec.NextField()
		if err != nil {
			t.Fatal(err)
		}
		if k == nil {
			t.Fatal("no households_served field")
		}
		if string(k) == "households_served" {
			if v.IntV() != 160 {
				t.Errorf("households_served %v", v)
			}
			break
		}
	}
}

func TestCoverageRegionRefuses(t *testing.T) {
	p := coverageT2()
	p.Subset = "some"
	if _, err := p.AppendLine(nil); !errors.Is(err, ErrLineValue) {
		t.Errorf("bad subset: %v", err)
	}
	p = coverageT2()
	p.Region = ""
	p.Time = time.Time{}
	if b, err := p.AppendLine([]byte("x f=1i 1\n")); err == nil || string(b) != "x f=1i 1\n" {
		t.Errorf("no time: %q %v", b, err)
	}
	p = coverageT2()
	p.TakeUp = p.TakeUp / 0 // +Inf from a region without households would be a bug upstream
	if _, err := p.AppendLine(nil); !errors.Is(err, ErrLineValue) {
		t.Errorf("infinite share: %v", err)
	}
}
