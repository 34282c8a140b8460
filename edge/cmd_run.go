package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/ngic/ngic/drivers/gpio/gpiopins"
	"github.com/ngic/ngic/drivers/gpio/labpin"
	_ "github.com/ngic/ngic/drivers/rfid/all" // every reader protocol
	"github.com/ngic/ngic/edge/config"
	"github.com/ngic/ngic/edge/gateway"
	"github.com/ngic/ngic/edge/publish/brokerurl"
	"github.com/ngic/ngic/internal/cli"
)

func init() { commands = append(commands, newRunCmd, newCheckConfigCmd) }

func newRunCmd() *cobra.Command {
	var path, labControl string
	c := &cobra.Command{
		Use:   "run --config FILE",
		Short: "Run the gateway: readers and photo-eyes to the spool and the broker",
		Long: "Run the gateway: readers and photo-eyes to the spool and the broker.\n\n" +
			"--lab-control ADDR (lab only) accepts emulated photo-eye pins (pin: lab:NAME) and serves the HTTP control " +
			"that drives them on ADDR, 127.0.0.1:PORT or unix:/path (loopback only): POST /pins/NAME?level=low|high, " +
			"POST /pins/NAME/pulse?ms=N, GET /pins. Never use it on a gateway in service.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.LoadWith(path, config.Options{LabPins: labControl != ""})
			if err != nil {
				return err
			}
			log := cli.Logger(cfg.Log.Level)
			if limit := applyMemoryLimit(); limit > 0 {
				log.Debug("memory limit", "memory_limit_bytes", limit)
			}
			opts := gateway.Opts{Logger: log}
			agent, err := updateAgent(cfg, &opts, log)
			if err != nil {
				return err
			}
			if labControl == "" {
				return runGateway(cmd.Context(), cfg, opts, agent, followHeap(log))
			}
			l, err := labpin.Listen(labControl)
			if err != nil {
				return fmt.Errorf("--lab-control: %w", err)
			}
			defer l.Close() // removes a unix socket even when the gateway fails to start
			bank := labpin.NewBank()
			opts.OpenPin = bank.OpenPin(gpiopins.Open)
			return runGateway(cmd.Context(), cfg, opts, agent, followHeap(log), func(ctx context.Context, _ *gateway.Gateway) error {
				log.Warn("LAB ONLY: emulated photo-eye pins, driven from the lab control; never on a gateway in service",
					"lab_control", l.Addr().String(), "pins", bank.States())
				return labpin.Serve(ctx, l, bank)
			})
		},
	}
	c.Flags().StringVarP(&path, "config", "c", "/etc/ngic/edge.yaml", "configuration file")
	c.Flags().StringVar(&labControl, "lab-control", "",
		"LAB ONLY: accept emulated pins (pin: lab:NAME) and serve their control on 127.0.0.1:PORT or unix:/path")
	return c
}

// runGateway runs a gateway until SIGINT or SIGTERM. Each non-nil
// alongside runs beside it once the gateway is built, with a context that
// ends when the gateway stops; its error stops the gateway (errRestart, an
// update's restart, stops it without being an error).
func runGateway(ctx context.Context, cfg *config.Config, opts gateway.Opts, alongside ...func(context.Context, *gateway.Gateway) error) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	g, err := gateway.New(cfg, opts)
	if err != nil {
		return err
	}
	alongside = slices.DeleteFunc(alongside, func(f func(context.Context, *gateway.Gateway) error) bool { return f == nil })
	ctx, cancel := context.WithCancelCause(ctx)
	side := make(chan error, len(alongside))
	for _, f := range alongside {
		go func() {
			err := f(ctx, g)
			if err != nil {
				cancel(err)
			}
			side <- err
		}()
	}
	err = g.Run(ctx)
	cancel(nil)
	for range alongside {
		if serr := <-side; serr != nil && err == nil && !errors.Is(serr, errRestart) {
			err = serr
		}
	}
	return err
}

func newCheckConfigCmd() *cobra.Command {
	var lab bool
	c := &cobra.Command{
		Use:   "check-config FILE",
		Short: "Check a configuration file; exit 0, or print the field and line that is wrong",
		Long: "Decodes and validates the file as run does, and checks on this machine what run will use: the password, " +
			"CA, certificate and key files and the spool's file and directory. Exit 0 means run starts with this file " +
			"(with --lab: run --lab-control starts with it).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.LoadWith(args[0], config.Options{LabPins: lab})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok: gateway %s, %d readers, %d sensors, %d pairs, broker %s\n",
				args[0], cfg.Gateway, len(cfg.Readers), len(cfg.Sensors), len(cfg.Pairs), brokerurl.Redact(cfg.MQTT.Broker))
			return nil
		},
	}
	c.Flags().BoolVar(&lab, "lab", false, "LAB ONLY: accept emulated pins (pin: lab:NAME), as run --lab-control does")
	return c
}
