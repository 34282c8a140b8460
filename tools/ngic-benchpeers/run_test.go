package main

import (
	"strings"
	"testing"
)

// TestEdgeRowsRatios: the table gives the pipeline's events/s and CPU a
// ratio to each bare publisher, an event a message and in the same
// batches, taken round by round.
func TestEdgeRowsRatios(t *testing.T) {
	two := func(a, b float64) []float64 { return []float64{a, b} }
	f := figures{
		pipeline: two(60000, 80000), bare: two(60000, 40000), bareBatch: two(600000, 800000),
		pipeCPU: two(7000, 7000), bareCPU: two(7000, 14000), bareBatchCPU: two(500, 700),
		pipeBatch: two(48.5, 48.7), bareBatchSize: two(49, 49), payload: 328,
	}
	table := f.table(RunOpts{Window: 2000, Events: 50000, PipelineIters: 50000, Batch: Batch{Events: 64, Bytes: 16384}})
	for _, want := range []string{
		"| edge pipeline to mosquitto, QoS 1, window 2000, batches of 64 events / 16384 bytes (50000 events) | events/s | 70000 | 60000-80000 | 1.50 (1.00-2.00) of bare paho |",
		"| edge pipeline, against bare paho publishing the same batches | events/s | 70000 | 60000-80000 | 0.10 (0.10-0.10) of bare paho, same batches |",
		"| edge pipeline, its process's CPU | CPU ns/event | 7000 | 7000-7000 | 0.75 (0.50-1.00) of bare paho |",
		"| edge pipeline, its process's CPU, against the same batches | CPU ns/event | 7000 | 7000-7000 | 12.0 (10.0-14.0) of bare paho, same batches |",
		"| bare paho publisher in batches, events a message | events/message | 49.0 | 49.0-49.0 |  |",
	} {
		if !strings.Contains(table, want+"\n") {
			t.Errorf("no row\n%s\nin\n%s", want, table)
		}
	}
}
