package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/ngic/ngic/controller/config"
	"github.com/ngic/ngic/controller/coverage"
	"github.com/ngic/ngic/controller/inventory"
	"github.com/ngic/ngic/controller/report"
	"github.com/ngic/ngic/internal/cli"
)

func init() { commands = append(commands, newReportCmd) }

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

// progressEvery bounds how often the progress line is rewritten: 200,000
// polls must not wait on a slow terminal.
const progressEvery = 100 * time.Millisecond

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
	var inv *inventory.Inventory
	if f.config != "" {
		// The report connects to no broker and no InfluxDB: their files
		// are not read.
		if cfg, err = config.LoadWith(f.config, config.LoadOptions{Inventory: f.inventory, NoHost: true}); err != nil {
			return err
		}
		inv = cfg.LoadedInventory()
	} else if inv, err = inventory.Load(f.inventory, inventory.Options{}); err != nil {
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
	out, err := cli.OpenOutput(f.output, cmd.OutOrStdout())
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer out.Abort()
	pr := cli.TerminalProgress(cmd.ErrOrStderr(), progressEvery)
	total := len(inv.Devices)
	devs, source, err := report.Gather(ctx, inv, cfg, report.GatherOptions{Poll: f.poll,
		Progress: func(done, down int) { pr.Update(done == total, "polled %d/%d devices, %d down", done, total, down) }})
	pr.End()
	if err != nil {
		return err
	}
	covCfg := coverage.DefaultConfig()
	if cfg != nil {
		covCfg = cfg.Coverage // validated by config.LoadWith, defaults filled
	}
	// Trails kept compact: a national inventory's in full would take some
	// 250 bytes an entry; the writers expand one village at a time.
	res := coverage.ComputeCompact(inv, devs, &covCfg, time.Now().UTC())
	opts := report.Options{Source: source}
	if !compareAt.IsZero() {
		if opts.Compare, err = report.CompareWith(cfg, compareAt, res); err != nil {
			return err
		}
	}
	if err := report.Write(out, format, res, opts); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := out.Commit(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
