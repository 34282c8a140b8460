package api_test

import (
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/api"
	"github.com/ngic/ngic/controller/api/apitest"
	"github.com/ngic/ngic/controller/coverage"
	"github.com/ngic/ngic/controller/ingest"
	"github.com/ngic/ngic/controller/inventory"
	"github.com/ngic/ngic/controller/poller"
	"github.com/ngic/ngic/telemetry"
)

// Tokens of the tests (each at least 16 characters).
const (
	adminToken  = "admin-token-0123456789"
	readToken   = "read-token-0123456789"
	regionToken = "region-token-0123456789"
	// westCounty is 西岭县 of the real recordings' inventory; its only
	// sites are cab-lingxia and vtr-xincun.
	westCounty = "630200000000"
	eastCounty = "630100000000"
)

// fakeSource is a api.Source over the real recordings' inventory
// (controller/testdata/coverage/real) with coverage computed without any
// device's evidence, and devices, gateways and alerts set by the test.
type fakeSource struct {
	mu        sync.Mutex
	inv       *inventory.Inventory
	res       *coverage.Result
	snaps     map[time.Time]*coverage.Result
	devices   []api.Device
	gateways  []ingest.GatewayState
	sites     []ingest.SiteState
	alerts    []telemetry.Alert
	windows   []api.Window
	reloadErr error
	reloads   int
	bounds    []byte
}

func newFake(t testing.TB) *fakeSource {
	t.Helper()
	inv, err := inventory.Load(filepath.Join("..", "testdata", "coverage", "real"), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	f := &fakeSource{inv: inv, res: coverage.Compute(inv, nil, nil, now), snaps: map[time.Time]*coverage.Result{}}
	for i, d := range inv.Devices {
		st := poller.StateUp
		if i%5 == 0 {
			st = poller.StateDown
		}
		f.devices = append(f.devices, api.Device{DeviceState: poller.DeviceState{ID: d.ID, Site: d.Site, Target: d.Address,
			State: st, Since: now.Add(-time.Hour)}, Class: []string{"olt", "cmts", "dslam"}[i%3]})
	}
	f.gateways = []ingest.GatewayState{
		{Name: "gw-hekou", Site: "so-hekou", State: ingest.StateOnline, Since: now, LastSeen: now, TagsPresent: 1},
		{Name: "gw-lingxia", Site: "cab-lingxia", State: ingest.StateOffline, Cause: "quiet", Since: now, LastSeen: now,
			Readers: []telemetry.ReaderInfo{{Name: "r1", Protocol: "em4100", Device: "/dev/ttyUSB0"}}},
	}
	f.sites = []ingest.SiteState{{Site: "cab-lingxia", Gateways: []string{"gw-lingxia"},
		Doors: []ingest.DoorState{{Gateway: "gw-lingxia", Sensor: "door1", State: "held", Since: now, Seq: 4}},
		Readers: []ingest.ReaderState{{Gateway: "gw-lingxia", Reader: "r1",
			Tags: []ingest.PresentTag{{ID: "E2000017", FirstSeen: now, Time: now, Seq: 3}}}}}}
	for i, d := range f.devices {
		if d.State != poller.StateDown {
			continue
		}
		f.alerts = append(f.alerts, telemetry.Alert{V: 1, ID: fmt.Sprintf("a%d", i), Rule: "device-down",
			Kind: "device-down", Severity: "critical", State: "firing",
			Subject: telemetry.AlertSubject{Type: "device", ID: d.ID, Site: d.Site}, Summary: "no SNMP answer",
			Started: now.Add(-time.Duration(i) * time.Minute), Updated: now})
	}
	f.windows = []api.Window{{ID: "cfg-1", Source: api.WindowConfig, Subject: "site:so-hekou", Start: now, End: now.Add(time.Hour)}}
	for k := range 3 {
		r := coverage.Compute(inv, nil, nil, now.Add(-time.Duration(3-k)*24*time.Hour))
		f.snaps[r.Computed] = r
	}
	return f
}

func (f *fakeSource) AcquireCoverage() (*coverage.Result, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.res, func() {}
}

func (f *fakeSource) Snapshots() ([]time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ts []time.Time
	for t := range f.snaps {
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	return ts, nil
}

func (f *fakeSource) Snapshot(t time.Time) (*coverage.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.snaps[t]; ok {
		return r, nil
	}
	return nil, coverage.ErrNoSnapshot
}

func (f *fakeSource) Boundaries() ([]byte, error) { return f.bounds, nil }
func (f *fakeSource) HasBoundaries() bool         { return f.bounds != nil }
func (f *fakeSource) Sites() []inventory.Site     { return f.inv.Sites }
func (f *fakeSource) Devices() []api.Device {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]api.Device(nil), f.devices...)
}

func (f *fakeSource) DeviceCounts() map[string]int {
	n := map[string]int{}
	for _, d := range f.Devices() {
		n[string(d.State)]++
	}
	return n
}

func (f *fakeSource) Device(id string) (api.Device, bool) {
	for _, d := range f.Devices() {
		if d.ID == id {
			d.History = []poller.Sample{{Time: d.Since, IfUp: 3, IfTotal: 4}}
			return d, true
		}
	}
	return api.Device{}, false
}

func (f *fakeSource) Gateways() []ingest.GatewayState { return f.gateways }
func (f *fakeSource) SiteStates() []ingest.SiteState  { return f.sites }

func (f *fakeSource) Alerts(recent bool) []telemetry.Alert {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]telemetry.Alert(nil), f.alerts...)
}

func (f *fakeSource) Acknowledge(id, by, note string) (telemetry.Alert, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.alerts {
		if f.alerts[i].ID == id {
			f.alerts[i].Ack = &telemetry.AlertAck{By: by, At: f.alerts[i].Updated, Note: note}
			return f.alerts[i], nil
		}
	}
	return telemetry.Alert{}, fmt.Errorf("%w: no alert %s", api.ErrNotFound, id)
}

func (f *fakeSource) Maintenance() []api.Window {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]api.Window(nil), f.windows...)
}

func (f *fakeSource) AddMaintenance(w api.Window) (api.Window, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.ID, w.Source = fmt.Sprintf("api-%d", len(f.windows)), api.WindowAPI
	f.windows = append(f.windows, w)
	return w, nil
}

func (f *fakeSource) RemoveMaintenance(id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, w := range f.windows {
		if w.ID != id {
			continue
		}
		if w.Source == api.WindowConfig {
			return fmt.Errorf("%w: window %s is the configuration's", api.ErrConflict, id)
		}
		f.windows = append(f.windows[:i], f.windows[i+1:]...)
		return nil
	}
	return fmt.Errorf("%w: no window %s", api.ErrNotFound, id)
}

func (f *fakeSource) Reload() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reloads++
	return f.reloadErr
}

// testTokens are the tokens the test servers accept.
var testTokens = []api.Token{{Name: "ops", Secret: adminToken, Role: api.RoleAdmin},
	{Name: "viewer", Secret: readToken, Role: api.RoleRead},
	{Name: "west", Secret: regionToken, Role: api.RoleAdmin, Region: westCounty}}

// serve starts a server over src on 127.0.0.1 and returns a validating
// client carrying token (none when empty).
func serve(t *testing.T, src api.Source, o api.Options, token string) (*api.Server, *apitest.Client) {
	t.Helper()
	if o.Tokens == nil {
		o.Tokens = testTokens
	}
	s, err := api.New(src, o)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, &apitest.Client{T: t, Base: ts.URL, HTTP: ts.Client(), Token: token}
}

// as returns a client like c with another token.
func as(c *apitest.Client, token string) *apitest.Client {
	d := *c
	d.Token = token
	return &d
}

// expect checks a response's status.
func expect(t *testing.T, r *apitest.Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
}
