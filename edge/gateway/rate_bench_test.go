package gateway

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/internal/testenv"
)

// rateChildEnv gives TestPipelineAtRateChild its broker: set, it runs the
// paced pipeline (in the child process BenchmarkPipelineRSSAtRate starts);
// unset, it is skipped.
const rateChildEnv = "NGIC_RATE_CHILD_BROKER"

// The paced load: rateArrivals new tags a second, each read once and
// departing 200 ms later (as many departures), for rateFor. Every
// rateTick the arrivals due by then are read, so a late tick is caught up.
const (
	rateTick     = 10 * time.Millisecond
	rateArrivals = 2500
	rateFor      = 20 * time.Second
)

// BenchmarkPipelineRSSAtRate runs the gateway (New and Run: the spooler,
// the fsync'd spool, the publisher with QoS 1 to a real mosquitto, the
// expiry loop, the HTTP status server) in a child process of its own,
// paced at 5,000 events a second (2,500 arrivals and 2,500 departures)
// for 20 s, and reports the child's peak resident memory (VmHWM, its own
// process: not this test's), its resident memory as the load ends, the
// anonymous part of it (the heap and stacks, without the binary's pages
// and the spool's memory map), and the events per second it spooled. Reads enter the pipeline where a
// reader's would (Gateway.onRead), without a serial link. Run it with
// -benchtime 1x.
func BenchmarkPipelineRSSAtRate(b *testing.B) {
	broker := testenv.StartMosquitto(b)
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var fig map[string]float64
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(exe, "-test.run", "^TestPipelineAtRateChild$", "-test.v", "-test.count", "1")
		cmd.Env = append(os.Environ(), rateChildEnv+"=tcp://"+broker.Addr)
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("child: %v\n%s", err, out)
		}
		if fig, err = childFigures(out); err != nil {
			b.Fatalf("%v\n%s", err, out)
		}
	}
	b.StopTimer()
	b.ReportMetric(fig["hwm-kB"]*1024/1e6, "MB-rss-peak")
	b.ReportMetric(fig["rss-kB"]*1024/1e6, "MB-rss-end")
	b.ReportMetric(fig["anon-kB"]*1024/1e6, "MB-rss-anon-end")
	b.ReportMetric(fig["events/s"], "events/s")
}

// childFigures reads the child's "rate-child" line: names and values.
func childFigures(out []byte) (map[string]float64, error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != "rate-child" {
			continue
		}
		m := map[string]float64{}
		for i := 1; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i+1], 64)
			if err != nil {
				return nil, fmt.Errorf("child figure %q: %w", f[i], err)
			}
			m[f[i]] = v
		}
		return m, nil
	}
	return nil, fmt.Errorf("no rate-child line in the child's output")
}

// TestPipelineAtRateChild is the child of BenchmarkPipelineRSSAtRate.
func TestPipelineAtRateChild(t *testing.T) {
	url := os.Getenv(rateChildEnv)
	if url == "" {
		t.Skip("the child process of BenchmarkPipelineRSSAtRate")
	}
	cfg := testConfig(t, url, "readers:\n  - name: r1\n    protocol: em4100\n    device: /nonexistent/tty\n    depart_after: 200ms\n")
	g, _ := runGateway(t, cfg)
	waitUntil(t, 2*time.Minute, "the publisher to connect", func() bool { return g.pub.Stats().Connected })
	r := g.readers[0]
	tag := []byte{0x30, 0x74, 0x25, 0x7B, 0, 0, 0, 0, 0, 0, 0, 0}
	base := g.spool.Stats().Appended
	tick := time.NewTicker(rateTick)
	defer tick.Stop()
	start := time.Now()
	for n := uint64(0); time.Since(start) < rateFor; <-tick.C {
		for due := uint64(time.Since(start).Seconds() * rateArrivals); n < due; {
			n++
			binary.BigEndian.PutUint64(tag[4:], n)
			g.onRead(r, rfid.Read{Tag: tag, Antenna: 1, RSSI: -60, HasRSSI: true})
		}
	}
	el := time.Since(start)
	spooled := g.spool.Stats().Appended - base
	rss, anon := statusKB(t, "VmRSS"), statusKB(t, "RssAnon")
	waitUntil(t, 2*time.Minute, "every tag departed and every event acknowledged", func() bool {
		return r.smooth.Len() == 0 && g.spool.Stats().Records == 0
	})
	fmt.Printf("rate-child events/s %.0f hwm-kB %.0f rss-kB %.0f anon-kB %.0f\n", float64(spooled)/el.Seconds(),
		statusKB(t, "VmHWM"), rss, anon)
}

// statusKB returns a field of this process's /proc/self/status in kB.
func statusKB(t *testing.T, field string) float64 {
	t.Helper()
	kb, err := testenv.StatusKB(field)
	if err != nil {
		t.Fatal(err)
	}
	return kb
}
