package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/ngic/ngic/edge/config"
	"github.com/ngic/ngic/edge/update"
	"github.com/ngic/ngic/internal/cli"
)

func init() { commands = append(commands, newSuperviseCmd) }

func newSuperviseCmd() *cobra.Command {
	var root string
	var healthTimeout time.Duration
	var maxBoots int
	c := &cobra.Command{
		Use:   "supervise [--root DIR] -- run --config FILE",
		Short: "Run the active update slot's ngic-edge with the given arguments, and keep or roll back a new version",
		Long: "Run the active update slot's ngic-edge (or this program when no update was ever installed) with the " +
			"arguments after --, restarting it after an exit with backoff and forwarding SIGTERM and SIGINT. A new " +
			"version on trial must prove healthy within update.health_timeout and without exiting update.max_boots " +
			"times; otherwise it is stopped and the previous version runs again. The update settings are read from " +
			"the configuration named by --config in the arguments; the flags override them.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			log := cli.Logger("info").With("component", "supervisor")
			u, err := childUpdateConfig(args)
			if err != nil {
				log.Warn("update settings from the defaults and flags only", "err", err)
			}
			if cmd.Flags().Changed("root") {
				u.Root = root
			}
			if cmd.Flags().Changed("health-timeout") {
				u.HealthTimeout = healthTimeout
			}
			if cmd.Flags().Changed("max-boots") {
				u.MaxBoots = maxBoots
			}
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("supervise: %w", err)
			}
			s, err := update.NewSupervisor(update.SupervisorOpts{Layout: update.Layout{Root: u.Root}, Args: args,
				Self: self, HealthTimeout: u.HealthTimeout, MaxBoots: u.MaxBoots, Logger: log})
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return s.Run(ctx)
		},
	}
	c.Flags().StringVar(&root, "root", config.DefaultUpdateRoot, "install root (slots, state.json); default update.root")
	c.Flags().DurationVar(&healthTimeout, "health-timeout", config.DefaultHealthTimeout,
		"how long a new version has to prove healthy; default update.health_timeout")
	c.Flags().IntVar(&maxBoots, "max-boots", config.DefaultMaxBoots,
		"exits of a new version before it is rolled back; default update.max_boots")
	return c
}

// childUpdateConfig returns the update section of the configuration the
// child's arguments name (--config FILE, -c FILE, --config=FILE; the run
// default otherwise), with defaults. A file that cannot be read or is not
// valid gives the defaults, with the error: the supervisor must run
// whatever the configuration holds.
func childUpdateConfig(args []string) (config.Update, error) {
	path := "/etc/ngic/edge.yaml"
	for i, a := range args {
		switch {
		case (a == "--config" || a == "-c") && i+1 < len(args):
			path = args[i+1]
		case len(a) > len("--config=") && a[:len("--config=")] == "--config=":
			path = a[len("--config="):]
		}
	}
	b, err := os.ReadFile(path)
	if err == nil {
		var cfg *config.Config
		if cfg, err = config.Parse(path, b); err == nil {
			return cfg.Update, nil
		}
	}
	return config.Update{Root: config.DefaultUpdateRoot, HealthTimeout: config.DefaultHealthTimeout,
		MaxBoots: config.DefaultMaxBoots}, err
}
