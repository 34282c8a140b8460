package coverage

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/device"
	"github.com/ngic/ngic/controller/inventory"
)

// describe writes an evidence in one line per port group and TV source.
func describe(ev *Evidence) string {
	var b strings.Builder
	type group struct {
		kind   PortKind
		tech   Tech
		ports  int
		online int
		rated  int
	}
	var gs []*group
	for _, p := range ev.Ports {
		var g *group
		for _, x := range gs {
			if x.kind == p.Kind && x.tech == p.Technology {
				g = x
			}
		}
		if g == nil {
			g = &group{kind: p.Kind, tech: p.Technology, online: -1}
			gs = append(gs, g)
		}
		g.ports++
		if p.Online >= 0 {
			g.online = max(g.online, 0) + int(p.Online)
		}
		if p.DownKbps > 0 {
			g.rated++
		}
	}
	for _, g := range gs {
		fmt.Fprintf(&b, "%s x%d online %d rated %d; ", g.tech, g.ports, g.online, g.rated)
	}
	if ev.TV != nil {
		fmt.Fprintf(&b, "tv known=%v up=%v ", ev.TV.Known, ev.TV.Up)
		if ev.TV.Degraded {
			b.WriteString("degraded: ")
		}
		b.WriteString(ev.TV.Why)
	}
	return strings.TrimSpace(b.String())
}

// TestSummarizeGolden summarises the documents of the real recordings
// (controller/testdata/golden).
func TestSummarizeGolden(t *testing.T) {
	want := map[string]string{
		// Output streams carrying, but three major alarms active: a power
		// fault, a service in error and a lost input stream: degraded.
		"arris_apex1000.json":                  "tv known=true up=true degraded: major alarm service-in-error, gbe-loss-of-input-stream",
		"arris_c3-cmts.json":                   "docsis3.0 x1 online -1 rated 0;",
		"arris_c4-cmts.json":                   "docsis3.0 x1 online -1 rated 0;",
		"arris_dsr6404.json":                   "tv known=true up=true input locked",
		"bdcom_gp3600-16b.json":                "gpon x16 online 54 rated 0;",
		"cdata_olt.json":                       "epon x8 online -1 rated 0;",
		"cisco_c2950-ios.json":                 "",
		"huawei_ma5603t.json":                  "gpon x32 online -1 rated 0;",
		"motorola_sb5101e.json":                "", // a cable modem is no access device
		"protelevision_dvb-t-transmitter.json": "tv known=true up=true input locked",
		"teldat_tv-base-vdsl2-adsl.json":       "adsl x1 online 0 rated 0;",
		// statusGeneral 2 "notification": an event to read, no fault.
		"teleste_luminato-4x4.json": "tv known=true up=true status notification",
		"terra_sdi480.json":         "tv known=true up=true input locked",
		"terra_sti440.json":         "tv known=true up=true input locked",
		"ubiquoss_c9500.json":       "gpon x48 online -1 rated 0;",
		"vsol_v1600d.json":          "epon x2 online 16 rated 0;",
		"zte_c320.json":             "gpon x8 online -1 rated 0;",
		"zyxel_ies-5005.json":       "vdsl x24 online 4 rated 0;",
		"zyxel_ies-5106.json":       "vdsl x48 online 3 rated 0;",
	}
	files, err := filepath.Glob("../testdata/golden/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden documents: %v", err)
	}
	defer func() {
		for name := range want {
			t.Errorf("%s: not found", name)
		}
	}()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc device.Document
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		got := describe(Summarize(&doc))
		name := filepath.Base(f)
		if w, ok := want[name]; ok && got != w {
			t.Errorf("%s: %q, want %q", name, got, w)
		}
		delete(want, name)
	}
}

func TestTVSource(t *testing.T) {
	yes, no := true, false
	for _, tc := range []struct {
		tv   device.TV
		want string
	}{
		{device.TV{Output: &device.TVOutput{OnAir: &yes}}, "tv known=true up=true on air"},
		{device.TV{Output: &device.TVOutput{OnAir: &no}, Status: "normal"}, "tv known=true up=false off air"},
		{device.TV{Alarms: []device.TVAlarm{{Name: "fan-failure", Severity: "critical", Active: true}}, Output: &device.TVOutput{OnAir: &yes}},
			"tv known=true up=false critical alarm fan-failure"},
		{device.TV{Alarms: []device.TVAlarm{{Name: "fan-failure", Severity: "critical"}}, Status: "normal"}, "tv known=true up=true status normal"},
		{device.TV{Output: &device.TVOutput{Synchronized: &no}, Inputs: []device.TVInput{{Locked: &yes}}}, "tv known=true up=false output not synchronized"},
		{device.TV{Output: &device.TVOutput{Synchronized: &yes}}, "tv known=true up=true output synchronized"},
		{device.TV{Inputs: []device.TVInput{{Locked: &no}, {}}}, "tv known=true up=false no input locked"},
		{device.TV{Status: "alarm"}, "tv known=true up=false status alarm"},
		{device.TV{TransportStreams: []device.TransportStream{{OperStatus: "down"}}}, "tv known=true up=false no transport stream up"},
		{device.TV{TransportStreams: []device.TransportStream{{OperStatus: "down"}, {OperStatus: "up"}}}, "tv known=true up=true transport stream up"},
		{device.TV{Output: &device.TVOutput{TSUtilizationPct: []int{0, 0}}}, "tv known=true up=false output streams empty"},
		{device.TV{TR101290: []device.TR101290Counter{{Column: "x"}}}, "tv known=false up=false source state not given"},
		// A major alarm naming the input or the service degrades a source
		// that is up; one naming neither (power-fault: a redundant supply),
		// a minor one or an inactive one does not.
		{device.TV{Alarms: []device.TVAlarm{{Name: "power-fault", Severity: "major", Active: true},
			{Name: "service-in-error", Severity: "major", Active: true}, {Name: "gbe-loss-of-input-stream", Severity: "major", Active: true}},
			Output: &device.TVOutput{TSUtilizationPct: []int{47, 0}}},
			"tv known=true up=true degraded: major alarm service-in-error, gbe-loss-of-input-stream"},
		{device.TV{Alarms: []device.TVAlarm{{Name: "power-fault", Severity: "major", Active: true},
			{Name: "Input-Failure", Severity: "minor", Active: true}, {Name: "service-in-error", Severity: "major"}}, Status: "warning"},
			"tv known=true up=true status warning"},
		{device.TV{Alarms: []device.TVAlarm{{Name: "input-loss", Severity: "major", Active: true}}, Status: "alarm"},
			"tv known=true up=false status alarm"},
		{device.TV{Status: "notification"}, "tv known=true up=true status notification"},
	} {
		doc := &device.Document{Class: device.ClassTVHeadend, Access: &device.Access{TV: &tc.tv}}
		if got := describe(Summarize(doc)); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.tv, got, tc.want)
		}
	}
}

func TestPortTechnology(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ifType int
		want   Tech
	}{
		{"GPON 0/1/0", 250, TechGPON}, {"gpon_1/1/1", 250, TechGPON}, {"XGS-PON 0/1", 0, TechXGSPON},
		{"xgspon1", 0, TechXGSPON}, {"XG-PON 0/2", 0, TechXGPON}, {"EPON0/1", 6, TechEPON}, {"10G-EPON 0/1", 6, Tech10GEPON},
		{"pon0/0/1", 117, TechEPON}, {"pon1", 266, TechEPON}, {"Tpon1/1", 6, TechGPON},
	} {
		if got := ponTech(tc.name, tc.ifType); got != tc.want {
			t.Errorf("%s (%d): %s, want %s", tc.name, tc.ifType, got, tc.want)
		}
	}
	ch := func(n int) []device.Channel { return make([]device.Channel, n) }
	for _, tc := range []struct {
		c     device.Cable
		types map[int]int
		want  Tech
	}{
		{device.Cable{DOCSIS: "3.1"}, nil, TechDOCSIS31},
		{device.Cable{DOCSIS: "3.0", Downstreams: ch(1)}, nil, TechDOCSIS30},
		{device.Cable{DOCSIS: "2.0", Downstreams: ch(4)}, nil, TechDOCSIS2},
		{device.Cable{Downstreams: ch(1)}, map[int]int{1: 128, 2: 129}, TechDOCSIS2},
		{device.Cable{Downstreams: ch(8)}, nil, TechDOCSIS30},
		{device.Cable{Downstreams: ch(1)}, map[int]int{3: 205}, TechDOCSIS30},
		{device.Cable{Downstreams: ch(1)}, map[int]int{3: 277}, TechDOCSIS31},
	} {
		if got := docsisTech(&tc.c, tc.types); got != tc.want {
			t.Errorf("%+v %v: %s, want %s", tc.c, tc.types, got, tc.want)
		}
	}
}

// TestSummarizeDSL: a line's showtime and attainable rates in kbit/s.
func TestSummarizeDSL(t *testing.T) {
	r := func(v uint64) *uint64 { return &v }
	doc := &device.Document{Class: device.ClassDSLAM, Access: &device.Access{DSL: &device.DSL{Lines: []device.DSLLine{
		{IfIndex: 4194312448, Name: "vdsl-0/1", Technology: "vdsl2", Showtime: true, AttainableDownBps: r(52_345_678), AttainableUpBps: r(9_999)},
		{IfIndex: 2, Name: "adsl-0/2", Technology: "adsl", AttainableDownBps: r(1 << 60)},
	}}}}
	ev := Summarize(doc)
	want := []Port{
		{Name: "vdsl-0/1", Technology: TechVDSL2, IfIndex: 4194312448, Online: 1, DownKbps: 52345, UpKbps: 9, Kind: KindDSL},
		{Name: "adsl-0/2", Technology: TechADSL, IfIndex: 2, Online: 0, DownKbps: 4294967295, Kind: KindDSL},
	}
	if len(ev.Ports) != 2 || ev.Ports[0] != want[0] || ev.Ports[1] != want[1] || ev.TV != nil {
		t.Errorf("%+v", ev)
	}
	if Summarize(nil) != nil {
		t.Error("nil document")
	}
}

// TestRecordings computes an inventory whose devices are the real
// recordings (their documents in controller/testdata/golden), each
// summarised as the daemon does after a poll.
// recordingsWorld loads testdata/recordings and gives each device the
// evidence of its recording's golden document, up and polled at now.
func recordingsWorld(t *testing.T) (*inventory.Inventory, []DeviceStatus) {
	t.Helper()
	inv, err := inventory.Load("testdata/recordings", inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	devs := make([]DeviceStatus, len(inv.Devices))
	for i := range inv.Devices {
		b, err := os.ReadFile(filepath.Join("../testdata/golden", inv.Devices[i].Community()+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var doc device.Document
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		devs[i] = DeviceStatus{State: StateUp, Since: now.Add(-time.Hour), PolledAt: now, Evidence: Summarize(&doc)}
	}
	return inv, devs
}

func TestRecordings(t *testing.T) {
	inv, devs := recordingsWorld(t)
	r := Compute(inv, devs, nil, now)
	for _, w := range []struct {
		code, class, evidence, tech string
		down                        float64
		subs                        float64
		tv                          string
		why                         string // the first data entry's figure or rejection
	}{
		// bdcom GPON0/2: 43 ONTs online, GPON 2488/1244; the
		// ProTelevision transmitter's primary input is available (locked).
		{"W1", "served", "measured", "gpon", 2488, 43, "digital", "onts_online 43"},
		// ZyXEL IES-5106: 3 of 48 VDSL lines in showtime, no attainable
		// rate in the recording: VDSL's capability 50/10.
		{"W2", "underserved", "measured", "vdsl", 50, 3, "digital", "dsl_lines_showtime 3"},
		// V-SOL EPON0/1: 16 ONUs online, EPON 1000/1000 (EPON0/2 has none).
		{"W3", "served", "measured", "epon", 1000, 16, "none", "onts_online 16"},
		// Arris C4: its recording answers no modem table.
		{"W4", "unserved", "none", "", 0, 0, "none", "subscribers online not given by the device"},
	} {
		v := village(t, r, w.code)
		if v.Broadband != w.class || v.Evidence != w.evidence || v.Technology != w.tech || v.DownMbps != w.down ||
			!near(v.SubscribersOnline, w.subs) || v.TV.String() != w.tv {
			t.Errorf("%s: %s %s %s %v subscribers %v tv %s", w.code, v.Broadband, v.Evidence, v.Technology, v.DownMbps,
				v.SubscribersOnline, v.TV)
		}
		e := trailOf(v, "data")[0]
		why := e.Rejected
		if why == "" {
			why = fmt.Sprintf("%s %v", e.Figure, e.Value)
		}
		if why != w.why {
			t.Errorf("%s: trail says %q, want %q", w.code, why, w.why)
		}
	}
	// W1 has data and voice over "town" but video from the transmitter:
	// not converged.
	if v := village(t, r, "W1"); v.Converged || !v.Voice {
		t.Errorf("W1 converged %v voice %v", v.Converged, v.Voice)
	}
}
