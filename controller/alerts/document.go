package alerts

import (
	"fmt"
	"strconv"
	"time"

	"github.com/ngic/ngic/controller/device"
)

// Document derives signals from two consecutive polls of a device (prev
// may be nil for the first): uplink-down for each interface an uplink-down
// rule watches (down unless administratively down), pon-drop for each PON
// port whose online ONTs fell, dsl-drop when the lines in showtime fell,
// tv-off-air from the output's on-air flag and tv-alarm for each alarm
// (an alarm gone from the poll clears). t is the poll's time.
func (e *Engine) Document(dev DeviceRef, prev, cur *device.Document, t time.Time) {
	if cur == nil {
		return
	}
	if dev.Parent != "" {
		e.mu.Lock()
		e.parents[dev.ID] = dev.Parent
		e.mu.Unlock()
	}
	subj := Subject{Type: SubjectDevice, ID: dev.ID, Site: dev.Site}
	sig := func(kind, key string, active bool, summary string, attrs map[string]string) {
		e.Signal(Signal{Kind: kind, Subject: subj, Key: key, Active: active, Time: t, Summary: summary, Attrs: attrs})
	}
	e.uplinkSignals(dev.ID, cur, sig)
	var pa, ca *device.Access
	if prev != nil {
		pa = prev.Access
	}
	if ca = cur.Access; ca == nil {
		return
	}
	if pa != nil && pa.PON != nil && ca.PON != nil {
		ponSignals(pa.PON, ca.PON, sig)
	}
	if pa != nil && pa.DSL != nil && ca.DSL != nil {
		dslSignals(pa.DSL, ca.DSL, sig)
	}
	if ca.TV != nil {
		var ptv *device.TV
		if pa != nil {
			ptv = pa.TV
		}
		tvSignals(ptv, ca.TV, sig)
	}
}

type signalFunc func(kind, key string, active bool, summary string, attrs map[string]string)

func (e *Engine) uplinkSignals(id string, cur *device.Document, sig signalFunc) {
	rules := e.byKind[KindUplinkDown]
	if len(rules) == 0 {
		return
	}
	for _, it := range cur.Interfaces {
		if it.OperStatus == "" || it.Name == "" {
			continue
		}
		watched := false
		for _, r := range rules {
			watched = watched || r.isUplink(id, it.Name, it.Alias)
		}
		if !watched {
			continue
		}
		down := it.OperStatus != "up" && it.AdminStatus != "down"
		summary := ""
		if down {
			summary = fmt.Sprintf("uplink %s of %s is %s", it.Name, id, it.OperStatus)
		}
		sig(KindUplinkDown, it.Name, down, summary, map[string]string{AttrIfName: it.Name, AttrIfAlias: it.Alias,
			"oper_status": it.OperStatus})
	}
}

func ponSignals(prev, cur *device.PON, sig signalFunc) {
	before := map[int]int{}
	for _, p := range prev.Ports {
		if p.ONTsOnline != nil {
			before[p.IfIndex] = *p.ONTsOnline
		}
	}
	for _, p := range cur.Ports {
		b, ok := before[p.IfIndex]
		if !ok || p.ONTsOnline == nil || *p.ONTsOnline >= b {
			continue
		}
		key := p.Name
		if key == "" {
			key = "ifIndex " + strconv.Itoa(p.IfIndex)
		}
		sig(KindPONDrop, key, true, fmt.Sprintf("ONTs online on %s fell from %d to %d", key, b, *p.ONTsOnline),
			map[string]string{AttrONTsBefore: strconv.Itoa(b), AttrONTsAfter: strconv.Itoa(*p.ONTsOnline)})
	}
}

func dslSignals(prev, cur *device.DSL, sig signalFunc) {
	showtime := func(d *device.DSL) int {
		n := 0
		for _, s := range d.Summary {
			n += s.Showtime
		}
		return n
	}
	b, a := showtime(prev), showtime(cur)
	if a >= b {
		return
	}
	sig(KindDSLDrop, "", true, fmt.Sprintf("DSL lines in showtime fell from %d to %d", b, a),
		map[string]string{AttrLinesBefore: strconv.Itoa(b), AttrLinesAfter: strconv.Itoa(a)})
}

func tvSignals(prev, cur *device.TV, sig signalFunc) {
	if o := cur.Output; o != nil && o.OnAir != nil {
		summary := ""
		if !*o.OnAir {
			summary = "the output is off air"
		}
		sig(KindTVOffAir, "", !*o.OnAir, summary, nil)
	}
	seen := map[string]bool{}
	for _, al := range cur.Alarms {
		seen[al.Name] = true
		summary := ""
		if al.Active {
			summary = "alarm " + al.Name + " (" + al.Severity + ")"
		}
		sig(KindTVAlarm, al.Name, al.Active, summary, map[string]string{"alarm_severity": al.Severity})
	}
	if prev == nil {
		return
	}
	for _, al := range prev.Alarms {
		if al.Active && !seen[al.Name] {
			sig(KindTVAlarm, al.Name, false, "", nil)
		}
	}
}
