package influxdb_test

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/deploy/grafana/schema"
	"github.com/ngic/ngic/internal/testenv"
)

// InfluxDB 2.x has no continuous queries: tasks/*.flux are the 2.x form
// of those of retention.iql (one task per query family, named alike).
// influxd 1.8 answers Flux but cannot run tasks or write with to(), so the
// test runs each task's query with its option line and to() removed and
// its range set to the test's hour, and compares what it returns with what
// the matching continuous query wrote.

var (
	optionRE = regexp.MustCompile(`(?m)^option task = .*$`)
	toRE     = regexp.MustCompile(`\n\s*\|> to\([^)]*\)`)
	rangeRE  = regexp.MustCompile(`range\(start: -task\.every\)`)
	fromRE2  = regexp.MustCompile(`from\(bucket: "ngic"\)`)
)

// fluxPoint is one row of a Flux result: measurement, field, tags, time
// and value (as text).
type fluxPoint struct {
	measurement, field, tags string
	at                       time.Time
	value                    string
}

// flux runs q on d and returns its rows.
func flux(t *testing.T, d *testenv.Influxd, q string) []fluxPoint {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, d.URL+"/api/v2/query", strings.NewReader(q))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/vnd.flux")
	req.Header.Set("Accept", "application/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("flux: %s: %s\n%s", resp.Status, body, q)
	}
	var out []fluxPoint
	// Tables with different columns are separated by blank lines or by
	// annotations, each followed by its own header.
	for _, block := range strings.Split(strings.ReplaceAll(string(body), "\r\n", "\n"), "\n\n") {
		r := csv.NewReader(strings.NewReader(block))
		r.FieldsPerRecord = -1
		recs, err := r.ReadAll()
		if err != nil {
			t.Fatalf("flux: %v\n%s", err, block)
		}
		var header []string
		for _, rec := range recs {
			if len(rec) == 0 || strings.HasPrefix(rec[0], "#") {
				header = nil // annotations start a table, whose header follows
				continue
			}
			if header == nil {
				header = rec
				continue
			}
			if len(rec) > 1 && rec[1] == "error" {
				t.Fatalf("flux: %v", rec)
			}
			p := fluxPoint{}
			var tags []string
			for i, col := range header {
				switch col {
				case "", "result", "table", "_start", "_stop":
				case "_time":
					if p.at, err = time.Parse(time.RFC3339Nano, rec[i]); err != nil {
						t.Fatalf("flux: time %q: %v", rec[i], err)
					}
				case "_value":
					p.value = rec[i]
				case "_field":
					p.field = rec[i]
				case "_measurement":
					p.measurement = rec[i]
				default:
					tags = append(tags, col+"="+rec[i])
				}
			}
			sort.Strings(tags)
			p.tags = strings.Join(tags, ",")
			out = append(out, p)
		}
	}
	return out
}

// TestFluxTasksMatchContinuousQueries: each task's query over the test's
// hour returns what the continuous query of the same name wrote.
func TestFluxTasksMatchContinuousQueries(t *testing.T) {
	d := testenv.StartInfluxdWith(t, testenv.InfluxdOpts{Flux: true})
	hour := downsampled(t, d)
	names, err := schema.Load()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("tasks/*.flux")
	if len(files) < 10 {
		t.Fatalf("tasks: %v", files)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".flux")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			q := string(src)
			for _, re := range []*regexp.Regexp{optionRE, toRE, rangeRE, fromRE2} {
				if !re.MatchString(q) {
					t.Fatalf("%s: no %s to rewrite for influxd 1.8", f, re)
				}
			}
			q = optionRE.ReplaceAllString(q, "")
			q = toRE.ReplaceAllString(q, "")
			// influxd 1.8's storage reads a range's stop inclusively (2.x
			// does not), so the stop is the last nanosecond of the hour.
			q = rangeRE.ReplaceAllString(q, fmt.Sprintf("range(start: %s, stop: %s)",
				hour.Format(time.RFC3339), hour.Add(time.Hour-time.Nanosecond).Format(time.RFC3339Nano)))
			q = fromRE2.ReplaceAllString(q, `from(bucket: "ngic/autogen")`)
			got := flux(t, d, q)

			// What the continuous query wrote, as the same points.
			want := map[string]string{}
			for _, r := range d.Query(t, "ngic", fmt.Sprintf(`SELECT * FROM "trend".%q`, name)) {
				var tags []string
				fields := map[string]any{}
				for col, v := range r.Values {
					if s, ok := v.(string); ok && names.Tags[col] {
						tags = append(tags, col+"="+s)
					} else if v != nil {
						fields[col] = v
					}
				}
				sort.Strings(tags)
				for field, v := range fields {
					want[fmt.Sprintf("%s %s %s %s", name, field, strings.Join(tags, ","), r.Time.Format(time.RFC3339))] = fmt.Sprint(v)
				}
			}
			if len(want) == 0 {
				t.Fatalf("the continuous query %s wrote nothing to compare with", name)
			}
			seen := map[string]bool{}
			for _, p := range got {
				k := fmt.Sprintf("%s %s %s %s", p.measurement, p.field, p.tags, p.at.UTC().Format(time.RFC3339))
				seen[k] = true
				w, ok := want[k]
				if !ok {
					t.Errorf("flux: %s = %s, which the continuous query did not write", k, p.value)
					continue
				}
				if !sameNumber(p.value, w) {
					t.Errorf("%s: flux %s, continuous query %s", k, p.value, w)
				}
			}
			for k := range want {
				if !seen[k] {
					t.Errorf("%s: written by the continuous query, not returned by the task", k)
				}
			}
		})
	}
}

// sameNumber compares two numbers written as text (to 1e-9).
func sameNumber(a, b string) bool {
	fa, ea := strconv.ParseFloat(a, 64)
	fb, eb := strconv.ParseFloat(b, 64)
	if ea != nil || eb != nil {
		return a == b
	}
	d := fa - fb
	return d < 1e-9 && d > -1e-9
}
