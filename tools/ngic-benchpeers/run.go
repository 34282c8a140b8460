package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/ngic/ngic/controller/scale"
)

// RunOpts says what Run runs and against what.
type RunOpts struct {
	// Rounds is how many times each contender runs, interleaved.
	Rounds int
	// ScaleTest and GatewayTest are the compiled tests (go test -c) of
	// controller/scale and edge/gateway, run in ScaleDir and GatewayDir.
	ScaleTest, ScaleDir, GatewayTest, GatewayDir string
	// SideBySideIters is BenchmarkSideBySide's count of iterations a round.
	SideBySideIters int
	// Farmsim is the simulator binary, serving Recording from Recordings.
	Farmsim, Recordings, Recording string
	// Exporter is the snmp_exporter binary; ShippedConfig the snmp.yml of
	// its module source, whose if_mib module it scrapes Scrapes times a round.
	Exporter, ShippedConfig string
	Scrapes                 int
	// Broker is the MQTT broker URL of the bare publisher; Events and
	// Window its events per round and in-flight window (the pipeline
	// benchmark's), Batch the batches of its second run a round (the
	// pipeline's: the edge's defaults).
	Broker        string
	Events        int
	Window        int
	Batch         Batch
	PipelineIters int
	// Sim is the simulator comparison: the project's simulator beside
	// the C echo.
	Sim SimOpts
}

// figures holds one series per contender, one figure per round.
type figures struct {
	poll, walk, bulkNet, bulkRaw, exporter, pipeline, bare, bareBatch []float64
	pollVB, walkVB, exporterVB                                        float64
	payload                                                           int
	// CPU ns and allocations per event of the pipeline's and of the bare
	// publisher's process, an event a message and in batches.
	pipeCPU, pipeAllocs, bareCPU, bareAllocs, bareBatchCPU, bareBatchAllocs []float64
	// Events a message of the pipeline and of the batched bare publisher.
	pipeBatch, bareBatchSize []float64
	// The pipeline's spool commits (each with its fsyncs) per 1,000 events.
	pipeCommits []float64
	// CPU per device poll of the SNMP poll and of snmpbulkwalk walking the
	// poll's own columns (one run a column, raw: start-up included).
	pollUS, colsRawUS []float64
	colsVB, colsRuns  float64
}

// exporterModule and exporterAuth are the snmp_exporter module scraped
// and the auth Run gives it.
const (
	exporterModule = "if_mib"
	exporterAuth   = "ngic_bench"
)

// Run measures every contender o.Rounds times, interleaved, writing a
// line per round to progress, and returns the table.
func Run(ctx context.Context, o RunOpts, progress io.Writer) (string, error) {
	for _, p := range []*string{&o.ScaleTest, &o.GatewayTest} { // they run in other folders
		abs, err := filepath.Abs(*p)
		if err != nil {
			return "", fmt.Errorf("benchpeers: %w", err)
		}
		*p = abs
	}
	agent, err := StartAgent(ctx, o.Farmsim, o.Recordings, o.Recording)
	if err != nil {
		return "", err
	}
	defer agent.Stop()
	shipped, err := os.ReadFile(o.ShippedConfig)
	if err != nil {
		return "", fmt.Errorf("benchpeers: %w", err)
	}
	cfg, err := ExporterConfig(shipped, exporterModule, exporterAuth, scale.Community(o.Recording, 0), 50)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "ngic-benchpeers")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	cfgPath := filepath.Join(dir, "snmp.yml")
	if err := os.WriteFile(cfgPath, cfg, 0o644); err != nil {
		return "", err
	}
	exp, err := StartExporter(o.Exporter, cfgPath)
	if err != nil {
		return "", err
	}
	defer exp.Stop()
	if _, _, err := exp.Scrape(agent.Addr, exporterModule, exporterAuth, 1); err != nil { // warm-up
		return "", err
	}
	if _, err := BarePublish(o.Broker, o.Window, o.Window, Batch{}); err != nil { // warm-up: the broker's first session
		return "", err
	}
	sim, err := StartSimBench(ctx, o.Sim)
	if err != nil {
		return "", err
	}
	defer sim.Stop()
	var f figures
	for r := 1; r <= o.Rounds; r++ {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		if err := f.round(o, exp, agent.Addr); err != nil {
			return "", fmt.Errorf("round %d: %w", r, err)
		}
		if err := sim.Round(ctx, r); err != nil {
			return "", fmt.Errorf("round %d: %w", r, err)
		}
		i := len(f.poll) - 1
		fmt.Fprintf(progress, "round %d/%d: ns/varbind poll %.0f walk %.0f bulkwalk net %.0f exporter %.0f; events/s pipeline %.0f bare %.0f bare batched %.0f; %s\n",
			r, o.Rounds, f.poll[i], f.walk[i], f.bulkNet[i], f.exporter[i], f.pipeline[i], f.bare[i], f.bareBatch[i], sim.Progress())
	}
	return f.table(o, sim.Rows()...), nil
}

// round runs each contender once, in a fixed order.
func (f *figures) round(o RunOpts, exp *Exporter, agent string) error {
	const side = "BenchmarkSideBySide"
	m, err := GoBench(o.ScaleTest, o.ScaleDir, side, strconv.Itoa(o.SideBySideIters)+"x")
	if err != nil {
		return err
	}
	var v [10]float64
	for i, unit := range []string{"poll-cpu-ns/varbind", "walk-cpu-ns/varbind", "bulkwalk-net-cpu-ns/varbind",
		"bulkwalk-raw-cpu-ns/varbind", "poll-varbinds", "ifmib-varbinds",
		"poll-cpu-us/poll", "cols-bulkwalk-raw-cpu-us/poll", "cols-varbinds", "cols-runs"} {
		if v[i], err = metric(m, side, unit); err != nil {
			return err
		}
	}
	f.poll, f.walk, f.bulkNet, f.bulkRaw = append(f.poll, v[0]), append(f.walk, v[1]), append(f.bulkNet, v[2]), append(f.bulkRaw, v[3])
	f.pollVB, f.walkVB = v[4], v[5]
	f.pollUS, f.colsRawUS = append(f.pollUS, v[6]), append(f.colsRawUS, v[7])
	f.colsVB, f.colsRuns = v[8], v[9]

	cpu, n, err := exp.Scrape(agent, exporterModule, exporterAuth, o.Scrapes)
	if err != nil {
		return err
	}
	f.exporter = append(f.exporter, float64(cpu.Nanoseconds())/float64(n))
	f.exporterVB = float64(n) / float64(o.Scrapes)

	const pipe = "BenchmarkPipelineToMosquitto"
	// The pipeline publishes to the bare publisher's broker.
	if m, err = GoBench(o.GatewayTest, o.GatewayDir, pipe, strconv.Itoa(o.PipelineIters)+"x", benchBrokerEnv+"="+o.Broker); err != nil {
		return err
	}
	var pv [5]float64
	for i, unit := range []string{"events/s", "cpu-ns/event", "allocs/event", "commits/1000-events", "events/message"} {
		if pv[i], err = metric(m, pipe, unit); err != nil {
			return err
		}
	}
	f.pipeline, f.pipeCPU, f.pipeAllocs = append(f.pipeline, pv[0]), append(f.pipeCPU, pv[1]), append(f.pipeAllocs, pv[2])
	f.pipeCommits, f.pipeBatch = append(f.pipeCommits, pv[3]), append(f.pipeBatch, pv[4])

	res, err := BarePublish(o.Broker, o.Events, o.Window, Batch{})
	if err != nil {
		return err
	}
	f.bare, f.payload = append(f.bare, res.PerSecond()), res.PayloadBytes
	f.bareCPU, f.bareAllocs = append(f.bareCPU, res.CPUPerEvent()), append(f.bareAllocs, res.AllocsPerEvent())

	if res, err = BarePublish(o.Broker, o.Events, o.Window, o.Batch); err != nil {
		return err
	}
	f.bareBatch, f.bareBatchSize = append(f.bareBatch, res.PerSecond()), append(f.bareBatchSize, float64(res.Events)/float64(res.Messages))
	f.bareBatchCPU, f.bareBatchAllocs = append(f.bareBatchCPU, res.CPUPerEvent()), append(f.bareBatchAllocs, res.AllocsPerEvent())
	return nil
}

// benchBrokerEnv is the variable that gives BenchmarkPipelineToMosquitto
// its broker (edge/gateway's BenchBrokerEnv).
const benchBrokerEnv = "NGIC_BENCH_BROKER"

// table renders the figures, ratios taken round by round, and then the
// rows of more.
func (f *figures) table(o RunOpts, more ...Row) string {
	bulk := "snmpbulkwalk net"
	bare, bareBatched := "bare paho", "bare paho, same batches"
	rows := []Row{
		{Name: fmt.Sprintf("ngic whole poll of %s (%.0f varbinds), everything included", o.Recording, f.pollVB), Unit: "CPU ns/varbind",
			Values: f.poll, Ratio: Ratios(f.poll, f.bulkNet), RatioTo: bulk},
		{Name: fmt.Sprintf("ngic IF-MIB walk (%.0f varbinds)", f.walkVB), Unit: "CPU ns/varbind",
			Values: f.walk, Ratio: Ratios(f.walk, f.bulkNet), RatioTo: bulk},
		{Name: "net-snmp snmpbulkwalk -Cr50 of IF-MIB, net of start-up", Unit: "CPU ns/varbind", Values: f.bulkNet},
		{Name: "net-snmp snmpbulkwalk -Cr50 of IF-MIB, raw", Unit: "CPU ns/varbind", Values: f.bulkRaw,
			Ratio: Ratios(f.bulkRaw, f.bulkNet), RatioTo: bulk},
		{Name: "ngic whole poll, per device", Unit: "CPU µs/poll", Values: f.pollUS,
			Ratio: Ratios(f.pollUS, f.colsRawUS), RatioTo: "snmpbulkwalk, same columns"},
		{Name: fmt.Sprintf("net-snmp snmpbulkwalk -Cr50 of the poll's %.0f columns (%.0f varbinds), a run each, per device",
			f.colsRuns, f.colsVB), Unit: "CPU µs/poll", Values: f.colsRawUS},
		{Name: fmt.Sprintf("snmp_exporter if_mib scrape, max_repetitions 50 (%.0f varbinds)", f.exporterVB), Unit: "CPU ns/varbind",
			Values: f.exporter, Ratio: Ratios(f.exporter, f.bulkNet), RatioTo: bulk},
		{Name: "ngic whole poll, against snmp_exporter", Unit: "CPU ns/varbind", Values: f.poll,
			Ratio: Ratios(f.poll, f.exporter), RatioTo: "snmp_exporter"},
		{Name: fmt.Sprintf("edge pipeline to mosquitto, QoS 1, window %d, batches of %d events / %d bytes (%d events)",
			o.Window, o.Batch.Events, o.Batch.Bytes, o.PipelineIters), Unit: "events/s",
			Values: f.pipeline, Ratio: Ratios(f.pipeline, f.bare), RatioTo: bare},
		{Name: "edge pipeline, against bare paho publishing the same batches", Unit: "events/s",
			Values: f.pipeline, Ratio: Ratios(f.pipeline, f.bareBatch), RatioTo: bareBatched},
		{Name: fmt.Sprintf("bare paho QoS 1 publisher, window %d, %d-byte payloads, an event a message (%d events)", o.Window, f.payload, o.Events),
			Unit: "events/s", Values: f.bare},
		{Name: fmt.Sprintf("bare paho QoS 1 publisher, the same in the pipeline's batches (%d events)", o.Events), Unit: "events/s",
			Values: f.bareBatch},
		{Name: "edge pipeline, events a message", Unit: "events/message", Values: f.pipeBatch},
		{Name: "bare paho publisher in batches, events a message", Unit: "events/message", Values: f.bareBatchSize},
		{Name: "edge pipeline, its process's CPU", Unit: "CPU ns/event", Values: f.pipeCPU,
			Ratio: Ratios(f.pipeCPU, f.bareCPU), RatioTo: bare},
		{Name: "edge pipeline, its process's CPU, against the same batches", Unit: "CPU ns/event", Values: f.pipeCPU,
			Ratio: Ratios(f.pipeCPU, f.bareBatchCPU), RatioTo: bareBatched},
		{Name: "bare paho publisher, its process's CPU", Unit: "CPU ns/event", Values: f.bareCPU},
		{Name: "bare paho publisher in batches, its process's CPU", Unit: "CPU ns/event", Values: f.bareBatchCPU},
		{Name: "edge pipeline, its process's heap allocations", Unit: "allocs/event", Values: f.pipeAllocs},
		{Name: "bare paho publisher, its process's heap allocations", Unit: "allocs/event", Values: f.bareAllocs},
		{Name: "bare paho publisher in batches, its process's heap allocations", Unit: "allocs/event", Values: f.bareBatchAllocs},
		{Name: "edge pipeline, spool commits (each with its fsyncs)", Unit: "per 1,000 events", Values: f.pipeCommits},
	}
	return Table(append(rows, more...))
}
