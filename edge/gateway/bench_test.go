package gateway

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/internal/testenv"
)

// BenchmarkPipelineToMosquitto measures the whole path of a read that is an
// arrival: smoothing, event encoding, the spool (fsync'd batches), and QoS 1
// publishing to a real mosquitto until every event is acknowledged and
// deleted from the spool.
func BenchmarkPipelineToMosquitto(b *testing.B) {
	broker := testenv.StartMosquitto(b)
	cfg := testConfig(b, "tcp://"+broker.Addr, "readers:\n  - name: r1\n    protocol: em4100\n    device: /nonexistent/tty\n    depart_after: 1h\n")
	cfg.MQTT.Window = 2000
	g, err := New(cfg, Opts{})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	defer func() { cancel(); <-done }()
	benchWait(b, "the publisher to connect", func() bool { return g.pub.Stats().Connected })
	r := g.readers[0]
	tag := make([]byte, 12)
	tag[0] = 0x30
	base := g.spool.Stats().Deleted
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		binary.BigEndian.PutUint64(tag[4:], uint64(i)+uint64(start.UnixNano()))
		g.onRead(r, rfid.Read{Tag: tag, Antenna: 1, RSSI: -60, HasRSSI: true})
	}
	benchWait(b, "every event acknowledged and deleted", func() bool { return g.spool.Stats().Deleted-base >= uint64(b.N) })
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "events/s")
}

// benchWait polls cond every millisecond until it holds, or fails b after
// a minute: a hang guard, not a timing check.
func benchWait(b *testing.B, what string, cond func() bool) {
	b.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatalf("still waiting for %s after a minute", what)
		}
		time.Sleep(time.Millisecond)
	}
}
