package device

import "strconv"

// ARRIS (Motorola/GI, enterprise 1166) video equipment.
//
// APEX edge QAMs (APEX-MIB, as LibreNMS reads it): the alarm scalars
// apexAlarm* at 1166.1.31.100.<n>.0 take 1 ok / 2 indeterminate / 3 warning
// / 4 minor / 5 major / 6 critical; apexOutputTsUtilizCurPercent
// (1166.1.31.14.2.2.2.1.6.<ts>) is the fullness of each output transport
// stream in percent.
//
// DSR satellite receivers (DSR4410MD-MIB): signalStatus acquisitionState at
// 1166.1.621.11.1.0 is 0 locked / 1 unlocked / -1 none. The other objects
// of that group (level, C/N, ...) have no published definition here and
// are not read.
const (
	apexAlarms        = "1.3.6.1.4.1.1166.1.31.100"
	apexOutputTsUtil  = "1.3.6.1.4.1.1166.1.31.14.2.2.2.1.6"
	dsrAcquisitionOID = "1.3.6.1.4.1.1166.1.621.11.1.0"
)

var apexAlarmNames = []struct {
	arc  int
	name string
}{
	{8000, "hardware-fault"}, {8001, "invalid-init-data"}, {8002, "temperature-fault"},
	{8003, "fan-fault"}, {8004, "power-fault"}, {8020, "gbe-loss-of-physical-input"},
	{8021, "gbe-buffer-fullness"}, {8026, "service-in-error"}, {8027, "gbe-loss-of-input-stream"},
	{8041, "output-overflow"}, {8042, "qam-module-fault"}, {8043, "qam-rf-port-fault"},
	{8044, "qam-channel-fault"}, {8060, "rds-comm-fault"}, {8070, "rem-comm-fault"}, {8071, "rem-fault"},
}

var apexSeverity = map[int64]string{1: "ok", 2: "indeterminate", 3: "warning", 4: "minor", 5: "major", 6: "critical"}

func init() {
	RegisterExtractor("tv-arris-apex", extractTVArrisApex)
	RegisterExtractor("tv-arris-dsr", extractTVArrisDSR)
}

func extractTVArrisApex(o *Objects, d *Document) *Access {
	tv := baseTV(o, d)
	for _, a := range apexAlarmNames {
		v, ok := o.colInt(apexAlarms, strconv.Itoa(a.arc)+".0")
		if !ok {
			continue
		}
		sev, ok := apexSeverity[v]
		if !ok {
			continue
		}
		tv.Alarms = append(tv.Alarms, TVAlarm{Name: a.name, Severity: sev, Active: v >= 3})
	}
	col := o.Column(apexOutputTsUtil)
	var util []int
	for _, k := range indexes(col) {
		if v, ok := pduInt(col[k]); ok && v >= 0 && v <= 100 {
			util = append(util, int(v))
		}
	}
	if len(util) > 0 {
		tv.Output = &TVOutput{TSUtilizationPct: util}
	}
	return tvAccess(tv)
}

func extractTVArrisDSR(o *Objects, d *Document) *Access {
	tv := baseTV(o, d)
	if p, ok := o.Get(dsrAcquisitionOID); ok {
		if v, ok := pduInt(p); ok && (v == 0 || v == 1) {
			state := "locked"
			if v == 1 {
				state = "unlocked"
			}
			tv.Inputs = append(tv.Inputs, TVInput{Index: 1, Name: "satellite", Locked: ptr(v == 0), State: state})
		}
	}
	return tvAccess(tv)
}
