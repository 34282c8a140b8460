package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/drivers/rfid/emulate"
	"github.com/ngic/ngic/internal/testenv"
)

// BenchmarkResidentMemory runs the daemon against an emulated UHF reader
// sending about 1,000 reads/s (20 tags, notices every 20 ms) and a real
// mosquitto, and reports the daemon's resident memory after 20 s. It runs
// once whatever b.N is.
func BenchmarkResidentMemory(b *testing.B) {
	broker := testenv.StartMosquitto(b)
	bin := buildEdge(b)
	proto, _ := rfid.Lookup("magicrf")
	var tags [][]byte
	for i := 0; i < 20; i++ {
		tags = append(tags, []byte{0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, 0, 0, 0x1A, byte(i)})
	}
	runner, err := emulate.New(proto, tags)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pty, err := runner.ServePTY(ctx, "")
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	port := testenv.FreePort(b)
	conf := filepath.Join(dir, "edge.yaml")
	os.WriteFile(conf, []byte(fmt.Sprintf("gateway: gw-rss\nspool:\n  path: %s/spool.db\nmqtt:\n  broker: tcp://%s\nreaders:\n  - name: uhf\n    protocol: magicrf\n    device: %s\n    poll_interval: 500ms\nhttp:\n  listen: 127.0.0.1:%d\n",
		dir, broker.Addr, pty.Path, port)), 0o644)
	cmd := startEdge(b, bin, conf)
	metrics := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	time.Sleep(3 * time.Second)
	r0 := scrape(b, metrics, `ngic_edge_reads_total{reader="uhf"}`)
	const window = 20 * time.Second
	time.Sleep(window)
	r1 := scrape(b, metrics, `ngic_edge_reads_total{reader="uhf"}`)
	rss := vmRSS(b, cmd.Process.Pid)
	b.ReportMetric(rss/1e6, "MB-rss")
	b.ReportMetric((r1-r0)/window.Seconds(), "reads/s")
}

func scrape(b *testing.B, url, series string) float64 {
	resp, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, series+" ") {
			v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(line, series)), 64)
			if err != nil {
				b.Fatal(err)
			}
			return v
		}
	}
	b.Fatalf("no %s in %s", series, url)
	return 0
}

var rssLine = regexp.MustCompile(`VmRSS:\s+(\d+) kB`)

func vmRSS(b *testing.B, pid int) float64 {
	s, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	m := rssLine.FindSubmatch(s)
	if m == nil {
		b.Fatal("no VmRSS")
	}
	kb, _ := strconv.ParseFloat(string(m[1]), 64)
	return kb * 1024
}
