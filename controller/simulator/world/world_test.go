package world

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ngic/ngic/controller/simulator"
	"github.com/ngic/ngic/controller/snmprec"
)

// generate builds a world or fails the test.
func generate(t testing.TB, villages int, seed int64) *World {
	t.Helper()
	w, err := Generate(Options{Villages: villages, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// written generates and writes a world into a temporary folder.
func written(t testing.TB, villages int, seed int64) (*World, string) {
	t.Helper()
	w := generate(t, villages, seed)
	dir := t.TempDir()
	if err := w.Write(dir); err != nil {
		t.Fatal(err)
	}
	return w, dir
}

// readTree reads every file under dir, by relative path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDeterministic: the same options give byte-identical folders; another
// seed gives other files.
func TestDeterministic(t *testing.T) {
	_, a := written(t, 150, 7)
	_, b := written(t, 150, 7)
	_, c := written(t, 150, 8)
	ta, tb, tc := readTree(t, a), readTree(t, b), readTree(t, c)
	if len(ta) != len(tb) {
		t.Fatalf("%d files, then %d", len(ta), len(tb))
	}
	for name, x := range ta {
		if !bytes.Equal(x, tb[name]) {
			t.Errorf("%s differs between two runs with the same seed", name)
		}
	}
	if bytes.Equal(ta[filepath.Join(InventoryDir, "regions.csv")], tc[filepath.Join(InventoryDir, "regions.csv")]) {
		t.Error("seeds 7 and 8 gave the same regions.csv")
	}
}

// TestOptions: out-of-range options are refused; the port defaults.
func TestOptions(t *testing.T) {
	for _, o := range []Options{{Villages: 0}, {Villages: MaxVillages + 1}, {Villages: 5, Port: 70000}, {Villages: 5, Port: -1}} {
		if _, err := Generate(o); err == nil {
			t.Errorf("Generate(%+v) accepted", o)
		}
	}
	w := generate(t, 1, 1)
	if w.Options.Port != DefaultOptions.Port || len(w.Villages) != 1 {
		t.Errorf("one village: port %d, %d villages", w.Options.Port, len(w.Villages))
	}
}

// TestShares: the plans' shares are exact, and the ground truth follows
// from them: classes, evidence and convergence by plan.
func TestShares(t *testing.T) {
	const n = 1000
	w := generate(t, n, 3)
	if len(w.Villages) != n {
		t.Fatalf("%d villages", len(w.Villages))
	}
	count := map[string]int{}
	for _, v := range w.Villages {
		count[v.Broadband]++
		count[v.Evidence]++
		count["access:"+v.Access]++
		if v.Converged {
			count["converged"]++
		}
	}
	// 40% GPON + 10% DOCSIS + 10% fast VDSL2 served, measured;
	// 12% slow VDSL2 underserved; 10% ADSL unserved, measured;
	// 2% dark GPON and 8% nothing: no evidence; 8% declared.
	want := map[string]int{"access:gpon": 400, "access:docsis3.0": 100, "access:vdsl2": 220, "access:adsl": 100,
		"access:": 180, EvidenceMeasured: 820, EvidenceDeclared: 80, EvidenceNone: 100}
	for k, c := range want {
		if count[k] != c {
			t.Errorf("%s: %d villages, want %d", k, count[k], c)
		}
	}
	if count[ClassServed] < 600 || count[ClassUnderserved] < 120 || count[ClassUnserved] < 200 {
		t.Errorf("classes %v: want at least 600 served, 120 underserved, 200 unserved", count)
	}
	if count["converged"] <= 100 || count["converged"] >= 500 {
		t.Errorf("%d converged villages", count["converged"])
	}
}

// TestTruthRules checks each village's truth against its rows: measured
// classes from the medians, declared only where nothing is measured,
// converged only over one network.
func TestTruthRules(t *testing.T) {
	w := generate(t, 400, 5)
	declared := map[string][]Declared{}
	for _, d := range w.Declared {
		declared[d.Village] = append(declared[d.Village], d)
	}
	for _, v := range w.Villages {
		switch v.Access {
		case AccessVDSL2, AccessADSL:
			if got := DefaultClass(v.DownMbps, v.UpMbps); got != v.Broadband {
				t.Errorf("%s: %s %g/%g is %s, truth says %s", v.Code, v.Access, v.DownMbps, v.UpMbps, got, v.Broadband)
			}
			if v.Access == AccessADSL && v.Broadband != ClassUnserved {
				t.Errorf("%s: ADSL village %s", v.Code, v.Broadband)
			}
		case AccessGPON, AccessDOCSIS:
			if v.Broadband != ClassServed || v.SubscribersOnline == 0 {
				t.Errorf("%s: %s village %s with %d online", v.Code, v.Access, v.Broadband, v.SubscribersOnline)
			}
		case "":
			if v.SubscribersOnline != 0 {
				t.Errorf("%s: no access but %d subscribers online", v.Code, v.SubscribersOnline)
			}
			var data *Declared
			for _, d := range declared[v.Code] {
				if d.Service == "data" {
					data = &d
				}
			}
			switch {
			case data == nil && (v.Evidence != EvidenceNone || v.Broadband != ClassUnserved):
				t.Errorf("%s: nothing measured or declared but %s/%s", v.Code, v.Broadband, v.Evidence)
			case data != nil && (v.Evidence != EvidenceDeclared || v.Broadband != DefaultClass(data.DownMbps, data.UpMbps)):
				t.Errorf("%s: declared %+v but %s/%s", v.Code, *data, v.Broadband, v.Evidence)
			}
		}
		if v.Converged && (v.Network == "" || v.Access == "") {
			t.Errorf("%s: converged without network or access", v.Code)
		}
		if v.DigitalTV != (len(v.TVSources) > 0) || (v.AnalogueTV && v.DigitalTV) {
			t.Errorf("%s: digital %v sources %v analogue %v", v.Code, v.DigitalTV, v.TVSources, v.AnalogueTV)
		}
	}
}

// readCSV reads an inventory file.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestInventoryFiles: the six files with their headers; every reference
// resolves (a site's region, a device's site and parent, a service area's
// device and village, a declared village); villages are leaves with a
// position; recordings exist for every device, named by its community.
func TestInventoryFiles(t *testing.T) {
	w, dir := written(t, 120, 2)
	inv := filepath.Join(dir, InventoryDir)
	headers := map[string]string{
		"regions.csv":       "code,name,parent,level,population,households,lat,lon,priority",
		"sites.csv":         "id,name,region,lat,lon,kind",
		"devices.csv":       "id,site,address,credentials,parent,network",
		"gateways.csv":      "gateway,site",
		"service_areas.csv": "device,port,village,service",
		"declared.csv":      "village,service,technology,down_mbps,up_mbps,source",
	}
	files := map[string][][]string{}
	for name, h := range headers {
		rows := readCSV(t, filepath.Join(inv, name))
		if strings.Join(rows[0], ",") != h {
			t.Errorf("%s header %v", name, rows[0])
		}
		files[name] = rows[1:]
	}
	level := map[string]string{}
	for _, r := range files["regions.csv"] {
		if _, dup := level[r[0]]; dup {
			t.Errorf("duplicate region %s", r[0])
		}
		if r[2] != "" && level[r[2]] == "" {
			t.Errorf("region %s before its parent %s", r[0], r[2])
		}
		level[r[0]] = r[3]
		if len(r[0]) != 12 {
			t.Errorf("region code %q is not 12 digits", r[0])
		}
		if r[3] == "village" {
			if lat, err := strconv.ParseFloat(r[6], 64); err != nil || lat < 20 || lat > 30 {
				t.Errorf("village %s lat %q", r[0], r[6])
			}
		}
	}
	for code := range level {
		for _, r := range files["regions.csv"] {
			if r[2] == code && level[code] == "village" {
				t.Errorf("village %s has child %s", code, r[0])
			}
		}
	}
	sites := map[string]bool{}
	for _, s := range files["sites.csv"] {
		if level[s[2]] == "" {
			t.Errorf("site %s in unknown region %s", s[0], s[2])
		}
		sites[s[0]] = true
	}
	devices := map[string]bool{}
	for _, d := range files["devices.csv"] {
		devices[d[0]] = true
	}
	for _, d := range files["devices.csv"] {
		if !sites[d[1]] || (d[4] != "" && !devices[d[4]]) {
			t.Errorf("device row %v: unknown site or parent", d)
		}
		if d[2] != "127.0.0.1:16100" || d[3] != "community:"+d[0] {
			t.Errorf("device row %v: address or community", d)
		}
		if _, err := os.Stat(filepath.Join(dir, RecordingsDir, d[0]+".snmprec")); err != nil {
			t.Errorf("device %s: %v", d[0], err)
		}
	}
	for _, g := range files["gateways.csv"] {
		if !sites[g[1]] {
			t.Errorf("gateway %v on unknown site", g)
		}
	}
	for _, a := range files["service_areas.csv"] {
		if !devices[a[0]] || level[a[2]] != "village" || !slices.Contains([]string{"data", "voice", "video"}, a[3]) {
			t.Errorf("service area %v", a)
		}
	}
	for _, d := range files["declared.csv"] {
		if level[d[0]] != "village" {
			t.Errorf("declared %v", d)
		}
	}
	if len(files["devices.csv"]) != len(w.Devices) || len(files["service_areas.csv"]) != len(w.ServiceAreas) {
		t.Errorf("%d devices, %d service areas written; world has %d, %d", len(files["devices.csv"]),
			len(files["service_areas.csv"]), len(w.Devices), len(w.ServiceAreas))
	}
}

// TestRecordingsLoad: the simulator loads every recording with no warning,
// and each lists its objects in strict OID order (as snmpsimd needs).
func TestRecordingsLoad(t *testing.T) {
	w, dir := written(t, 120, 4)
	rec := filepath.Join(dir, RecordingsDir)
	sim, warns, err := simulator.Load(rec, simulator.DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	for _, wn := range warns {
		t.Errorf("warning: %v", wn)
	}
	if len(sim.Devices()) != len(w.Devices) {
		t.Errorf("simulator serves %d devices, world has %d", len(sim.Devices()), len(w.Devices))
	}
	for _, d := range w.Devices {
		b, err := os.ReadFile(filepath.Join(rec, d.ID+".snmprec"))
		if err != nil {
			t.Fatal(err)
		}
		var prev []byte
		for i, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			oid, _, _ := strings.Cut(line, "|")
			cur, err := snmprec.AppendOID(nil, oid)
			if err != nil {
				t.Fatalf("%s:%d: %v", d.ID, i+1, err)
			}
			if prev != nil && snmprec.CompareOID(prev, cur) >= 0 {
				t.Fatalf("%s:%d: %s out of order", d.ID, i+1, oid)
			}
			prev = cur
		}
	}
}

// TestWriteRemovesStale: writing a smaller world over a larger one leaves
// only the smaller one's recordings, and keeps other files.
func TestWriteRemovesStale(t *testing.T) {
	_, dir := written(t, 200, 1)
	keep := filepath.Join(dir, RecordingsDir, "notes.txt")
	if err := os.WriteFile(keep, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	small := generate(t, 10, 1)
	var calls, last int
	small.Options.Progress = func(done, total int) {
		calls++
		if done != calls || total != 6+len(small.Devices) {
			t.Errorf("progress %d/%d at call %d", done, total, calls)
		}
		last = done
	}
	if err := small.Write(dir); err != nil {
		t.Fatal(err)
	}
	if last != 6+len(small.Devices) {
		t.Errorf("progress ended at %d", last)
	}
	m, _ := filepath.Glob(filepath.Join(dir, RecordingsDir, "*.snmprec"))
	if len(m) != len(small.Devices) {
		t.Errorf("%d recordings left, want %d", len(m), len(small.Devices))
	}
	if _, err := os.Stat(keep); err != nil {
		t.Error("a file that is not a recording was removed")
	}
}

// TestWriteError: a folder that cannot be made is an error naming the
// package, and nothing is half-reported as written.
func TestWriteError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	w := generate(t, 5, 1)
	calls := 0
	w.Options.Progress = func(int, int) { calls++ }
	err := w.Write(filepath.Join(file, "out"))
	if err == nil || !strings.HasPrefix(err.Error(), "world: ") {
		t.Fatalf("Write under a regular file: %v", err)
	}
	if calls != 0 {
		t.Errorf("%d files reported written", calls)
	}
}
