package daemon_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ngic/ngic/controller/config"
	"github.com/ngic/ngic/controller/coverage"
	"github.com/ngic/ngic/controller/daemon"
	"github.com/ngic/ngic/controller/simulator/simulatortest"
)

// poolToken is the API token of TestCoverageRecomputedUnderRequests.
const poolToken = "pool-test-token-0123456789"

// villageCodes are the real inventory's villages.
var villageCodes = []string{"630101001000", "630101002000", "630101003000", "630101004000", "630102001000",
	"630102002000", "630201001000", "630201002000", "630201003000", "630201004000", "630201005000"}

// checkAnswer checks an answer of the API about the real inventory's
// coverage for what an emptied or rewritten result would break: every
// village and its fields, the regions asked about. 503 (no result, after
// a reload) is an answer too.
func checkAnswer(path string, status int, body []byte) error {
	if status == http.StatusServiceUnavailable {
		return nil
	}
	if status != http.StatusOK {
		return fmt.Errorf("status %d: %s", status, body)
	}
	switch {
	case strings.HasPrefix(path, "/api/v1/villages?"):
		var d struct {
			Items []struct {
				Code, Name, Parent, Broadband, Evidence string
			} `json:"items"`
		}
		if err := json.Unmarshal(body, &d); err != nil {
			return err
		}
		if len(d.Items) != len(villageCodes) {
			return fmt.Errorf("%d villages, want %d", len(d.Items), len(villageCodes))
		}
		for i, v := range d.Items {
			if v.Code != villageCodes[i] || v.Name == "" || len(v.Parent) != len(v.Code) ||
				!strings.HasPrefix(v.Code, v.Parent[:6]) || v.Broadband == "" || v.Evidence == "" {
				return fmt.Errorf("village %d: %+v", i, v)
			}
		}
	case strings.HasPrefix(path, "/api/v1/villages/"):
		var v struct{ Code, Name, Broadband string }
		if err := json.Unmarshal(body, &v); err != nil {
			return err
		}
		if v.Code != "630201005000" || v.Name != "坝口村" || v.Broadband == "" {
			return fmt.Errorf("village %+v", v)
		}
	case path == "/api/v1/coverage":
		var d struct {
			Villages int `json:"villages"`
			Regions  []struct {
				Code       string `json:"code"`
				Households int64  `json:"households"`
			} `json:"regions"`
		}
		if err := json.Unmarshal(body, &d); err != nil {
			return err
		}
		if d.Villages != len(villageCodes) || len(d.Regions) != 1 || d.Regions[0].Code != "630000000000" ||
			d.Regions[0].Households == 0 {
			return fmt.Errorf("coverage %+v", d)
		}
	case strings.HasPrefix(path, "/api/v1/map"):
		var d struct {
			Points []struct{ Code, Kind string } `json:"points"`
		}
		if err := json.Unmarshal(body, &d); err != nil {
			return err
		}
		if len(d.Points) != 5 {
			return fmt.Errorf("%d points in 岭下乡, want 5", len(d.Points))
		}
	case strings.HasPrefix(path, "/api/v1/reports/"):
		for _, code := range villageCodes {
			if !strings.Contains(string(body), code) {
				return fmt.Errorf("village %s missing from the report", code)
			}
		}
	}
	return nil
}

// TestCoverageRecomputedUnderRequests: API requests of the coverage (a
// list of villages, a village, the header, a map, streamed reports) run in
// loops while the daemon recomputes back to back into the memory of the
// results it released, and reloads its inventory now and then; every
// answer is whole; in the steady state, each recompute gives the result
// before it back to the pool (run with -race).
func TestCoverageRecomputedUnderRequests(t *testing.T) {
	t.Parallel()
	_, addr := simulatortest.Serve(t, recordingsOf...)
	dir, path := realConfig(t, addr, "")
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(poolToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	withTokens := strings.Replace(string(yaml), "http:\n  listen: 127.0.0.1:0\n",
		fmt.Sprintf("http:\n  listen: 127.0.0.1:0\n  tokens: [{name: ops, file: %s, role: admin}]\n", tokenFile), 1)
	if err := os.WriteFile(path, []byte(withTokens), 0o644); err != nil {
		t.Fatal(err)
	}
	d, _ := startDaemon(t, path)
	waitFor(t, "a coverage result", func() bool {
		return latest(d, func(r *coverage.Result) bool { return r != nil })
	})

	paths := []string{"/api/v1/villages?limit=100", "/api/v1/villages/630201005000", "/api/v1/coverage",
		"/api/v1/map?region=630201000000", "/api/v1/reports/coverage.csv", "/api/v1/reports/coverage.json"}
	base := "http://" + d.Addr()
	stop, recomputed := make(chan struct{}), make(chan error, 1)
	go func() {
		for i := 1; ; i++ {
			select {
			case <-stop:
				recomputed <- nil
				return
			default:
			}
			if i%25 == 0 { // a reload drops the result, and the pool with its inventory
				cfg, err := config.Load(path)
				if err == nil {
					err = d.Reload(cfg)
				}
				if err != nil {
					recomputed <- err
					return
				}
			}
			if err := daemon.RecomputeCoverage(d); err != nil {
				recomputed <- err
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Go(func() {
			for round := range 10 {
				for k := range paths {
					p := paths[(k+g)%len(paths)]
					req, _ := http.NewRequest(http.MethodGet, base+p, nil)
					req.Header.Set("Authorization", "Bearer "+poolToken)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					body, err := io.ReadAll(resp.Body)
					resp.Body.Close()
					if err == nil {
						err = checkAnswer(p, resp.StatusCode, body)
					}
					if err != nil {
						t.Errorf("round %d, %s: %v", round, p, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	if err := <-recomputed; err != nil {
		t.Fatal(err)
	}
	if daemon.CoverageReused(d) == 0 {
		t.Fatal("no result went back to the pool while recomputing")
	}
	// Without readers, each recompute gives the one before back: once the
	// last handler has released what it held (it may do so just after its
	// client read the answer's last byte).
	for range 3 {
		before := daemon.CoverageReused(d)
		if err := daemon.RecomputeCoverage(d); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "a recompute without readers giving a result back", func() bool {
			return daemon.CoverageReused(d) >= before+1
		})
	}
}
