package coverage

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ngic/ngic/internal/testenv"
)

// TestAppendLines: one line per region and subset, with the figures of
// TestRegions.
func TestAppendLines(t *testing.T) {
	r := computeSmall(t)
	b, err := r.AppendLines(nil)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 2*len(r.Regions) {
		t.Fatalf("%d lines for %d regions", len(lines), len(r.Regions))
	}
	// T1 (all): 300 households, 150 of them served (0.5); T1 has no
	// priority village but V01, V05, V06: 190 hh, V01's 100 served.
	for _, want := range []string{
		"coverage_region,level=township,region=T1,subset=all villages=6i,households=300i,population=920i,households_unserved=30i,",
		"households_served=150i,share_households_served=0.5,",
		"coverage_region,level=township,region=T1,subset=priority villages=3i,households=190i,population=590i,",
		"coverage_region,level=province,region=P1,subset=all villages=12i,households=670i,",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("no %q in\n%s", want, b)
		}
	}
}

// TestInfluxd writes the small world's lines to a real influxd 1.8 and
// reads them back: one series per region and subset, and the figures of
// TestRegions.
func TestInfluxd(t *testing.T) {
	db := testenv.StartInfluxd(t)
	db.CreateDatabase(t, "ngic")
	r := computeSmall(t)
	b, err := r.AppendLines(nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(db.URL+"/write?db=ngic&precision=ns", "text/plain", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("write: %s %s", resp.Status, body)
	}
	series := db.Query(t, "ngic", `SHOW SERIES FROM coverage_region`)
	if len(series) != 2*len(r.Regions) {
		t.Errorf("%d series, want %d (2 per region)", len(series), 2*len(r.Regions))
	}
	rows := db.Query(t, "ngic", `SELECT households_served, share_households_served, share_population_served, digital_progress `+
		`FROM coverage_region WHERE region = 'C1' AND subset = 'all'`)
	if len(rows) != 1 || !rows[0].Time.Equal(now) {
		t.Fatalf("rows %+v", rows)
	}
	// C1: served 310 of 670 households, 900 of 1890 people; progress 0.92.
	for k, want := range map[string]float64{"households_served": 310, "share_households_served": 310.0 / 670,
		"share_population_served": 900.0 / 1890, "digital_progress": 0.92} {
		n, ok := rows[0].Values[k].(json.Number)
		if !ok {
			t.Errorf("%s: %v", k, rows[0].Values[k])
			continue
		}
		if v, err := n.Float64(); err != nil || !near(v, want) {
			t.Errorf("%s = %v, want %v", k, n, want)
		}
	}
}
