package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/ngic/ngic/controller/config"
	"github.com/ngic/ngic/controller/daemon"
	"github.com/ngic/ngic/internal/cli"
)

func init() { commands = append(commands, newRunCmd) }

func newRunCmd() *cobra.Command {
	var path, level, shard string
	var profiles bool
	c := &cobra.Command{
		Use:   "run --config FILE",
		Short: "Run the controller: poll the inventory, ingest the gateways, raise alerts, write InfluxDB",
		Long: `Run the controller until SIGINT or SIGTERM. SIGHUP reads the configuration and the
inventory again: devices added, removed or changed in devices.csv are picked up, the
others keep their state. A configuration that does not load is refused and the running
one kept. SIGUSR1 computes coverage and stores a snapshot of it at once (snapshots are
otherwise stored every coverage.snapshot_every).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(path)
			if err != nil {
				return err
			}
			log := cli.Logger(level)
			d, err := daemon.New(cfg, daemon.Options{Logger: log, Pprof: profiles, ConfigPath: path, Shard: shard})
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			usr1 := make(chan os.Signal, 1)
			signal.Notify(usr1, syscall.SIGUSR1)
			defer signal.Stop(usr1)
			go func() {
				for {
					select {
					case <-ctx.Done():
						return
					case <-usr1:
						if err := d.SnapshotCoverage(ctx); err != nil && ctx.Err() == nil {
							log.Error("coverage snapshot on demand failed", "err", err)
						}
					case <-hup:
						next, err := config.Load(path)
						if err == nil {
							err = d.Reload(next)
						}
						if err != nil {
							log.Error("reload refused: the running configuration is kept", "config", path, "err", err)
						}
					}
				}
			}()
			return d.Run(ctx)
		},
	}
	c.Flags().StringVarP(&path, "config", "c", "/etc/ngic/controller.yaml", "configuration file")
	c.Flags().StringVar(&level, "log-level", "info", "log level: debug, info, warn or error")
	c.Flags().StringVar(&shard, "shard", "", "with cluster.enabled: this replica's identity i/n (default: cluster.shard, or the ordinal of a StatefulSet hostname <name>-<ordinal>)")
	c.Flags().BoolVar(&profiles, "pprof", false, "serve Go's CPU and memory profiles under /debug/pprof/ on the status server (loopback http.listen only)")
	return c
}
