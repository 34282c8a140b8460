package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	_ "github.com/ngic/ngic/drivers/rfid/all" // every reader protocol
	"github.com/ngic/ngic/edge/config"
	"github.com/ngic/ngic/edge/gateway"
	"github.com/ngic/ngic/edge/publish/brokerurl"
	"github.com/ngic/ngic/internal/cli"
)

func init() { commands = append(commands, newRunCmd, newCheckConfigCmd) }

func newRunCmd() *cobra.Command {
	var path string
	c := &cobra.Command{
		Use:   "run --config FILE",
		Short: "Run the gateway: readers and photo-eyes to the spool and the broker",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(path)
			if err != nil {
				return err
			}
			return runGateway(cmd.Context(), cfg, gateway.Opts{Logger: cli.Logger(cfg.Log.Level)})
		},
	}
	c.Flags().StringVarP(&path, "config", "c", "/etc/ngic/edge.yaml", "configuration file")
	return c
}

// runGateway runs a gateway until SIGINT or SIGTERM.
func runGateway(ctx context.Context, cfg *config.Config, opts gateway.Opts) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	g, err := gateway.New(cfg, opts)
	if err != nil {
		return err
	}
	return g.Run(ctx)
}

func newCheckConfigCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "check-config FILE",
		Short: "Check a configuration file; exit 0, or print the field and line that is wrong",
		Long: "Decodes and validates the file as run does, and checks on this machine what run will use: the password, " +
			"CA, certificate and key files and the spool's file and directory. Exit 0 means run starts with this file.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok: gateway %s, %d readers, %d sensors, %d pairs, broker %s\n",
				args[0], cfg.Gateway, len(cfg.Readers), len(cfg.Sensors), len(cfg.Pairs), brokerurl.Redact(cfg.MQTT.Broker))
			return nil
		},
	}
}
