package grafana_test

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/deploy/grafana"
	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// interval is what the test gives Grafana's $__interval.
const interval = 10 * time.Second

// expand replaces Grafana's macros in q as Grafana does for a dashboard
// showing the whole run with every variable at "All" (allValue ".*").
func (r *run) expand(q string, vars []grafana.Variable) string {
	q = strings.ReplaceAll(q, "$timeFilter", fmt.Sprintf("time >= %dms and time <= %dms", r.from.UnixMilli(), r.to.UnixMilli()))
	q = strings.ReplaceAll(q, "$__interval", interval.String())
	for _, v := range vars {
		q = strings.ReplaceAll(q, "$"+v.Name, ".*")
	}
	return q
}

// raw returns every point of measurement m written during the run.
func (r *run) raw(t *testing.T, m string) []testenv.Row {
	t.Helper()
	return r.influxd.Query(t, "ngic", fmt.Sprintf(`SELECT * FROM %q WHERE time >= %dms and time <= %dms`,
		m, r.from.UnixMilli(), r.to.UnixMilli()))
}

// value normalises a column: json.Number to float64; strings and booleans
// as they are; nil for a missing value.
func value(v any) any {
	if n, ok := v.(json.Number); ok {
		f, err := n.Float64()
		if err != nil {
			return v
		}
		return f
	}
	return v
}

// same reports whether two normalised values are equal (floats to 1e-9).
func same(a, b any) bool {
	fa, oka := a.(float64)
	fb, okb := b.(float64)
	if oka && okb {
		return math.Abs(fa-fb) <= 1e-9*math.Max(1, math.Max(math.Abs(fa), math.Abs(fb)))
	}
	return a == b
}

// agg is an aggregation a panel's query makes, recomputed from raw points.
type agg struct {
	// field is read from the raw points; col is the panel's column.
	field, col string
	// fn is mean, last, max, count or sum.
	fn string
	// tags group the points; overTime adds the $__interval bucket.
	tags     []string
	overTime bool
	// keep selects raw points (the query's WHERE beyond time and "All").
	keep func(testenv.Row) bool
}

// key names the group of a row: its tags (from a raw point's values or a
// result's series tags) and its bucket.
func (a *agg) key(get func(string) string, at time.Time) string {
	parts := make([]string, 0, len(a.tags)+1)
	for _, tag := range a.tags {
		parts = append(parts, tag+"="+get(tag))
	}
	if a.overTime {
		parts = append(parts, at.Truncate(interval).UTC().Format(time.RFC3339))
	}
	return strings.Join(parts, ",")
}

// expect recomputes the aggregation from raw points.
func (a *agg) expect(raw []testenv.Row) map[string]any {
	type acc struct {
		sum, max float64
		n        int
		last     any
		lastAt   time.Time
	}
	groups := map[string]*acc{}
	for _, p := range raw {
		v := value(p.Values[a.field])
		if v == nil || (a.keep != nil && !a.keep(p)) {
			continue
		}
		k := a.key(func(tag string) string { s, _ := p.Values[tag].(string); return s }, p.Time)
		g := groups[k]
		if g == nil {
			g = &acc{max: math.Inf(-1)}
			groups[k] = g
		}
		g.n++
		if f, ok := v.(float64); ok {
			g.sum += f
			g.max = math.Max(g.max, f)
		}
		if g.last == nil || !p.Time.Before(g.lastAt) {
			g.last, g.lastAt = v, p.Time
		}
	}
	out := map[string]any{}
	for k, g := range groups {
		switch a.fn {
		case "mean":
			out[k] = g.sum / float64(g.n)
		case "sum":
			out[k] = g.sum
		case "max":
			out[k] = g.max
		case "count":
			out[k] = float64(g.n)
		case "last":
			out[k] = g.last
		}
	}
	return out
}

// got reads the panel's result into the same keys.
func (a *agg) got(rows []testenv.Row) map[string]any {
	out := map[string]any{}
	for _, r := range rows {
		if v := value(r.Values[a.col]); v != nil {
			out[a.key(func(tag string) string { return r.Tags[tag] }, r.Time)] = v
		}
	}
	return out
}

// check compares the panel's rows with the recomputed aggregation; the
// run must have produced some.
func (a *agg) check(t *testing.T, rows, raw []testenv.Row) {
	t.Helper()
	want, got := a.expect(raw), a.got(rows)
	if len(want) == 0 {
		t.Fatalf("%s: the run wrote no %s to recompute the panel from", a.col, a.field)
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || !same(g, w) {
			t.Errorf("%s %s: panel %v, recomputed from the points %v", a.col, k, g, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s %s: panel %v, not in the points", a.col, k, g)
		}
	}
}

// is keeps raw points whose column col equals v.
func is(col string, v any) func(testenv.Row) bool {
	return func(r testenv.Row) bool { return same(value(r.Values[col]), v) }
}

// checker checks one panel's query result against the run.
type checker func(t *testing.T, r *run, rows []testenv.Row)

// aggs is a checker recomputing each aggregation from the panel's
// measurement.
func aggs(m string, as ...agg) checker {
	return func(t *testing.T, r *run, rows []testenv.Row) {
		t.Helper()
		raw := r.raw(t, m)
		for i := range as {
			as[i].check(t, rows, raw)
		}
	}
}

// checks holds a checker for every panel, by title.
func checks() map[string]checker {
	T := telemetry.TagType
	return map[string]checker{
		// The access network.
		"Devices up": func(t *testing.T, r *run, rows []testenv.Row) {
			// Every device was up when the events began (endToEnd waits for
			// it); the panel counts those whose last poll answered.
			last := (&agg{field: telemetry.FieldStatus, fn: "last", tags: []string{telemetry.TagDevice}}).expect(r.raw(t, telemetry.MeasPoll))
			up := 0
			for _, s := range last {
				if s == telemetry.PollUp {
					up++
				}
			}
			if len(last) != len(r.devices) || up == 0 || len(rows) != 1 || !same(value(rows[0].Values["count"]), float64(up)) {
				t.Errorf("devices up %+v; last polls of %d devices, %d up, of %d in the inventory", rows, len(last), up, len(r.devices))
			}
		},
		"Last poll per device": func(t *testing.T, r *run, rows []testenv.Row) {
			aggs(telemetry.MeasPoll,
				agg{field: telemetry.FieldStatus, col: telemetry.FieldStatus, fn: "last", tags: []string{telemetry.TagDevice, telemetry.TagSite}},
				agg{field: telemetry.FieldDurationS, col: telemetry.FieldDurationS, fn: "last", tags: []string{telemetry.TagDevice}},
				agg{field: telemetry.FieldVarbinds, col: telemetry.FieldVarbinds, fn: "last", tags: []string{telemetry.TagDevice}},
			)(t, r, rows)
			seen := map[string]string{}
			for _, row := range rows {
				seen[row.Tags[telemetry.TagDevice]] = row.Tags[telemetry.TagSite]
			}
			if fmt.Sprint(seen) != fmt.Sprint(r.devices) {
				t.Errorf("devices and sites %v, the inventory's %v", seen, r.devices)
			}
		},
		"Poll time by class": aggs(telemetry.MeasPoll,
			agg{field: telemetry.FieldDurationS, col: "mean", fn: "mean", tags: []string{telemetry.TagClass}, overTime: true}),
		"Interface traffic": aggs(telemetry.MeasInterface,
			agg{field: telemetry.FieldInBps, col: "in", fn: "mean", tags: []string{telemetry.TagDevice, telemetry.TagIfIndex, telemetry.TagIfName}, overTime: true},
			agg{field: telemetry.FieldOutBps, col: "out", fn: "mean", tags: []string{telemetry.TagDevice, telemetry.TagIfIndex, telemetry.TagIfName}, overTime: true}),
		"Interfaces down": interfacesDown,
		"ONTs online per PON port": aggs(telemetry.MeasPONPort,
			agg{field: telemetry.FieldONTsOnline, col: "last", fn: "last", tags: []string{telemetry.TagDevice, telemetry.TagIfIndex, telemetry.TagIfName}, overTime: true}),
		"Subscribers online": subscribersOnline,
		"Cable upstream SNR": aggs(telemetry.MeasCableChannel,
			agg{field: telemetry.FieldSNRdB, col: "mean", fn: "mean", tags: []string{telemetry.TagDevice, telemetry.TagIfIndex, telemetry.TagIfName}, overTime: true,
				keep: is(telemetry.TagDirection, telemetry.DirectionUp)}),
		"DSL lines in showtime": aggs(telemetry.MeasAccess,
			agg{field: telemetry.FieldDSLShowtime, col: "showtime", fn: "last", tags: []string{telemetry.TagDevice}, overTime: true},
			agg{field: telemetry.FieldDSLLines, col: "lines", fn: "last", tags: []string{telemetry.TagDevice}, overTime: true}),

		// Convergence.
		"Converged share by region":   convergedShare,
		"Households per service tier": tierShares,
		"Convergence over time": aggs(telemetry.MeasCoverageRegion,
			agg{field: telemetry.FieldConvergedShare, col: "converged", fn: "last", tags: []string{telemetry.TagRegion}, overTime: true,
				keep: is(telemetry.TagSubset, telemetry.CoverageSubsetAll)},
			agg{field: telemetry.FieldDigitalTVShare, col: "digital_tv", fn: "last", tags: []string{telemetry.TagRegion}, overTime: true,
				keep: is(telemetry.TagSubset, telemetry.CoverageSubsetAll)}),
		"Priority villages: take-up": aggs(telemetry.MeasCoverageRegion,
			agg{field: telemetry.FieldTakeUp, col: "last", fn: "last", tags: []string{telemetry.TagRegion, telemetry.TagSubset}, overTime: true}),
		"TV transmitters and headends": aggs(telemetry.MeasTVStatus,
			agg{field: telemetry.FieldStatus, col: telemetry.FieldStatus, fn: "last", tags: []string{telemetry.TagDevice, telemetry.TagSite}},
			agg{field: telemetry.FieldActiveAlarms, col: telemetry.FieldActiveAlarms, fn: "last", tags: []string{telemetry.TagDevice}},
			agg{field: telemetry.FieldSynchronized, col: telemetry.FieldSynchronized, fn: "last", tags: []string{telemetry.TagDevice}},
			agg{field: telemetry.FieldLevelDBm, col: telemetry.FieldLevelDBm, fn: "last", tags: []string{telemetry.TagDevice}}),
		"TV input quality": aggs(telemetry.MeasTVInput,
			agg{field: telemetry.FieldCNdB, col: "mean", fn: "mean", tags: []string{telemetry.TagDevice, telemetry.TagInput}, overTime: true}),

		// The edge.
		"Gateways": gateways,
		"Spool backlog": aggs(telemetry.MeasGatewayHealth,
			agg{field: telemetry.FieldSpoolRecords, col: "max", fn: "max", tags: []string{telemetry.TagGateway}, overTime: true}),
		"Events lost by reason": func(t *testing.T, r *run, rows []testenv.Row) {
			// The run lost nothing: the gateway said so, and the panel agrees.
			if r.health.LostTotal() != 0 || len(rows) != 0 {
				t.Errorf("the gateway lost %d events; the panel shows %+v", r.health.LostTotal(), rows)
			}
		},
		"Events by type": func(t *testing.T, r *run, rows []testenv.Row) {
			got := map[string]float64{}
			for _, row := range rows {
				got[row.Tags[T]] += value(row.Values["count"]).(float64)
			}
			want := map[string]float64{}
			for _, ev := range r.events {
				if ev.Type != telemetry.Passage {
					want[ev.Type]++
				}
			}
			if len(want) < 5 || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("events by type: panel %v, the edge published %v", got, want)
			}
		},
		"Tags seen per reader": func(t *testing.T, r *run, rows []testenv.Row) {
			want := 0
			for _, ev := range r.events {
				if ev.Type == telemetry.TagArrived {
					want++
				}
			}
			if len(rows) != 1 || rows[0].Tags[telemetry.TagSource] != "gate" || rows[0].Tags[telemetry.TagGateway] != gatewayName ||
				!same(value(rows[0].Values["arrivals"]), float64(want)) || want != 3 {
				t.Errorf("tags seen %+v; the edge published %d arrivals at gate", rows, want)
			}
		},
		"Passages": func(t *testing.T, r *run, rows []testenv.Row) {
			got := map[string]float64{}
			for _, row := range rows {
				if row.Tags[telemetry.TagGateway] != gatewayName || row.Tags[telemetry.TagSource] != "entrance" {
					t.Errorf("a passage of %v", row.Tags)
				}
				got[row.Tags[telemetry.TagDirection]] += value(row.Values["count"]).(float64)
			}
			want := map[string]float64{}
			for _, ev := range r.events {
				if ev.Type == telemetry.Passage {
					want[ev.PassageInfo.Direction]++
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(map[string]float64{"in": 2, "out": 1}) || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("passages: panel %v, the edge published %v (the test made 2 in, 1 out)", got, want)
			}
		},
	}
}

// interfacesDown recomputes each interface's last states and compares the
// ones administratively up but not operationally up.
func interfacesDown(t *testing.T, r *run, rows []testenv.Row) {
	tags := []string{telemetry.TagDevice, telemetry.TagIfIndex, telemetry.TagIfName}
	admin := agg{field: telemetry.FieldAdminStatus, fn: "last", tags: tags}
	oper := agg{field: telemetry.FieldOperStatus, fn: "last", tags: tags}
	raw := r.raw(t, telemetry.MeasInterface)
	a, o := admin.expect(raw), oper.expect(raw)
	var want, got []string
	for k := range a {
		if op, ok := o[k]; ok && a[k] == "up" && op != "up" { // no oper_status at all is not down
			want = append(want, k)
		}
	}
	for _, row := range rows {
		got = append(got, admin.key(func(tag string) string { return row.Tags[tag] }, row.Time))
	}
	sort.Strings(want)
	sort.Strings(got)
	if len(a) == 0 || strings.Join(got, ";") != strings.Join(want, ";") {
		t.Errorf("interfaces down: panel %v, recomputed %v (of %d interfaces)", got, want, len(a))
	}
}

// subscribersOnline recomputes the sums of each device's last figures.
func subscribersOnline(t *testing.T, r *run, rows []testenv.Row) {
	raw := r.raw(t, telemetry.MeasAccess)
	for col, field := range map[string]string{"onts": telemetry.FieldONTsOnline, "dsl": telemetry.FieldDSLShowtime} {
		per := agg{field: field, fn: "last", tags: []string{telemetry.TagDevice}, overTime: true}
		want := map[string]float64{}
		for k, v := range per.expect(raw) {
			bucket := k[strings.LastIndex(k, ",")+1:]
			want[bucket] += v.(float64)
		}
		got := map[string]float64{}
		for _, row := range rows {
			if v, ok := value(row.Values[col]).(float64); ok {
				got[row.Time.Truncate(interval).UTC().Format(time.RFC3339)] = v
			}
		}
		if len(want) == 0 || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("subscribers online, %s: panel %v, recomputed %v", col, got, want)
		}
	}
}

// convergedShare compares the latest figures with the controller's last
// stored coverage snapshot.
func convergedShare(t *testing.T, r *run, rows []testenv.Row) {
	byRegion := map[string]testenv.Row{}
	for _, row := range rows {
		byRegion[row.Tags[telemetry.TagRegion]] = row
	}
	if len(r.snapshot.Regions) == 0 || len(rows) != len(r.snapshot.Regions) {
		t.Fatalf("%d regions in the panel, %d in the snapshot", len(rows), len(r.snapshot.Regions))
	}
	for _, g := range r.snapshot.Regions {
		row, ok := byRegion[g.Code]
		if !ok || row.Tags[telemetry.TagLevel] != g.Level {
			t.Errorf("region %s (%s): not in the panel (%v)", g.Code, g.Level, row.Tags)
			continue
		}
		for col, want := range map[string]float64{
			telemetry.FieldConvergedShare: g.All.Converged.ShareHouseholds, telemetry.FieldDigitalTVShare: g.All.DigitalTV.ShareHouseholds,
			telemetry.FieldNextGenShare: g.All.NextGenShare, telemetry.FieldTakeUp: g.All.TakeUp,
			telemetry.FieldHouseholds: float64(g.All.Households),
		} {
			if got := value(row.Values[col]); !same(got, want) {
				t.Errorf("region %s %s: panel %v, snapshot %v", g.Code, col, got, want)
			}
		}
	}
}

// tierShares compares each tier's share with the snapshot's.
func tierShares(t *testing.T, r *run, rows []testenv.Row) {
	byRegion := map[string]testenv.Row{}
	for _, row := range rows {
		byRegion[row.Tags[telemetry.TagRegion]] = row
	}
	if len(rows) != len(r.snapshot.Regions) {
		t.Fatalf("%d regions in the panel, %d in the snapshot", len(rows), len(r.snapshot.Regions))
	}
	for _, g := range r.snapshot.Regions {
		if len(g.All.Tiers) < 2 {
			t.Fatalf("region %s: %d tiers", g.Code, len(g.All.Tiers))
		}
		for _, tier := range g.All.Tiers {
			col := "last_" + telemetry.FieldShareHouseholdsPrefix + tier.Name
			if got := value(byRegion[g.Code].Values[col]); !same(got, tier.ShareHouseholds) {
				t.Errorf("region %s %s: panel %v, snapshot %v", g.Code, col, got, tier.ShareHouseholds)
			}
		}
	}
}

// gateways compares the table with the last health message published.
func gateways(t *testing.T, r *run, rows []testenv.Row) {
	h := r.health
	if len(rows) != 1 || rows[0].Tags[telemetry.TagGateway] != gatewayName || rows[0].Tags[telemetry.TagSite] != "cabinet-0142" {
		t.Fatalf("gateways %+v", rows)
	}
	for col, want := range map[string]any{
		telemetry.FieldUptimeS: h.UptimeS, telemetry.FieldReadersConnected: float64(h.ReadersConnected),
		telemetry.FieldReadersTotal: float64(h.ReadersTotal), telemetry.FieldSpoolRecords: float64(h.SpoolRecords),
		telemetry.FieldBrokerReconnects: float64(h.BrokerReconnects), telemetry.FieldLostTotal: float64(h.LostTotal()),
	} {
		if got := value(rows[0].Values[col]); !same(got, want) {
			t.Errorf("gateways %s: panel %v, last health message %v", col, got, want)
		}
	}
	if h.ReadersTotal != 1 || h.ReadersConnected != 1 {
		t.Errorf("the gateway had %d of %d readers connected, want 1 of 1", h.ReadersConnected, h.ReadersTotal)
	}
}

// TestPanelsAgainstInfluxd runs every query of every generated panel
// against the InfluxDB data of an end-to-end run (endToEnd) and checks what
// it returns against what the run produced: the controller's counts, the
// events and health messages the edge published, the controller's coverage
// snapshot, or the aggregation recomputed from the raw points.
func TestPanelsAgainstInfluxd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the controller and an edge against real peers for half a minute; not in -short")
	}
	r := endToEnd(t)
	cs := checks()
	for _, d := range grafana.Dashboards() {
		for _, p := range d.Panels {
			t.Run(d.UID+"/"+p.Title, func(t *testing.T) {
				check, ok := cs[p.Title]
				if !ok {
					t.Fatal("no check for this panel: every generated panel needs one in checks()")
				}
				delete(cs, p.Title)
				for _, q := range p.Queries {
					check(t, r, r.influxd.Query(t, "ngic", r.expand(q.InfluxQL, d.Variables)))
				}
			})
		}
	}
	for title := range cs {
		t.Errorf("a check for %q, which no dashboard has", title)
	}
}
