package report

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strconv"
	"testing"
)

func TestCSVGolden(t *testing.T) {
	res, o := sample(true)
	golden(t, "sample.csv", write(t, FormatCSV, res, o))
	res, o = sample(false)
	golden(t, "sample-plain.csv", write(t, FormatCSV, res, o))
}

// readCSV checks the byte-order mark and parses the rest.
func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
		t.Fatalf("no UTF-8 byte-order mark: % x", b[:min(len(b), 8)])
	}
	rows, err := csv.NewReader(bytes.NewReader(b[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// The CSV parses back to one row per village, in the documented column
// order, with the names intact (a formula defused) and the figures exact.
func TestCSVParsesBack(t *testing.T) {
	res, o := sample(false)
	rows := readCSV(t, write(t, FormatCSV, res, o))
	want := []string{"code", "name", "parent", "households", "population", "lat", "lon", "priority", "broadband",
		"tier", "evidence", "down_mbps", "up_mbps", "technology", "stale", "outage", "subscribers_online",
		"next_gen_subscribers", "take_up", "tv", "tv_evidence", "digital_tv", "voice", "voice_evidence",
		"converged", "network", "overrides", "trail", "rejected"}
	if !slices.Equal(rows[0], want) {
		t.Fatalf("header %q\nwant   %q", rows[0], want)
	}
	if len(rows) != 1+len(res.Villages) {
		t.Fatalf("%d rows, want %d", len(rows)-1, len(res.Villages))
	}
	col := func(row int, name string) string { return rows[row][slices.Index(want, name)] }
	for i, v := range res.Villages {
		r := i + 1
		name := v.Name
		if name == "=1+2" {
			name = "'=1+2" // defused: a spreadsheet must not compute it
		}
		if col(r, "code") != v.Code || col(r, "name") != name || col(r, "broadband") != v.Broadband ||
			col(r, "evidence") != v.Evidence || col(r, "households") != strconv.FormatInt(v.Households, 10) {
			t.Errorf("row %d: %q", r, rows[r])
		}
		for _, f := range []struct {
			col  string
			want float64
		}{{"lat", v.Lat}, {"lon", v.Lon}, {"take_up", v.TakeUp}, {"subscribers_online", v.SubscribersOnline}} {
			got, err := strconv.ParseFloat(col(r, f.col), 64)
			if err != nil || got != f.want {
				t.Errorf("row %d %s: %q, want %v", r, f.col, col(r, f.col), f.want)
			}
		}
		if b, _ := strconv.ParseBool(col(r, "digital_tv")); b != v.DigitalTV {
			t.Errorf("row %d digital_tv %q", r, col(r, "digital_tv"))
		}
	}
	if got := col(1, "trail"); got != "data: measured olt-1 port 111 gpon onts_online=43 2488/1244 Mbit/s polled 2026-11-29T06:00:00Z; "+
		"voice: measured olt-1 port 111 device_up=1 polled 2026-11-29T06:00:00Z; "+
		"video: measured olt-1 port 111 subscribers_online=43 (IPTV over the access network) polled 2026-11-29T06:00:00Z" {
		t.Errorf("trail %q", got)
	}
	if got := col(1, "rejected"); got != "data: measured olt-2: subscribers online not given by the device" {
		t.Errorf("rejected %q", got)
	}
	if got := col(2, "overrides"); got != `video=analogue (survey "2024", a & b) until 2026-12-31T23:59:59Z` {
		t.Errorf("overrides %q", got)
	}
}

// With a comparison, four columns follow: the earlier classes and the
// direction of the move.
func TestCSVCompareColumns(t *testing.T) {
	res, o := sample(true)
	rows := readCSV(t, write(t, FormatCSV, res, o))
	tail := rows[0][len(rows[0])-4:]
	if !slices.Equal(tail, []string{"previous_broadband", "previous_evidence", "previous_tv", "moved"}) {
		t.Fatalf("last columns %q", tail)
	}
	for r, want := range [][]string{
		{"underserved", "declared", "none", "up"},   // moved
		{"underserved", "declared", "analogue", ""}, // unchanged: its own
		{"unserved", "none", "none", ""},            // unchanged
	} {
		if got := rows[r+1][len(rows[r+1])-4:]; !slices.Equal(got, want) {
			t.Errorf("village %d: %q, want %q", r, got, want)
		}
	}
}

func TestDefuseFormula(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "=SUM(A1)": "'=SUM(A1)", "+1": "'+1", "-1": "'-1", "@x": "'@x", "\tx": "'\tx",
		"上庄村": "上庄村", "a=b": "a=b",
	} {
		if got := defuseFormula(in); got != want {
			t.Errorf("defuseFormula(%q) = %q, want %q", in, got, want)
		}
	}
}
