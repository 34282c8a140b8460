package api_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/api"
	"github.com/ngic/ngic/controller/coverage"
)

// Two times whose results differ: at expiredAt the override of 坝口村
// (until 2025-12-31) has expired, at overriddenAt it holds.
var (
	expiredAt    = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	overriddenAt = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
)

// pooledSource is a fakeSource whose coverage is computed into a
// coverage.Pool and counted as the daemon counts it: held by the source
// while it is the latest and by each reader until its release; the last
// release gives its memory to the pool, which the next computation
// rewrites.
type pooledSource struct {
	*fakeSource
	srv  *api.Server // told of each new result
	pool coverage.Pool

	mu  sync.Mutex
	cur *heldResult
	// published counts the results made latest, reused those given
	// back to the pool.
	published, reused atomic.Int64
}

// heldResult is a result and its count of holders (under mu).
type heldResult struct {
	res     *coverage.Result
	holders int
}

func (p *pooledSource) AcquireCoverage() (*coverage.Result, func()) {
	p.mu.Lock()
	h := p.cur
	if h != nil {
		h.holders++
	}
	p.mu.Unlock()
	if h == nil {
		return nil, func() {}
	}
	var once sync.Once
	return h.res, func() { once.Do(func() { p.release(h) }) }
}

// release removes a holder of h; the last gives it to the pool.
func (p *pooledSource) release(h *heldResult) {
	p.mu.Lock()
	h.holders--
	last := h.holders == 0
	p.mu.Unlock()
	if last {
		p.pool.Release(h.res)
		p.reused.Add(1)
	}
}

// recompute makes the result for now, computed in the pool, the latest,
// tells the server, and lets the previous go.
func (p *pooledSource) recompute(now time.Time) {
	h := &heldResult{res: p.pool.ComputeCompact(p.inv, nil, nil, now), holders: 1}
	p.mu.Lock()
	old := p.cur
	p.cur = h
	p.mu.Unlock()
	p.published.Add(1)
	p.srv.CoverageChanged()
	if old != nil {
		p.release(old)
	}
}

// servePooled serves a pooledSource whose first result is for at.
func servePooled(t *testing.T, at time.Time) (*pooledSource, *httptest.Server) {
	t.Helper()
	p := &pooledSource{fakeSource: newFake(t)}
	s, err := api.New(p, api.Options{Tokens: testTokens})
	if err != nil {
		t.Fatal(err)
	}
	p.srv = s
	p.recompute(at)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return p, ts
}

// pooledPaths are the requests that read a coverage result: the summary,
// a region, its children, villages, a village with its trail, maps, gaps,
// a region's convergence, sites in a region, and the reports (streamed),
// each with the token that asks it.
var pooledPaths = []struct{ token, path string }{
	{adminToken, "/api/v1/summary"},
	{adminToken, "/api/v1/coverage"},
	{adminToken, "/api/v1/regions?parent=630000000000"},
	{adminToken, "/api/v1/regions/630201000000"},
	{adminToken, "/api/v1/villages?region=" + westCounty + "&limit=100"},
	{adminToken, "/api/v1/villages?limit=3"},
	{adminToken, "/api/v1/villages/630201005000"},
	{adminToken, "/api/v1/map"},
	{adminToken, "/api/v1/map?region=630201000000"},
	{adminToken, "/api/v1/gaps?limit=100"},
	{adminToken, "/api/v1/convergence?region=" + eastCounty},
	{adminToken, "/api/v1/sites?region=" + westCounty},
	{adminToken, "/api/v1/reports/coverage.csv"},
	{adminToken, "/api/v1/reports/coverage.json"},
	{regionToken, "/api/v1/summary"},
	{regionToken, "/api/v1/reports/coverage.geojson"},
	{regionToken, "/api/v1/alerts"},
}

// get answers a request, as status and body.
func get(base, token, path string) (string, error) {
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, b), err
}

// referenceAnswers are the answers of pooledPaths from a source whose
// result, for at, is Compute's (new memory, never released).
func referenceAnswers(t *testing.T, at time.Time) map[string]string {
	t.Helper()
	f := newFake(t)
	f.res = coverage.Compute(f.inv, nil, nil, at)
	_, c := serve(t, f, api.Options{}, "")
	out := map[string]string{}
	for _, p := range pooledPaths {
		a, err := get(c.Base, p.token, p.path)
		if err != nil {
			t.Fatal(err)
		}
		out[p.token+p.path] = a
	}
	return out
}

// TestPooledResultsUnderRequests: requests of every kind that reads a
// coverage result run in loops while results are recomputed back to back
// into the memory of the ones released; each answer is the answer of one
// of the two results computed in new memory (never a mix, never an
// emptied or rewritten one), and once the requests are done every result
// but the latest went back to the pool (run with -race).
func TestPooledResultsUnderRequests(t *testing.T) {
	refs := map[time.Time]map[string]string{expiredAt: referenceAnswers(t, expiredAt),
		overriddenAt: referenceAnswers(t, overriddenAt)}
	const villages = "/api/v1/villages/630201005000"
	if refs[expiredAt][adminToken+villages] == refs[overriddenAt][adminToken+villages] {
		t.Fatal("the two results do not differ: the test would not see a mix")
	}
	p, ts := servePooled(t, expiredAt)
	stop := make(chan struct{})
	recomputed := make(chan struct{})
	go func() {
		defer close(recomputed)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			p.recompute([]time.Time{overriddenAt, expiredAt}[i%2])
		}
	}()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for round := range 8 {
				for k := range pooledPaths {
					q := pooledPaths[(k+g*5)%len(pooledPaths)] // each goroutine in another order
					got, err := get(ts.URL, q.token, q.path)
					if err != nil {
						t.Error(err)
						return
					}
					if got != refs[expiredAt][q.token+q.path] && got != refs[overriddenAt][q.token+q.path] {
						t.Errorf("round %d, %s: an answer of neither result:\n%.600s", round, q.path, got)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	<-recomputed
	published, reused := p.published.Load(), p.reused.Load()
	if published < 3 {
		t.Fatalf("%d results published: the requests did not run beside recomputes", published)
	}
	if reused != published-1 {
		t.Fatalf("%d results published, %d given back to the pool: want all but the latest", published, reused)
	}
	t.Logf("%d results computed while the requests ran, %d given back to the pool", published, reused)
}

// TestPooledResultNeverReleased: a result whose reader never releases it
// is never given to the pool, and stays as computed while the results
// after it are computed into the pool's memory.
func TestPooledResultNeverReleased(t *testing.T) {
	p, ts := servePooled(t, overriddenAt)
	kept, _ := p.AcquireCoverage() // never released
	var want bytes.Buffer
	if err := coverage.Compute(p.inv, nil, nil, overriddenAt).WriteJSON(&want); err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		p.recompute([]time.Time{expiredAt, overriddenAt}[i%2])
		if _, err := get(ts.URL, adminToken, "/api/v1/villages?limit=100"); err != nil {
			t.Fatal(err)
		}
	}
	var got bytes.Buffer
	if err := kept.WriteJSON(&got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("a result held by a reader changed:\n%.400s\nwant\n%.400s", got.Bytes(), want.Bytes())
	}
	if published, reused := p.published.Load(), p.reused.Load(); reused != published-2 {
		t.Fatalf("%d results published, %d given back: want all but the latest and the one held", published, reused)
	}
}

// blockingWriter is a ResponseWriter whose first Write tells writing and
// waits for proceed: a report streamed to a slow client.
type blockingWriter struct {
	header  http.Header
	status  int
	body    bytes.Buffer
	once    sync.Once
	writing chan struct{}
	proceed chan struct{}
}

func (b *blockingWriter) Header() http.Header { return b.header }
func (b *blockingWriter) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *blockingWriter) Write(p []byte) (int, error) {
	b.once.Do(func() {
		close(b.writing)
		<-b.proceed
	})
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

// TestPooledResultHeldWhileStreaming: a report being streamed holds its
// result, through the index it was answered from, until its last byte:
// results computed meanwhile are not computed into its memory, and the
// report is the result's as computed; once it ends the result goes back
// to the pool.
func TestPooledResultHeldWhileStreaming(t *testing.T) {
	want := referenceAnswers(t, expiredAt)[adminToken+"/api/v1/reports/coverage.csv"]
	p, _ := servePooled(t, expiredAt)
	first, release := p.AcquireCoverage()
	release()
	w := &blockingWriter{header: http.Header{}, writing: make(chan struct{}), proceed: make(chan struct{})}
	req := httptest.NewRequest(http.MethodGet, "/api/v1/reports/coverage.csv", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.srv.Handler().ServeHTTP(w, req)
	}()
	select {
	case <-w.writing:
	case <-time.After(60 * time.Second):
		t.Fatal("the report was not written")
	}
	for i := range 4 {
		p.recompute([]time.Time{overriddenAt, expiredAt}[i%2])
	}
	// 5 published: the streamed one held, the last latest, 3 given back.
	if reused := p.reused.Load(); reused != 3 {
		t.Fatalf("%d results given back while the first is streamed, want 3", reused)
	}
	close(w.proceed)
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("the report did not end")
	}
	if got := fmt.Sprintf("%d %s", w.status, w.body.Bytes()); got != want {
		t.Fatalf("the report streamed while results were recomputed:\n%.600s\nwant\n%.600s", got, want)
	}
	if reused := p.reused.Load(); reused != 4 {
		t.Fatalf("%d results given back once the report ended, want 4", reused)
	}
	if first.Villages != nil { // read after reused says Release returned
		t.Fatalf("the streamed result, once released, was not given to the pool (%d villages)", len(first.Villages))
	}
}
