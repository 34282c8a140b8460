package testenv

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api/write"
)

// A measurement of this test only: the product's measurements are spelled in
// telemetry/.
const probeMeasurement = "testenv_probe"

// encodings records the Content-Encoding of every write the client sends.
type encodings struct {
	mu   sync.Mutex
	seen []string
}

func (e *encodings) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/write") {
		e.mu.Lock()
		e.seen = append(e.seen, r.Header.Get("Content-Encoding"))
		e.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(r)
}

func (e *encodings) all() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.seen...)
}

// TestInfluxdClientV18 proves the influxd peer works with the client the
// product uses, through its InfluxDB 1.8 compatibility (bucket "db/rp",
// token "user:password" or ""), with and without authentication: gzip writes,
// reads back with InfluxQL and Flux, a point written twice landing once, and
// the data surviving a restart.
func TestInfluxdClientV18(t *testing.T) {
	for _, auth := range []bool{false, true} {
		name := "noauth"
		if auth {
			name = "auth"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			began := time.Now()
			d := StartInfluxdWith(t, InfluxdOpts{Auth: auth, Flux: true})
			t.Logf("influxd answering /ping %.2fs after start", time.Since(began).Seconds())
			testInfluxdClient(t, d, auth)
		})
	}
}

func testInfluxdClient(t *testing.T, d *Influxd, auth bool) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const db = "ngic_test"
	d.CreateDatabase(t, db)
	d.CreateDatabase(t, db) // a second time is no error

	rec := &encodings{}
	opts := influxdb2.DefaultOptions().SetUseGZip(true).SetHTTPClient(&http.Client{Transport: rec, Timeout: 20 * time.Second})
	client := influxdb2.NewClientWithOptions(d.URL, d.Token, opts)
	defer client.Close()
	w := client.WriteAPIBlocking("", db+"/autogen")

	// Whole seconds, within the last hour so the Flux range below holds them.
	t0 := time.Now().Add(-10 * time.Minute).Truncate(time.Second).UTC()
	points := []*write.Point{
		influxdb2.NewPoint(probeMeasurement, map[string]string{"site": "cab-1"},
			map[string]any{"value": 1.5, "count": int64(3)}, t0),
		influxdb2.NewPoint(probeMeasurement, map[string]string{"site": "cab-2"},
			map[string]any{"value": 2.5, "count": int64(4)}, t0.Add(time.Second)),
	}
	if err := w.WritePoint(ctx, points...); err != nil {
		t.Fatalf("write: %v", err)
	}
	for i, enc := range rec.all() {
		if enc != "gzip" {
			t.Errorf("write %d went with Content-Encoding %q, want gzip", i, enc)
		}
	}
	if len(rec.all()) == 0 {
		t.Fatal("no write request went through the recording transport")
	}

	check := func(when string) {
		t.Helper()
		rows := d.Query(t, db, "SELECT value, count, site FROM "+probeMeasurement+" ORDER BY time")
		if len(rows) != 2 {
			t.Fatalf("%s: InfluxQL rows = %d, want 2: %+v", when, len(rows), rows)
		}
		want := []struct {
			at          time.Time
			site, value string
			count       string
		}{{t0, "cab-1", "1.5", "3"}, {t0.Add(time.Second), "cab-2", "2.5", "4"}}
		for i, r := range rows {
			if r.Measurement != probeMeasurement || !r.Time.Equal(want[i].at) ||
				r.Values["site"] != want[i].site ||
				r.Values["value"] != json.Number(want[i].value) || r.Values["count"] != json.Number(want[i].count) {
				t.Errorf("%s: InfluxQL row %d = %+v, want %+v", when, i, r, want[i])
			}
		}

		flux := `from(bucket: "` + db + `/autogen")
  |> range(start: -1h)
  |> filter(fn: (r) => r._measurement == "` + probeMeasurement + `" and r._field == "value")
  |> group()
  |> sort(columns: ["_time"])`
		res, err := client.QueryAPI("").Query(ctx, flux)
		if err != nil {
			t.Fatalf("%s: flux: %v", when, err)
		}
		i := 0
		for res.Next() {
			r := res.Record()
			if i < len(want) {
				if !r.Time().Equal(want[i].at) || r.ValueByKey("site") != want[i].site || r.Value() != mustFloat(t, want[i].value) {
					t.Errorf("%s: flux record %d = %v %v %v, want %+v", when, i, r.Time(), r.ValueByKey("site"), r.Value(), want[i])
				}
			}
			i++
		}
		if err := res.Err(); err != nil {
			t.Fatalf("%s: flux: %v", when, err)
		}
		if i != len(want) {
			t.Errorf("%s: flux records = %d, want %d", when, i, len(want))
		}
	}
	check("after write")

	// The same point (series and timestamp) written twice, and the whole
	// batch again, lands once.
	if err := w.WritePoint(ctx, points[0]); err != nil {
		t.Fatalf("rewrite: %v", err)
	}
	if err := w.WritePoint(ctx, points...); err != nil {
		t.Fatalf("rewrite: %v", err)
	}
	check("after writing again")

	if auth {
		bad := influxdb2.NewClient(d.URL, InfluxUser+":wrong")
		defer bad.Close()
		if err := bad.WriteAPIBlocking("", db+"/autogen").WritePoint(ctx, points[0]); err == nil {
			t.Error("a write with a wrong password was accepted")
		}
		if _, err := d.TryQuery(db, "SHOW USERS"); err != nil {
			t.Errorf("SHOW USERS as admin: %v", err)
		}
	}

	d.Stop()
	if d.ping() == nil {
		t.Fatal("influxd still answers /ping after Stop")
	}
	began := time.Now()
	d.Restart(t)
	t.Logf("influxd answering /ping %.2fs after restart", time.Since(began).Seconds())
	check("after restart")
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	f, err := json.Number(s).Float64()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestInfluxdAuthStopRestart proves the plain helpers (no Flux): auth refuses
// a query without credentials, a write fails while the server is stopped,
// and Restart brings back the same port and data.
func TestInfluxdAuthStopRestart(t *testing.T) {
	t.Parallel()
	began := time.Now()
	d := StartInfluxdAuth(t)
	t.Logf("influxd (no Flux) answering /ping %.2fs after start", time.Since(began).Seconds())
	const db = "ngic_restart"
	d.CreateDatabase(t, db)

	anon := *d
	anon.User, anon.Password = "", ""
	if _, err := anon.TryQuery(db, "SHOW MEASUREMENTS"); err == nil {
		t.Error("a query without credentials was accepted")
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := influxdb2.NewClient(d.URL, d.Token)
	defer client.Close()
	w := client.WriteAPIBlocking("", db+"/autogen")
	at := time.Now().Truncate(time.Second).UTC()
	p := influxdb2.NewPoint(probeMeasurement, map[string]string{"site": "cab-1"}, map[string]any{"value": 7.0}, at)
	if err := w.WritePoint(ctx, p); err != nil {
		t.Fatalf("write: %v", err)
	}

	url := d.URL
	d.Stop()
	if err := w.WritePoint(ctx, p); err == nil {
		t.Fatal("a write to the stopped influxd succeeded")
	}
	d.Restart(t)
	if d.URL != url {
		t.Fatalf("URL after restart = %s, want %s", d.URL, url)
	}
	rows := d.Query(t, db, "SELECT value FROM "+probeMeasurement)
	if len(rows) != 1 || !rows[0].Time.Equal(at) || rows[0].Values["value"] != json.Number("7") {
		t.Fatalf("rows after restart = %+v, want one at %v with value 7", rows, at)
	}
	if err := w.WritePoint(ctx, p); err != nil {
		t.Fatalf("write after restart: %v", err)
	}
}
