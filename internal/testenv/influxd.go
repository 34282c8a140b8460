package testenv

import (
	"encoding/json"
	"fmt"
	"go/build"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// InfluxDB admin user created on the influxd that StartInfluxdAuth runs.
const (
	InfluxUser     = "ngicadmin"
	InfluxPassword = "ngic-influx-pass-1"
)

// Influxd is a running InfluxDB 1.8 server.
type Influxd struct {
	*Process
	// URL is the base URL of its HTTP API, http://127.0.0.1:<Port>.
	URL string
	// Port is its HTTP port.
	Port int
	// RPCAddr is host:port of its RPC service (backup and restore), moved
	// off the default 8088 so that servers of parallel tests never collide.
	RPCAddr string
	// User and Password are the admin's credentials, empty without auth.
	User, Password string
	// Token is what influxdb-client-go takes as its token for the 1.8
	// compatibility API: "user:password" with auth, "" without.
	Token string
	// Dir holds the configuration, the log and the meta, data and wal
	// folders; Restart reuses it.
	Dir string

	bin    string
	conf   string
	client *http.Client
}

// influxdBin finds influxd where scripts/install-influxd.sh puts it
// ($(go env GOPATH)/bin), then on PATH.
func influxdBin() (string, bool) {
	for _, gp := range filepath.SplitList(build.Default.GOPATH) {
		p := filepath.Join(gp, "bin", "influxd")
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	return lookPath("influxd")
}

// InfluxdOpts are the choices StartInfluxdWith offers.
type InfluxdOpts struct {
	// Auth enables authentication with an admin user InfluxUser whose
	// password is InfluxPassword.
	Auth bool
	// Flux enables Flux queries (/api/v2/query, the client's QueryAPI).
	// influxd then compiles the Flux standard library at every start, which
	// takes seconds of CPU instead of a fraction of one, so only tests that
	// query with Flux ask for it.
	Flux bool
}

// StartInfluxd starts influxd 1.8 without authentication or Flux on free
// loopback ports (HTTP and RPC), with its meta, data and wal folders in a
// temporary folder and usage reporting, the _internal monitor database and
// request logs off, and waits until /ping answers. influxd comes from
// scripts/install-influxd.sh (run by make deps); when it is missing the test
// is skipped, or fails under NGIC_REQUIRE_PEERS=1.
func StartInfluxd(t testing.TB) *Influxd {
	t.Helper()
	return StartInfluxdWith(t, InfluxdOpts{})
}

// StartInfluxdAuth starts influxd like StartInfluxd but with authentication
// enabled and an admin user InfluxUser with password InfluxPassword.
func StartInfluxdAuth(t testing.TB) *Influxd {
	t.Helper()
	return StartInfluxdWith(t, InfluxdOpts{Auth: true})
}

// StartInfluxdWith starts influxd like StartInfluxd with the given options.
func StartInfluxdWith(t testing.TB, o InfluxdOpts) *Influxd {
	t.Helper()
	bin, ok := influxdBin()
	if !ok {
		missing(t, "influxd", "run scripts/install-influxd.sh, or make deps")
	}
	dir := t.TempDir()
	port, rpc := FreePort(t), FreePort(t)
	for rpc == port {
		rpc = FreePort(t)
	}
	d := &Influxd{
		URL:     fmt.Sprintf("http://127.0.0.1:%d", port),
		Port:    port,
		RPCAddr: fmt.Sprintf("127.0.0.1:%d", rpc),
		Dir:     dir,
		bin:     bin,
		conf:    filepath.Join(dir, "influxdb.conf"),
		client:  &http.Client{Timeout: 10 * time.Second},
	}
	cfg := fmt.Sprintf(`reporting-disabled = true
bind-address = %q

[meta]
  dir = %q
  logging-enabled = false

[data]
  dir = %q
  wal-dir = %q
  query-log-enabled = false

[monitor]
  store-enabled = false

[http]
  bind-address = "127.0.0.1:%d"
  auth-enabled = %t
  log-enabled = false
  flux-enabled = %t
  pprof-enabled = false

[logging]
  level = "warn"
  suppress-logo = true

[continuous_queries]
  log-enabled = false
`, d.RPCAddr, filepath.Join(dir, "meta"), filepath.Join(dir, "data"), filepath.Join(dir, "wal"), port, o.Auth, o.Flux)
	if err := os.WriteFile(d.conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	d.run(t)
	if o.Auth {
		// With auth on and no user yet, influxd accepts exactly this one
		// statement unauthenticated.
		q := fmt.Sprintf("CREATE USER %s WITH PASSWORD '%s' WITH ALL PRIVILEGES", InfluxUser, InfluxPassword)
		if _, err := d.TryQuery("", q); err != nil {
			t.Fatalf("testenv: influxd: %v", err)
		}
		d.User, d.Password, d.Token = InfluxUser, InfluxPassword, InfluxUser+":"+InfluxPassword
	}
	return d
}

// influxdStart bounds influxd's start-up: it opens its shards and
// indexes before it answers, and took up to 29 s on a loaded 2-core
// machine.
const influxdStart = 120 * time.Second

// run starts the server on d's configuration and waits for /ping.
func (d *Influxd) run(t testing.TB) {
	t.Helper()
	d.Process = start(t, d.Dir, d.bin, "run", "-config", d.conf)
	deadline := time.Now().Add(influxdStart)
	var last error
	for time.Now().Before(deadline) {
		if d.exited() {
			t.Fatalf("testenv: influxd exited before answering on %s:\n%s", d.URL, d.Log())
		}
		if last = d.ping(); last == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("testenv: influxd not answering /ping on %s after %v (%v):\n%s", d.URL, influxdStart, last, d.Log())
}

func (d *Influxd) ping() error {
	resp, err := d.client.Get(d.URL + "/ping")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("/ping: %s", resp.Status)
	}
	return nil
}

// Restart starts a new server after Stop on the same ports, configuration
// and data, and waits until /ping answers.
func (d *Influxd) Restart(t testing.TB) {
	t.Helper()
	d.run(t)
}

// CreateDatabase creates the database db (with its default retention policy
// "autogen"), failing t on an error. Creating one that exists is no error.
func (d *Influxd) CreateDatabase(t testing.TB, db string) {
	t.Helper()
	if _, err := d.TryQuery("", "CREATE DATABASE "+quoteIdent(db)); err != nil {
		t.Fatalf("testenv: influxd: %v", err)
	}
}

// Row is one row of an InfluxQL result.
type Row struct {
	// Measurement is the series' measurement (the result's "name").
	Measurement string
	// Tags are the series' tags when the query groups by them.
	Tags map[string]string
	// Time is the row's time column, when the result has one.
	Time time.Time
	// Values are the other columns by name: json.Number for numbers,
	// string, bool, or nil for a field the row lacks.
	Values map[string]any
}

// Query runs the InfluxQL statement q in database db (db may be empty) and
// returns the rows of every series of its results, failing t on an error of
// the request or of a statement.
func (d *Influxd) Query(t testing.TB, db, q string) []Row {
	t.Helper()
	rows, err := d.TryQuery(db, q)
	if err != nil {
		t.Fatalf("testenv: influxd: %v", err)
	}
	return rows
}

// TryQuery is Query returning its error, for a test that polls.
func (d *Influxd) TryQuery(db, q string) ([]Row, error) {
	form := url.Values{"q": {q}, "epoch": {"ns"}}
	if db != "" {
		form.Set("db", db)
	}
	req, err := http.NewRequest(http.MethodPost, d.URL+"/query", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if d.User != "" {
		req.SetBasicAuth(d.User, d.Password)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", q, err)
	}
	defer resp.Body.Close()
	var body struct {
		Results []struct {
			Error  string `json:"error"`
			Series []struct {
				Name    string            `json:"name"`
				Tags    map[string]string `json:"tags"`
				Columns []string          `json:"columns"`
				Values  [][]any           `json:"values"`
			} `json:"series"`
		} `json:"results"`
		Error string `json:"error"`
	}
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		return nil, fmt.Errorf("query %q: %s: %w", q, resp.Status, err)
	}
	if body.Error != "" {
		return nil, fmt.Errorf("query %q: %s: %s", q, resp.Status, body.Error)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("query %q: %s", q, resp.Status)
	}
	var rows []Row
	for _, r := range body.Results {
		if r.Error != "" {
			return nil, fmt.Errorf("query %q: %s", q, r.Error)
		}
		for _, s := range r.Series {
			for _, vs := range s.Values {
				row := Row{Measurement: s.Name, Tags: s.Tags, Values: map[string]any{}}
				for i, c := range s.Columns {
					if i >= len(vs) {
						break
					}
					if c == "time" {
						if n, ok := vs[i].(json.Number); ok {
							ns, err := strconv.ParseInt(string(n), 10, 64)
							if err != nil {
								return nil, fmt.Errorf("query %q: time %q: %w", q, n, err)
							}
							row.Time = time.Unix(0, ns).UTC()
							continue
						}
					}
					row.Values[c] = vs[i]
				}
				rows = append(rows, row)
			}
		}
	}
	return rows, nil
}

// quoteIdent quotes an InfluxQL identifier.
func quoteIdent(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
