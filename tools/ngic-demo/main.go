// Command ngic-demo runs the whole of ngic on this machine on embedded
// defaults (what `make run` runs): the SNMP simulator serving a generated
// county, ngic-controller with its embedded broker and dashboard, and two
// ngic-edge gateways on emulated readers and an emulated cabinet door. It
// prints the dashboard's URL and sign-in token and plays a scenario until
// Ctrl-C (internal/demo).
//
// This file is wiring only: flags and signals.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/ngic/ngic/internal/buildinfo"
	"github.com/ngic/ngic/internal/demo"
)

func main() {
	o := demo.Opts{Timing: demo.DefaultTiming}
	c := &cobra.Command{
		Use:   "ngic-demo",
		Short: "Run the whole of ngic on this machine on embedded defaults; Ctrl-C stops it",
		Long: `Run the whole of ngic on 127.0.0.1 with nothing installed: the SNMP simulator serving a generated
county, ngic-controller with its embedded MQTT broker (no InfluxDB: its in-memory history serves the
dashboard), and two ngic-edge gateways reading emulated readers of two protocols and an emulated
cabinet-door photo-eye. It prints the dashboard's URL and sign-in token, then, over and over, moves
tags through the readers' fields, holds the cabinet door open and closes it, and takes a device down
and brings it back, so that alerts raise and resolve. Ctrl-C (or SIGTERM) stops every program and
removes the temporary folder. A second ngic-demo while one runs says where the first one is.`,
		Version:       buildinfo.String(),
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Bin == "" {
				exe, err := os.Executable()
				if err != nil {
					return err
				}
				o.Bin = filepath.Dir(exe)
			}
			o.Out = cmd.OutOrStdout()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
			defer stop()
			return demo.Run(ctx, o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.Bin, "bin", "", "folder of ngic-controller and ngic-edge (default: this program's folder)")
	f.StringVar(&o.HTTP, "http", demo.DefaultHTTP, "dashboard address, loopback only (a free port when it is taken)")
	f.IntVar(&o.Villages, "villages", demo.DefaultVillages, "villages of the generated county")
	f.Int64Var(&o.Seed, "seed", 1, "seed of the generated county")
	f.StringVar(&o.Lock, "lock", "", "name of the instance lock (default ngic-demo-UID): one demo per name")
	t := &o.Timing
	f.DurationVar(&t.TagPeriod, "tag-period", t.TagPeriod, "how often a tag enters or leaves a reader's field")
	f.DurationVar(&t.Poll, "poll", t.Poll, "the controller's poll interval")
	f.DurationVar(&t.DownAfter, "down-after", t.DownAfter, "how long a device is down before its alert raises")
	f.DurationVar(&t.HeldAfter, "held-after", t.HeldAfter, "how long the cabinet door is open before it counts as held open")
	f.DurationVar(&t.Linger, "linger", t.Linger, "how long a raised alert's condition is kept before it is cleared")
	f.DurationVar(&t.Pause, "pause", t.Pause, "the wait between two steps of the scenario")
	f.DurationVar(&t.Wait, "wait", t.Wait, "the longest wait for a program to start or an alert to change")
	if err := c.Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "ngic-demo: %v\n", err)
		os.Exit(1)
	}
}
