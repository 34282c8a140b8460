package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/ngic/ngic/controller/config"
	"github.com/ngic/ngic/controller/coverage"
	"github.com/ngic/ngic/controller/inventory/inventorytest"
	"github.com/ngic/ngic/controller/poller"
	"github.com/ngic/ngic/controller/simulator/simulatortest"
	"github.com/ngic/ngic/controller/simulator/world"
)

// reportRealFixture is the inventory whose devices are real recordings
// (controller/testdata/coverage/real, EXPECTED.md).
const reportRealFixture = "testdata/coverage/real"

// reportFixtureAddress is the address devices.csv gives every device; the tests
// rewrite it to the simulator's.
const reportFixtureAddress = "127.0.0.1:161,"

// reportRecordings are the recordings the real fixture's devices name.
var reportRecordings = []string{"bdcom_gp3600-16b", "vsol_v1600d", "huawei_ma5603t", "arris_c4-cmts",
	"motorola_sb5101e", "teleste_luminato-4x4", "arris_apex1000", "protelevision_dvb-t-transmitter",
	"terra_sti440", "zyxel_ies-5005", "arris_dsr6404", "zyxel_ies-5106", "teldat_tv-base-vdsl2-adsl"}

// copyReportInventory copies the inventory folder src into a temporary
// folder, with devices.csv's addresses of the real fixture pointed at addr
// (unchanged when empty), and returns the copy.
func copyReportInventory(t *testing.T, src, addr string) string {
	return copyInventoryAt(t, src, reportFixtureAddress, addr)
}

// copyInventoryAt copies the inventory folder src into a temporary folder,
// with devices.csv's cells "from" (an address and its comma) pointed at
// addr (unchanged when empty), and returns the copy.
func copyInventoryAt(t *testing.T, src, from, addr string) string {
	t.Helper()
	dir := t.TempDir()
	if addr == "" {
		from = ""
	}
	inventorytest.CopyAt(t, src, dir, from, addr+",")
	return dir
}

// runReport runs `ngic-controller report coverage args...` in the test's
// process with stderr going to errw (a buffer when nil), and returns
// stdout, stderr (with the error the program would print) and the exit
// code the program would have.
func runReport(t *testing.T, errw io.Writer, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	if errw == nil {
		errw = &e
	}
	c := newReportCmd()
	c.SetArgs(append([]string{"coverage"}, args...))
	c.SetOut(&o)
	c.SetErr(errw)
	c.SilenceErrors, c.SilenceUsage = true, true
	if err := c.Execute(); err != nil {
		return o.String(), e.String() + err.Error(), 1
	}
	return o.String(), e.String(), 0
}

// reportJSON is the JSON report as the tests read it.
type reportJSON struct {
	coverage.Result
	Compare *coverage.Diff `json:"compare"`
	Source  string         `json:"source"`
}

func decodeReport(t *testing.T, out string) *reportJSON {
	t.Helper()
	var r reportJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("the report is not JSON: %v\n%s", err, out)
	}
	return &r
}

// reportNear reports whether a and b agree to 1e-9.
func reportNear(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// reportVillage is a village's expected figures (EXPECTED.md).
type reportVillage struct {
	broadband, evidence, tv, tvEvidence, voiceEvidence, network string
	converged                                                   bool
	subscribers                                                 float64
}

// TestReportCoverageRealRecordings polls the real recordings through the
// command and checks every figure worked by hand in
// testdata/coverage/real/EXPECTED.md.
func TestReportCoverageRealRecordings(t *testing.T) {
	_, addr := simulatortest.Serve(t, reportRecordings...)
	inv := copyReportInventory(t, reportRealFixture, addr)
	out, errOut, code := runReport(t, nil, "--inventory", inv, "--poll", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Contains(errOut, "polled") || strings.Contains(errOut, "\r") {
		t.Errorf("a progress line in a pipe: %q", errOut)
	}
	r := decodeReport(t, out)
	if !strings.HasPrefix(r.Source, "13 of 14 devices answered a poll at ") {
		t.Errorf("source %q", r.Source)
	}
	want := map[string]reportVillage{
		"630101001000": {"served", "measured", "digital", "measured", "measured", "hekou-ftth", true, 43},
		"630101002000": {"served", "measured", "digital", "measured", "measured", "", false, 11},
		"630101003000": {"served", "measured", "digital", "declared", "none", "", false, 8.8},
		"630101004000": {"served", "measured", "digital", "measured", "none", "", false, 7.2},
		"630102001000": {"underserved", "declared", "digital", "measured", "measured", "", false, 0},
		"630102002000": {"unserved", "none", "none", "none", "none", "", false, 0},
		"630201001000": {"underserved", "measured", "digital", "measured", "measured", "xiling-dsl", true, 4},
		"630201002000": {"underserved", "measured", "analogue", "declared", "none", "", false, 1},
		"630201003000": {"unserved", "declared", "none", "none", "none", "", false, 0},
		"630201004000": {"served", "override", "none", "none", "none", "", false, 2},
		"630201005000": {"unserved", "none", "none", "none", "declared", "", false, 0},
	}
	if len(r.Villages) != len(want) {
		t.Fatalf("%d villages, want %d", len(r.Villages), len(want))
	}
	byCode := map[string]*coverage.Village{}
	for i := range r.Villages {
		v := &r.Villages[i]
		byCode[v.Code] = v
		w, ok := want[v.Code]
		if !ok {
			t.Errorf("unexpected village %s", v.Code)
			continue
		}
		got := reportVillage{v.Broadband, v.Evidence, v.TV.String(), v.TVEvidence.String(), v.VoiceEvidence.String(), v.Network,
			v.Converged, v.SubscribersOnline}
		got.subscribers = math.Round(got.subscribers*1e9) / 1e9
		if got != w {
			t.Errorf("village %s %s:\n got %+v\nwant %+v", v.Code, v.Name, got, w)
		}
		if v.DigitalTV != (w.tv == "digital") || v.Voice != (w.voiceEvidence != "none") {
			t.Errorf("village %s: digital_tv %v, voice %v", v.Code, v.DigitalTV, v.Voice)
		}
		if len(v.Trail) == 0 && v.Evidence != "none" {
			t.Errorf("village %s: no evidence trail", v.Code)
		}
		if v.Outage != (v.Code == "630102002000") { // dslam-dead is down
			t.Errorf("village %s: outage %v", v.Code, v.Outage)
		}
	}
	if v := byCode["630101001000"]; v.Name != "上庄村" || !reportNear(v.TakeUp, 0.1075) || v.Technology != "gpon" || v.DownMbps != 2488 {
		t.Errorf("上庄村: %+v", v)
	}
	if v := byCode["630201001000"]; v.DownMbps != 50 || v.UpMbps != 10 || v.Technology != "vdsl" || !v.Priority {
		t.Errorf("岭下村: %v/%v %s priority %v", v.DownMbps, v.UpMbps, v.Technology, v.Priority)
	}
	if v := byCode["630201004000"]; len(v.Overrides) != 1 || v.Overrides[0].Measured != "underserved" ||
		v.Overrides[0].MeasuredEvidence != "measured" {
		t.Errorf("新村's override: %+v", v.Overrides)
	}
	checkReportTrail(t, byCode)
	checkReportRegions(t, r)
	checkReportGaps(t, r)
}

// checkReportTrail checks the trail entries EXPECTED.md names as rejected or used.
func checkReportTrail(t *testing.T, byCode map[string]*coverage.Village) {
	t.Helper()
	for _, c := range []struct {
		village, device, port, service string
		used                           bool
		rejected                       string
	}{
		{"630101001000", "olt-bdcom", "111", "data", true, ""},
		{"630101002000", "olt-bdcom", "GPON0/99", "data", false, "port GPON0/99 not found on the device"},
		{"630101004000", "olt-huawei", "*", "data", false, "subscribers online not given by the device"},
		{"630102001000", "cmts-c4", "*", "data", false, "subscribers online not given by the device"},
		{"630102001000", "cm-sb5101", "*", "data", false, "the device has no PON port, CMTS or DSL line"},
		{"630102002000", "dslam-dead", "*", "data", false, "down, never answered"},
		{"630102002000", "dslam-dead", "*", "voice", false, "down, never answered"},
		{"630102002000", "eqam-apex", "*", "video", false, "source degraded: major alarm service-in-error, gbe-loss-of-input-stream"},
		{"630102001000", "he-luminato", "*", "video", true, ""},
		{"630201001000", "cpe-teldat", "*", "data", false, "no line in showtime"},
		{"630201001000", "ird-sat", "*", "video", true, ""},
	} {
		found := false
		for _, e := range byCode[c.village].Trail {
			if e.Device != c.device || e.Port != c.port || e.Service != c.service {
				continue
			}
			found = true
			if e.Used != c.used || e.Rejected != c.rejected || e.PolledAt.IsZero() != (c.device == "dslam-dead") {
				t.Errorf("village %s, %s %s %s: used %v, rejected %q, polled %v", c.village, c.device, c.port, c.service,
					e.Used, e.Rejected, e.PolledAt)
			}
		}
		if !found {
			t.Errorf("village %s: no trail entry of %s %s %s", c.village, c.device, c.port, c.service)
		}
	}
}

// checkReportRegions checks the roll-ups of EXPECTED.md.
func checkReportRegions(t *testing.T, r *reportJSON) {
	t.Helper()
	type shares struct {
		hh                                                int64
		unserved, underserved, served, digital, converged float64
		takeUp                                            float64
	}
	want := map[string]shares{
		"630000000000": {1930, 270.0 / 1930, 590.0 / 1930, 1070.0 / 1930, 1450.0 / 1930, 600.0 / 1930, 77.0 / 1930},
		"630100000000": {1380, 130.0 / 1380, 300.0 / 1380, 950.0 / 1380, 1250.0 / 1380, 400.0 / 1380, 70.0 / 1380},
		"630101000000": {950, 0, 0, 1, 1, 400.0 / 950, 70.0 / 950},
		"630102000000": {430, 130.0 / 430, 300.0 / 430, 0, 300.0 / 430, 0, 0},
		"630200000000": {550, 140.0 / 550, 290.0 / 550, 120.0 / 550, 200.0 / 550, 200.0 / 550, 7.0 / 550},
		"630201000000": {550, 140.0 / 550, 290.0 / 550, 120.0 / 550, 200.0 / 550, 200.0 / 550, 7.0 / 550},
	}
	// Voice and outage shares: 沙沟村 (130 hh) has no voice (dslam-dead never
	// answered) and an outage (dslam-dead is down).
	voiceOutage := map[string][2]float64{
		"630000000000": {1130.0 / 1930, 130.0 / 1930}, "630100000000": {850.0 / 1380, 130.0 / 1380},
		"630101000000": {550.0 / 950, 0}, "630102000000": {300.0 / 430, 130.0 / 430},
		"630200000000": {280.0 / 550, 0}, "630201000000": {280.0 / 550, 0},
	}
	if len(r.Regions) != len(want) {
		t.Fatalf("%d regions, want %d", len(r.Regions), len(want))
	}
	for _, g := range r.Regions {
		w := want[g.Code]
		a := g.All
		if len(a.Tiers) != 3 {
			t.Fatalf("region %s: %d tiers", g.Code, len(a.Tiers))
		}
		if g.Households != w.hh || !reportNear(a.Tiers[0].ShareHouseholds, w.unserved) || !reportNear(a.Tiers[1].ShareHouseholds, w.underserved) ||
			!reportNear(a.Tiers[2].ShareHouseholds, w.served) || !reportNear(a.DigitalTV.ShareHouseholds, w.digital) ||
			!reportNear(a.Converged.ShareHouseholds, w.converged) || !reportNear(a.TakeUp, w.takeUp) {
			t.Errorf("region %s %s: households %d, tiers %v/%v/%v, digital %v, converged %v, take-up %v; want %+v", g.Code, g.Name,
				g.Households, a.Tiers[0].ShareHouseholds, a.Tiers[1].ShareHouseholds, a.Tiers[2].ShareHouseholds,
				a.DigitalTV.ShareHouseholds, a.Converged.ShareHouseholds, a.TakeUp, w)
		}
		if w := voiceOutage[g.Code]; !reportNear(a.Voice.ShareHouseholds, w[0]) || !reportNear(a.Outage.ShareHouseholds, w[1]) {
			t.Errorf("region %s: voice %v, outage %v; want %v", g.Code, a.Voice.ShareHouseholds, a.Outage.ShareHouseholds, w)
		}
		if a.SubscribersOnline > 0 && !reportNear(a.NextGenShare, 1) {
			t.Errorf("region %s: next-generation share %v, want 1", g.Code, a.NextGenShare)
		}
	}
	for _, g := range r.Regions {
		switch g.Code {
		case "630200000000":
			p := g.Priority
			if p.Households != 350 || !reportNear(p.Tiers[1].ShareHouseholds, 290.0/350) || !reportNear(p.Tiers[0].ShareHouseholds, 60.0/350) ||
				!reportNear(g.All.DigitalProgress, 200.0/290) || !reportNear(g.All.AnalogueTV.ShareHouseholds, 90.0/550) {
				t.Errorf("西岭县: priority %+v, digital progress %v", p, g.All.DigitalProgress)
			}
		case "630000000000":
			a := g.All
			if !reportNear(a.Measured.ShareHouseholds, 1240.0/1930) || !reportNear(a.Declared.ShareHouseholds, 360.0/1930) ||
				!reportNear(a.Override.ShareHouseholds, 120.0/1930) || !reportNear(a.NoEvidence.ShareHouseholds, 210.0/1930) {
				t.Errorf("province evidence: %+v %+v %+v %+v", a.Measured, a.Declared, a.Override, a.NoEvidence)
			}
		}
	}
}

// checkReportGaps checks the gap list of EXPECTED.md.
func checkReportGaps(t *testing.T, r *reportJSON) {
	t.Helper()
	want := []struct {
		code, class, site string
		km                float64
	}{
		{"630102001000", "underserved", "so-hekou", 14.28},
		{"630201001000", "underserved", "so-hekou", 43.06},
		{"630102002000", "unserved", "so-hekou", 19.14},
		{"630201002000", "underserved", "so-hekou", 50.19},
		{"630201005000", "unserved", "vtr-xincun", 5.00},
		{"630201003000", "unserved", "cab-lingxia", 15.00},
	}
	if len(r.Gaps) != len(want) {
		t.Fatalf("%d gaps, want %d: %+v", len(r.Gaps), len(want), r.Gaps)
	}
	for i, w := range want {
		g := r.Gaps[i]
		if g.Code != w.code || g.Broadband != w.class || g.NearestSite() != w.site || math.Abs(g.DistanceKm-w.km) > 0.005 {
			t.Errorf("gap %d: %s %s nearest %s at %.3f km; want %+v", i+1, g.Code, g.Broadband, g.NearestSite(), g.DistanceKm, w)
		}
	}
}

// writeReportInventory writes an inventory folder of the given files.
func writeReportInventory(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, s := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// reportTwoDevices is a small inventory of two real recordings at addr.
func reportTwoDevices(t *testing.T, addr string) string {
	return writeReportInventory(t, map[string]string{
		"devices.csv": "id,site,address,credentials\n" +
			"olt,s1," + addr + ",community:vsol_v1600d\n" +
			"tx,s1," + addr + ",community:terra_sti440\n",
		"regions.csv": "code,name,parent,level,population,households,lat,lon\n" +
			"1,County,,county,,,,\n" +
			"11,Village,1,village,100,40,36.5,101.5\n",
		"service_areas.csv": "device,port,village,service\nolt,*,11,data\ntx,*,11,video\n",
	})
}

// On a terminal, --poll rewrites one progress line with \r and ends it;
// the report itself is untouched.
func TestReportProgressOnTerminal(t *testing.T) {
	_, addr := simulatortest.Serve(t, "vsol_v1600d", "terra_sti440")
	inv := reportTwoDevices(t, addr)
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	read := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(ptmx) // ends with EIO once tty is closed
		read <- string(b)
	}()
	out, _, code := runReport(t, tty, "--inventory", inv, "--poll", "--format", "csv")
	tty.Close()
	var term string
	select {
	case term = <-read:
	case <-time.After(time.Minute):
		t.Fatal("the terminal's output did not end")
	}
	if code != 0 {
		t.Fatalf("exit %d: %q", code, term)
	}
	if !strings.Contains(term, "\rpolled 1/2 devices, 0 down") || !strings.Contains(term, "\rpolled 2/2 devices, 0 down\r\n") {
		t.Errorf("terminal got %q: want the line rewritten with \\r for each poll, then ended", term)
	}
	if strings.Contains(out, "devices, 0 down") || !strings.HasPrefix(out, "\ufeffcode,") {
		t.Errorf("stdout %q: the report alone", out)
	}
}

// Each error exits non-zero with a message naming what is wrong, and
// leaves no output file, whole or partial.
func TestReportCoverageErrors(t *testing.T) {
	good := writeReportInventory(t, map[string]string{
		"devices.csv": "id,site,address,credentials\nolt,s1,127.0.0.1:161,community:x\n",
		"regions.csv": "code,name,parent,level,population,households,lat,lon\n1,V,,village,1,1,36.5,101.5\n",
	})
	badLevel := writeReportInventory(t, map[string]string{
		"devices.csv": "id,site,address,credentials\n",
		"regions.csv": "code,name,parent,level,population,households,lat,lon\n1,C,,county,,,,\n11,V,1,hamlet,1,1,36.5,101.5\n",
	})
	named := writeReportInventory(t, map[string]string{
		"devices.csv": "id,site,address,credentials\nolt,s1,127.0.0.1:161,v2\n",
		"regions.csv": "code,name,parent,level,population,households,lat,lon\n1,V,,village,1,1,36.5,101.5\n",
	})
	noRegions := writeReportInventory(t, map[string]string{
		"devices.csv": "id,site,address,credentials\nolt,s1,127.0.0.1:161,community:x\n",
	})
	outDir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"bad inventory", []string{"--inventory", badLevel, "--format", "json"}, "regions.csv:3:8: level: \"hamlet\""},
		{"missing inventory", []string{"--inventory", filepath.Join(outDir, "none"), "--format", "json"}, "devices.csv"},
		{"no inventory", []string{"--format", "json"}, "give --inventory DIR"},
		{"no regions", []string{"--inventory", noRegions, "--format", "json"}, noRegions + " has no regions.csv"},
		{"bad format", []string{"--inventory", good, "--format", "xml"}, `format "xml": want one of json, csv, geojson, html`},
		{"no format", []string{"--inventory", good}, "no format given"},
		{"unwritable output", []string{"--inventory", good, "--format", "csv", "--output", filepath.Join(outDir, "no", "such", "dir", "r.csv")},
			"--output " + filepath.Join(outDir, "no", "such", "dir", "r.csv")},
		{"output is a folder", []string{"--inventory", good, "--format", "csv", "--output", outDir}, "--output " + outDir},
		{"compare without config", []string{"--inventory", good, "--format", "json", "--compare", "2026-01-01"}, "--compare needs --config"},
		{"named credentials without config", []string{"--inventory", named, "--format", "json", "--poll"},
			`devices.csv:2: device olt: credentials "v2": named credentials need --config`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runReport(t, nil, tc.args...)
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q: want an error containing %q", code, errOut, tc.want)
			}
			if out != "" {
				t.Errorf("stdout %q after an error", out)
			}
		})
	}
	if left, _ := os.ReadDir(outDir); len(left) != 0 {
		t.Errorf("files left behind: %v", left)
	}
}

// Without --poll and without a configuration, devices are unknown: the
// report rests on declared coverage and overrides alone, and says so.
func TestReportCoverageWithoutEvidence(t *testing.T) {
	inv := copyReportInventory(t, reportRealFixture, "")
	out := filepath.Join(t.TempDir(), "report.json")
	stdout, errOut, code := runReport(t, nil, "--inventory", inv, "--format", "json", "--output", out)
	if code != 0 || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, stdout, errOut)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	r := decodeReport(t, string(b))
	if !strings.HasPrefix(r.Source, "none: ") {
		t.Errorf("source %q", r.Source)
	}
	for _, v := range r.Villages {
		if v.Evidence == coverage.EvidenceMeasured || v.TVEvidence == coverage.BasisMeasured || v.SubscribersOnline != 0 {
			t.Errorf("village %s: measured evidence without any poll: %s, TV %s", v.Code, v.Evidence, v.TVEvidence)
		}
	}
	for code, want := range map[string]string{"630102001000": "declared", "630201004000": "override", "630101001000": "none"} {
		for _, v := range r.Villages {
			if v.Code == code && v.Evidence != want {
				t.Errorf("village %s: evidence %s, want %s", code, v.Evidence, want)
			}
		}
	}
}

// reportControllerDir writes a controller configuration beside a copy of the real
// fixture pointed at addr, with its state in DIR/state, and returns the
// folder and the configuration's path.
func reportControllerDir(t *testing.T, addr string) (dir, cfgPath string) {
	t.Helper()
	dir = t.TempDir()
	inv := copyReportInventory(t, reportRealFixture, addr)
	if err := os.Rename(inv, filepath.Join(dir, "inventory")); err != nil {
		t.Fatal(err)
	}
	cfgPath = filepath.Join(dir, "controller.yaml")
	yaml := "inventory: inventory\n" +
		"poll:\n  interval: 1s\n  timeout: 100ms\n  retries: 0\n  concurrency: 4\n" +
		"mqtt:\n  embedded: true\n" +
		"state_dir: " + filepath.Join(dir, "state") + "\n"
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, cfgPath
}

// Without --poll, a configuration whose state_dir holds the running
// controller's device snapshot gives the same answers as a poll.
func TestReportCoverageFromControllerSnapshot(t *testing.T) {
	_, addr := simulatortest.Serve(t, reportRecordings...)
	_, cfgPath := reportControllerDir(t, addr)
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	devs, err := cfg.Devices()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(cfg.StateDir, 0o755); err != nil {
		t.Fatal(err)
	}
	polled := make(chan string, 4*len(devs))
	p, err := poller.New(poller.Options{SnapshotPath: filepath.Join(cfg.StateDir, "devices.snapshot"),
		Observer: func(p *poller.Poll) {
			select {
			case polled <- p.Device.ID:
			default: // seen already: the channel holds more than one poll each
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.SetDevices(devs); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	timeout := time.After(time.Minute)
	for seen := map[string]bool{}; len(seen) < len(devs); {
		select {
		case id := <-polled:
			seen[id] = true
		case <-timeout:
			t.Fatalf("the poller polled %d of %d devices within a minute", len(seen), len(devs))
		}
	}
	cancel()
	if err := <-done; err != nil { // Run saves the snapshot as it ends
		t.Fatal(err)
	}
	out, errOut, code := runReport(t, nil, "--config", cfgPath, "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := decodeReport(t, out)
	if !strings.Contains(r.Source, "device snapshot") || !strings.Contains(r.Source, "(14 of 14 devices known)") {
		t.Errorf("source %q", r.Source)
	}
	byCode := map[string]*coverage.Village{}
	for i := range r.Villages {
		byCode[r.Villages[i].Code] = &r.Villages[i]
	}
	checkReportTrail(t, byCode)
	checkReportRegions(t, r)
	checkReportGaps(t, r)
	if c := p.Counts(); c[poller.StateUp] != len(devs)-1 || c[poller.StateDown] != 1 {
		t.Errorf("device states %v: want all up but dslam-dead", c)
	}
	if entries, _ := os.ReadDir(cfg.StateDir); len(entries) != 1 {
		t.Errorf("the report changed the controller's state folder: %v", entries)
	}
}

// --compare DATE reads the coverage snapshot at or before DATE from the
// state_dir's store and gives what moved: JSON's compare member, CSV's
// previous columns, HTML's moves.
func TestReportCoverageCompare(t *testing.T) {
	_, addr := simulatortest.Serve(t, reportRecordings...)
	dir, cfgPath := reportControllerDir(t, addr)
	// A month ago nothing was polled: declared coverage and overrides only.
	out, errOut, code := runReport(t, nil, "--config", cfgPath, "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	then := decodeReport(t, out).Result
	then.Computed = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	storeDir := filepath.Join(dir, "state", "coverage")
	st, err := coverage.OpenStore(storeDir, 10)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Save(&then); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadDir(storeDir)

	out, errOut, code = runReport(t, nil, "--config", cfgPath, "--poll", "--format", "json", "--compare", "2026-10-15")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := decodeReport(t, out)
	if r.Compare == nil || !r.Compare.From.Equal(then.Computed) {
		t.Fatalf("compare %+v: want a comparison from %v", r.Compare, then.Computed)
	}
	moved := map[string]coverage.VillageChange{}
	for _, m := range r.Compare.Villages {
		moved[m.Code] = m
	}
	for code, want := range map[string][3]string{
		"630101001000": {"unserved", "served", "up"},
		"630201001000": {"unserved", "underserved", "up"},
		"630201002000": {"underserved", "underserved", "same"}, // declared 4g, now measured VDSL
	} {
		m, ok := moved[code]
		if !ok || m.FromBroadband != want[0] || m.ToBroadband != want[1] || m.Direction != want[2] {
			t.Errorf("village %s moved %+v, want %v", code, m, want)
		}
	}
	for _, code := range []string{"630201003000", "630201004000"} { // declared then and now; override then and now
		if m, ok := moved[code]; ok {
			t.Errorf("village %s did not move, yet %+v", code, m)
		}
	}
	found := false
	for _, c := range r.Compare.Regions {
		if c.Code == "630000000000" && c.Subset == coverage.SubsetAll && c.Figure == "tier:served" {
			found = reportNear(c.From, 120.0/1930) && reportNear(c.To, 1070.0/1930) && reportNear(c.Delta, 950.0/1930)
		}
	}
	if !found {
		t.Errorf("no province served share 120/1930 -> 1070/1930 in %+v", r.Compare.Regions)
	}

	out, errOut, code = runReport(t, nil, "--config", cfgPath, "--format", "csv", "--compare", "2026-10-15T00:00:00Z")
	if code != 0 || !strings.Contains(out, ",previous_broadband,previous_evidence,previous_tv,moved\r\n") {
		t.Errorf("exit %d (%s): CSV without the comparison's columns: %.300q", code, errOut, out)
	}
	out, errOut, code = runReport(t, nil, "--config", cfgPath, "--format", "html", "--compare", "2026-10-15")
	if code != 0 || !strings.Contains(out, "What moved since 2026-10-01T00:00:00Z") {
		t.Errorf("exit %d (%s): HTML without the moves", code, errOut)
	}
	_, errOut, code = runReport(t, nil, "--config", cfgPath, "--format", "json", "--compare", "2026-09-30")
	if code == 0 || !strings.Contains(errOut, "no snapshot at or before 2026-09-30T23:59:59Z") {
		t.Errorf("exit %d, %q: want no snapshot", code, errOut)
	}
	_, errOut, code = runReport(t, nil, "--config", cfgPath, "--format", "json", "--compare", "last month")
	if code == 0 || !strings.Contains(errOut, `--compare "last month": want a date YYYY-MM-DD or an RFC 3339 date-time`) {
		t.Errorf("exit %d, %q", code, errOut)
	}
	if after, _ := os.ReadDir(storeDir); len(after) != len(before) {
		t.Errorf("the report changed the store: %v, then %v", before, after)
	}
}

func TestParseCompareDate(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2026-10-15":                time.Date(2026, 10, 15, 23, 59, 59, 999999999, time.UTC),
		"2026-10-15T08:00:00Z":      time.Date(2026, 10, 15, 8, 0, 0, 0, time.UTC),
		"2026-10-15T08:00:00+08:00": time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC),
	} {
		got, err := parseCompareDate(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseCompareDate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "2026-13-01", "15/10/2026", "2026-10-15 08:00"} {
		if _, err := parseCompareDate(in); err == nil {
			t.Errorf("parseCompareDate(%q): no error", in)
		}
	}
}

// FuzzParseCompareDate: --compare never panics, and what it accepts is a
// date or an RFC 3339 time that reads back the same.
func FuzzParseCompareDate(f *testing.F) {
	for _, s := range []string{"2026-10-15", "2026-10-15T08:00:00Z", "2026-10-15T08:00:00.5+08:00", "", "x", "9999-12-31"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseCompareDate(s)
		if err != nil {
			return
		}
		if d, derr := time.Parse(time.DateOnly, s); derr == nil {
			if !got.Equal(d.Add(24*time.Hour - time.Nanosecond)) {
				t.Errorf("%q: %v", s, got)
			}
			return
		}
		if r, rerr := time.Parse(time.RFC3339, s); rerr != nil || !r.Equal(got) {
			t.Errorf("%q accepted as %v, which is no RFC 3339 time (%v)", s, got, rerr)
		}
	})
}

// Interrupted while it polls, the report stops, ends with an error and
// leaves no output file, whole or partial.
func TestReportCoverageInterrupted(t *testing.T) {
	_, addr := simulatortest.Serve(t, "terra_sti440") // the community below names no agent: no answer
	inv := writeReportInventory(t, map[string]string{
		"devices.csv": "id,site,address,credentials\ndead,s1," + addr + ",community:nobody\n",
		"regions.csv": "code,name,parent,level,population,households,lat,lon\n1,V,,village,1,1,36.5,101.5\n",
	})
	outDir := t.TempDir()
	cmd := exec.Command(binary, "report", "coverage", "--inventory", inv, "--poll", "--format", "json",
		"--output", filepath.Join(outDir, "r.json"))
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// The temporary output is made before the polls start.
	deadline := time.Now().Add(time.Minute)
	for left, _ := os.ReadDir(outDir); len(left) == 0; left, _ = os.ReadDir(outDir) {
		if time.Now().After(deadline) {
			t.Fatal("no temporary output within a minute")
		}
		select {
		case err := <-exited:
			t.Fatalf("the report ended before it was interrupted: %v, %s", err, errOut.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err == nil || !strings.Contains(errOut.String(), "context canceled") {
			t.Errorf("exit %v, stderr %q: want an error", err, errOut.String())
		}
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatal("the report did not stop within a minute of SIGINT")
	}
	if left, _ := os.ReadDir(outDir); len(left) != 0 {
		t.Errorf("files left behind: %v", left)
	}
}

// Devices naming the configuration's credentials are polled with them; an
// inventory other than the configuration's may name them only for the
// devices the configuration's inventory has at the same address.
func TestReportCoverageNamedCredentials(t *testing.T) {
	_, addr := simulatortest.Serve(t, "vsol_v1600d")
	dir := t.TempDir()
	files := func(id string) map[string]string {
		return map[string]string{
			"devices.csv":       "id,site,address,credentials\n" + id + ",s1," + addr + ",v2\n",
			"regions.csv":       "code,name,parent,level,population,households,lat,lon\n1,C,,county,,,,\n11,V,1,village,100,40,36.5,101.5\n",
			"service_areas.csv": "device,port,village,service\n" + id + ",EPON0/1,11,data\n",
		}
	}
	if err := os.Rename(writeReportInventory(t, files("olt")), filepath.Join(dir, "inventory")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "community"), []byte("vsol_v1600d\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "controller.yaml")
	yaml := "inventory: inventory\ncredentials:\n  v2:\n    version: 2c\n    community_file: " + filepath.Join(dir, "community") +
		"\nmqtt:\n  embedded: true\nstate_dir: " + filepath.Join(dir, "state") + "\n"
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, inventory, want string
	}{
		{"the configuration's inventory", "", ""},
		{"the same devices elsewhere", writeReportInventory(t, files("olt")), ""},
		{"another device", writeReportInventory(t, files("olt-2")), `device olt-2: credentials "v2": not a device of the configuration's inventory`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"--config", cfgPath, "--poll", "--format", "json"}
			if tc.inventory != "" {
				args = append(args, "--inventory", tc.inventory)
			}
			out, errOut, code := runReport(t, nil, args...)
			if tc.want != "" {
				if code == 0 || !strings.Contains(errOut, tc.want) {
					t.Errorf("exit %d, %q: want %q", code, errOut, tc.want)
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			r := decodeReport(t, out)
			if len(r.Villages) != 1 || r.Villages[0].Broadband != "served" || r.Villages[0].SubscribersOnline != 16 {
				t.Errorf("villages %+v: want V served by the EPON port's 16 ONTs", r.Villages)
			}
		})
	}
}

// In a pipe, --poll shows no progress line.
func TestReportNoProgressInPipe(t *testing.T) {
	_, addr := simulatortest.Serve(t, "vsol_v1600d", "terra_sti440")
	inv := reportTwoDevices(t, addr)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	read := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(r)
		read <- string(b)
	}()
	out, _, code := runReport(t, w, "--inventory", inv, "--poll", "--format", "csv")
	w.Close()
	if got := <-read; code != 0 || got != "" {
		t.Errorf("exit %d, stderr in a pipe %q: want nothing", code, got)
	}
	if !strings.Contains(out, ",served,2,measured,") {
		t.Errorf("the report %q: the village served, measured", out)
	}
}

// A generated world (controller/simulator/world) served by the simulator:
// the report agrees with the world's ground truth, village by village.
func TestReportCoverageWorld(t *testing.T) {
	w, err := world.Generate(world.Options{Villages: 400, Seed: 5, Port: 16100})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := w.Write(dir); err != nil {
		t.Fatal(err)
	}
	_, addr := simulatortest.ServeDir(t, filepath.Join(dir, world.RecordingsDir))
	inv := copyInventoryAt(t, filepath.Join(dir, world.InventoryDir), "127.0.0.1:16100,", addr)
	out, errOut, code := runReport(t, nil, "--inventory", inv, "--poll", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := decodeReport(t, out)
	if len(r.Villages) != len(w.Villages) {
		t.Fatalf("%d villages, the world has %d", len(r.Villages), len(w.Villages))
	}
	classes := map[string]int{}
	for i := range r.Villages {
		v, g := &r.Villages[i], &w.Villages[i]
		classes[v.Broadband+"/"+v.Evidence]++
		tv := coverage.TVNone
		switch {
		case g.DigitalTV:
			tv = coverage.TVDigital
		case g.AnalogueTV:
			tv = coverage.TVAnalogue
		}
		if v.Code != g.Code || v.Broadband != g.Broadband || v.Evidence != g.Evidence || v.TV != tv ||
			v.Converged != g.Converged || v.Network != g.Network || !reportNear(v.SubscribersOnline, float64(g.SubscribersOnline)) {
			t.Errorf("village %s %s: %s/%s TV %s converged %v %q subscribers %v; the world says %s/%s TV %s converged %v %q subscribers %d",
				v.Code, v.Name, v.Broadband, v.Evidence, v.TV, v.Converged, v.Network, v.SubscribersOnline,
				g.Broadband, g.Evidence, tv, g.Converged, g.Network, g.SubscribersOnline)
		}
		if (g.DownMbps != 0 || g.UpMbps != 0) && (!reportNear(v.DownMbps, g.DownMbps) || !reportNear(v.UpMbps, g.UpMbps)) {
			t.Errorf("village %s: %v/%v Mbit/s, the world says %v/%v", v.Code, v.DownMbps, v.UpMbps, g.DownMbps, g.UpMbps)
		}
	}
	t.Logf("classes: %v", classes)
}

// A damaged device snapshot is an error naming the controller's file,
// which stays where it is.
func TestReportCoverageDamagedSnapshot(t *testing.T) {
	dir, cfgPath := reportControllerDir(t, "127.0.0.1:1")
	snap := filepath.Join(dir, "state", "devices.snapshot")
	if err := os.MkdirAll(filepath.Dir(snap), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(snap, []byte("not gzip"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runReport(t, nil, "--config", cfgPath, "--format", "json")
	if code == 0 || !strings.Contains(errOut, "device snapshot cannot be read: poller: snapshot unreadable: "+snap+": ") {
		t.Errorf("exit %d, %q", code, errOut)
	}
	if b, err := os.ReadFile(snap); err != nil || string(b) != "not gzip" {
		t.Errorf("the snapshot was touched: %q, %v", b, err)
	}
}

// A damaged coverage snapshot is an error naming the controller's file,
// which stays where it is (the store would move it aside).
func TestReportCoverageCompareDamaged(t *testing.T) {
	dir, cfgPath := reportControllerDir(t, "127.0.0.1:1")
	storeDir := filepath.Join(dir, "state", "coverage")
	st, err := coverage.OpenStore(storeDir, 10)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Save(&coverage.Result{Computed: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	files, _ := os.ReadDir(storeDir)
	if len(files) != 1 {
		t.Fatalf("the store holds %v", files)
	}
	snap := filepath.Join(storeDir, files[0].Name())
	if err := os.WriteFile(snap, []byte("not gzip"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runReport(t, nil, "--config", cfgPath, "--format", "json", "--compare", "2026-10-15")
	if code == 0 || !strings.Contains(errOut, "the snapshot cannot be read: ") || !strings.Contains(errOut, snap) ||
		strings.Contains(errOut, "moved aside") {
		t.Errorf("exit %d, %q", code, errOut)
	}
	if after, _ := os.ReadDir(storeDir); len(after) != 1 || after[0].Name() != files[0].Name() {
		t.Errorf("the store changed: %v", after)
	}
}
