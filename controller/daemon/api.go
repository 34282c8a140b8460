package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ngic/ngic/controller/alerts"
	"github.com/ngic/ngic/controller/api"
	"github.com/ngic/ngic/controller/config"
	"github.com/ngic/ngic/controller/coverage"
	"github.com/ngic/ngic/controller/ingest"
	"github.com/ngic/ngic/controller/inventory"
	"github.com/ngic/ngic/controller/poller"
	"github.com/ngic/ngic/telemetry"
)

// Bounds of what the API reads.
const (
	// boundariesFile is the inventory's optional region boundaries.
	boundariesFile = "boundaries.geojson"
	// maxBoundaries bounds what is read of it.
	maxBoundaries = 256 << 20
	// recentAlerts is how many alert changes /api/v1/alerts?state=recent
	// lists at most.
	recentAlerts = 1000
	// apiAlertBuffer is the alert changes queued for the event streams.
	apiAlertBuffer = 1024
	// sessionsFile, in the state directory, keeps the browser sessions
	// (their ids hashed) across a restart.
	sessionsFile = "api-sessions.json"
	// watchEvery is how often gateway states and the coverage result are
	// compared with what the event streams were last told.
	watchEvery = time.Second
)

// apiRun is the daemon's side of the API: the server, the class of each
// device's latest document (for the device list's class filter), and
// what the event streams were last told.
type apiRun struct {
	srv *api.Server

	mu      sync.Mutex
	classes map[string]string

	reloading atomic.Bool
	gateways  map[string]string // name → state last published
	computed  time.Time         // coverage last published
}

// apiSource is the daemon as the API's Source.
type apiSource struct{ d *Daemon }

var _ api.Source = apiSource{}

// newAPI makes the API server over the daemon.
func (d *Daemon) newAPI(h *config.HTTP) (*api.Server, error) {
	var tokens []api.Token
	for _, t := range h.LoadedTokens() {
		tokens = append(tokens, api.Token{Name: t.Name, Secret: t.Secret, Role: t.Role, Region: t.Region})
	}
	fwd, err := d.forwarder(h) // nil without a cluster (cluster_forward.go)
	if err != nil {
		return nil, err
	}
	srv, err := api.New(apiSource{d}, api.Options{Tokens: tokens, SessionTTL: h.SessionTTL,
		SecureCookies: h.TLS.CertFile != "", SessionFile: filepath.Join(d.cfg.StateDir, sessionsFile), Forwarder: fwd})
	if err != nil {
		return nil, err
	}
	d.web = &apiRun{srv: srv, classes: map[string]string{}, gateways: map[string]string{}}
	d.reg.MustRegister(apiCollector{srv})
	return srv, nil
}

// apiPolled keeps the class of a poll's document and tells the event
// streams of a change of state.
func (d *Daemon) apiPolled(p *poller.Poll) {
	w := d.web
	if w == nil {
		return
	}
	if p.Document != nil {
		w.mu.Lock()
		w.classes[p.Device.ID] = string(p.Document.Class)
		w.mu.Unlock()
	}
	if p.State != p.Previous {
		w.srv.PublishDevice(p.Device.ID, p.Device.Site, string(p.State), p.Start.Add(p.Duration))
	}
}

// runAPI feeds the event streams: every alert change, and the gateways'
// states and coverage computations as they change.
func (d *Daemon) runAPI(ctx context.Context) error {
	ch, cancel := d.alerts.Subscribe(apiAlertBuffer)
	defer cancel()
	go func() {
		if err := d.web.srv.Warm(); err != nil {
			d.log.Warn("coverage snapshots unreadable for the convergence series", "err", err)
		}
	}()
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	d.watchStates(false)
	for {
		select {
		case <-ctx.Done():
			return nil
		case a, ok := <-ch:
			if !ok {
				return nil
			}
			d.web.srv.PublishAlert(a)
		case <-t.C:
			d.watchStates(true)
		}
	}
}

// watchStates publishes the gateways whose state changed and a new
// coverage computation (publish false only records them).
func (d *Daemon) watchStates(publish bool) {
	w := d.web
	for _, g := range d.ingest.Gateways() {
		if w.gateways[g.Name] != g.State {
			w.gateways[g.Name] = g.State
			if publish {
				w.srv.PublishGateway(g.Name, g.Site, g.State, g.Since)
			}
		}
	}
	devices := 0
	for _, n := range d.poller.Counts() {
		devices += n
	}
	w.mu.Lock()
	if len(w.classes) > devices { // the inventory lost devices
		pruneClasses(w.classes, d.poller.States())
	}
	w.mu.Unlock()
	if c := d.coverageComputed(); !c.IsZero() && !c.Equal(w.computed) { // clustered: the lease holder's too
		w.computed = c
		if publish {
			w.srv.PublishCoverage(c)
		}
	}
}

func (s apiSource) config() *config.Config {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	return s.d.cfg
}

// AcquireCoverage implements api.Source.
func (s apiSource) AcquireCoverage() (*coverage.Result, func()) { return s.d.AcquireCoverage() }

// Snapshots implements api.Source.
func (s apiSource) Snapshots() ([]time.Time, error) { return s.d.cov.store.List() }

// Snapshot implements api.Source: it reads without moving a damaged
// snapshot aside.
func (s apiSource) Snapshot(t time.Time) (*coverage.Result, error) {
	return coverage.ReadAt(s.d.cov.store.Dir(), t)
}

// HasBoundaries implements api.Source.
func (s apiSource) HasBoundaries() bool {
	st, err := os.Stat(filepath.Join(s.config().LoadedInventory().Dir, boundariesFile))
	return err == nil && st.Mode().IsRegular()
}

// Boundaries implements api.Source.
func (s apiSource) Boundaries() ([]byte, error) {
	f, err := os.Open(filepath.Join(s.config().LoadedInventory().Dir, boundariesFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxBoundaries+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBoundaries {
		return nil, fmt.Errorf("%s: larger than %d bytes", f.Name(), maxBoundaries)
	}
	return b, nil
}

// Sites implements api.Source.
func (s apiSource) Sites() []inventory.Site { return s.config().LoadedInventory().Sites }

// Devices implements api.Source.
func (s apiSource) Devices() []api.Device {
	if out, ok := s.d.fleetDevices(); ok { // clustered: every replica's (cluster.go)
		return out
	}
	states := s.d.poller.Devices()
	out := make([]api.Device, len(states))
	w := s.d.web
	w.mu.Lock()
	known := 0
	for i, st := range states {
		c, ok := w.classes[st.ID]
		if ok {
			known++
		}
		out[i] = api.Device{DeviceState: st, Class: c}
	}
	if known < len(w.classes) { // devices the inventory no longer has
		pruneClasses(w.classes, states)
	}
	w.mu.Unlock()
	return out
}

// pruneClasses forgets the classes of devices not in states.
func pruneClasses(classes map[string]string, states []poller.DeviceState) {
	live := make(map[string]bool, len(states))
	for _, st := range states {
		live[st.ID] = true
	}
	for id := range classes {
		if !live[id] {
			delete(classes, id)
		}
	}
}

// DeviceCounts implements api.Source.
func (s apiSource) DeviceCounts() map[string]int {
	if n, ok := s.d.fleetCounts(); ok {
		return n
	}
	n := map[string]int{}
	for st, c := range s.d.poller.Counts() {
		n[string(st)] = c
	}
	return n
}

// Device implements api.Source.
func (s apiSource) Device(id string) (api.Device, bool) {
	st, ok := s.d.poller.Device(id)
	if !ok {
		return s.d.fleetDevice(id) // polled by another replica, if clustered
	}
	dv := api.Device{DeviceState: st}
	if st.Document != nil {
		dv.Class = string(st.Document.Class)
	}
	return dv, true
}

// Gateways implements api.Source.
func (s apiSource) Gateways() []ingest.GatewayState { return s.d.ingest.Gateways() }

// SiteStates implements api.Source.
func (s apiSource) SiteStates() []ingest.SiteState { return s.d.ingest.Sites() }

// Alerts implements api.Source: the open alerts, newest first, or the
// recent ones, each once as its latest change says.
func (s apiSource) Alerts(recent bool) []telemetry.Alert {
	if recent { // the newest change of each alert
		changes := s.d.alerts.Recent(recentAlerts)
		seen := make(map[string]bool, len(changes))
		out := make([]telemetry.Alert, 0, len(changes))
		for _, a := range changes {
			if !seen[a.ID] {
				seen[a.ID] = true
				out = append(out, a)
			}
		}
		return out
	}
	open := s.d.fleetAlerts()
	sort.SliceStable(open, func(i, j int) bool { return open[i].Started.After(open[j].Started) })
	return open
}

// Acknowledge implements api.Source.
func (s apiSource) Acknowledge(id, by, note string) (telemetry.Alert, error) {
	a, err := s.d.alerts.Acknowledge(id, by, note, time.Now())
	if errors.Is(err, alerts.ErrUnknownAlert) {
		if fa, ok := s.d.forwardAck(id, by, note); ok { // raised by another replica
			s.d.log.Info("alert acknowledged, for the replica that raised it", "alert", id, "by", by)
			return fa, nil
		}
	}
	if errors.Is(err, alerts.ErrUnknownAlert) {
		return a, fmt.Errorf("%w: %v", api.ErrNotFound, err)
	}
	if errors.Is(err, alerts.ErrInvalid) {
		return a, fmt.Errorf("%w: %v", api.ErrInvalid, err)
	}
	if err == nil {
		s.d.log.Info("alert acknowledged", "alert", id, "by", by)
	}
	return a, err
}

func apiWindow(w alerts.Window) api.Window {
	return api.Window{ID: w.ID, Source: w.Source, Subject: w.Subject, Start: w.Start, End: w.End, Reason: w.Reason}
}

// Maintenance implements api.Source.
func (s apiSource) Maintenance() []api.Window {
	ws := s.d.alerts.Maintenance()
	out := make([]api.Window, len(ws))
	for i, w := range ws {
		out[i] = apiWindow(w)
	}
	return out
}

// AddMaintenance implements api.Source.
func (s apiSource) AddMaintenance(w api.Window) (api.Window, error) {
	got, err := s.d.alerts.AddMaintenance(alerts.Window{Subject: w.Subject, Start: w.Start, End: w.End, Reason: w.Reason})
	if errors.Is(err, alerts.ErrInvalid) {
		return api.Window{}, fmt.Errorf("%w: %v", api.ErrInvalid, err)
	}
	if err != nil {
		return api.Window{}, err
	}
	s.d.log.Info("maintenance window added", "id", got.ID, "subject", got.Subject)
	return apiWindow(got), nil
}

// RemoveMaintenance implements api.Source.
func (s apiSource) RemoveMaintenance(id string) error {
	err := s.d.alerts.RemoveMaintenance(id)
	switch {
	case errors.Is(err, alerts.ErrUnknownWindow):
		return fmt.Errorf("%w: %v", api.ErrNotFound, err)
	case errors.Is(err, alerts.ErrConfigWindow):
		return fmt.Errorf("%w: %v: remove it from the configuration", api.ErrConflict, err)
	case err == nil:
		s.d.log.Info("maintenance window removed", "id", id)
	}
	return err
}

// Reload implements api.Source: the configuration file is read again and
// its inventory applied; on failure the running one is kept.
func (s apiSource) Reload() error {
	if s.d.configPath == "" {
		return fmt.Errorf("%w: the controller was started without a configuration file to read again", api.ErrConflict)
	}
	if !s.d.web.reloading.CompareAndSwap(false, true) {
		return fmt.Errorf("%w: a reload is running", api.ErrConflict)
	}
	defer s.d.web.reloading.Store(false)
	cfg, err := config.Load(s.d.configPath)
	if err == nil {
		err = s.d.Reload(cfg)
	}
	if err != nil {
		s.d.log.Error("inventory reload refused: the running inventory is kept", "err", err)
		return fmt.Errorf("%w: %v", api.ErrInvalid, err)
	}
	return nil
}

// apiCollector exports the API's figures.
type apiCollector struct{ s *api.Server }

var (
	apiStreams = prometheus.NewDesc("ngic_controller_api_event_streams",
		"Event streams (/api/v1/events) connected.", nil, nil)
	apiEvents = prometheus.NewDesc("ngic_controller_api_events_sent_total",
		"Events queued to the event streams.", nil, nil)
	apiDropped = prometheus.NewDesc("ngic_controller_api_event_streams_dropped_total",
		"Event streams disconnected for reading too slowly.", nil, nil)
	apiSessions = prometheus.NewDesc("ngic_controller_api_sessions",
		"Browser sessions held.", nil, nil)
	apiAuthLimited = prometheus.NewDesc("ngic_controller_api_auth_limited_total",
		"Requests answered 429 for too many failed authentications.", nil, nil)
	apiStreamsRefused = prometheus.NewDesc("ngic_controller_api_event_streams_refused_total",
		"Event streams refused for too many open.", nil, nil)
)

// Describe implements prometheus.Collector.
func (c apiCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{apiStreams, apiEvents, apiDropped, apiSessions, apiAuthLimited, apiStreamsRefused} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c apiCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.Stats()
	ch <- prometheus.MustNewConstMetric(apiStreams, prometheus.GaugeValue, float64(st.Clients))
	ch <- prometheus.MustNewConstMetric(apiEvents, prometheus.CounterValue, float64(st.Sent))
	ch <- prometheus.MustNewConstMetric(apiDropped, prometheus.CounterValue, float64(st.Dropped))
	ch <- prometheus.MustNewConstMetric(apiSessions, prometheus.GaugeValue, float64(st.Sessions))
	ch <- prometheus.MustNewConstMetric(apiAuthLimited, prometheus.CounterValue, float64(st.AuthLimited))
	ch <- prometheus.MustNewConstMetric(apiStreamsRefused, prometheus.CounterValue, float64(st.StreamsRefused))
}
