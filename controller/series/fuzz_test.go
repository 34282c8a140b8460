package series

import (
	"math"
	"testing"

	"github.com/ngic/ngic/controller/device"
	"github.com/ngic/ngic/telemetry"
)

// FuzzAppendDocument feeds device-supplied text and figures (names,
// aliases, technologies, alarm names, rates) into a document of every
// section. Whatever they are, AppendDocument must not panic, every line it
// writes must read back with the reference parser and carry the names as
// given, and each point with a figure is either written or counted by
// Skipped.
func FuzzAppendDocument(f *testing.F) {
	f.Add("GPON 0/1/0", "uplink, \"core\"", "adsl2+", "vswr", "up", 1.5e6, 36.1, int64(7))
	f.Add("ge-0/0/1=a", `back\slash`, "vdsl2", "fan failure", "down", 0.0, -7.3, int64(0))
	f.Add("bad\x00name", "alias", "adsl", "a", "up", math.NaN(), 1.0, int64(-1))
	f.Add("trailing\\", "\xff\xfe", "", "", "", math.Inf(1), math.Inf(-1), int64(math.MaxInt32))
	f.Add("#comment", "", "tech nology", "alarm=x,y", "lowerLayerDown", -0.0, 1e-300, int64(1)<<40)
	f.Fuzz(func(t *testing.T, name, alias, tech, alarm, status string, rate, level float64, n int64) {
		d := &device.Document{Class: device.ClassOLT, PolledAt: at, Interfaces: []device.Interface{
			{Index: int(n), Name: name, Alias: alias, OperStatus: status, InBps: &rate},
			{Index: 2, Name: alias, OperStatus: "up", OutBps: &level},
		}, Access: &device.Access{
			PON: &device.PON{Ports: []device.PONPort{{IfIndex: 1, Name: name, OperStatus: status}}},
			Cable: &device.Cable{Upstreams: []device.Channel{{IfIndex: 3, Name: name, SNRdB: &level}},
				ModemsOnline: ptr(int(n))},
			DSL: &device.DSL{Summary: []device.DSLSummary{{Technology: tech, Lines: 1}},
				Lines: []device.DSLLine{{IfIndex: 4, Name: name, Technology: tech, OperStatus: status}}},
			TV: &device.TV{Inputs: []device.TVInput{{Index: int(n), Name: alias, State: status, MERDB: &level}},
				TransportStreams: []device.TransportStream{{IfIndex: 5, Name: name, OperStatus: status}},
				Status:           status, Output: &device.TVOutput{LevelDBm: &rate},
				Alarms: []device.TVAlarm{{Name: alarm, Severity: status, Active: true}}},
		}}
		got, err := AppendDocument(nil, telemetry.DeviceTags{Site: "s", Device: "d"}, d)
		lines := parseLines(t, got)
		checkSchema(t, lines)
		want := 0
		for _, c := range pointCounts(d) {
			want += c
		}
		if len(lines)+Skipped(err) != want {
			t.Fatalf("%d lines written and %d skipped, the document holds %d points: %v", len(lines), Skipped(err), want, err)
		}
		for _, l := range lines {
			if v, ok := l.tags[telemetry.TagIfName]; ok && v != name && v != alias {
				t.Errorf("%s: if_name %q, given %q", l.measurement, v, name)
			}
			if v, ok := l.tags[telemetry.TagAlarm]; ok && v != alarm {
				t.Errorf("alarm %q, given %q", v, alarm)
			}
			if v, ok := l.tags[telemetry.TagTechnology]; ok && v != tech {
				t.Errorf("technology %q, given %q", v, tech)
			}
		}
	})
}
