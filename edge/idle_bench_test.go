package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ngic/ngic/drivers/rfid/emulate/emulatetest"
	"github.com/ngic/ngic/internal/testenv"
)

// BenchmarkIdleMemory measures the resident memory of ngic-edge as
// released (scripts/release.sh for linux/amd64: stripped, static, its
// release build flags) at idle on a typical gateway: two emulated readers
// on pseudo-terminals (a UHF magicrf polled every 200 ms and an EM4100
// card reader) with no tag in their field, two photo-eyes (emulated lab
// pins, beams clear) and a real mosquitto. Once both readers are open and
// the broker connected, it lets the daemon run for idleSettle, then each
// iteration samples VmRSS every 100 ms. It reports the mean resident memory
// (MB-rss), the peak over the daemon's life (VmHWM, MB-rss-peak), and the
// Go heap in use (MB-heap, from the daemon's own go_memstats).
func BenchmarkIdleMemory(b *testing.B) {
	broker := testenv.StartMosquitto(b)
	bin := releaseEdge(b)
	_, uhf := emulatetest.Start(b, "magicrf")
	_, badge := emulatetest.Start(b, "em4100")
	dir := b.TempDir()
	port := testenv.FreePort(b)
	conf := filepath.Join(dir, "edge.yaml")
	y := fmt.Sprintf(`gateway: gw-idle
spool:
  path: %s/spool.db
mqtt:
  broker: tcp://%s
readers:
  - name: door-uhf
    protocol: magicrf
    device: %s
    poll_interval: 200ms
  - name: badge
    protocol: em4100
    device: %s
sensors:
  - name: door
    pin: lab:door
  - name: entrance
    pin: lab:entrance
http:
  listen: 127.0.0.1:%d
`, dir, broker.Addr, uhf.Path, badge.Path, port)
	if err := os.WriteFile(conf, []byte(y), 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--config", conf, "--lab-control", fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(b)))
	logf, err := os.Create(conf + ".log")
	if err != nil {
		b.Fatal(err)
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()

	metrics := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	waitMetrics(b, metrics, 60*time.Second, "both readers open and the broker connected", func(m map[string]float64) bool {
		return m["ngic_edge_mqtt_connected"] == 1 &&
			m[fmt.Sprintf(`ngic_edge_reader_connected{device=%q,protocol="magicrf",reader="door-uhf"}`, uhf.Path)] == 1 &&
			m[fmt.Sprintf(`ngic_edge_reader_connected{device=%q,protocol="em4100",reader="badge"}`, badge.Path)] == 1 &&
			m[`ngic_edge_beam_blocked{sensor="entrance"}`] == 0
	})
	// A measurement window, not a synchronisation: the daemon's start-up
	// garbage is collected and its steady state reached.
	time.Sleep(idleSettle)
	b.ResetTimer()
	var sum float64
	for i := 0; i < b.N; i++ {
		time.Sleep(100 * time.Millisecond)
		sum += procStatus(b, cmd.Process.Pid, "VmRSS")
	}
	b.StopTimer()
	var heap float64
	waitMetrics(b, metrics, 10*time.Second, "go_memstats", func(m map[string]float64) bool {
		heap = m["go_memstats_heap_inuse_bytes"]
		return heap > 0
	})
	b.ReportMetric(sum/float64(b.N)/1e6, "MB-rss")
	b.ReportMetric(procStatus(b, cmd.Process.Pid, "VmHWM")/1e6, "MB-rss-peak")
	b.ReportMetric(heap/1e6, "MB-heap")
}

// idleSettle is how long BenchmarkIdleMemory lets the daemon run before
// it measures.
const idleSettle = 10 * time.Second

// releaseEdge builds ngic-edge for linux/amd64 with scripts/release.sh
// and returns its path; NGIC_EDGE_BIN, when set, names a binary to run
// instead (another build, to compare).
func releaseEdge(b *testing.B) string {
	b.Helper()
	if bin := os.Getenv("NGIC_EDGE_BIN"); bin != "" {
		return bin
	}
	out := b.TempDir()
	cmd := exec.Command("../scripts/release.sh", "--no-sign", "--only", "ngic-edge", "--out", out, "--targets", "linux/amd64")
	cmd.Env = append(os.Environ(), "VERSION=0.0.0-bench", "GOFLAGS=")
	if o, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("release.sh: %v\n%s", err, o)
	}
	return filepath.Join(out, "linux-amd64", "ngic-edge")
}
