package main

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/ngic/ngic/controller/simulator"
	"github.com/ngic/ngic/controller/snmprec"
	"github.com/ngic/ngic/internal/cli"
)

func init() { commands = append(commands, newSimulateCmd) }

// newSimulateCmd builds `ngic-controller simulate`: serve a folder of SNMP
// recordings as live agents on one UDP port.
func newSimulateCmd() *cobra.Command {
	var dir, listen string
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Serve a folder of .snmprec recordings as SNMP v1/v2c agents (community = file name)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := cli.Logger("info").With("cmd", "simulate")
			if dir == "" {
				return fmt.Errorf("simulate: --recordings is required")
			}
			began := time.Now()
			sim, warns, err := simulator.Load(dir, simulator.Options{})
			if err != nil {
				return err
			}
			for _, w := range summarize(warns) {
				log.Warn("recording lines skipped", "file", w.file, "lines", w.count,
					"first_line", w.first.Line, "first_problem", w.first.Msg)
			}
			conn, err := net.ListenPacket("udp", listen)
			if err != nil {
				return fmt.Errorf("simulate: listen %s: %w", listen, err)
			}
			defer conn.Close()
			log.Info("serving recordings", "devices", len(sim.Devices()), "warnings", len(warns),
				"listen", conn.LocalAddr().String(), "load_seconds", time.Since(began).Seconds())
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if err := sim.Serve(ctx, conn); err != nil {
				return fmt.Errorf("simulate: %w", err)
			}
			log.Info("stopped")
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "recordings", "", "folder of .snmprec files to serve")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:1161", "UDP address to listen on")
	return cmd
}

// fileWarnings sums up the skipped lines of one recording.
type fileWarnings struct {
	file  string
	count int
	first snmprec.Warning // the lowest line skipped
}

// summarize groups warnings by file, in the order files first appear, so
// the simulator logs one line per damaged recording instead of one per
// skipped line.
func summarize(warns []snmprec.Warning) []fileWarnings {
	var out []fileWarnings
	at := map[string]int{}
	for _, w := range warns {
		i, ok := at[w.File]
		if !ok {
			i = len(out)
			at[w.File] = i
			out = append(out, fileWarnings{file: w.File, first: w})
		}
		out[i].count++
		if w.Line < out[i].first.Line {
			out[i].first = w
		}
	}
	return out
}
