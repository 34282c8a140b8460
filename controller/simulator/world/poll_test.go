package world

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/ngic/ngic/controller/device"
	"github.com/ngic/ngic/controller/simulator/simulatortest"
	"github.com/ngic/ngic/controller/snmp"
	"github.com/ngic/ngic/internal/testenv"
)

// poll collects one device's document through the simulator, failing on
// any warning.
func poll(t *testing.T, addr, community string, set *device.ProfileSet) *device.Document {
	t.Helper()
	s, err := snmp.Dial(snmp.Config{Target: addr, Version: "2c", Community: community, Timeout: 3 * time.Second, Retries: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, warns, err := device.Collect(ctx, s, set)
	if err != nil {
		t.Fatalf("%s: %v", community, err)
	}
	for _, w := range warns {
		t.Errorf("%s: warning %v", community, w)
	}
	if d.Truncated {
		t.Errorf("%s: document truncated", community)
	}
	return d
}

// TestPollWorld serves a generated world with the project's simulator and
// polls the first two devices of every kind: each document carries the
// class and the access figures the world says.
func TestPollWorld(t *testing.T) {
	w, dir := written(t, 150, 11)
	pollKinds(t, w, serveDir(t, filepath.Join(dir, RecordingsDir)), 2)
}

// TestPollWorldSnmpsim serves the recordings with Debian's snmpsimd (the
// format's reference) and polls one device of every kind: the recordings
// are walked whole, with no warning, and the documents are the same.
func TestPollWorldSnmpsim(t *testing.T) {
	w, dir := written(t, 150, 11)
	sim := testenv.StartSnmpsim(t, filepath.Join(dir, RecordingsDir))
	pollKinds(t, w, sim.Addr, 1)
}

// pollKinds polls the first perKind devices of every kind at addr and
// checks their documents against the world.
func pollKinds(t *testing.T, w *World, addr string, perKind int) {
	t.Helper()
	set, err := device.DefaultProfiles()
	if err != nil {
		t.Fatal(err)
	}
	polled := map[string]int{}
	for i := range w.Devices {
		want := &w.Devices[i]
		if polled[want.Kind] == perKind {
			continue
		}
		polled[want.Kind]++
		t.Run(want.ID, func(t *testing.T) {
			got := poll(t, addr, want.ID, set)
			if string(got.Class) != want.Class {
				t.Fatalf("class %s (profile %s), want %s", got.Class, got.Profile, want.Class)
			}
			checkAccess(t, w, want, got)
		})
	}
	for _, k := range []string{KindOLTHuawei, KindOLTZTE, KindCMTS, KindDSLAMADSL, KindDSLAMVDSL2, KindTransmitter, KindHeadend} {
		if polled[k] == 0 {
			t.Errorf("the world has no %s", k)
		}
	}
}

// checkAccess compares a document's access section with the device's truth,
// and, for data devices, with its villages' subscribers online.
func checkAccess(t *testing.T, w *World, want *Device, got *device.Document) {
	t.Helper()
	a := got.Access
	if a == nil {
		t.Fatal("no access section")
	}
	online := map[string]int{} // per village, as the document gives it
	switch want.Kind {
	case KindOLTHuawei, KindOLTZTE:
		if a.PON == nil || len(a.PON.Ports) != len(want.Ports) {
			t.Fatalf("PON section %+v, want %d ports", a.PON, len(want.Ports))
		}
		for i, p := range want.Ports {
			g := a.PON.Ports[i]
			if int64(g.IfIndex) != p.IfIndex || g.Name != p.Name || g.ONTsOnline == nil || g.ONTsOffline == nil ||
				*g.ONTsOnline != p.Online || *g.ONTsOffline != p.Offline {
				t.Errorf("port %d: %+v (online %v offline %v), want %+v", i, g, deref(g.ONTsOnline), deref(g.ONTsOffline), p)
				continue
			}
			if p.Village != "" {
				online[p.Village] += *g.ONTsOnline
			}
		}
	case KindCMTS:
		c := a.Cable
		if c == nil || c.ModemsOnline == nil || *c.ModemsOnline != want.ModemsOnline || c.DOCSIS != want.DOCSIS ||
			len(c.Downstreams) != 16 || len(c.Upstreams) != 4 {
			t.Fatalf("cable section %+v, want %d modems online, DOCSIS %s", c, want.ModemsOnline, want.DOCSIS)
		}
		online[villageOf(w, want.ID)] = *c.ModemsOnline
	case KindDSLAMADSL, KindDSLAMVDSL2:
		if a.DSL == nil || len(a.DSL.Lines) != len(want.Lines) {
			t.Fatalf("DSL section with %d lines, want %d", len(a.DSL.Lines), len(want.Lines))
		}
		for i, l := range want.Lines {
			g := a.DSL.Lines[i]
			if int64(g.IfIndex) != l.IfIndex || g.Showtime != l.Showtime || deref(g.AttainableDownBps) != l.AttainableDownBps ||
				deref(g.AttainableUpBps) != l.AttainableUpBps {
				t.Errorf("line %d: %+v (%d/%d), want %+v", i, g, deref(g.AttainableDownBps), deref(g.AttainableUpBps), l)
			}
			if g.Showtime {
				online[l.Village]++
			}
		}
	case KindTransmitter:
		tv := a.TV
		if tv == nil || tv.Output == nil || tv.Output.Synchronized == nil || *tv.Output.Synchronized != want.OnAir ||
			len(tv.Inputs) == 0 || tv.Inputs[0].Locked == nil || *tv.Inputs[0].Locked != want.OnAir {
			t.Fatalf("TV section %+v, want on air %v", tv, want.OnAir)
		}
	case KindHeadend:
		tv := a.TV
		if tv == nil || tv.Status != "normal" || tv.ActiveAlarms == nil || *tv.ActiveAlarms != 0 || len(tv.TransportStreams) != 8 {
			t.Fatalf("TV section %+v, want normal with 8 transport streams", tv)
		}
	}
	for code, n := range online {
		v, ok := w.Village(code)
		if !ok || v.SubscribersOnline != n {
			t.Errorf("village %s: %d subscribers online in the document, truth %+v", code, n, v)
		}
	}
}

// villageOf returns the village a single-village device serves data to.
func villageOf(w *World, id string) string {
	for _, a := range w.ServiceAreas {
		if a.Device == id && a.Service == "data" {
			return a.Village
		}
	}
	return ""
}

func deref[T any](p *T) T {
	var z T
	if p == nil {
		return z
	}
	return *p
}

// TestDOCSISCapability: docsIfDocsisBaseCapability gives a CMTS's DOCSIS
// version where it is read, before the DOCS-IF3 fallback.
func TestDOCSISCapability(t *testing.T) {
	set, err := device.DefaultProfiles()
	if err != nil {
		t.Fatal(err)
	}
	p, ok := set.Lookup("topvision-cmts")
	if !ok {
		t.Fatal("no topvision-cmts profile")
	}
	base := []gosnmp.SnmpPDU{
		{Name: ".1.3.6.1.2.1.2.2.1.3.1", Type: gosnmp.Integer, Value: 129},
		{Name: ".1.3.6.1.2.1.10.127.1.3.3.1.9.1", Type: gosnmp.Integer, Value: 6},
	}
	capability := func(v int) gosnmp.SnmpPDU {
		return gosnmp.SnmpPDU{Name: ".1.3.6.1.2.1.10.127.1.1.5.0", Type: gosnmp.Integer, Value: v}
	}
	if3 := gosnmp.SnmpPDU{Name: ".1.3.6.1.4.1.4491.2.1.20.1.3.1.6.1", Type: gosnmp.Integer, Value: 8}
	for _, c := range []struct {
		name string
		pdus []gosnmp.SnmpPDU
		want string
	}{
		{"3.1 by capability", []gosnmp.SnmpPDU{capability(5), if3}, "3.1"},
		{"2.0 by capability", []gosnmp.SnmpPDU{capability(3)}, "2.0"},
		{"1.0 by capability", []gosnmp.SnmpPDU{capability(1)}, "1.0"},
		{"3.0 by the DOCS-IF3 table", []gosnmp.SnmpPDU{if3}, "3.0"},
		{"unknown capability, DOCS-IF3", []gosnmp.SnmpPDU{capability(9), if3}, "3.0"},
		{"neither", nil, ""},
	} {
		d := device.BuildDocument(p, device.NewObjects(base, c.pdus))
		if d.Access == nil || d.Access.Cable == nil || d.Access.Cable.DOCSIS != c.want {
			t.Errorf("%s: access %+v, want DOCSIS %q", c.name, d.Access, c.want)
		}
	}
}

// serveDir serves the world's recordings, failing on any warning, and
// returns the simulator's address.
func serveDir(t *testing.T, dir string) string {
	t.Helper()
	_, addr := simulatortest.ServeDir(t, dir)
	return addr
}
