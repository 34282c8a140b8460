package series

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/ngic/ngic/controller/device"
	"github.com/ngic/ngic/telemetry"
)

// line is one line as github.com/influxdata/line-protocol/v2 reads it.
type line struct {
	measurement string
	time        time.Time
	tags        map[string]string
	fields      map[string]lineprotocol.Value
}

// parseLines reads buf with the reference parser, failing t on any error.
func parseLines(t testing.TB, buf []byte) []line {
	t.Helper()
	var out []line
	dec := lineprotocol.NewDecoderWithBytes(buf)
	must := func(what string, err error) {
		if err != nil {
			t.Fatalf("line %d: %s: %v", len(out)+1, what, err)
		}
	}
	for dec.Next() {
		m, err := dec.Measurement()
		must("measurement", err)
		l := line{measurement: string(m), tags: map[string]string{}, fields: map[string]lineprotocol.Value{}}
		for k, v, err := dec.NextTag(); k != nil || err != nil; k, v, err = dec.NextTag() {
			must("tag", err)
			l.tags[string(k)] = string(v)
		}
		for k, v, err := dec.NextField(); k != nil || err != nil; k, v, err = dec.NextField() {
			must("field", err)
			l.fields[string(k)] = v
		}
		l.time, err = dec.Time(lineprotocol.Nanosecond, time.Time{})
		must("time", err)
		out = append(out, l)
	}
	return out
}

// schema is what a measurement's lines may hold: the tags every line has,
// the tags a line may lack (an empty name), and each field's kind.
type schema struct {
	tags, optional []string
	fields         map[string]lineprotocol.ValueKind
}

const (
	kInt    = lineprotocol.Int
	kFloat  = lineprotocol.Float
	kString = lineprotocol.String
	kBool   = lineprotocol.Bool
)

var (
	deviceTags = []string{telemetry.TagClass, telemetry.TagDevice, telemetry.TagSite}
	ifTags     = []string{telemetry.TagClass, telemetry.TagDevice, telemetry.TagIfIndex, telemetry.TagSite}
	ifName     = []string{telemetry.TagIfName}
)

// schemas are the device measurements as telemetry/README.md defines them.
var schemas = map[string]schema{
	telemetry.MeasInterface: {ifTags, ifName, map[string]lineprotocol.ValueKind{
		telemetry.FieldAdminStatus: kString, telemetry.FieldOperStatus: kString, telemetry.FieldUp: kBool,
		telemetry.FieldAlias: kString, telemetry.FieldSpeedBps: kInt, telemetry.FieldInBps: kFloat,
		telemetry.FieldOutBps: kFloat, telemetry.FieldInErrorsPerS: kFloat, telemetry.FieldOutErrorsPerS: kFloat}},
	telemetry.MeasPONPort: {ifTags, ifName, map[string]lineprotocol.ValueKind{
		telemetry.FieldOperStatus: kString, telemetry.FieldONTsOnline: kInt, telemetry.FieldONTsOffline: kInt,
		telemetry.FieldONTsTotal: kInt}},
	telemetry.MeasDSLLine: {ifTags, []string{telemetry.TagIfName, telemetry.TagTechnology}, map[string]lineprotocol.ValueKind{
		telemetry.FieldShowtime: kBool, telemetry.FieldOperStatus: kString, telemetry.FieldAttainableDown: kInt,
		telemetry.FieldAttainableUp: kInt, telemetry.FieldActualDown: kInt, telemetry.FieldActualUp: kInt}},
	telemetry.MeasCableChannel: {append(slices.Clone(ifTags), telemetry.TagDirection), ifName, map[string]lineprotocol.ValueKind{
		telemetry.FieldOperStatus: kString, telemetry.FieldFrequencyHz: kInt, telemetry.FieldPowerDBmV: kFloat,
		telemetry.FieldSNRdB: kFloat, telemetry.FieldModemsOnline: kInt}},
	telemetry.MeasAccess: {deviceTags, nil, map[string]lineprotocol.ValueKind{
		telemetry.FieldONTsOnline: kInt, telemetry.FieldONTsOffline: kInt, telemetry.FieldONTsTotal: kInt,
		telemetry.FieldModemsRegistered: kInt, telemetry.FieldModemsOnline: kInt, telemetry.FieldDSLLines: kInt,
		telemetry.FieldDSLShowtime: kInt}},
	telemetry.MeasTVInput: {append(slices.Clone(deviceTags), telemetry.TagInput), nil, map[string]lineprotocol.ValueKind{
		telemetry.FieldName: kString, telemetry.FieldLocked: kBool, telemetry.FieldState: kString,
		telemetry.FieldStandard: kString, telemetry.FieldModulation: kString, telemetry.FieldLevelDBuV: kFloat,
		telemetry.FieldCNdB: kFloat, telemetry.FieldMERdB: kFloat, telemetry.FieldBER: kFloat, telemetry.FieldPER: kFloat,
		telemetry.FieldBitrateMbps: kFloat, telemetry.FieldUncorrected: kInt, telemetry.FieldCCErrors: kInt}},
	telemetry.MeasTVTransportStream: {ifTags, ifName, map[string]lineprotocol.ValueKind{
		telemetry.FieldOperStatus: kString, telemetry.FieldUp: kBool}},
	telemetry.MeasTVStatus: {deviceTags, nil, map[string]lineprotocol.ValueKind{
		telemetry.FieldStatus: kString, telemetry.FieldActiveAlarms: kInt, telemetry.FieldOnAir: kBool,
		telemetry.FieldSynchronized: kBool, telemetry.FieldFrequencyHz: kInt, telemetry.FieldLevelDBm: kFloat,
		telemetry.FieldForwardPowerW: kFloat, telemetry.FieldReflectedPowerW: kFloat,
		telemetry.FieldTSBitrateMbps: kFloat}},
	telemetry.MeasTVAlarm: {append(slices.Clone(deviceTags), telemetry.TagAlarm), nil, map[string]lineprotocol.ValueKind{
		telemetry.FieldActive: kBool, telemetry.FieldSeverity: kString}},
	telemetry.MeasPoll: {deviceTags, nil, map[string]lineprotocol.ValueKind{
		telemetry.FieldStatus: kString, telemetry.FieldUp: kBool, telemetry.FieldDurationS: kFloat,
		telemetry.FieldVarbinds: kInt, telemetry.FieldTruncated: kBool, telemetry.FieldWarnings: kInt}},
}

// checkSchema checks every line against its measurement's schema: known
// measurement, every required tag, no other tag, at least one field, each
// known and of its kind.
func checkSchema(t testing.TB, lines []line) {
	t.Helper()
	for i, l := range lines {
		s, ok := schemas[l.measurement]
		if !ok {
			t.Fatalf("line %d: measurement %q is not a device measurement", i+1, l.measurement)
		}
		for _, k := range s.tags {
			if l.tags[k] == "" {
				t.Errorf("line %d (%s): tag %s missing", i+1, l.measurement, k)
			}
		}
		for k := range l.tags {
			if !slices.Contains(s.tags, k) && !slices.Contains(s.optional, k) {
				t.Errorf("line %d (%s): unexpected tag %s", i+1, l.measurement, k)
			}
		}
		if len(l.fields) == 0 {
			t.Errorf("line %d (%s): no field", i+1, l.measurement)
		}
		for k, v := range l.fields {
			kind, ok := s.fields[k]
			if !ok {
				t.Errorf("line %d (%s): unexpected field %s", i+1, l.measurement, k)
			} else if v.Kind() != kind {
				t.Errorf("line %d (%s): field %s is %v, want %v", i+1, l.measurement, k, v.Kind(), kind)
			}
		}
	}
}

// pointCounts counts the points the documents hold, per measurement.
func pointCounts(docs ...*device.Document) map[string]int {
	n := map[string]int{}
	for _, d := range docs {
		n[telemetry.MeasInterface] += told(d.Interfaces, ifaceTold)
		a := d.Access
		if a == nil {
			continue
		}
		if a.PON != nil {
			n[telemetry.MeasPONPort] += told(a.PON.Ports, portTold)
		}
		if a.Cable != nil {
			n[telemetry.MeasCableChannel] += told(a.Cable.Downstreams, channelTold) + told(a.Cable.Upstreams, channelTold)
		}
		if a.DSL != nil {
			n[telemetry.MeasDSLLine] += len(a.DSL.Lines)
		}
		if (a.PON != nil && (a.PON.ONTsOnline != nil || a.PON.ONTsOffline != nil)) || a.DSL != nil ||
			(a.Cable != nil && (a.Cable.ModemsOnline != nil || a.Cable.ModemsRegistered != nil)) {
			n[telemetry.MeasAccess]++
		}
		if tv := a.TV; tv != nil {
			n[telemetry.MeasTVInput] += told(tv.Inputs, inputTold)
			n[telemetry.MeasTVTransportStream] += told(tv.TransportStreams,
				func(ts *device.TransportStream) bool { return ts.OperStatus != "" })
			n[telemetry.MeasTVAlarm] += len(tv.Alarms)
			if tv.Status != "" || tv.ActiveAlarms != nil || tv.Output != nil {
				n[telemetry.MeasTVStatus]++
			}
		}
	}
	return n
}

// told counts the elements of s that have a figure to write.
func told[T any](s []T, has func(*T) bool) int {
	n := 0
	for i := range s {
		if has(&s[i]) {
			n++
		}
	}
	return n
}

// checkCounts checks that the lines hold one point per point of the
// documents, and that the interface lines carry exactly the documents'
// speeds and rates: present when the document has them, absent when not.
func checkCounts(t testing.TB, lines []line, docs ...*device.Document) {
	t.Helper()
	got := map[string]int{}
	for _, l := range lines {
		got[l.measurement]++
	}
	want := pointCounts(docs...)
	for m := range schemas {
		if got[m] != want[m] {
			t.Errorf("%d %s lines, the documents hold %d points", got[m], m, want[m])
		}
	}
	i := 0
	for _, d := range docs {
		for _, it := range d.Interfaces {
			if !ifaceTold(&it) {
				continue
			}
			for i < len(lines) && lines[i].measurement != telemetry.MeasInterface {
				i++
			}
			if i == len(lines) {
				t.Fatalf("no interface line for %d", it.Index)
			}
			l := lines[i]
			i++
			if l.tags[telemetry.TagIfIndex] != strconv.Itoa(it.Index) || !l.time.Equal(d.PolledAt) {
				t.Fatalf("interface line %v at %v, want if_index %d at %v", l.tags, l.time, it.Index, d.PolledAt)
			}
			checkFloat(t, l, telemetry.FieldInBps, it.InBps)
			checkFloat(t, l, telemetry.FieldOutBps, it.OutBps)
			checkFloat(t, l, telemetry.FieldInErrorsPerS, it.InErrorsPerS)
			checkFloat(t, l, telemetry.FieldOutErrorsPerS, it.OutErrorsPerS)
			v, ok := l.fields[telemetry.FieldSpeedBps]
			if (it.SpeedBps == nil) != !ok || (ok && uint64(v.IntV()) != *it.SpeedBps) {
				t.Errorf("if_index %d: speed_bps %v, document %v", it.Index, v, it.SpeedBps)
			}
		}
	}
}

// checkFloat checks that field key of l is want, or absent when want is nil.
func checkFloat(t testing.TB, l line, key string, want *float64) {
	t.Helper()
	v, ok := l.fields[key]
	switch {
	case want == nil && ok:
		t.Errorf("%s %v: %s=%v written, the document has none", l.measurement, l.tags, key, v)
	case want != nil && !ok:
		t.Errorf("%s %v: %s missing, the document has %v", l.measurement, l.tags, key, *want)
	case want != nil && v.FloatV() != *want:
		t.Errorf("%s %v: %s=%v, the document has %v", l.measurement, l.tags, key, v.FloatV(), *want)
	}
}
