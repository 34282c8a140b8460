package api_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/api"
	"github.com/ngic/ngic/controller/coverage"
	"github.com/ngic/ngic/controller/inventory"
	"github.com/ngic/ngic/controller/inventory/inventorytest"
)

// benchVillages is the size of the generated national inventory
// (NGIC_BENCH_VILLAGES, default 700,000).
func benchVillages() int {
	if n, err := strconv.Atoi(os.Getenv("NGIC_BENCH_VILLAGES")); err == nil && n > 0 {
		return n
	}
	return 700_000
}

var (
	nationOnce sync.Once
	nation     *fakeSource
	nationErr  error
)

// national returns a source over the generated national inventory, its
// coverage computed with every device up and delivering DOCSIS 3.1 to
// 100 subscribers, built once per run.
func national(b *testing.B) *fakeSource {
	b.Helper()
	nationOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ngic-api-bench")
		if err != nil {
			nationErr = err
			return
		}
		defer os.RemoveAll(dir)
		if nationErr = inventorytest.WriteNational(dir, benchVillages()); nationErr != nil {
			return
		}
		inv, err := inventory.Load(dir, inventory.Options{})
		if err != nil {
			nationErr = err
			return
		}
		now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
		devs := make([]coverage.DeviceStatus, len(inv.Devices))
		for i := range devs {
			devs[i] = coverage.DeviceStatus{State: coverage.StateUp, Since: now.Add(-time.Hour), PolledAt: now,
				Evidence: &coverage.Evidence{Ports: []coverage.Port{{Technology: coverage.TechDOCSIS31, Online: 100,
					Kind: coverage.KindCable}}}}
		}
		nation = &fakeSource{inv: inv, res: coverage.Compute(inv, devs, nil, now),
			snaps: map[time.Time]*coverage.Result{}}
	})
	if nationErr != nil {
		b.Fatal(nationErr)
	}
	return nation
}

// benchAnswer measures the answer time of path on the national
// inventory, reported as ms/answer.
func benchAnswer(b *testing.B, path string) {
	src := national(b)
	s, err := api.New(src, api.Options{Tokens: testTokens})
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	get := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+readToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
		return rec
	}
	began := time.Now()
	first := get() // builds the result's index
	firstMs := float64(time.Since(began).Microseconds()) / 1000
	for b.Loop() {
		get()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/answer")
	b.ReportMetric(firstMs, "ms/first-answer")
	b.ReportMetric(float64(first.Body.Len())/1024, "KiB/answer")
	b.ReportMetric(float64(len(src.res.Villages)), "villages")
}

// aCounty returns the code of the national inventory's first county.
func aCounty(b *testing.B) string {
	src := national(b)
	for _, r := range src.res.Regions {
		if r.Level == "county" {
			return r.Code
		}
	}
	b.Fatal("no county")
	return ""
}

// BenchmarkRegionSummary: /api/v1/summary (the top regions' figures and
// the counts) on the national inventory.
func BenchmarkRegionSummary(b *testing.B) { benchAnswer(b, "/api/v1/summary") }

// BenchmarkRegions: /api/v1/regions (the provinces with their figures).
func BenchmarkRegions(b *testing.B) { benchAnswer(b, "/api/v1/regions") }

// BenchmarkCountyVillages: a county's village list, its first page of
// 1,000 (a county has about 240 villages: all of them).
func BenchmarkCountyVillages(b *testing.B) {
	benchAnswer(b, "/api/v1/villages?limit=1000&region="+aCounty(b))
}

// BenchmarkNationalVillagesFiltered: a filter over every village of the
// nation (priority villages, first page).
func BenchmarkNationalVillagesFiltered(b *testing.B) {
	benchAnswer(b, "/api/v1/villages?priority=true&limit=100")
}

// BenchmarkNationalMap: the national map (one point per province).
func BenchmarkNationalMap(b *testing.B) { benchAnswer(b, "/api/v1/map") }

// BenchmarkCountyMap: a county's map (one point per township).
func BenchmarkCountyMap(b *testing.B) { benchAnswer(b, "/api/v1/map?region="+aCounty(b)) }
