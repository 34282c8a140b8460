// Package influxdb_test applies the shipped retention policies and
// continuous queries (retention.iql) to a real influxd 1.8 and checks the
// hourly points they make from points written by telemetry's encoders.
package influxdb_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/deploy/grafana/schema"
	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// statements returns the statements of retention.iql: one a line, lines
// starting with '#' (comments and the DDL marker of `influx -import`)
// skipped.
func statements(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("retention.iql")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	s := bufio.NewScanner(f)
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

var (
	cqRE    = regexp.MustCompile(`^CREATE CONTINUOUS QUERY "(\w+)" ON "ngic" BEGIN (SELECT .*) END$`)
	fromRE  = regexp.MustCompile(`FROM "ngic"\."autogen"\."(\w+)"`)
	intoRE  = regexp.MustCompile(`INTO "ngic"\."trend"\."(\w+)"`)
	fieldRE = regexp.MustCompile(`\w+\("(\w+)"\)`)
	groupRE = regexp.MustCompile(` GROUP BY time\(1h\), \*$`)
	whereRE = regexp.MustCompile(` WHERE `)
)

// TestRetentionNames checks every continuous query reads a measurement and
// fields telemetry writes, and writes <measurement>_1h in trend.
func TestRetentionNames(t *testing.T) {
	names, err := schema.Load()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, st := range statements(t) {
		m := cqRE.FindStringSubmatch(st)
		if m == nil {
			continue
		}
		n++
		from, into := fromRE.FindStringSubmatch(m[2]), intoRE.FindStringSubmatch(m[2])
		if from == nil || into == nil || !groupRE.MatchString(m[2]) {
			t.Errorf("%s: not SELECT ... INTO trend FROM autogen ... GROUP BY time(1h), *", m[1])
			continue
		}
		if !names.Measurements[from[1]] {
			t.Errorf("%s: reads %q, which telemetry does not write", m[1], from[1])
		}
		if into[1] != from[1]+"_1h" {
			t.Errorf("%s: writes %q, want %q", m[1], into[1], from[1]+"_1h")
		}
		for _, f := range fieldRE.FindAllStringSubmatch(m[2], -1) {
			if !names.Fields[f[1]] {
				t.Errorf("%s: field %q is not a telemetry field", m[1], f[1])
			}
		}
	}
	if n < 10 {
		t.Fatalf("%d continuous queries found, want one per measurement family", n)
	}
}

// write posts line protocol to ngic/autogen.
func write(t *testing.T, d *testenv.Influxd, lines []byte) {
	t.Helper()
	resp, err := http.Post(d.URL+"/write?db=ngic&rp=autogen&precision=ns", "text/plain", bytes.NewReader(lines))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("write: %s: %s", resp.Status, b)
	}
}

func ptr[T any](v T) *T { return &v }

// number reads a json.Number column as a float.
func number(t *testing.T, r testenv.Row, col string) float64 {
	t.Helper()
	n, ok := r.Values[col].(json.Number)
	if !ok {
		t.Fatalf("%s: column %s is %v (%T), want a number", r.Measurement, col, r.Values[col], r.Values[col])
	}
	f, err := n.Float64()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// downsampled applies retention.iql to d twice (it must be idempotent),
// writes an hour of points, runs each continuous query's SELECT INTO over
// that hour (what influxd runs at the end of the hour) and returns the
// hour.
func downsampled(t *testing.T, d *testenv.Influxd) time.Time {
	t.Helper()
	sts := statements(t)
	for pass := 0; pass < 2; pass++ {
		for _, st := range sts {
			if _, err := d.TryQuery("", st); err != nil {
				t.Fatalf("pass %d: %v", pass+1, err)
			}
		}
	}
	rps := map[string]string{}
	for _, r := range d.Query(t, "ngic", "SHOW RETENTION POLICIES") {
		rps[r.Values["name"].(string)] = r.Values["duration"].(string)
	}
	if rps["autogen"] != "720h0m0s" || rps["trend"] != "17520h0m0s" {
		t.Errorf("retention policies %v, want autogen 30 days and trend 730 days", rps)
	}
	cqs := 0
	for _, r := range d.Query(t, "", "SHOW CONTINUOUS QUERIES") {
		if r.Measurement == "ngic" {
			cqs++
		}
	}

	// An hour that ended three hours ago, so influxd's own scheduler
	// (which runs each query on the hour just ended) never touches it.
	hour := time.Now().UTC().Truncate(time.Hour).Add(-3 * time.Hour)
	write(t, d, hourOfPoints(t, hour))

	window := fmt.Sprintf("time >= '%s' AND time < '%s'", hour.Format(time.RFC3339), hour.Add(time.Hour).Format(time.RFC3339))
	ran := 0
	for _, st := range sts {
		m := cqRE.FindStringSubmatch(st)
		if m == nil {
			continue
		}
		q := m[2]
		if whereRE.MatchString(q) {
			q = groupRE.ReplaceAllString(q, " AND "+window+" GROUP BY time(1h), *")
		} else {
			q = groupRE.ReplaceAllString(q, " WHERE "+window+" GROUP BY time(1h), *")
		}
		if _, err := d.TryQuery("ngic", q); err != nil {
			t.Errorf("continuous query %s: %v", m[1], err)
		}
		ran++
	}
	if ran != cqs {
		t.Errorf("influxd holds %d continuous queries, the file %d", cqs, ran)
	}
	return hour
}

// hourOfPoints encodes, with telemetry's encoders, an hour of interface,
// PON port and poll points of one OLT, a point or two of every other
// measurement the continuous queries read (otherPoints), and one poll of
// the next hour.
func hourOfPoints(t *testing.T, hour time.Time) []byte {
	t.Helper()
	dev := telemetry.DeviceTags{Site: "village-07", Device: "olt-1", Class: "olt"}
	var lines []byte
	var err error
	for i, in := range []float64{100, 200, 600} {
		at := hour.Add(time.Duration(i*20+1) * time.Minute)
		p := telemetry.InterfacePoint{DeviceTags: dev, IfIndex: 1, IfName: "pon-0/1", OperStatus: "up",
			InBps: ptr(in), OutBps: ptr(in * 2), Time: at}
		if lines, err = p.AppendLine(lines); err != nil {
			t.Fatal(err)
		}
		pon := telemetry.PONPortPoint{DeviceTags: dev, IfIndex: 1, IfName: "pon-0/1", OperStatus: "up",
			ONTsOnline: ptr(30 - 10*i), ONTsOffline: ptr(10 * i), Time: at}
		if lines, err = pon.AppendLine(lines); err != nil {
			t.Fatal(err)
		}
	}
	for i, st := range []string{telemetry.PollUp, telemetry.PollUp, telemetry.PollDown, telemetry.PollUp} {
		p := telemetry.PollPoint{DeviceTags: dev, Status: st, Duration: time.Duration(i+1) * time.Second,
			Time: hour.Add(time.Duration(i*15) * time.Minute)}
		if lines, err = p.AppendLine(lines); err != nil {
			t.Fatal(err)
		}
	}
	lines = append(lines, otherPoints(t, hour)...)
	// A point of the next hour, which no query over the hour may count.
	next := telemetry.PollPoint{DeviceTags: dev, Status: telemetry.PollDown, Time: hour.Add(time.Hour)}
	if lines, err = next.AppendLine(lines); err != nil {
		t.Fatal(err)
	}
	return lines
}

// TestRetentionDownsampling checks the hourly values the continuous
// queries make from an hour of points.
func TestRetentionDownsampling(t *testing.T) {
	d := testenv.StartInfluxd(t)
	hour := downsampled(t, d)

	row := func(q string) testenv.Row {
		t.Helper()
		rows := d.Query(t, "ngic", q)
		if len(rows) != 1 {
			t.Fatalf("%s: %d rows, want 1: %+v", q, len(rows), rows)
		}
		if !rows[0].Time.Equal(hour) {
			t.Errorf("%s: time %v, want the hour %v", q, rows[0].Time, hour)
		}
		return rows[0]
	}
	iface := row(`SELECT * FROM "trend"."interface_1h"`)
	for col, want := range map[string]float64{"in_bps": 300, "in_bps_max": 600, "out_bps": 600, "out_bps_max": 1200} {
		if got := number(t, iface, col); got != want {
			t.Errorf("interface_1h %s = %v, want %v", col, got, want)
		}
	}
	if iface.Values["device"] != "olt-1" || iface.Values["if_name"] != "pon-0/1" || iface.Values["site"] != "village-07" {
		t.Errorf("interface_1h lost its tags: %v", iface.Values)
	}
	pon := row(`SELECT * FROM "trend"."pon_port_1h"`)
	for col, want := range map[string]float64{"onts_online": 20, "onts_online_min": 10, "onts_offline": 10, "onts_total": 30} {
		if got := number(t, pon, col); got != want {
			t.Errorf("pon_port_1h %s = %v, want %v", col, got, want)
		}
	}
	poll := row(`SELECT * FROM "trend"."poll_1h"`)
	for col, want := range map[string]float64{"polls": 4, "polls_up": 3, "duration_s": 2.5} {
		if got := number(t, poll, col); got != want {
			t.Errorf("poll_1h %s = %v, want %v", col, got, want)
		}
	}
}

// otherPoints are two points of each measurement hourOfPoints does not
// check values of: access, DSL line, cable channel, gateway health, edge
// event, passage, coverage.
func otherPoints(t *testing.T, hour time.Time) []byte {
	t.Helper()
	var lines []byte
	add := func(b []byte, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		lines = b
	}
	olt := telemetry.DeviceTags{Site: "village-07", Device: "olt-1", Class: "olt"}
	dslam := telemetry.DeviceTags{Site: "village-07", Device: "dslam-1", Class: "dslam"}
	cmts := telemetry.DeviceTags{Site: "hub-1", Device: "cmts-1", Class: "cmts"}
	for i := 0; i < 2; i++ {
		at := hour.Add(time.Duration(10+i*30) * time.Minute)
		a := telemetry.AccessPoint{DeviceTags: olt, ONTsOnline: ptr(300 + 10*i), ONTsOffline: ptr(12 - i), Time: at}
		add(a.AppendLine(lines))
		d := telemetry.AccessPoint{DeviceTags: dslam, DSLLines: ptr(48), DSLShowtime: ptr(40 + i), Time: at}
		add(d.AppendLine(lines))
		l := telemetry.DSLLinePoint{DeviceTags: dslam, IfIndex: 201, IfName: "adsl-0/1/1", Technology: "vdsl2", Showtime: true,
			ActualDownBps: ptr(uint64(10e6 + 2e6*i)), ActualUpBps: ptr(uint64(1e6)), AttainableDownBps: ptr(uint64(30e6)), Time: at}
		add(l.AppendLine(lines))
		c := telemetry.CableChannelPoint{DeviceTags: cmts, Direction: telemetry.DirectionUp, IfIndex: 4, IfName: "us-1",
			SNRdB: ptr(36.5 - 3*float64(i)), PowerDBmV: ptr(float64(i)), ModemsOnline: ptr(100 + 20*i), Time: at}
		add(c.AppendLine(lines))
		h := telemetry.Health{V: 1, Gateway: "gw-1", Time: at, Version: "v1", UptimeS: float64(600 + 1800*i),
			ReadersConnected: 1 - i, ReadersTotal: 1, SpoolRecords: uint64(5 + 4*i), SpoolBytes: uint64(512 * (i + 1)),
			Lost: map[string]uint64{telemetry.LostDropOldest: uint64(i)}, BrokerReconnects: uint64(i)}
		add(h.AppendLines(lines, "cab-1"))
		ev := telemetry.Event{V: 1, Seq: uint64(10 + i), ID: fmt.Sprintf("ev-%d", i), Gateway: "gw-1", Source: "dock",
			Type: telemetry.TagArrived, Time: at, Tag: &telemetry.Tag{ID: "3074257BF7194E40000000" + fmt.Sprint(10+i),
				Protocol: "magicrf", FirstSeen: at, LastSeen: at}}
		add(telemetry.AppendEventLine(lines, "cab-1", &ev))
		pass := telemetry.Event{V: 1, Seq: uint64(20 + i), ID: fmt.Sprintf("pass-%d", i), Gateway: "gw-1", Source: "gate",
			Type: telemetry.Passage, Time: at, PassageInfo: &telemetry.PassageInfo{Direction: "in", DurationS: 0.5, In: uint64(i + 1)}}
		add(telemetry.AppendEventLine(lines, "cab-1", &pass))
		cov := telemetry.CoverageRegionPoint{Region: "T2", Level: "township", Subset: telemetry.CoverageSubsetAll,
			Villages: 6, Households: 370, Population: 970, Tiers: []telemetry.CoverageTier{{Name: "served", Households: 160 + int64(i),
				ShareHouseholds: 0.4 + 0.1*float64(i), SharePopulation: 0.5}}, ConvergedShare: 0.1 * float64(i+1), TakeUp: 0.125, Time: at}
		add(cov.AppendLine(lines))
	}
	return lines
}
