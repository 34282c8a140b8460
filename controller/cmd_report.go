package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/ngic/ngic/controller/config"
	"github.com/ngic/ngic/controller/coverage"
	"github.com/ngic/ngic/controller/device"
	"github.com/ngic/ngic/controller/inventory"
	"github.com/ngic/ngic/controller/poller"
	"github.com/ngic/ngic/controller/report"
	"github.com/ngic/ngic/controller/snmp"
)

func init() { commands = append(commands, newReportCmd) }

// Files of the running controller's state_dir that the report reads.
const (
	// devicesSnapshot is the poller's device snapshot (controller/daemon
	// writes it there).
	devicesSnapshot = "devices.snapshot"
	// coverageStore is the folder of the coverage snapshots
	// (controller/coverage.Store).
	coverageStore = "coverage"
)

// newReportCmd builds `ngic-controller report`, the parent of the reports.
func newReportCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "report",
		Short: "Write planners' reports (coverage)",
		Args:  cobra.NoArgs,
	}
	c.AddCommand(newReportCoverageCmd())
	return c
}

// coverageFlags are the flags of `ngic-controller report coverage`.
type coverageFlags struct {
	inventory, config, compare, format, output string
	poll                                       bool
}

func newReportCoverageCmd() *cobra.Command {
	f := &coverageFlags{}
	c := &cobra.Command{
		Use:   "coverage --inventory DIR [--config FILE] [--poll] [--compare DATE] --format json|csv|geojson|html [--output FILE]",
		Short: "Report broadband and digital TV coverage, convergence and gaps per village and region",
		Long: `Report, for every village of the inventory, its broadband class (unserved, underserved,
served, or the tiers of the configuration), the evidence it rests on (measured, declared,
override or none) with its trail, digital TV, convergence and take-up; the roll-ups per
township, county, prefecture and province, weighted by households and by population; and
the gap list of unserved and underserved villages ranked by households left out.

The evidence comes from:
  --poll     every device of devices.csv polled once now, in parallel (at most
             poll.concurrency at once), with a progress line on stderr when it is a
             terminal (none in a pipe or a file);
  otherwise  the running controller's device snapshot in the configuration's state_dir,
             when --config is given and the snapshot exists; else devices are unknown
             and the report rests on declared.csv and overrides.csv alone.

Without --config, devices.csv may only give inline communities (community:<string>)
and the coverage thresholds are the defaults. With --config, the configuration gives
the credentials, the poll settings and the coverage section; --inventory overrides the
configuration's inventory.

--compare DATE (YYYY-MM-DD or RFC 3339) adds what changed since the coverage snapshot
kept at or before DATE in the configuration's state_dir: villages that moved class and
shares up or down (json: a "compare" member; csv and html: the moves). It needs --config.

Formats (controller/report/README.md):
  json     villages, regions, gaps (and compare)
  csv      one row per village, UTF-8 with a byte-order mark, columns in a fixed order
  geojson  an RFC 7946 FeatureCollection of village points (lon, lat), for QGIS
  html     one self-contained printable page, charts drawn inline (no network)

The report goes to --output (written whole, or not at all), else to stdout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runReportCoverage(cmd, f) },
	}
	fl := c.Flags()
	fl.StringVar(&f.inventory, "inventory", "", "inventory folder (default: the configuration's inventory)")
	fl.StringVar(&f.config, "config", "", "controller configuration (credentials, poll settings, coverage, state_dir)")
	fl.BoolVar(&f.poll, "poll", false, "poll every device once first")
	fl.StringVar(&f.compare, "compare", "", "compare with the coverage snapshot at or before DATE (YYYY-MM-DD or RFC 3339)")
	fl.StringVar(&f.format, "format", "", "json, csv, geojson or html")
	fl.StringVarP(&f.output, "output", "o", "", "file to write, whole or not at all (default, or -: stdout)")
	return c
}

// parseCompareDate reads --compare: a date (YYYY-MM-DD, meaning the end of
// that day UTC, so that the day's snapshots count) or an RFC 3339
// date-time.
func parseCompareDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.Add(24*time.Hour - time.Nanosecond), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("report: --compare %q: want a date YYYY-MM-DD or an RFC 3339 date-time", s)
	}
	return t, nil
}

// pollResult is what one device's poll left.
type pollResult struct {
	doc *device.Document
	err error
	at  time.Time
}

// pollAll polls every device once, at most conc at once, each within its
// deadline, and calls tick (under a lock) after each poll ends. A device
// that got no answer, or no turn before its deadline, has an error.
func pollAll(ctx context.Context, devs []config.DeviceConfig, conc int, tick func(done, down int)) (map[string]pollResult, error) {
	set, err := device.DefaultProfiles()
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	sched, err := snmp.NewScheduler(snmp.SchedulerConfig{MaxConcurrent: conc})
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	var mu sync.Mutex
	out := make(map[string]pollResult, len(devs))
	down := 0
	closed := false // set once the cycle is over: a poll abandoned at its deadline may end later
	for _, d := range devs {
		id := d.ID
		poll := func(ctx context.Context, c snmp.Client) error {
			start := time.Now()
			doc, _, err := device.Collect(ctx, c, set)
			mu.Lock()
			defer mu.Unlock()
			if closed {
				return err
			}
			if err != nil {
				err = fmt.Errorf("poll %s: %w", d.SNMP.Target, err)
				down++
			}
			out[id] = pollResult{doc: doc, err: err, at: start}
			tick(len(out), down)
			return err
		}
		if err := sched.AddDevice(snmp.Device{ID: id, Config: d.SNMP, Interval: d.Interval, Poll: poll}); err != nil {
			return nil, fmt.Errorf("report: device %s: %w", id, err)
		}
	}
	err = sched.RunCycle(ctx)
	for _, d := range devs {
		sched.RemoveDevice(d.ID) // closes its session once its poll has ended
	}
	mu.Lock()
	defer mu.Unlock()
	closed = true
	if err != nil {
		return nil, err
	}
	for _, d := range devs {
		if _, ok := out[d.ID]; !ok {
			out[d.ID] = pollResult{err: fmt.Errorf("poll %s: %w", d.SNMP.Target, snmp.ErrDeadline), at: time.Now()}
			down++
			tick(len(out), down)
		}
	}
	return out, nil
}

// progress is the line that counts the polls on a terminal: rewritten in
// place with \r, ended with a newline. On anything else it writes nothing.
type progress struct {
	w     io.Writer // nil: not a terminal
	total int
	shown bool
	last  time.Time // when the line was last written
}

// progressEvery bounds how often the line is rewritten: 200,000 polls
// must not wait on a slow terminal.
const progressEvery = 100 * time.Millisecond

// newProgress returns the progress line of total polls on w, silent unless
// w is a terminal.
func newProgress(w io.Writer, total int) *progress {
	p := &progress{total: total}
	if isTerminal(w) {
		p.w = w
	}
	return p
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// tick shows done of total polls, down of them without an answer: the
// first, the last, and at most one every progressEvery between.
func (p *progress) tick(done, down int) {
	if p.w == nil {
		return
	}
	now := time.Now()
	if p.shown && done < p.total && now.Sub(p.last) < progressEvery {
		return
	}
	p.last = now
	fmt.Fprintf(p.w, "\rpolled %d/%d devices, %d down", done, p.total, down)
	p.shown = true
}

// end ends the line, if one was shown.
func (p *progress) end() {
	if p.w != nil && p.shown {
		fmt.Fprintln(p.w)
		p.shown = false
	}
}

// outputFile is the report's destination: stdout, or a temporary file
// beside --output renamed over it once the report is whole, so that a
// failed report leaves no half-written file. Creating it first finds an
// unwritable output before any poll.
type outputFile struct {
	path string
	tmp  *os.File
	w    io.Writer
}

func openOutput(path string, stdout io.Writer) (*outputFile, error) {
	if path == "" || path == "-" {
		return &outputFile{w: stdout}, nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("report: --output %s: %w", path, err)
	}
	return &outputFile{path: path, tmp: tmp, w: tmp}, nil
}

// commit syncs the temporary file and renames it over the output.
func (o *outputFile) commit() error {
	if o.tmp == nil {
		return nil
	}
	err := o.tmp.Sync()
	if cerr := o.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(o.tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(o.tmp.Name(), o.path)
	}
	if err != nil {
		os.Remove(o.tmp.Name())
		return fmt.Errorf("report: --output %s: %w", o.path, err)
	}
	o.tmp = nil
	return nil
}

// abort removes the temporary file of a report that failed.
func (o *outputFile) abort() {
	if o.tmp != nil {
		o.tmp.Close()
		os.Remove(o.tmp.Name())
		o.tmp = nil
	}
}

// deviceConfigs turns the inventory's devices into SNMP configurations:
// a device of the configuration's inventory at the same address (and
// with the same inline community, if it has one) as the configuration
// gives it (cfg.Devices: credentials, poll settings and overrides); any
// other device with an inline community as v2c with the poll settings
// of cfg (or the defaults).
func deviceConfigs(inv *inventory.Inventory, cfg *config.Config) ([]config.DeviceConfig, error) {
	settings := config.PollSettings{Interval: config.DefaultPollInterval, Timeout: snmp.DefaultTimeout}
	retries := snmp.DefaultRetries
	maxRep := snmp.DefaultMaxRepetitions
	known := map[string]config.DeviceConfig{}
	if cfg != nil {
		settings = cfg.Poll.PollSettings
		retries, maxRep = *settings.Retries, settings.MaxRepetitions
		if cfg.LoadedInventory() != nil {
			devs, err := cfg.Devices()
			if err != nil {
				return nil, err
			}
			for _, d := range devs {
				known[d.ID] = d
			}
		}
	}
	name := filepath.Join(inv.Dir, "devices.csv")
	out := make([]config.DeviceConfig, 0, len(inv.Devices))
	for i := range inv.Devices {
		d := &inv.Devices[i]
		k, ok := known[d.ID]
		if ok && k.SNMP.Target == snmpTarget(d.Address) && (d.Community() == "" || k.SNMP.Community == d.Community()) {
			out = append(out, k)
			continue
		}
		if d.Community() == "" {
			return nil, fmt.Errorf("report: %s:%d: device %s: credentials %q: %s", name, d.Line, d.ID, d.Credentials, credentialsHint(cfg))
		}
		sc := snmp.Config{Target: d.Address, Version: "2c", Community: d.Community(), Timeout: settings.Timeout,
			Retries: retries, MaxRepetitions: uint32(maxRep)}
		if sc.Retries == 0 {
			sc.Retries = -1 // snmp.Config reads 0 as the default
		}
		if err := sc.Validate(); err != nil {
			return nil, fmt.Errorf("report: %s:%d: device %s: %w", name, d.Line, d.ID, err)
		}
		out = append(out, config.DeviceConfig{ID: d.ID, Site: d.Site, Parent: d.Parent, Interval: settings.Interval, SNMP: sc})
	}
	return out, nil
}

// snmpTarget is the address as snmp.Config.Validate leaves it (port 161
// added when absent).
func snmpTarget(addr string) string {
	c := snmp.Config{Target: addr, Version: "2c", Community: "x"}
	if c.Validate() != nil {
		return addr
	}
	return c.Target
}

// credentialsHint says why a device naming credentials cannot be polled.
func credentialsHint(cfg *config.Config) string {
	if cfg == nil {
		return "named credentials need --config (or give community:<string>)"
	}
	return "not a device of the configuration's inventory: with --inventory other than the configuration's, only inline communities (community:<string>) can be polled"
}

// readSnapshot reads the running controller's device snapshot at path
// (nil, nil when there is none), for the devices ids. The snapshot is
// linked or copied into a temporary folder first, so that nothing here
// touches the running controller's state folder (poller.New removes the
// temporary files of a snapshot being written).
func readSnapshot(path string, ids []string) ([]poller.DeviceState, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	dir, err := os.MkdirTemp("", "ngic-report-")
	if err != nil {
		return nil, fmt.Errorf("report: snapshot: %w", err)
	}
	defer os.RemoveAll(dir)
	cp := filepath.Join(dir, devicesSnapshot)
	if err := linkOrCopy(path, cp); err != nil {
		return nil, fmt.Errorf("report: snapshot: %w", err)
	}
	p, err := poller.New(poller.Options{SnapshotPath: cp})
	if err != nil {
		// Name the controller's file, not the link.
		return nil, fmt.Errorf("report: the controller's device snapshot cannot be read: %s", strings.ReplaceAll(err.Error(), cp, path))
	}
	devs := make([]config.DeviceConfig, 0, len(ids))
	for _, id := range ids {
		// Target and interval are placeholders: nothing is polled.
		devs = append(devs, config.DeviceConfig{ID: id, Interval: time.Hour,
			SNMP: snmp.Config{Target: "127.0.0.1:1", Version: "2c", Community: "x"}})
	}
	if _, err := p.SetDevices(devs); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	out := make([]poller.DeviceState, 0, len(ids))
	for _, id := range ids {
		if st, ok := p.Device(id); ok && st.State != poller.StateUnknown {
			out = append(out, st)
		}
	}
	return out, nil
}

func runReportCoverage(cmd *cobra.Command, f *coverageFlags) error {
	format, err := report.ParseFormat(f.format)
	if err != nil {
		return err
	}
	var compareAt time.Time
	if f.compare != "" {
		if f.config == "" {
			return errors.New("report: --compare needs --config (its state_dir keeps the coverage snapshots)")
		}
		if compareAt, err = parseCompareDate(f.compare); err != nil {
			return err
		}
	}
	if f.inventory == "" && f.config == "" {
		return errors.New("report: give --inventory DIR (or --config FILE naming one)")
	}
	var cfg *config.Config
	if f.config != "" {
		// The report connects to no broker and no InfluxDB: their files
		// are not read.
		if cfg, err = config.LoadNoHost(f.config); err != nil {
			return err
		}
	}
	inv, err := loadInventory(f.inventory, cfg)
	if err != nil {
		return err
	}
	if !inv.HasRegions() {
		return fmt.Errorf("report: %s has no regions.csv: coverage is reported per village and region", inv.Dir)
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	// Interrupted, the polls stop and the partial output is removed.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	out, err := openOutput(f.output, cmd.OutOrStdout())
	if err != nil {
		return err
	}
	defer out.abort()
	devs, source, err := evidence(ctx, cmd.ErrOrStderr(), f.poll, inv, cfg)
	if err != nil {
		return err
	}
	covCfg := coverageConfig(cfg)
	now := time.Now().UTC()
	res := coverage.Compute(inv, devs, &covCfg, now)
	opts := report.Options{Source: source}
	if !compareAt.IsZero() {
		if opts.Compare, err = compareWith(cfg, covCfg, compareAt, res); err != nil {
			return err
		}
	}
	if err := report.Write(out.w, format, res, opts); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return out.commit()
}

// loadInventory reads the inventory: --inventory when given, else the one
// the configuration loaded. With a configuration, devices.csv's
// credentials must name the configuration's.
func loadInventory(dir string, cfg *config.Config) (*inventory.Inventory, error) {
	if dir == "" {
		return cfg.LoadedInventory(), nil
	}
	var opt inventory.Options
	if cfg != nil {
		opt.Credentials = make(map[string]string, len(cfg.Credentials))
		for name, c := range cfg.Credentials {
			opt.Credentials[name] = c.Version
		}
	}
	return inventory.Load(dir, opt)
}

// coverageConfig is the configuration's coverage section (validated by
// config.Load, defaults filled), else the defaults.
func coverageConfig(cfg *config.Config) coverage.Config {
	if cfg == nil {
		return coverage.DefaultConfig()
	}
	return cfg.Coverage
}

// compareWith reads the latest coverage snapshot at or before at from the
// store in the configuration's state_dir and compares res with it.
//
// The running controller owns that folder: the store is opened on a
// temporary folder of hard links to its snapshots (copies where links
// cannot be made), so that nothing here removes a snapshot being written
// or moves a damaged one aside.
func compareWith(cfg *config.Config, covCfg coverage.Config, at time.Time, res *coverage.Result) (*coverage.Diff, error) {
	dir := filepath.Join(cfg.StateDir, coverageStore)
	when := at.UTC().Format(time.RFC3339)
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("report: --compare: %w", err)
	}
	links, err := os.MkdirTemp("", "ngic-report-")
	if err != nil {
		return nil, fmt.Errorf("report: --compare: %w", err)
	}
	defer os.RemoveAll(links)
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, "coverage-") || !strings.HasSuffix(name, ".json.gz") {
			continue
		}
		if err := linkOrCopy(filepath.Join(dir, name), filepath.Join(links, name)); err != nil {
			return nil, fmt.Errorf("report: --compare: %w", err)
		}
	}
	st, err := coverage.OpenStore(links, max(covCfg.Keep, len(ents), 1))
	if err != nil {
		return nil, fmt.Errorf("report: --compare: %w", err)
	}
	old, err := st.At(at)
	switch {
	case errors.Is(err, coverage.ErrDamaged):
		// Only the link was moved aside: name the controller's file.
		msg, _, _ := strings.Cut(err.Error(), "; moved aside")
		return nil, fmt.Errorf("report: --compare %s: the snapshot cannot be read: %s", when, strings.ReplaceAll(msg, links, dir))
	case errors.Is(err, coverage.ErrNoSnapshot):
		return nil, fmt.Errorf("report: --compare %s: no snapshot at or before %s in %s", when, when, dir)
	case err != nil:
		return nil, fmt.Errorf("report: --compare %s: %s: %w", when, dir, err)
	}
	return coverage.Compare(old, res), nil
}

// linkOrCopy makes dst a hard link to src, or a copy of it where a link
// cannot be made (another file system).
func linkOrCopy(src, dst string) error {
	if os.Link(src, dst) == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// evidence gathers each device's status, in the order of inv.Devices: by
// polling them all once (with a progress line on stderr when it is a
// terminal), else from the running controller's snapshot when the
// configuration's state_dir holds one, else none. source says which.
func evidence(ctx context.Context, stderr io.Writer, poll bool, inv *inventory.Inventory, cfg *config.Config) ([]coverage.DeviceStatus, string, error) {
	devs := make([]coverage.DeviceStatus, len(inv.Devices))
	if poll {
		confs, err := deviceConfigs(inv, cfg)
		if err != nil {
			return nil, "", err
		}
		conc := snmp.DefaultMaxConcurrent
		if cfg != nil {
			conc = cfg.Poll.Concurrency
		}
		started := time.Now().UTC()
		pr := newProgress(stderr, len(confs))
		polled, err := pollAll(ctx, confs, conc, pr.tick)
		pr.end()
		if err != nil {
			return nil, "", err
		}
		up := 0
		for i := range inv.Devices {
			r := polled[inv.Devices[i].ID]
			st := coverage.DeviceStatus{State: coverage.StateUp, Since: r.at, PolledAt: r.at, Evidence: coverage.Summarize(r.doc)}
			switch {
			case errors.Is(r.err, snmp.ErrAuth):
				st = coverage.DeviceStatus{State: coverage.StateAuthFailed, Since: r.at}
			case r.err != nil:
				st = coverage.DeviceStatus{State: coverage.StateDown, Since: r.at}
			default:
				up++
			}
			devs[i] = st
		}
		return devs, fmt.Sprintf("%d of %d devices answered a poll at %s", up, len(inv.Devices), started.Format(time.RFC3339)), nil
	}
	if cfg == nil {
		return devs, "none: no poll and no controller state (declared coverage and overrides only)", nil
	}
	path := filepath.Join(cfg.StateDir, devicesSnapshot)
	ids := make([]string, len(inv.Devices))
	for i := range inv.Devices {
		ids[i] = inv.Devices[i].ID
	}
	states, err := readSnapshot(path, ids)
	if err != nil {
		return nil, "", err
	}
	if states == nil {
		return devs, "none: no poll, and no device snapshot in " + cfg.StateDir + " (declared coverage and overrides only)", nil
	}
	byID := make(map[string]*poller.DeviceState, len(states))
	for i := range states {
		byID[states[i].ID] = &states[i]
	}
	for i := range inv.Devices {
		if st, ok := byID[inv.Devices[i].ID]; ok {
			devs[i] = coverage.DeviceStatus{State: string(st.State), Since: st.Since, PolledAt: st.LastSuccess,
				Evidence: coverage.Summarize(st.Document)}
		}
	}
	return devs, fmt.Sprintf("the controller's device snapshot %s (%d of %d devices known)", path, len(states), len(inv.Devices)), nil
}
