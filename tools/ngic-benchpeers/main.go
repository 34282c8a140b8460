// Command ngic-benchpeers measures ngic beside the bare tools doing the
// same work (what `make bench-peers` runs, through scripts/bench-peers.sh):
// the CPU per varbind of ngic's SNMP poll, net-snmp's snmpbulkwalk and
// Prometheus's snmp_exporter on the same simulated agent and recording,
// the events per second of the edge pipeline and of a bare paho QoS 1
// publisher to mosquitto (an event a message, and the edge's batches),
// and the CPU per GETBULK of the project's SNMP simulator beside a C echo
// doing only the same system calls (scripts/peers/udp-echo.c),
// interleaved round by round, as a Markdown table of medians, min-max and
// ratios.
//
//	ngic-benchpeers run [flags]        every contender, interleaved; the table on stdout
//	ngic-benchpeers simulator [flags]  the simulator beside the C echo alone
//	ngic-benchpeers publish [flags]    the bare paho publisher alone
//	ngic-benchpeers freeport           a free TCP port on 127.0.0.1
//
// This file is wiring only: subcommands and flags.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ngic/ngic/edge/config"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: ngic-benchpeers run|simulator|publish|freeport [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = runCmd(os.Args[2:])
	case "simulator":
		err = simulatorCmd(os.Args[2:])
	case "publish":
		err = publishCmd(os.Args[2:])
	case "freeport":
		var p int
		if p, err = FreePort(); err == nil {
			fmt.Println(p)
		}
	default:
		err = fmt.Errorf("unknown command %q (run, simulator, publish, freeport)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ngic-benchpeers:", err)
		os.Exit(1)
	}
}

// pipelineWindow is the in-flight window BenchmarkPipelineToMosquitto
// gives the edge (its cfg.MQTT.Window), which the bare publisher matches.
const pipelineWindow = 2000

func runCmd(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	o := RunOpts{}
	fs.IntVar(&o.Rounds, "rounds", 5, "rounds, each contender once a round")
	fs.StringVar(&o.ScaleTest, "scale-test", "bin/peers/scale.test", "compiled tests of controller/scale (go test -c)")
	fs.StringVar(&o.ScaleDir, "scale-dir", "controller/scale", "folder the scale tests run in")
	fs.StringVar(&o.GatewayTest, "gateway-test", "bin/peers/gateway.test", "compiled tests of edge/gateway (go test -c)")
	fs.StringVar(&o.GatewayDir, "gateway-dir", "edge/gateway", "folder the gateway tests run in")
	fs.IntVar(&o.SideBySideIters, "side-by-side-iters", 6, "BenchmarkSideBySide iterations a round")
	fs.StringVar(&o.Farmsim, "farmsim", "bin/peers/farmsim", "the simulator binary (controller/scale/internal/farmsim)")
	fs.StringVar(&o.Recordings, "recordings", "testdata/snmprec", "folder of .snmprec recordings")
	fs.StringVar(&o.Recording, "recording", "arris_c4-cmts", "recording the agent plays (BenchmarkSideBySide's)")
	fs.StringVar(&o.Exporter, "exporter", "bin/peers/snmp_exporter", "snmp_exporter binary")
	fs.StringVar(&o.ShippedConfig, "exporter-snmp-yml", "", "the snmp.yml shipped in snmp_exporter's module source")
	fs.IntVar(&o.Scrapes, "scrapes", 10, "snmp_exporter scrapes a round")
	fs.StringVar(&o.Broker, "broker", "", "MQTT broker of the bare publisher (tcp://127.0.0.1:port)")
	fs.IntVar(&o.Events, "events", 50000, "events the bare publisher publishes a round")
	fs.IntVar(&o.PipelineIters, "pipeline-events", 50000, "events BenchmarkPipelineToMosquitto publishes a round")
	fs.IntVar(&o.Window, "window", pipelineWindow, "in-flight window of the bare publisher")
	// BenchmarkPipelineToMosquitto runs the edge's default batches.
	fs.IntVar(&o.Batch.Events, "batch-events", config.DefaultBatchEvents, "events a message of the batched bare publisher")
	fs.IntVar(&o.Batch.Bytes, "batch-bytes", config.DefaultBatchBytes, "bytes a batch of the batched bare publisher")
	simOpts := simFlags(fs, &o.Sim)
	_ = fs.Parse(args)
	if o.ShippedConfig == "" || o.Broker == "" || o.Rounds < 1 {
		return fmt.Errorf("run: -exporter-snmp-yml and -broker are required, -rounds at least 1")
	}
	o.Sim.Recordings = o.Recordings
	if err := simOpts(); err != nil {
		return fmt.Errorf("run: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	table, err := Run(ctx, o, os.Stderr)
	if err != nil {
		return err
	}
	fmt.Print(table)
	return nil
}

func publishCmd(args []string) error {
	fs := flag.NewFlagSet("publish", flag.ExitOnError)
	broker := fs.String("broker", "", "MQTT broker (tcp://127.0.0.1:port)")
	events := fs.Int("events", 20000, "events to publish")
	window := fs.Int("window", config.DefaultWindow, "unacknowledged events at most (the edge's default mqtt.window)")
	var b Batch
	fs.IntVar(&b.Events, "batch-events", 1, "events a message at most (1: each alone; the edge's default mqtt.batch_events is 64)")
	fs.IntVar(&b.Bytes, "batch-bytes", config.DefaultBatchBytes, "bytes a batch at most (the edge's default mqtt.batch_bytes)")
	_ = fs.Parse(args)
	res, err := BarePublish(*broker, *events, *window, b)
	if err != nil {
		return err
	}
	fmt.Printf("%d events of %d bytes in %d messages, QoS 1, window %d: %.0f events/s, %.0f CPU ns/event, %.1f allocs/event\n",
		res.Events, res.PayloadBytes, res.Messages, *window, res.PerSecond(), res.CPUPerEvent(), res.AllocsPerEvent())
	return nil
}

// simFlags defines the flags of the simulator comparison on fs and
// returns what completes o once they are parsed.
func simFlags(fs *flag.FlagSet, o *SimOpts) func() error {
	controller := fs.String("controller", "bin/peers/ngic-controller", "ngic-controller binary, whose simulate serves the recordings")
	fs.StringVar(&o.Echo, "echo", "bin/peers/udp-echo", "the C echo (scripts/peers/udp-echo.c, compiled)")
	fs.DurationVar(&o.Duration, "sim-duration", 2*time.Second, "how long each load on the simulator or the echo runs, a round")
	inFlight := fs.String("in-flight", joinInts(DefaultInFlight), "requests in flight of the loads, comma-separated")
	return func() error {
		o.Simulator = []string{*controller, "simulate"}
		var err error
		o.InFlight, err = parseInts(*inFlight)
		return err
	}
}

func simulatorCmd(args []string) error {
	fs := flag.NewFlagSet("simulator", flag.ExitOnError)
	var o SimOpts
	rounds := fs.Int("rounds", 5, "rounds, each load on each server once a round")
	fs.StringVar(&o.Recordings, "recordings", "testdata/snmprec", "folder of .snmprec recordings the simulator serves")
	simOpts := simFlags(fs, &o)
	_ = fs.Parse(args)
	if err := simOpts(); err != nil {
		return fmt.Errorf("simulator: %w", err)
	}
	if *rounds < 1 {
		return fmt.Errorf("simulator: -rounds at least 1")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rows, err := CompareSimulator(ctx, o, *rounds, os.Stderr)
	if err != nil {
		return err
	}
	fmt.Print(Table(rows))
	return nil
}

// parseInts reads a comma-separated list of positive integers.
func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q: want positive integers separated by commas", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// joinInts writes ns as parseInts reads them.
func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}
