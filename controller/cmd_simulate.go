package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/ngic/ngic/controller/simulator"
	"github.com/ngic/ngic/controller/simulator/loadgen"
	"github.com/ngic/ngic/controller/simulator/world"
	"github.com/ngic/ngic/controller/snmprec"
	"github.com/ngic/ngic/internal/cli"
)

func init() { commands = append(commands, newSimulateCmd) }

// newSimulateCmd builds `ngic-controller simulate`: serve a folder of SNMP
// recordings as live agents on one UDP port.
func newSimulateCmd() *cobra.Command {
	var dir, listen, control, out, load string
	batch := simulator.DefaultOptions.Batch
	lopt := loadgen.DefaultOptions
	lopt.Duration = 10 * time.Second
	wopt := world.DefaultOptions
	wopt.Villages = 0
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Serve a folder of .snmprec recordings as SNMP v1/v2c agents (community = file name); a lab tool",
		Long: `Serve every .snmprec file of a folder as a live SNMP v1/v2c agent on one UDP port; the community
is the file name without .snmprec. Files that cannot be read or hold no object are skipped with a warning.

simulate is a lab tool for tests and benchmarks, not a service to expose. It has no access control beyond
the community names (the file names), it answers with replies up to tens of times larger than the request
(an amplification vector for spoofed UDP), and it serves whatever the recordings hold. It listens on
127.0.0.1 by default; it warns when told to listen on anything other than a loopback address.

--control 127.0.0.1:PORT (loopback only) serves a lab control over HTTP: POST /agents/COMMUNITY/down makes that
agent answer nothing, like a dead device, POST /agents/COMMUNITY/up brings it back, GET /agents lists each
agent and its state. Other agents are unaffected.

--world N --out DIR does not serve: it writes a generated region of N villages to DIR (DIR/inventory: regions,
sites, devices, gateways, service areas, declared coverage; DIR/recordings: one recording per device) and exits;
--seed picks the region (the same seed writes the same files), --port the UDP port its devices.csv addresses use.
Serve it with --recordings DIR/recordings --listen 127.0.0.1:PORT.

--load ADDR --recordings DIR does not serve: it drives the simulator at ADDR with GETBULKs of 25 varbinds
of ifTable to each agent of DIR in turn, --in-flight at once, batched, for --duration, and prints the
requests answered per second with the timeouts and malformed replies.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := cli.Logger("info").With("cmd", "simulate")
			changed := cmd.Flags().Changed
			if changed("world") {
				if out == "" || dir != "" || changed("listen") || changed("control") {
					return fmt.Errorf("simulate: --world needs --out and no --recordings, --listen or --control (it writes a world, then exits)")
				}
				return writeWorld(log, wopt, out)
			}
			if changed("load") {
				if dir == "" || changed("listen") || changed("control") {
					return fmt.Errorf("simulate: --load needs --recordings (its communities) and no --listen or --control")
				}
				return runLoad(cmd, lopt, load, dir)
			}
			if dir == "" {
				return fmt.Errorf("simulate: --recordings is required")
			}
			began := time.Now()
			sim, warns, err := simulator.Load(dir, simulator.Options{Batch: batch})
			for _, w := range warns {
				if w.Line == 0 {
					log.Warn("recording skipped", "file", w.File, "problem", w.Msg)
				}
			}
			for _, w := range summarize(warns) {
				log.Warn("recording lines skipped", "file", w.file, "lines", w.count,
					"first_line", w.first.Line, "first_problem", w.first.Msg)
			}
			if err != nil {
				return err
			}
			var ctl net.Listener
			if control != "" {
				if ctl, err = listenControl(control); err != nil {
					return fmt.Errorf("simulate: %w", err)
				}
				defer ctl.Close()
			}
			conn, err := net.ListenPacket("udp", listen)
			if err != nil {
				return fmt.Errorf("simulate: listen %s: %w", listen, err)
			}
			defer conn.Close()
			if !isLoopback(conn.LocalAddr()) {
				log.Warn("listening beyond loopback: the simulator is a lab tool with no access control "+
					"whose replies are larger than the requests (a UDP amplifier); keep it on 127.0.0.1",
					"listen", conn.LocalAddr().String())
			}
			log.Info("serving recordings", "devices", len(sim.Devices()), "warnings", len(warns),
				"listen", conn.LocalAddr().String(), "load_seconds", time.Since(began).Seconds())
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if ctl != nil {
				log.Info("lab control: POST /agents/COMMUNITY/down or /up, GET /agents", "control", ctl.Addr().String())
				go serveControl(ctx, ctl, sim)
			}
			if err := sim.Serve(ctx, conn); err != nil {
				return fmt.Errorf("simulate: %w", err)
			}
			log.Info("stopped")
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "recordings", "", "folder of .snmprec files to serve")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:1161", "UDP address to listen on (keep it on loopback: a lab tool)")
	cmd.Flags().StringVar(&control, "control", "", "serve the lab control (take agents down and up) on this loopback TCP address")
	cmd.Flags().IntVar(&batch, "batch", batch, "datagrams read or written per system call (1: one at a time)")
	cmd.Flags().StringVar(&load, "load", "", "drive the simulator at this UDP address with GETBULKs instead of serving, then exit")
	cmd.Flags().DurationVar(&lopt.Duration, "duration", lopt.Duration, "with --load: how long to send requests")
	cmd.Flags().IntVar(&lopt.InFlight, "in-flight", lopt.InFlight, "with --load: requests outstanding at once")
	cmd.Flags().IntVar(&wopt.Villages, "world", 0, "write a generated region of this many villages to --out, then exit")
	cmd.Flags().StringVar(&out, "out", "", "with --world: the folder to write (inventory/ and recordings/)")
	cmd.Flags().Int64Var(&wopt.Seed, "seed", wopt.Seed, "with --world: the seed of the region")
	cmd.Flags().IntVar(&wopt.Port, "port", wopt.Port, "with --world: the simulator's UDP port in devices.csv")
	return cmd
}

// runLoad drives the simulator at addr with GETBULKs to the agents of
// the recordings folder dir and prints the result.
func runLoad(cmd *cobra.Command, opt loadgen.Options, addr, dir string) error {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return fmt.Errorf("simulate: --load %q: %w", addr, err)
	}
	opt.Target = ap
	if opt.Communities, err = simulator.Communities(dir); err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	res, err := loadgen.Run(cmd.Context(), opt)
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	_, err = fmt.Fprintln(cmd.OutOrStdout(), res)
	return err
}

// isLoopback reports whether a listening address accepts only loopback
// traffic (an unspecified address such as 0.0.0.0 or [::] does not).
func isLoopback(a net.Addr) bool {
	u, ok := a.(*net.UDPAddr)
	return ok && u.IP.IsLoopback()
}

// fileWarnings sums up the skipped lines of one recording.
type fileWarnings struct {
	file  string
	count int
	first snmprec.Warning // the lowest line skipped
}

// summarize groups line warnings by file, in the order files first appear,
// so the simulator logs one line per damaged recording instead of one per
// skipped line. Warnings for a whole file (Line 0) are left out.
func summarize(warns []snmprec.Warning) []fileWarnings {
	var out []fileWarnings
	at := map[string]int{}
	for _, w := range warns {
		if w.Line == 0 {
			continue
		}
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

// writeWorld generates a world and writes it to out, with a progress line
// when standard output is a terminal.
func writeWorld(log *slog.Logger, opt world.Options, out string) error {
	began := time.Now()
	w, err := world.Generate(opt)
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	if cli.IsTerminal(os.Stdout) {
		w.Options.Progress = progressLine(os.Stdout)
	}
	if err := w.Write(out); err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	classes := map[string]int{}
	for _, v := range w.Villages {
		classes[v.Broadband]++
	}
	log.Info("world written", "out", out, "villages", len(w.Villages), "devices", len(w.Devices),
		"served", classes[world.ClassServed], "underserved", classes[world.ClassUnderserved],
		"unserved", classes[world.ClassUnserved], "seed", w.Options.Seed, "seconds", time.Since(began).Seconds(),
		"serve_with", fmt.Sprintf("ngic-controller simulate --recordings %s --listen 127.0.0.1:%d",
			filepath.Join(out, world.RecordingsDir), w.Options.Port))
	return nil
}

// progressLine returns a progress function that rewrites one line of out,
// every 64 files and at the end, which it closes with a line break.
func progressLine(out io.Writer) func(done, total int) {
	p := cli.NewProgress(out, 0)
	return func(done, total int) {
		if done == total || done%64 == 0 {
			p.Update(true, "writing %d/%d files", done, total)
		}
		if done == total {
			p.End()
		}
	}
}
