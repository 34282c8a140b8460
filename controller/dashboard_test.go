package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ngic/ngic/controller/dashboard/dashboardtest"
	"github.com/ngic/ngic/controller/inventory/inventorytest"
	"github.com/ngic/ngic/controller/simulator/simulatortest"
	"github.com/ngic/ngic/internal/testenv"
)

// dashboardToken is the admin token of the dashboard tests' controller.
const dashboardToken = "dashboard-test-admin-token-0123456789"

// dashboardTokenName is the token's name, which acknowledgements carry.
const dashboardTokenName = "operator"

// screenshotDir is where the browser tests leave a screenshot of each view
// for a person to look at.
var screenshotDir = filepath.Join("..", "bin", "screenshots")

// dashboardController is a running `ngic-controller run` serving the
// dashboard and the API, with an admin token.
type dashboardController struct {
	*controllerProc
	// Base is the controller's URL, http://127.0.0.1:PORT.
	Base string
}

// dashboardHTTP returns the http section of a configuration (its lines
// indented under "http:") listening on a free loopback port with the admin
// token in a file of dir, and the address.
func dashboardHTTP(t testing.TB, dir string) (section, addr string) {
	tokenFile := writeFile(t, dir, "admin.token", dashboardToken+"\n")
	addr = fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	return fmt.Sprintf("  listen: %s\n  tokens:\n    - {name: %s, file: %s, role: admin}", addr, dashboardTokenName, tokenFile), addr
}

// startDashboardController runs the controller on the configuration cfg
// (whose http section came from dashboardHTTP with httpAddr) and waits (at
// most ready) until it has computed coverage; with allPolled, until it has
// polled every device and computed coverage since, so that the figures
// hold still while no device changes.
func startDashboardController(t testing.TB, cfg, httpAddr string, ready time.Duration, allPolled bool) *dashboardController {
	t.Helper()
	c := &dashboardController{controllerProc: startController(t, cfg, httpAddr), Base: "http://" + httpAddr}
	deadline := time.Now().Add(ready)
	var polled time.Time
	if !allPolled {
		polled = time.Now().Add(-time.Hour)
	}
	for {
		if polled.IsZero() && c.devicesIn(t, "unknown") == 0 {
			polled = time.Now()
			// A snapshot now, whatever the poll interval.
			if err := c.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
				t.Fatal(err)
			}
		}
		var s struct {
			Computed *time.Time `json:"computed"`
		}
		if !polled.IsZero() && c.tryGet("/api/v1/summary", &s) == nil && s.Computed != nil && s.Computed.After(polled) {
			return c
		}
		if c.exited() || time.Now().After(deadline) {
			t.Fatalf("the controller has not computed coverage within %v\n%s", ready, c.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tryGet fetches path with the admin token and decodes its JSON into v.
func (c *dashboardController) tryGet(path string, v any) error {
	req, err := http.NewRequest(http.MethodGet, c.Base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+dashboardToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// get is tryGet failing the test on an error.
func (c *dashboardController) get(t testing.TB, path string, v any) {
	t.Helper()
	if err := c.tryGet(path, v); err != nil {
		t.Fatal(err)
	}
}

// boundariesGeoJSON outlines the two counties of the real recordings'
// inventory, for the map to draw under its points.
const boundariesGeoJSON = `{"type": "FeatureCollection", "features": [
 {"type": "Feature", "properties": {"code": "630100000000", "name": "东川县"}, "geometry": {"type": "Polygon",
  "coordinates": [[[101.70, 36.52], [102.00, 36.52], [102.00, 36.78], [101.70, 36.78], [101.70, 36.52]]]}},
 {"type": "Feature", "properties": {"code": "630200000000", "name": "西岭县"}, "geometry": {"type": "MultiPolygon",
  "coordinates": [[[[101.35, 36.15], [101.65, 36.15], [101.65, 36.40], [101.35, 36.40], [101.35, 36.15]]]]}}]}`

// screenshot saves the whole page as bin/screenshots/name.png.
func screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	testenv.Screenshot(t, ctx, screenshotDir, name)
}

// rowsOf reads the rows of the view's tables: data-key -> data-field ->
// text.
func rowsOf(t testing.TB, ctx context.Context) map[string]map[string]string {
	t.Helper()
	return testenv.Eval[map[string]map[string]string](t, ctx, `Object.fromEntries([...document.querySelectorAll('#view tr[data-key]')]
		.map(tr => [tr.dataset.key, Object.fromEntries([...tr.querySelectorAll('[data-field]')]
		.map(td => [td.dataset.field, td.textContent.trim()]))]))`)
}

// shownInt parses a count as the dashboard shows it ("1,234").
func shownInt(t testing.TB, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(strings.ReplaceAll(s, ",", ""), 10, 64)
	if err != nil {
		t.Fatalf("the dashboard shows %q for a count", s)
	}
	return n
}

// samePct reports whether the share x (0..1) shows as s ("45.7%").
func samePct(s string, x float64) bool {
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	return err == nil && strings.HasSuffix(s, "%") && math.Abs(v-x*100) <= 0.05+1e-9
}

// apiShare is a coverage Share as the API gives it.
type apiShare struct {
	Villages        int64   `json:"villages"`
	Households      int64   `json:"households"`
	ShareHouseholds float64 `json:"share_households"`
}

// apiRegion is the part of a Region the test compares.
type apiRegion struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	Villages   int64  `json:"villages"`
	Households int64  `json:"households"`
	All        struct {
		Tiers []struct {
			Name string `json:"name"`
			apiShare
		} `json:"tiers"`
		DigitalTV apiShare `json:"digital_tv"`
		Converged apiShare `json:"converged"`
	} `json:"all"`
}

// checkRegionRows compares the view's rows of child regions with the
// API's answer for parent.
func checkRegionRows(t *testing.T, ctx context.Context, c *dashboardController, parent string) {
	t.Helper()
	var page struct {
		Items []apiRegion `json:"items"`
	}
	c.get(t, "/api/v1/regions?parent="+parent, &page)
	rows := rowsOf(t, ctx)
	if len(page.Items) == 0 {
		t.Fatalf("the API gives no children of %s", parent)
	}
	for _, r := range page.Items {
		row, ok := rows[r.Code]
		if !ok {
			t.Errorf("region %s (%s) is not in the view's table", r.Code, r.Name)
			continue
		}
		if got := shownInt(t, row["households"]); got != r.Households {
			t.Errorf("region %s: households %d on the page, %d in the API", r.Code, got, r.Households)
		}
		if got := shownInt(t, row["villages"]); got != r.Villages {
			t.Errorf("region %s: villages %d on the page, %d in the API", r.Code, got, r.Villages)
		}
		for _, tier := range r.All.Tiers {
			if s := row["tier:"+tier.Name]; !samePct(s, tier.ShareHouseholds) {
				t.Errorf("region %s: %s %q on the page, %v in the API", r.Code, tier.Name, s, tier.ShareHouseholds)
			}
		}
		if s := row["digital_tv"]; !samePct(s, r.All.DigitalTV.ShareHouseholds) {
			t.Errorf("region %s: digital TV %q on the page, %v in the API", r.Code, s, r.All.DigitalTV.ShareHouseholds)
		}
		if s := row["converged"]; !samePct(s, r.All.Converged.ShareHouseholds) {
			t.Errorf("region %s: converged %q on the page, %v in the API", r.Code, s, r.All.Converged.ShareHouseholds)
		}
	}
	if len(rows) != len(page.Items) {
		t.Errorf("the view shows %d rows, the API %d children of %s", len(rows), len(page.Items), parent)
	}
}

// checkRegionCards compares the figure cards of the region view with the
// API's region code.
func checkRegionCards(t *testing.T, ctx context.Context, c *dashboardController, code string) {
	t.Helper()
	var r apiRegion
	c.get(t, "/api/v1/regions/"+code, &r)
	cards := testenv.Eval[map[string]string](t, ctx, `Object.fromEntries([...document.querySelector('#view .cards').querySelectorAll('[data-figure]')]
		.map(c => [c.dataset.figure, c.querySelector('.card-value').textContent.trim()]))`)
	if got := shownInt(t, cards["households"]); got != r.Households {
		t.Errorf("region %s: card households %d, API %d", code, got, r.Households)
	}
	for _, tier := range r.All.Tiers {
		if s := cards["tier:"+tier.Name]; !samePct(s, tier.ShareHouseholds) {
			t.Errorf("region %s: card %s %q, API %v", code, tier.Name, s, tier.ShareHouseholds)
		}
	}
}

// checkVillageRows compares the view's village rows with the API's
// villages of the region.
func checkVillageRows(t *testing.T, ctx context.Context, c *dashboardController, region string) {
	t.Helper()
	var page struct {
		Items []struct {
			Code       string `json:"code"`
			Households int64  `json:"households"`
			Broadband  string `json:"broadband"`
			Evidence   string `json:"evidence"`
		} `json:"items"`
		Total int `json:"total"`
	}
	c.get(t, "/api/v1/villages?limit=1000&region="+region, &page)
	rows := rowsOf(t, ctx)
	if len(page.Items) == 0 || len(rows) != len(page.Items) {
		t.Fatalf("the view shows %d villages of %s, the API %d", len(rows), region, len(page.Items))
	}
	for _, v := range page.Items {
		row := rows[v.Code]
		if got := shownInt(t, row["households"]); got != v.Households {
			t.Errorf("village %s: households %d on the page, %d in the API", v.Code, got, v.Households)
		}
		if row["broadband"] != v.Broadband || row["evidence"] != v.Evidence {
			t.Errorf("village %s: %q/%q on the page, %q/%q in the API", v.Code, row["broadband"], row["evidence"], v.Broadband, v.Evidence)
		}
	}
}

// openDashboard runs the controller on the inventory inv until it has
// polled every device and computed coverage, and opens a browser tab
// watched for console errors and requests leaving 127.0.0.1.
func openDashboard(t *testing.T, inv string) (*dashboardController, context.Context, *testenv.PageWatch) {
	t.Helper()
	dir := t.TempDir()
	httpSection, httpAddr := dashboardHTTP(t, dir)
	c := startDashboardController(t, apiConfig(t, dir, inv, httpSection), httpAddr, time.Minute, true)
	ctx, cancel := testenv.StartChromium(t).NewTab(t)
	t.Cleanup(cancel)
	return c, ctx, testenv.WatchPage(t, ctx, nil)
}

// TestDashboard drives the dashboard in headless chromium against the
// real controller polling the inventory of real recordings (served by the
// simulator): it signs in with the token, drills down from the province
// to a village comparing every figure shown with the API, visits each
// view, sees a device taken down in the simulator appear as an alert on
// the open page, acknowledges it, and checks that nothing was logged to
// the console, nothing thrown, and nothing requested beyond 127.0.0.1.
// It leaves a screenshot of each view in bin/screenshots.
func TestDashboard(t *testing.T) {
	t.Parallel()
	sim, addr := simulatortest.Serve(t, reportRecordings...)
	inv := copyReportInventory(t, reportRealFixture, addr)
	writeFile(t, inv, "gateways.csv", "gateway,site\ngw-hekou,so-hekou\n")
	writeFile(t, inv, "boundaries.geojson", boundariesGeoJSON)
	c, ctx, watch := openDashboard(t, inv)

	// Sign in once with the token.
	testenv.Do(t, ctx, "open the dashboard", chromedp.Navigate(c.Base+"/"))
	dashboardtest.WaitView(t, ctx, "signin", "Sign in")
	screenshot(t, ctx, "signin")
	dashboardtest.SignIn(t, ctx, c.Base+"/", dashboardToken)
	dashboardtest.WaitView(t, ctx, "map", "All regions")
	if s := testenv.Eval[string](t, ctx, `document.cookie`); strings.Contains(s, "ngic_session") || strings.Contains(s, dashboardToken) {
		t.Errorf("the page's script can read the session or the token: %q", s)
	}
	if loc := testenv.Eval[string](t, ctx, `location.href`); strings.Contains(loc, dashboardToken) {
		t.Errorf("the token is in the URL %s", loc)
	}
	testenv.WaitJS(t, ctx, "the map's points", `document.querySelectorAll('#map svg.map a.point').length > 0`)
	screenshot(t, ctx, "national")

	// Drill down: province -> county -> township -> village, by clicking.
	checkRegionRows(t, ctx, c, "")
	dashboardtest.Follow(t, ctx, `#view tr[data-key="630000000000"] a`, "region", "青海示范省")
	checkRegionCards(t, ctx, c, "630000000000")
	checkRegionRows(t, ctx, c, "630000000000")
	if n := testenv.Eval[int](t, ctx, `document.querySelectorAll('#map path.boundary').length`); n != 2 {
		t.Errorf("the province's map draws %d county boundaries, want 2", n)
	}
	screenshot(t, ctx, "province")
	dashboardtest.Follow(t, ctx, `#view tr[data-key="630100000000"] a`, "region", "东川县")
	checkRegionRows(t, ctx, c, "630100000000")
	dashboardtest.Follow(t, ctx, `#view tr[data-key="630101000000"] a`, "region", "河口镇")
	checkVillageRows(t, ctx, c, "630101000000")
	if n := testenv.Eval[int](t, ctx, `document.querySelectorAll('#map svg.map a.point').length`); n != 4 {
		t.Errorf("the township's map shows %d village points, want its 4 villages", n)
	}
	screenshot(t, ctx, "township")
	dashboardtest.Follow(t, ctx, `#view tr[data-key="630101001000"] a`, "village", "上庄村")
	var v struct {
		Households int64 `json:"households"`
		Broadband  string
		Trail      []json.RawMessage `json:"trail"`
	}
	c.get(t, "/api/v1/villages/630101001000", &v)
	facts := testenv.Eval[map[string]string](t, ctx, `Object.fromEntries([...document.querySelectorAll('#view dd[data-field]')].map(d => [d.dataset.field, d.textContent.trim()]))`)
	if shownInt(t, facts["households"]) != v.Households || facts["broadband"] != v.Broadband {
		t.Errorf("village page shows %v, API households %d class %s", facts, v.Households, v.Broadband)
	}
	if n := testenv.Eval[int](t, ctx, `document.querySelectorAll('#view section[aria-label="Evidence trail"] tbody tr').length`); n != len(v.Trail) || n == 0 {
		t.Errorf("the evidence trail shows %d rows, the API %d", n, len(v.Trail))
	}
	screenshot(t, ctx, "village")

	// The map's points are links a keyboard reaches: Enter on the first
	// point of the national map opens its region.
	dashboardtest.Go(t, ctx, c.Base, "#/", "map", "All regions")
	testenv.Do(t, ctx, "focus a map point", chromedp.Focus(chromedp.CSS("#map a.point")), chromedp.KeyEvent("\r"))
	dashboardtest.WaitView(t, ctx, "region", "青海示范省")

	// Gaps, devices, a site.
	dashboardtest.Go(t, ctx, c.Base, "#/gaps", "gaps", "Gaps")
	var gaps struct {
		Items []struct {
			Code string `json:"code"`
		} `json:"items"`
		Total int `json:"total"`
	}
	c.get(t, "/api/v1/gaps?limit=100", &gaps)
	if first := testenv.Eval[string](t, ctx, `(document.querySelector('#view tbody tr[data-key]')||{dataset:{}}).dataset.key||''`); len(gaps.Items) == 0 || first != gaps.Items[0].Code {
		t.Errorf("the gap list starts with %q, the API with %+v", first, gaps.Items[:min(1, len(gaps.Items))])
	}
	screenshot(t, ctx, "gaps")
	dashboardtest.Follow(t, ctx, `#nav a[data-nav="devices"]`, "devices", "Devices")
	var devs struct {
		Total int `json:"total"`
	}
	c.get(t, "/api/v1/devices?limit=1000", &devs)
	if n := testenv.Eval[int](t, ctx, `document.querySelectorAll('#view tr[data-key^="device:"]').length`); n != devs.Total || n != 14 {
		t.Errorf("the device table shows %d devices, the API %d, the inventory 14", n, devs.Total)
	}
	screenshot(t, ctx, "devices")
	dashboardtest.Follow(t, ctx, `#view tr[data-key="device:olt-bdcom"] td[data-field="site"] a`, "site", "河口镇端局")
	if n := testenv.Eval[int](t, ctx, `document.querySelectorAll('#view tr[data-key^="gateway:"]').length`); n != 1 {
		t.Errorf("the site page shows %d gateways, want gw-hekou", n)
	}
	screenshot(t, ctx, "site")

	// Live alerts: the open page shows a device taken down in the
	// simulator without reloading, and acknowledges it.
	dashboardtest.Follow(t, ctx, `#nav a[data-nav="alerts"]`, "alerts", "Alerts")
	testenv.WaitJS(t, ctx, "the dead DSLAM's alert", `!!document.querySelector('#open-alerts tr[data-alert] a[href="#/devices/dslam-dead"]')`)
	testenv.Do(t, ctx, "mark the page", chromedp.Evaluate[chromedp.Void](`window.ngicTestMark = 1`))
	downAt := time.Now()
	if err := sim.SetDown("huawei_ma5603t", true); err != nil {
		t.Fatal(err)
	}
	testenv.WaitJS(t, ctx, "olt-huawei's alert on the open page", `!!document.querySelector('#open-alerts tr[data-alert] a[href="#/devices/olt-huawei"]')`)
	t.Logf("olt-huawei down in the simulator -> alert on the page: %v (poll interval 1s, timeout 300ms)", time.Since(downAt).Round(time.Millisecond))
	if testenv.Eval[int](t, ctx, `window.ngicTestMark || 0`) != 1 {
		t.Error("the page reloaded to show the alert")
	}
	id := testenv.Eval[string](t, ctx, `document.querySelector('#open-alerts a[href="#/devices/olt-huawei"]').closest('tr').dataset.alert`)
	screenshot(t, ctx, "alerts")
	testenv.Do(t, ctx, "acknowledge",
		chromedp.SendKeys(chromedp.CSS(fmt.Sprintf(`input[data-ack-note=%q]`, id)), "fibre crew sent"),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`button[data-ack=%q]`, id))))
	testenv.WaitJS(t, ctx, "the acknowledgement on the page", fmt.Sprintf(
		`(document.querySelector('#open-alerts tr[data-alert=%q] [data-field="ack"]')||{}).textContent?.includes(%q)`, id, dashboardTokenName))
	var open struct {
		Items []struct {
			ID  string `json:"id"`
			Ack *struct {
				By   string `json:"by"`
				Note string `json:"note"`
			} `json:"ack"`
		} `json:"items"`
	}
	c.get(t, "/api/v1/alerts?state=open", &open)
	acked := false
	for _, a := range open.Items {
		if a.ID == id {
			acked = a.Ack != nil && a.Ack.By == dashboardTokenName && a.Ack.Note == "fibre crew sent"
		}
	}
	if !acked {
		t.Errorf("the API does not show alert %s acknowledged by %s with the note: %+v", id, dashboardTokenName, open.Items)
	}
	screenshot(t, ctx, "alerts-acknowledged")

	// The device table follows the device's state live: back up in the
	// simulator, its row says up without a reload, and the alert leaves.
	dashboardtest.Go(t, ctx, c.Base, "#/devices", "devices", "olt-huawei")
	cell := `document.querySelector('#view tr[data-key="device:olt-huawei"] [data-field="state"]').textContent`
	if s := testenv.Eval[string](t, ctx, cell); !strings.Contains(s, "down") {
		t.Fatalf("olt-huawei shows %q in the device table, want down", s)
	}
	testenv.Do(t, ctx, "mark the page", chromedp.Evaluate[chromedp.Void](`window.ngicTestMark = 2`))
	if err := sim.SetDown("huawei_ma5603t", false); err != nil {
		t.Fatal(err)
	}
	testenv.WaitJS(t, ctx, "olt-huawei up in the open device table", cell+`.includes('up')`)
	dashboardtest.Follow(t, ctx, `#nav a[data-nav="alerts"]`, "alerts", "dslam-dead")
	testenv.WaitJS(t, ctx, "olt-huawei's alert resolved", `!document.querySelector('#open-alerts a[href="#/devices/olt-huawei"]')`)
	if testenv.Eval[int](t, ctx, `window.ngicTestMark || 0`) != 2 {
		t.Error("the page reloaded to show the device's state")
	}

	// A tablet: the national view fits the width.
	testenv.Do(t, ctx, "tablet", chromedp.EmulateViewport(820, 1180), chromedp.Navigate(c.Base+"/#/region/630000000000"))
	dashboardtest.WaitView(t, ctx, "region", "青海示范省")
	if over := testenv.Eval[bool](t, ctx, `document.documentElement.scrollWidth > window.innerWidth`); over {
		t.Error("the region view scrolls sideways on a tablet")
	}
	screenshot(t, ctx, "tablet-province")

	watch.Check(t)
}

// Hostile names a planner's CSV could hold, each setting window.ngicXSS
// if it ever ran as markup.
const (
	xssProvince = `<img src=x onerror="window.ngicXSS='province'">省`
	xssCounty   = `"><script>window.ngicXSS='county'</script>县`
	xssTownship = `<svg onload="window.ngicXSS='township'">乡`
	xssVillage  = `<img src=x onerror="window.ngicXSS='village'">新村`
	xssSite     = `<iframe srcdoc="<script>parent.ngicXSS='site'</script>">机柜`
	xssReason   = `</td><img src=x onerror="window.ngicXSS='reason'">`
	xssGap      = `<img src=x onerror="window.ngicXSS='gap'">高山村`
)

// rewriteCSV rewrites the rows of an inventory's CSV file whose first
// cell is key, setting cell col to v.
func rewriteCSV(t *testing.T, path string, edits map[string][2]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(f)
	r.Comment = '#'
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows[1:] {
		if e, ok := edits[row[0]]; ok {
			row[slices.Index(rows[0], e[0])] = e[1]
		}
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.WriteAll(rows)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// noInjection checks that nothing of the hostile names ran or became an
// element on the page.
func noInjection(t *testing.T, ctx context.Context, view string) {
	t.Helper()
	if ran := testenv.Eval[string](t, ctx, `String(window.ngicXSS || '')`); ran != "" {
		t.Errorf("%s: the hostile %s name ran as script", view, ran)
	}
	if n := testenv.Eval[int](t, ctx, `document.querySelectorAll('img[src="x"], iframe, [onerror], [onload], #view script').length`); n != 0 {
		t.Errorf("%s: %d elements made of a hostile name", view, n)
	}
}

// Inventory names are planner-edited text: names made of markup render as
// their literal text in every view (map, drill-down, village page with
// its override, gaps, devices, site) and run nothing; the HTML report
// escapes them too.
func TestDashboardHostileNames(t *testing.T) {
	t.Parallel()
	_, addr := simulatortest.Serve(t, reportRecordings...)
	inv := copyReportInventory(t, reportRealFixture, addr)
	rewriteCSV(t, filepath.Join(inv, "regions.csv"), map[string][2]string{
		"630000000000": {"name", xssProvince}, "630200000000": {"name", xssCounty},
		"630201000000": {"name", xssTownship}, "630201004000": {"name", xssVillage},
		"630201002000": {"name", xssGap}})
	rewriteCSV(t, filepath.Join(inv, "sites.csv"), map[string][2]string{"cab-lingxia": {"name", xssSite}})
	rewriteCSV(t, filepath.Join(inv, "overrides.csv"), map[string][2]string{"630201004000": {"reason", xssReason}})
	c, ctx, watch := openDashboard(t, inv)
	dashboardtest.SignIn(t, ctx, c.Base+"/", dashboardToken)
	for _, v := range []struct{ route, ready, text string }{
		{"#/", "map", xssProvince},
		{"#/region/630000000000", "region", xssCounty},
		{"#/region/630200000000", "region", xssTownship},
		{"#/region/630201000000", "region", xssVillage},
		{"#/village/630201004000", "village", xssReason},
		{"#/gaps", "gaps", xssGap},
		{"#/site/cab-lingxia", "site", xssSite},
	} {
		dashboardtest.Go(t, ctx, c.Base, v.route, v.ready, v.text)
		noInjection(t, ctx, v.route)
	}
	// The village page's breadcrumb names every hostile ancestor.
	dashboardtest.Go(t, ctx, c.Base, "#/village/630201004000", "village", xssVillage)
	crumbs := testenv.Eval[string](t, ctx, `document.getElementById('view').textContent`)
	for _, name := range []string{xssProvince, xssCounty, xssTownship} {
		if !strings.Contains(crumbs, name) {
			t.Errorf("the village page does not show %q", name)
		}
	}
	screenshot(t, ctx, "hostile-names-village")
	noInjection(t, ctx, "village")
	watch.Check(t)

	// The HTML report escapes them.
	req, _ := http.NewRequest(http.MethodGet, c.Base+"/api/v1/reports/coverage.html", nil)
	req.Header.Set("Authorization", "Bearer "+dashboardToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, bad := range []string{"<img src=x", "<script>window.ngicXSS", "<svg onload", "<iframe", `"><script>`} {
		if strings.Contains(string(html), bad) {
			t.Errorf("the HTML report holds %q unescaped", bad)
		}
	}
	if !strings.Contains(string(html), "&lt;img src=x onerror=") {
		t.Errorf("the HTML report does not show the village's name as text")
	}
}

// BenchmarkDashboardNational: the controller runs on the generated
// national inventory (700,000 villages, 200,000 devices answered by the
// simulator and polled over a 5-minute cycle; NGIC_BENCH_VILLAGES=n for
// another size) and, once it has first computed coverage, headless chromium
// opens the dashboard's national view, signed in, once per iteration as a
// fresh page load, while the polls go on. Reports the first render
// (navigation start to the view drawn, from the page's performance marks;
// target under 3 s), the answer times of /api/v1/summary, of the national
// map and of one county's village list, the controller's resident memory
// with the dashboard open, and the devices polled up by then.
func BenchmarkDashboardNational(b *testing.B) {
	villages := 700_000
	if s := os.Getenv("NGIC_BENCH_VILLAGES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		villages = n
	}
	_, addr := simulatortest.Serve(b, inventorytest.Communities...)
	inv := b.TempDir()
	if err := inventorytest.WriteNational(inv, villages); err != nil {
		b.Fatal(err)
	}
	devices := filepath.Join(inv, "devices.csv")
	csv, err := os.ReadFile(devices)
	if err != nil {
		b.Fatal(err)
	}
	csv = []byte(strings.ReplaceAll(string(csv), inventorytest.DeviceAddress, addr))
	if err := os.WriteFile(devices, csv, 0o644); err != nil {
		b.Fatal(err)
	}
	started := time.Now()
	dir := b.TempDir()
	httpSection, httpAddr := dashboardHTTP(b, dir)
	cfg := writeFile(b, dir, "controller.yaml", fmt.Sprintf(
		"inventory: %s\npoll: {interval: 5m, timeout: 2s, retries: 0, concurrency: 256}\n"+
			"mqtt: {embedded: true, listen: 127.0.0.1:%d}\nstate_dir: %s\nhttp:\n%s\n",
		inv, testenv.FreePort(b), filepath.Join(dir, "state"), httpSection))
	c := startDashboardController(b, cfg, httpAddr, 15*time.Minute, false)
	b.Logf("%d villages: the controller computed coverage %v after its start", villages, time.Since(started).Round(time.Second))

	browser := testenv.StartChromium(b)
	ctx, cancel := browser.NewTab(b)
	defer cancel()
	dashboardtest.SignIn(b, ctx, c.Base+"/", dashboardToken)

	var renders time.Duration
	n := 0
	for b.Loop() {
		n++
		testenv.Do(b, ctx, "reload", chromedp.Navigate(fmt.Sprintf("%s/?load=%d#/", c.Base, n)))
		testenv.WaitJS(b, ctx, "the national view", dashboardtest.Ready+` === 'map' && document.querySelectorAll('#map a.point').length > 0`)
		ms := testenv.Eval[float64](b, ctx, `performance.getEntriesByName('ngic:map')[0].startTime`)
		renders += time.Duration(ms * float64(time.Millisecond))
		// The rest of the page (the summary, then the boundaries) before
		// the next load, so that one load's work does not slow the next.
		testenv.WaitJS(b, ctx, "the whole view", `!document.querySelector('#view [aria-busy="true"]')`)
	}
	b.ReportMetric(float64(renders.Milliseconds())/float64(n), "ms/first-render")
	// Where the last load's time went: each request's start and duration.
	b.Logf("last load's requests (start+duration ms): %s", testenv.Eval[string](b, ctx,
		`performance.getEntriesByType('resource').map(e => e.name.replace(location.origin, '') + ' ' +
			Math.round(e.startTime) + '+' + Math.round(e.duration)).join('; ')`))
	b.ReportMetric(float64(procRSS(b, c.cmd.Process.Pid))/(1<<20), "ctl-RSS-MB")
	b.ReportMetric(float64(c.devicesIn(b, "up")), "devices-up")

	var county struct {
		Items []struct {
			Code  string `json:"code"`
			Level string `json:"level"`
		} `json:"items"`
	}
	path := "/api/v1/regions"
	for range 8 { // down the first branch to a county
		c.get(b, path, &county)
		if len(county.Items) == 0 || county.Items[0].Level == "county" {
			break
		}
		path = "/api/v1/regions?parent=" + county.Items[0].Code
	}
	if len(county.Items) == 0 || county.Items[0].Level != "county" {
		b.Fatalf("no county down the first branch: %+v", county.Items)
	}
	b.ReportMetric(answerMs(b, c, "/api/v1/summary"), "ms/summary")
	b.ReportMetric(answerMs(b, c, "/api/v1/villages?limit=1000&region="+county.Items[0].Code), "ms/county-villages")
	b.ReportMetric(answerMs(b, c, "/api/v1/map"), "ms/national-map")
}

// answerMs returns the median answer time of path over 11 requests, in ms.
func answerMs(b *testing.B, c *dashboardController, path string) float64 {
	var times []time.Duration
	for range 11 {
		req, err := http.NewRequest(http.MethodGet, c.Base+path, nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+dashboardToken)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %s %v", path, resp.Status, err)
		}
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	return float64(times[len(times)/2].Microseconds()) / 1000
}
