package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ngic/ngic/controller/inventory/inventorytest"
	"github.com/ngic/ngic/controller/simulator/simulatortest"
	"github.com/ngic/ngic/internal/testenv"
)

// BenchmarkDashboardNational: the controller runs on the generated
// national inventory (700,000 villages, 200,000 devices answered by the
// simulator; NGIC_BENCH_VILLAGES=n for another size) and headless chromium
// opens the dashboard's national view, signed in, once per iteration as a
// fresh page load. Reports the first render (navigation start to the view
// drawn, from the page's performance marks; target under 3 s), the
// answer times of /api/v1/summary and of one county's village list, and
// the controller's resident memory with the dashboard open.
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
	inv := filepath.Join(b.TempDir(), "inventory")
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
	c := startDashboardController(b, inv, "1h", "2s", 15*time.Minute)
	b.Logf("%d villages: the controller computed coverage %v after its start", villages, time.Since(started).Round(time.Second))

	browser := testenv.StartChromium(b)
	ctx, cancel := browser.NewTab(b)
	defer cancel()
	testenv.Do(b, ctx, "open", chromedp.Navigate(c.Base+"/"))
	testenv.WaitJS(b, ctx, "the sign-in form", `document.getElementById('view').dataset.ready === 'signin'`)
	testenv.Do(b, ctx, "sign in",
		chromedp.SendKeys(chromedp.CSS("#token"), dashboardToken),
		chromedp.Click(chromedp.CSS(`#signin button[type="submit"]`)))
	testenv.WaitJS(b, ctx, "the national view", `document.getElementById('view').dataset.ready === 'map'`)

	var renders time.Duration
	n := 0
	for b.Loop() {
		n++
		testenv.Do(b, ctx, "reload", chromedp.Navigate(fmt.Sprintf("%s/?load=%d#/", c.Base, n)))
		testenv.WaitJS(b, ctx, "the national view", `document.getElementById('view').dataset.ready === 'map' && document.querySelectorAll('#map a.point').length > 0`)
		ms := testenv.Eval[float64](b, ctx, `performance.getEntriesByName('ngic:map')[0].startTime`)
		renders += time.Duration(ms * float64(time.Millisecond))
	}
	b.ReportMetric(float64(renders.Milliseconds())/float64(n), "ms/first-render")
	b.ReportMetric(float64(procRSS(b, c.cmd.Process.Pid))/(1<<20), "ctl-RSS-MB")

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
