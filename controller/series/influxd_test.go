package series

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/device"
	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
	"github.com/ngic/ngic/telemetry/influx"
)

// influxdRecordings cover every access section the recordings hold: a
// CMTS's channels and interface rates, an OLT's ONT counts, a DSLAM's
// lines, a transmitter's status, inputs and alarms, a receiver's inputs.
var influxdRecordings = []string{"arris_c4-cmts", "bdcom_gp3600-16b", "zyxel_ies-5106",
	"protelevision_dvb-t-transmitter", "terra_sdi480"}

// fields are a point's expected fields: float64, int64, bool or string
// values, and nil for a field the document does not have (which must be
// absent, not zero).
type fields map[string]any

// TestInfluxd writes two polls of several devices, a poll interval apart so
// that the second has rates, through telemetry/influx.Writer to a real
// influxd 1.8, reads them back with InfluxQL and checks that influxd holds
// exactly what the documents hold: one series per interface, port, line,
// channel, input and alarm, and the same figures at the same times.
func TestInfluxd(t *testing.T) {
	f := startFleet(t)
	db := testenv.StartInfluxd(t)
	db.CreateDatabase(t, "ngic")
	w, err := influx.New(influx.Options{URL: db.URL, Bucket: "ngic/autogen",
		BufferPath: filepath.Join(t.TempDir(), "influx.spool"), FlushInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		if err := w.Close(); err != nil {
			t.Error(err)
		}
	})

	docs := map[string][2]*device.Document{}
	var lines uint64
	for _, name := range influxdRecordings {
		polls := f.twoPolls(t, name)
		docs[name] = polls
		var buf []byte
		for _, d := range polls {
			if buf, err = AppendDocument(buf, tagsOf(name), d); err != nil {
				t.Fatal(err)
			}
			r := PollResult{Time: d.PolledAt, Status: telemetry.PollUp, Duration: time.Second, Varbinds: 100}
			if buf, err = AppendPoll(buf, tagsOf(name), r); err != nil {
				t.Fatal(err)
			}
		}
		lines += uint64(strings.Count(string(buf), "\n"))
		if err := w.Write(buf); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for st := w.Stats(); st.Written < lines || st.BufferedRecords > 0; st = w.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("after 30s %d of %d lines written: %+v", st.Written, lines, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st := w.Stats(); st.Written != lines || st.WriteErrors != 0 || st.RefusedLines != 0 {
		t.Fatalf("stats %+v, want %d lines written without error", st, lines)
	}

	for _, name := range influxdRecordings {
		t.Run(name, func(t *testing.T) {
			for m, series := range expected(docs[name]) {
				checkInflux(t, db, name, m, series)
			}
		})
	}
}

// expected gives, per measurement, the series (named by their identity
// tags, "if_index=5") and per series the fields at each poll time, read
// from the documents themselves.
func expected(docs [2]*device.Document) map[string]map[string]map[time.Time]fields {
	out := map[string]map[string]map[time.Time]fields{}
	add := func(m, series string, at time.Time, f fields) {
		if !anyValue(f) {
			return // no figure: no point
		}
		if out[m] == nil {
			out[m] = map[string]map[time.Time]fields{}
		}
		if out[m][series] == nil {
			out[m][series] = map[time.Time]fields{}
		}
		out[m][series][at] = f
	}
	for _, d := range docs {
		at := d.PolledAt
		for _, it := range d.Interfaces {
			add(telemetry.MeasInterface, "if_index="+strconv.Itoa(it.Index), at, fields{
				telemetry.FieldInBps: opt(it.InBps), telemetry.FieldOutBps: opt(it.OutBps),
				telemetry.FieldInErrorsPerS: opt(it.InErrorsPerS), telemetry.FieldOutErrorsPerS: opt(it.OutErrorsPerS),
				telemetry.FieldSpeedBps: optInt(it.SpeedBps), telemetry.FieldOperStatus: it.OperStatus})
		}
		add(telemetry.MeasPoll, "", at, fields{telemetry.FieldStatus: telemetry.PollUp, telemetry.FieldVarbinds: int64(100)})
		a := d.Access
		if a == nil {
			continue
		}
		if a.PON != nil {
			for _, p := range a.PON.Ports {
				add(telemetry.MeasPONPort, "if_index="+strconv.Itoa(p.IfIndex), at, fields{
					telemetry.FieldONTsOnline: optInt(p.ONTsOnline), telemetry.FieldONTsOffline: optInt(p.ONTsOffline)})
			}
			add(telemetry.MeasAccess, "", at, fields{telemetry.FieldONTsOnline: optInt(a.PON.ONTsOnline),
				telemetry.FieldONTsOffline: optInt(a.PON.ONTsOffline)})
		}
		if a.Cable != nil {
			for dir, chs := range map[string][]device.Channel{"down": a.Cable.Downstreams, "up": a.Cable.Upstreams} {
				for _, ch := range chs {
					add(telemetry.MeasCableChannel, "direction="+dir+",if_index="+strconv.Itoa(ch.IfIndex), at, fields{
						telemetry.FieldFrequencyHz: optInt(ch.FrequencyHz), telemetry.FieldPowerDBmV: opt(ch.PowerDBmV),
						telemetry.FieldSNRdB: opt(ch.SNRdB), telemetry.FieldOperStatus: ch.OperStatus})
				}
			}
		}
		if a.DSL != nil {
			var n, up int64
			for _, l := range a.DSL.Lines {
				add(telemetry.MeasDSLLine, "if_index="+strconv.Itoa(l.IfIndex)+",technology="+l.Technology, at, fields{
					telemetry.FieldShowtime: l.Showtime, telemetry.FieldAttainableDown: optInt(l.AttainableDownBps),
					telemetry.FieldAttainableUp: optInt(l.AttainableUpBps), telemetry.FieldActualDown: optInt(l.ActualDownBps),
					telemetry.FieldActualUp: optInt(l.ActualUpBps)})
				n++
				if l.Showtime {
					up++
				}
			}
			add(telemetry.MeasAccess, "", at, fields{telemetry.FieldDSLLines: n, telemetry.FieldDSLShowtime: up})
		}
		if tv := a.TV; tv != nil {
			for _, in := range tv.Inputs {
				add(telemetry.MeasTVInput, "input="+strconv.Itoa(in.Index), at, fields{
					telemetry.FieldLocked: opt(in.Locked), telemetry.FieldLevelDBuV: opt(in.LevelDBuV),
					telemetry.FieldCNdB: opt(in.CNDB), telemetry.FieldMERdB: opt(in.MERDB),
					telemetry.FieldBitrateMbps: opt(in.BitrateMbps), telemetry.FieldState: in.State})
			}
			for _, al := range tv.Alarms {
				add(telemetry.MeasTVAlarm, "alarm="+al.Name, at, fields{telemetry.FieldActive: al.Active})
			}
			st := fields{telemetry.FieldActiveAlarms: optInt(tv.ActiveAlarms)}
			if o := tv.Output; o != nil {
				st[telemetry.FieldOnAir], st[telemetry.FieldSynchronized] = opt(o.OnAir), opt(o.Synchronized)
				st[telemetry.FieldFrequencyHz], st[telemetry.FieldLevelDBm] = optInt(o.FrequencyHz), opt(o.LevelDBm)
				st[telemetry.FieldTSBitrateMbps] = opt(o.TSBitrateMbps)
			}
			add(telemetry.MeasTVStatus, "", at, st)
		}
	}
	return out
}

// anyValue reports whether f has a field the document gives.
func anyValue(f fields) bool {
	for _, v := range f {
		if v != nil && v != "" {
			return true
		}
	}
	return false
}

// opt is *v, or nil.
func opt[T any](v *T) any {
	if v == nil {
		return nil
	}
	return *v
}

// optInt is *v as an int64, or nil.
func optInt[T int | int64 | uint64](v *T) any {
	if v == nil {
		return nil
	}
	return int64(*v)
}

// checkInflux reads measurement m of device name back from influxd and
// checks it holds exactly the series want, with the same fields (a nil
// field absent) at the same times.
func checkInflux(t *testing.T, db *testenv.Influxd, name, m string, want map[string]map[time.Time]fields) {
	t.Helper()
	var keys []string
	for series := range want {
		if series != "" {
			for _, kv := range strings.Split(series, ",") {
				k, _, _ := strings.Cut(kv, "=")
				if !contains(keys, k) {
					keys = append(keys, k)
				}
			}
		}
	}
	sort.Strings(keys)
	q := fmt.Sprintf("SELECT * FROM %q WHERE %s = '%s'", m, telemetry.TagDevice, name)
	if len(keys) > 0 {
		q += " GROUP BY " + strings.Join(keys, ",")
	}
	got := map[string]map[time.Time]testenv.Row{}
	for _, r := range db.Query(t, "ngic", q) {
		var ids []string
		for _, k := range keys {
			ids = append(ids, k+"="+r.Tags[k])
		}
		series := strings.Join(ids, ",")
		if got[series] == nil {
			got[series] = map[time.Time]testenv.Row{}
		}
		got[series][r.Time] = r
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d series in influxd, the documents hold %d", m, len(got), len(want))
	}
	for series, byTime := range want {
		for at, fs := range byTime {
			r, ok := got[series][at]
			if !ok {
				t.Errorf("%s %s at %v: not in influxd", m, series, at)
				continue
			}
			for k, v := range fs {
				if !sameValue(r.Values[k], v) {
					t.Errorf("%s %s at %v: %s is %v in influxd, %v in the document", m, series, at, k, r.Values[k], v)
				}
			}
		}
	}
}

// sameValue compares a value read back from influxd (json.Number, string,
// bool or nil) with a document's; an empty string is an absent field.
func sameValue(got, want any) bool {
	if s, ok := want.(string); ok && s == "" {
		want = nil
	}
	switch w := want.(type) {
	case nil:
		return got == nil
	case float64:
		n, ok := got.(json.Number)
		f, err := n.Float64()
		return ok && err == nil && f == w
	case int64:
		n, ok := got.(json.Number)
		i, err := n.Int64()
		return ok && err == nil && i == w
	}
	return got == want
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
