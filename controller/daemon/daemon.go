// Package daemon assembles `ngic-controller run`: the poller over the
// inventory, the ingest of the gateways' MQTT messages, the alert engine,
// the InfluxDB writer and the status server, wired from one configuration.
// It is the top layer: it logs (log/slog), and each component below it
// returns errors.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/ngic/ngic/controller/alerts"
	"github.com/ngic/ngic/controller/broker"
	"github.com/ngic/ngic/controller/config"
	"github.com/ngic/ngic/controller/ingest"
	"github.com/ngic/ngic/controller/poller"
	"github.com/ngic/ngic/controller/rollout"
	"github.com/ngic/ngic/controller/series"
	"github.com/ngic/ngic/internal/buildinfo"
	"github.com/ngic/ngic/internal/mqttembed"
	"github.com/ngic/ngic/telemetry"
	"github.com/ngic/ngic/telemetry/influx"
)

// Files kept in the state folder.
const (
	alertsState  = "alerts.json"
	alertsQueues = "alerts"
)

// Options are the daemon's dependencies beyond its configuration.
type Options struct {
	// Logger receives the daemon's log (default slog.Default()).
	Logger *slog.Logger
	// Pprof serves Go's profiles under /debug/pprof/ on the status server.
	Pprof bool
	// ConfigPath is the configuration file, read again by the API's
	// inventory reload ("" refuses the reload).
	ConfigPath string
	// Shard is the replica's identity in a cluster ("i/n", the --shard
	// flag), overriding cluster.shard and the hostname (cluster.go).
	Shard string
}

// Daemon is a configured controller.
type Daemon struct {
	log     *slog.Logger
	started time.Time

	mu  sync.Mutex
	cfg *config.Config

	poller *poller.Poller
	alerts *alerts.Engine
	ingest *ingest.Ingester

	// The MQTT side: the embedded broker, or the subscriber to an
	// external one; pub publishes the alerts on whichever is in use.
	embedded *mqttembed.Broker
	sub      *broker.Subscriber
	pub      broker.Publisher

	cov    *coverageRun
	influx *influx.Writer // nil without InfluxDB
	polls  *lineBatch     // poll points on their way to influx
	reg    *prometheus.Registry
	ln     net.Listener
	srv    *http.Server

	configPath string
	web        *apiRun          // the API (api.go)
	cluster    *clusterRun      // nil unless clustered (cluster.go)
	rollouts   *rollout.Manager // nil without the rollout section (rollout.go)
}

// New prepares a daemon from a loaded configuration (config.Load): it
// creates the state folder, opens the InfluxDB buffer and reads the state
// snapshots, and listens on the HTTP address, but polls and connects
// nothing until Run.
func New(cfg *config.Config, o Options) (*Daemon, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	d := &Daemon{log: o.Logger, cfg: cfg, started: time.Now(), reg: prometheus.NewRegistry(), configPath: o.ConfigPath}
	if limit := tuneGC(len(cfg.LoadedInventory().Devices)); limit > 0 {
		d.log.Debug("garbage collector", "memory_limit_bytes", limit) // see gc.go
	}
	if err := os.MkdirAll(cfg.StateDir, 0o750); err != nil {
		return nil, fmt.Errorf("state_dir: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			d.close()
		}
	}()
	if err := d.openInflux(cfg); err != nil {
		return nil, err
	}
	if err := d.openAlerts(cfg); err != nil {
		return nil, err
	}
	if err := d.openIngest(cfg); err != nil {
		return nil, err
	}
	if err := d.openCluster(cfg, o.Shard); err != nil {
		return nil, err
	}
	if err := d.openPoller(cfg); err != nil {
		return nil, err
	}
	d.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		d.poller.Collector(), d.alerts.Collector(), d.ingest.Collector())
	if err := d.openCoverage(cfg); err != nil {
		return nil, err
	}
	if err := d.openBroker(cfg); err != nil {
		return nil, err
	}
	if d.influx != nil {
		d.reg.MustRegister(influxCollector{d.influx})
	}
	if err := d.listen(cfg.HTTP.Listen, o.Pprof); err != nil {
		return nil, err
	}
	if err := d.openRollouts(cfg); err != nil {
		return nil, err
	}
	ok = true
	return d, nil
}

// openInflux opens the InfluxDB writer and its buffer, when configured.
func (d *Daemon) openInflux(cfg *config.Config) error {
	in := cfg.InfluxDB
	if in == nil {
		return nil
	}
	token := ""
	switch {
	case in.TokenFile != "":
		t, err := config.ReadSecret(in.TokenFile, "")
		if err != nil {
			return fmt.Errorf("influxdb.token_file: %w", err)
		}
		token = t
	case in.User != "":
		pw := ""
		if in.PasswordFile != "" {
			p, err := config.ReadSecret(in.PasswordFile, "")
			if err != nil {
				return fmt.Errorf("influxdb.password_file: %w", err)
			}
			pw = p
		}
		token = in.User + ":" + pw
	}
	if err := os.MkdirAll(filepath.Dir(in.BufferPath), 0o750); err != nil {
		return fmt.Errorf("influxdb.buffer_path: %w", err)
	}
	w, err := influx.New(influx.Options{URL: in.URL, Token: token, Org: in.Org, Bucket: in.Bucket,
		BufferPath: in.BufferPath, MaxBytes: in.MaxBytes})
	if err != nil {
		return fmt.Errorf("influxdb: %w", err)
	}
	d.influx = w
	d.polls = newLineBatch(w.Write, func(err error) { d.log.Warn("poll points not buffered", "err", err) })
	return nil
}

// openAlerts prepares the alert engine, its state and delivery queues.
func (d *Daemon) openAlerts(cfg *config.Config) error {
	qdir := filepath.Join(cfg.StateDir, alertsQueues)
	if err := os.MkdirAll(qdir, 0o750); err != nil {
		return fmt.Errorf("state_dir: %w", err)
	}
	opts := alerts.Options{StatePath: filepath.Join(cfg.StateDir, alertsState), QueueDir: qdir, Publisher: d}
	e, err := alerts.New(cfg.Alerts, opts)
	if errors.Is(err, alerts.ErrDamaged) {
		if err := d.moveAside(opts.StatePath, err, "open alerts are raised again as their conditions are seen"); err != nil {
			return err
		}
		e, err = alerts.New(cfg.Alerts, opts)
	}
	if err != nil {
		return err
	}
	d.alerts = e
	e.SetTopology(parents(cfg))
	return nil
}

// parents maps each device of the inventory to its parent.
func parents(cfg *config.Config) map[string]string {
	m := map[string]string{}
	for _, dv := range cfg.LoadedInventory().Devices {
		if dv.Parent != "" {
			m[dv.ID] = dv.Parent
		}
	}
	return m
}

// moveAside renames a damaged state file out of the way, so that the
// controller starts afresh rather than not at all, and says what that
// costs.
func (d *Daemon) moveAside(path string, cause error, costs string) error {
	aside := path + ".damaged-" + time.Now().UTC().Format("20060102T150405Z")
	if err := os.Rename(path, aside); err != nil {
		return fmt.Errorf("%w (and it cannot be moved aside: %v)", cause, err)
	}
	d.log.Error("state file unreadable: moved aside, starting afresh; "+costs, "err", cause, "moved_to", aside)
	return nil
}

// openPoller prepares the poller over the inventory's devices, moving a
// damaged snapshot aside.
func (d *Daemon) openPoller(cfg *config.Config) error {
	devs, err := cfg.Devices()
	if err != nil {
		return err
	}
	path := cfg.StatePath(config.DevicesSnapshotFile)
	opts := poller.Options{Concurrency: cfg.Poll.Concurrency, History: cfg.Poll.History, SnapshotPath: path,
		Observer: d.polled}
	p, err := poller.New(opts)
	if errors.Is(err, poller.ErrSnapshot) {
		if err := d.moveAside(path, err, "device states and history start from the next polls"); err != nil {
			return err
		}
		p, err = poller.New(opts)
	}
	if err != nil {
		return err
	}
	d.poller = p
	if _, err := d.setDevices(devs); err != nil {
		return err
	}
	return nil
}

// polled handles one finished poll: state changes are logged, and the
// poll's points go to InfluxDB.
func (d *Daemon) polled(p *poller.Poll) {
	if p.State != p.Previous {
		lvl := slog.LevelInfo
		if p.State != poller.StateUp {
			lvl = slog.LevelWarn
		}
		attrs := []any{"device", p.Device.ID, "site", p.Device.Site, "from", string(p.Previous), "to", string(p.State)}
		if p.Err != nil {
			attrs = append(attrs, "err", p.Err)
		}
		d.log.Log(context.Background(), lvl, "device state changed", attrs...)
	}
	d.deviceSignals(p)
	d.coveragePolled(p)
	d.apiPolled(p)
	if d.influx == nil {
		return
	}
	class := ""
	if p.Document != nil {
		class = string(p.Document.Class)
	} else if p.PrevDocument != nil {
		class = string(p.PrevDocument.Class)
	}
	tags := telemetry.DeviceTags{Site: p.Device.Site, Device: p.Device.ID, Class: class}
	lines, err := series.AppendPoll(nil, tags, pollResult(p))
	if err != nil {
		d.log.Warn("poll point not written", "device", p.Device.ID, "err", err)
	}
	if p.Document != nil {
		lines, err = series.AppendDocument(lines, tags, p.Document)
		if err != nil {
			d.log.Warn("some points of a document not written", "device", p.Device.ID, "err", err)
		}
	}
	d.polls.add(lines)
}

// deviceSignals tells the alert engine what a poll found: the device's
// reachability and credentials, and what its documents say (uplinks, PON
// ports, DSL lines, TV).
func (d *Daemon) deviceSignals(p *poller.Poll) {
	t := p.Start.Add(p.Duration)
	subj := alerts.Subject{Type: alerts.SubjectDevice, ID: p.Device.ID, Site: p.Device.Site}
	summary := ""
	if p.Err != nil {
		summary = p.Err.Error()
	}
	d.alerts.Signal(alerts.Signal{Kind: alerts.KindDeviceDown, Subject: subj, Time: t,
		Active: p.State == poller.StateDown, Summary: "no SNMP answer: " + summary})
	d.alerts.Signal(alerts.Signal{Kind: alerts.KindSNMPCredentials, Subject: subj, Time: t,
		Active: p.State == poller.StateAuthFailed, Summary: "SNMP credentials refused: " + summary})
	if p.Document != nil {
		d.alerts.Document(alerts.DeviceRef{ID: p.Device.ID, Site: p.Device.Site, Parent: p.Device.Parent},
			p.PrevDocument, p.Document, t)
	}
}

// Run runs every component until ctx ends, then stops them in order and
// saves the state.
func (d *Daemon) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	start := func(name string, run func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				errc <- fmt.Errorf("%s: %w", name, err)
				cancel()
			}
		}()
	}
	start("http", d.serveHTTP)
	if d.influx != nil {
		start("influxdb", d.influx.Run)
		start("poll-points", d.polls.run)
	}
	start("alerts", d.alerts.Run)
	start("ingest", d.ingest.Run)
	start("refusals", d.logRefusals)
	if d.sub != nil {
		start("mqtt", d.sub.Run)
	}
	start("poller", d.poller.Run)
	start("coverage", d.runCoverage)
	start("cluster", d.runCluster)
	start("gc-tuning", d.runGCTuning)
	start("rollouts", d.runRollouts)
	d.log.Info("controller running", "version", buildinfo.Version, "devices", len(d.poller.Devices()),
		"http", d.ln.Addr().String(), "influxdb", d.influx != nil)
	<-ctx.Done()
	wg.Wait()
	d.close()
	select {
	case err := <-errc:
		return err
	default:
	}
	d.log.Info("controller stopped")
	return nil
}

// Reload applies a new configuration's inventory: devices added, removed
// or changed in devices.csv. Other changes (broker, InfluxDB, HTTP) need
// a restart and are reported as such.
func (d *Daemon) Reload(cfg *config.Config) error {
	devs, err := cfg.Devices()
	if err != nil {
		return err
	}
	ch, err := d.setDevices(devs)
	if err != nil {
		return err
	}
	d.alerts.SetTopology(parents(cfg))
	if err := d.alerts.SetMaintenance(cfg.Alerts.Maintenance); err != nil {
		d.log.Error("maintenance windows of the new configuration refused; the previous ones stay", "err", err)
	}
	d.ingest.SetGateways(gatewaySites(cfg))
	d.mu.Lock()
	old := d.cfg
	d.cfg = cfg
	d.mu.Unlock()
	d.dropCoverage() // it holds the previous inventory
	d.recomputeCoverage()
	d.log.Info("inventory reloaded", "devices", len(devs), "added", len(ch.Added), "removed", len(ch.Removed),
		"changed", len(ch.Changed), "gateways", len(cfg.LoadedInventory().Gateways))
	for _, f := range restartFields(old, cfg) {
		d.log.Warn("configuration change needs a restart to apply", "field", f)
	}
	return nil
}

// restartFields names the sections that changed but apply only at start.
func restartFields(a, b *config.Config) []string {
	var out []string
	if fmt.Sprint(a.MQTT) != fmt.Sprint(b.MQTT) {
		out = append(out, "mqtt")
	}
	if fmt.Sprint(a.InfluxDB) != fmt.Sprint(b.InfluxDB) {
		out = append(out, "influxdb")
	}
	if !a.HTTP.Equal(&b.HTTP) {
		out = append(out, "http")
	}
	if fmt.Sprint(a.Alerts.Rules, a.Alerts.Webhooks, a.Alerts.Flap) != fmt.Sprint(b.Alerts.Rules, b.Alerts.Webhooks, b.Alerts.Flap) {
		out = append(out, "alerts (rules, webhooks, flap)")
	}
	if a.StateDir != b.StateDir {
		out = append(out, "state_dir")
	}
	if a.Cluster != b.Cluster {
		out = append(out, "cluster")
	}
	if (a.Rollout == nil) != (b.Rollout == nil) || (a.Rollout != nil && *a.Rollout != *b.Rollout) {
		out = append(out, "rollout")
	}
	return out
}

// close releases what New opened, the MQTT side first (no message comes
// in while the ingest closes), then the ingest, the alerts and the
// InfluxDB buffer the others write to.
func (d *Daemon) close() {
	if d.sub != nil {
		if err := d.sub.Close(); err != nil {
			d.log.Error("closing the broker connection", "err", err)
		}
	}
	if d.embedded != nil {
		d.embedded.Close()
	}
	if d.ingest != nil {
		if err := d.ingest.Close(); err != nil {
			d.log.Error("closing the ingest state", "err", err)
		}
	}
	if d.alerts != nil {
		if err := d.alerts.Close(); err != nil {
			d.log.Error("closing the alert engine", "err", err)
		}
	}
	if d.ln != nil {
		d.ln.Close()
	}
	if d.influx != nil {
		d.polls.flush() // polls that ended after the last flush
		if err := d.influx.Close(); err != nil {
			d.log.Error("closing the InfluxDB buffer", "err", err)
		}
	}
}

// pollResult is a poll as its MeasPoll point tells it.
func pollResult(p *poller.Poll) series.PollResult {
	r := series.PollResult{Time: p.Start.Add(p.Duration), Status: series.PollStatus(p.Err), Duration: p.Duration,
		Varbinds: p.Varbinds, Warnings: len(p.Warnings)}
	if p.Document != nil {
		r.Truncated = p.Document.Truncated
	}
	return r
}
