package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/ngic/ngic/edge/demo"
	"github.com/ngic/ngic/internal/cli"
)

func init() { commands = append(commands, newDemoCmd) }

func newDemoCmd() *cobra.Command {
	var o demo.Opts
	var stopAfter time.Duration
	c := &cobra.Command{
		Use:   "demo",
		Short: "Run one gateway on embedded defaults: emulated reader, embedded broker; print the events (make run runs the whole system)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if stopAfter > 0 {
				var cancel func()
				ctx, cancel = context.WithTimeout(ctx, stopAfter)
				defer cancel()
			}
			o.Logger = cli.Logger("info")
			return demo.Run(ctx, o, cmd.OutOrStdout())
		},
	}
	f := c.Flags()
	f.StringVar(&o.Protocol, "protocol", "magicrf", "emulated reader protocol")
	f.StringVar(&o.BrokerListen, "broker-listen", "127.0.0.1:1883", "embedded broker address")
	f.StringVar(&o.HTTPListen, "http-listen", "127.0.0.1:9470", "status server address (/healthz, /metrics)")
	f.StringVar(&o.Dir, "dir", "", "folder for the spool (default: a temporary one)")
	f.DurationVar(&o.Period, "period", 2*time.Second, "how often a tag enters or leaves the field")
	f.DurationVar(&stopAfter, "for", 0, "stop after this long, as on Ctrl-C (0: run until interrupted)")
	return c
}
