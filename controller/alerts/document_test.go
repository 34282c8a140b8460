package alerts

import (
	"testing"
	"time"

	"github.com/ngic/ngic/controller/device"
)

func ptr[T any](v T) *T { return &v }

func oltDoc(uplink string, onts ...int) *device.Document {
	d := &device.Document{Class: device.ClassOLT, Interfaces: []device.Interface{
		{Index: 1, Name: "xe-0/0/1", Alias: "core uplink", AdminStatus: "up", OperStatus: uplink},
		{Index: 2, Name: "xe-0/0/2", Alias: "spare", AdminStatus: "down", OperStatus: "down"},
		{Index: 3, Name: "xe-0/0/3", AdminStatus: "up", OperStatus: "down"},
	}, Access: &device.Access{PON: &device.PON{}}}
	for i, n := range onts {
		d.Access.PON.Ports = append(d.Access.PON.Ports, device.PONPort{IfIndex: 100 + i,
			Name: "gpon 0/1/" + string(rune('0'+i)), OperStatus: "up", ONTsOnline: ptr(n)})
	}
	return d
}

func TestDocumentUplinkAndPON(t *testing.T) {
	cfg := Config{Rules: []Rule{
		{Name: "uplink", Kind: KindUplinkDown, UplinkPattern: "(?i)uplink", Uplinks: map[string][]string{"olt-2": {"xe-0/0/3"}}},
		{Name: "pon", Kind: KindPONDrop, Share: 0.5, MinONTs: 8},
	}}
	e, _ := newTestEngine(t, cfg, Options{})
	dev := DeviceRef{ID: "olt-1", Site: "village-7"}
	first := oltDoc("up", 40, 40, 6)
	e.Document(dev, nil, first, t0)
	wantTransitions(t, e, "")
	// The uplink (by its alias) goes down; port 0 loses half its ONTs,
	// port 1 a quarter, port 2 all of its 6 (below min_onts).
	second := oltDoc("down", 20, 30, 0)
	e.Document(dev, first, second, t0.Add(time.Minute))
	ts := wantTransitions(t, e, "firing+hook firing+hook")
	if a := ts[0].alert; a.Kind != KindUplinkDown || a.Key != "xe-0/0/1" || a.Subject.Site != "village-7" {
		t.Fatalf("uplink alert %+v", a)
	}
	if a := ts[1].alert; a.Kind != KindPONDrop || a.Key != "gpon 0/1/0" || a.Attrs[AttrONTsBefore] != "40" ||
		a.Attrs[AttrONTsAfter] != "20" || a.Summary != "ONTs online on gpon 0/1/0 fell from 40 to 20" {
		t.Fatalf("pon alert %+v", a)
	}
	// xe-0/0/3 is an uplink of olt-2 only; on olt-2 it is down.
	e.Document(DeviceRef{ID: "olt-2"}, nil, oltDoc("up"), t0.Add(time.Minute))
	if ts := wantTransitions(t, e, "firing+hook"); ts[0].alert.Key != "xe-0/0/3" {
		t.Fatalf("olt-2 %+v", ts[0].alert)
	}
	// The uplink comes back up.
	e.Document(dev, second, oltDoc("up", 20, 30, 0), t0.Add(2*time.Minute))
	wantTransitions(t, e, "resolved+hook")
}

func dslDoc(showtime ...int) *device.Document {
	d := &device.Document{Class: device.ClassDSLAM, Access: &device.Access{DSL: &device.DSL{}}}
	for i, n := range showtime {
		d.Access.DSL.Summary = append(d.Access.DSL.Summary, device.DSLSummary{Technology: []string{"adsl", "vdsl2"}[i], Lines: 48, Showtime: n})
	}
	return d
}

func TestDocumentDSLDrop(t *testing.T) {
	e, _ := newTestEngine(t, Config{Rules: []Rule{{Name: "dsl", Kind: KindDSLDrop, Share: 0.3, MinLines: 10}}}, Options{})
	dev := DeviceRef{ID: "dslam-1"}
	e.Document(dev, dslDoc(20, 20), dslDoc(20, 10), t0) // 25 %
	wantTransitions(t, e, "")
	e.Document(dev, dslDoc(20, 10), dslDoc(5, 10), t0.Add(time.Minute)) // 50 %
	ts := wantTransitions(t, e, "firing+hook")
	if a := ts[0].alert; a.Attrs[AttrLinesBefore] != "30" || a.Attrs[AttrLinesAfter] != "15" {
		t.Fatalf("dsl alert %+v", a)
	}
	e.Document(dev, dslDoc(4, 4), dslDoc(0, 0), t0.Add(2*time.Minute)) // below min_lines
	wantTransitions(t, e, "")
}

func tvDoc(onAir bool, alarms ...device.TVAlarm) *device.Document {
	return &device.Document{Class: device.ClassTVTransmitter, Access: &device.Access{TV: &device.TV{
		Output: &device.TVOutput{OnAir: ptr(onAir)}, Alarms: alarms}}}
}

func TestDocumentTV(t *testing.T) {
	cfg := Config{Rules: []Rule{{Name: "air", Kind: KindTVOffAir}, {Name: "alarm", Kind: KindTVAlarm}}}
	e, _ := newTestEngine(t, cfg, Options{})
	dev := DeviceRef{ID: "tx-1", Site: "hill"}
	vswr := device.TVAlarm{Name: "vswr", Severity: "major", Active: true}
	fan := device.TVAlarm{Name: "fan", Severity: "minor", Active: false}
	first := tvDoc(true, fan)
	e.Document(dev, nil, first, t0)
	wantTransitions(t, e, "")
	second := tvDoc(false, fan, vswr)
	e.Document(dev, first, second, t0.Add(time.Minute))
	ts := wantTransitions(t, e, "firing+hook firing+hook")
	if ts[0].alert.Kind != KindTVOffAir || ts[1].alert.Key != "vswr" || ts[1].alert.Attrs["alarm_severity"] != "major" {
		t.Fatalf("tv alerts %+v", ts)
	}
	// Back on air, and the vswr alarm gone from the poll.
	e.Document(dev, second, tvDoc(true, fan), t0.Add(2*time.Minute))
	ts = wantTransitions(t, e, "resolved+hook resolved+hook")
	if ts[1].alert.Key != "vswr" {
		t.Fatalf("resolved %+v", ts[1].alert)
	}
}

func TestDocumentParent(t *testing.T) {
	cfg := Config{Rules: []Rule{{Name: "down", Kind: KindDeviceDown}, {Name: "air", Kind: KindTVOffAir}}}
	e, _ := newTestEngine(t, cfg, Options{})
	e.Signal(level(KindDeviceDown, Subject{Type: SubjectDevice, ID: "router-1"}, true, t0))
	drain(e)
	e.Document(DeviceRef{ID: "tx-1", Parent: "router-1"}, nil, tvDoc(false), t0)
	wantTransitions(t, e, "")
	if r := e.Recent(1); len(r) != 1 || r[0].State != "suppressed" {
		t.Fatalf("recent %+v", r)
	}
}
