package gateway

import (
	"encoding/binary"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/internal/testenv"
)

// BenchBrokerEnv names the variable that gives BenchmarkPipelineToMosquitto
// a running broker (tcp://host:port) instead of a mosquitto of its own, so
// that make bench-peers measures the pipeline and the bare publisher
// against one broker process.
const BenchBrokerEnv = "NGIC_BENCH_BROKER"

// BenchmarkPipelineToMosquitto measures the whole path of a read that is an
// arrival: smoothing, event encoding, the spool (fsync'd batches), and QoS 1
// publishing to a real mosquitto, in the default batches (mqtt.batch_events
// and mqtt.batch_bytes), until every event is acknowledged and deleted
// from the spool. It reports events/s, the allocations per event of the
// whole process (every goroutine of the pipeline and of the MQTT client,
// from runtime.MemStats), the process's CPU time per event, the spool's
// write transactions (each a commit with its fsyncs) per 1,000 events, and
// the mean events a message.
func BenchmarkPipelineToMosquitto(b *testing.B) {
	url := os.Getenv(BenchBrokerEnv)
	if url == "" {
		url = "tcp://" + testenv.StartMosquitto(b).Addr
	} else if !strings.HasPrefix(url, "tcp://127.0.0.1:") {
		b.Fatalf("%s=%q: want tcp://127.0.0.1:port", BenchBrokerEnv, url)
	}
	cfg := testConfig(b, url, "readers:\n  - name: r1\n    protocol: em4100\n    device: /nonexistent/tty\n    depart_after: 1h\n")
	cfg.MQTT.Window = 2000
	g, stop := runGateway(b, cfg)
	defer stop() // before the next run's gateway, which has the same client ID
	benchWait(b, "the publisher to connect", func() bool { return g.pub.Stats().Connected })
	r := g.readers[0]
	tag := make([]byte, 12)
	tag[0] = 0x30
	base, pub0 := g.spool.Stats(), g.pub.Stats()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	cpu0 := processCPU(b)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		binary.BigEndian.PutUint64(tag[4:], uint64(i)+uint64(start.UnixNano()))
		g.onRead(r, rfid.Read{Tag: tag, Antenna: 1, RSSI: -60, HasRSSI: true})
	}
	benchWait(b, "every event acknowledged and deleted", func() bool { return g.spool.Stats().Deleted-base.Deleted >= uint64(b.N) })
	el := time.Since(start)
	b.StopTimer()
	cpu := processCPU(b) - cpu0
	runtime.ReadMemStats(&m1)
	b.ReportMetric(float64(b.N)/el.Seconds(), "events/s")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(b.N), "allocs/event")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/event")
	b.ReportMetric(float64(g.spool.Stats().Commits-base.Commits)*1000/float64(b.N), "commits/1000-events")
	pub := g.pub.Stats()
	b.ReportMetric(float64(pub.Published-pub0.Published)/float64(pub.Messages-pub0.Messages), "events/message")
}

// processCPU returns the user and system CPU time of this process so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
