package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/drivers/rfid/emulate"
	"github.com/ngic/ngic/internal/testenv"
)

// rssBatch is the number of distinct tags that enter an emulated UHF
// reader's field at once in BenchmarkResidentMemory: each iteration is
// rssBatch arrivals, and the departures of the previous batch.
const rssBatch = 250

// BenchmarkResidentMemory runs the real daemon (rssRig) against an emulated UHF
// reader (magicrf, an inventory round every 20 ms) and a real mosquitto,
// under event load: each iteration puts rssBatch new, distinct tags in the
// field (the previous ones leave) and waits until the daemon has spooled
// their arrivals, so thousands of distinct arrivals and departures per
// second flow through smoothing, the fsync'd spool and QoS 1 publishing.
// After the last iteration the field empties and the benchmark waits until
// every event is acknowledged by the broker. It reports the daemon's
// resident memory sampled after each batch (MB-rss, the mean while events
// flow), its peak resident memory (VmHWM), and the arrivals and events
// (arrivals and departures) per second.
func BenchmarkResidentMemory(b *testing.B) {
	rig := startRSSRig(b)
	runner, cmd, metrics := rig.runner, rig.cmd, rig.metrics
	field := make([][]byte, rssBatch)
	var rssSum float64
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		for j := range field {
			field[j] = rssTag(i, j)
		}
		if err := runner.SetTags(field); err != nil {
			b.Fatal(err)
		}
		want := float64((i + 1) * rssBatch)
		waitMetrics(b, metrics, 60*time.Second, fmt.Sprintf("%v arrivals spooled", want), func(m map[string]float64) bool {
			return m[arrived] >= want
		})
		rssSum += procStatus(b, cmd.Process.Pid, "VmRSS")
	}
	load := time.Since(start)
	b.StopTimer()
	if err := runner.SetTags(nil); err != nil {
		b.Fatal(err)
	}
	final := drained(b, metrics)
	if got, want := final[arrived], float64(b.N*rssBatch); got != want {
		b.Fatalf("%v arrivals spooled, want %v (one per distinct tag)", got, want)
	}
	b.ReportMetric(rssSum/float64(b.N)/1e6, "MB-rss")
	b.ReportMetric(procStatus(b, cmd.Process.Pid, "VmHWM")/1e6, "MB-rss-peak")
	b.ReportMetric(float64(b.N*rssBatch)/load.Seconds(), "arrivals/s")
	b.ReportMetric(final[arrived]+final[departed], "events")
}

// Paced load of BenchmarkResidentMemoryAtRate: every rateStep a new field
// of rateBatch tags replaces the last, each change making rateBatch
// arrivals and rateBatch departures (5,000 events a second offered), for
// rateFor. A tag stays in the field for rateStep, as at a portal.
const (
	rateStep  = 200 * time.Millisecond
	rateBatch = 500
	rateFor   = 20 * time.Second
)

// BenchmarkResidentMemoryAtRate runs the real daemon (rssRig) under a
// paced load offering 5,000 events a second (2,500 arrivals and 2,500
// departures) for 20 s, then empties the field and waits until every
// event is acknowledged by the broker. The emulated reader inventories
// without pause while its field changes, as a real one does. Run it with
// -benchtime 1x. It reports, for the ngic-edge process (not this test):
//
//   - MB-rss-med, MB-rss-max: its resident memory sampled at every change
//     of field while events flow, the median and the largest sample;
//   - MB-rss-peak: its peak over its life (VmHWM; the kernel updates it
//     lazily, so it may read below a sample);
//   - MB-anon-max: the largest part of a sample not mapped from files
//     (RssAnon: the Go heap and runtime; the rest is mostly the binary);
//   - MB-file-max: the largest part of a sample mapped from files
//     (RssFile: the binary's pages and the spool's touched pages);
//   - events/s: the events it spooled while the load ran, per second;
//   - cpu-%: its CPU time over that time, in percent of one core;
//   - arrivals/tag: the arrivals it spooled per tag offered: 1 when it
//     reads every tag once, below when it misses tags, above when a tag's
//     reads reach it more than depart_after apart (the machine stalls it)
//     so that the tag departs and arrives again;
//   - events/msg: the events acknowledged per MQTT message (its batching);
//
// and, to tell who lags when the daemon gets fewer events than offered,
// the rig's side:
//
//   - rig-cpu-%: the CPU time of this test process, which runs the
//     emulated reader;
//   - rounds-dropped: the reader's rounds of 500 tags (one every 20 ms)
//     lost because the daemon did not read the previous ones in time (the
//     daemon lags);
//   - rounds-missed: the rounds never made because the emulator ran late
//     (the rig lags).
//
// NGIC_EDGE_BIN runs another build of the daemon (see releaseEdge).
func BenchmarkResidentMemoryAtRate(b *testing.B) {
	benchPaced(b, rateFor, nil)
}

// The broker's stall in BenchmarkResidentMemoryBacklog: backlogStallAt
// into a paced run of backlogFor, the broker stops for backlogStall.
const (
	backlogFor     = 30 * time.Second
	backlogStallAt = 5 * time.Second
	backlogStall   = 8 * time.Second
)

// BenchmarkResidentMemoryBacklog is BenchmarkResidentMemoryAtRate with a
// backlog made on demand: 5 s into a paced run of 30 s at 5,000 events a
// second, the rig's mosquitto is stopped (SIGSTOP) for 8 s and then
// continued (SIGCONT). Meanwhile the daemon's connection stays up but
// nothing is acknowledged, so its window fills and the spool holds some
// 40,000 events, which it drains after SIGCONT while new ones keep
// arriving. Run it with -benchtime 1x. Besides the figures of
// BenchmarkResidentMemoryAtRate (over the whole run, stall and drain
// included) it reports, from the daemon's metrics scraped every second
// (every 200 ms while the backlog drains):
//
//   - backlog-max: the largest spool depth sampled (ngic_edge_spool_records);
//   - drain-s: the time from SIGCONT to the first sample at or below the
//     largest depth sampled before the stall (the backlog gone);
//   - MB-heap-max: the largest Go heap in use sampled
//     (go_memstats_heap_inuse_bytes).
func BenchmarkResidentMemoryBacklog(b *testing.B) {
	benchPaced(b, backlogFor, &brokerStall{at: backlogStallAt, dur: backlogStall})
}

// brokerStall is when, into a paced run, the rig's broker stops (at) and
// for how long (dur).
type brokerStall struct {
	at, dur time.Duration
}

// depthEvery is how many changes of field apart a stalled run scrapes the
// daemon's metrics (the scrape costs the daemon some CPU); from SIGCONT
// until the backlog is gone it scrapes at every change.
const depthEvery = 5

// Series of the daemon's metrics a stalled run follows.
const (
	spoolRecords = `ngic_edge_spool_records`
	heapInuse    = `go_memstats_heap_inuse_bytes`
)

// benchPaced runs BenchmarkResidentMemoryAtRate's load for dur, the
// broker stalled as st says (nil: never), and reports its figures.
func benchPaced(b *testing.B, dur time.Duration, st *brokerStall) {
	rig := startRSSRig(b)
	var broker int
	if st != nil {
		broker = childPID(b, "mosquitto")
		b.Cleanup(func() { _ = syscall.Kill(broker, syscall.SIGCONT) })
	}
	pid := rig.cmd.Process.Pid
	field := make([][]byte, rateBatch)
	var rss []float64
	var spooled, took, cpu, offered, arrivals, anon, file, acks, messages float64
	var rigCPU, dropped, missed float64
	var backlog, heap, drain float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		base, err := scrapeAll(rig.metrics)
		if err != nil {
			b.Fatal(err)
		}
		rounds, rig0 := rig.runner.Stats(), selfCPU(b)
		tick := time.NewTicker(rateStep)
		start := time.Now()
		var stopped, resumed time.Time
		var before float64 // the largest depth before the stall
		var gone float64   // from SIGCONT until the backlog is gone
		drainedAt := func(m map[string]float64) {
			if !resumed.IsZero() && gone == 0 && m[spoolRecords] <= before {
				gone = time.Since(resumed).Seconds()
			}
		}
		n := 0
		for ; time.Since(start) < dur; n++ {
			for j := range field {
				field[j] = rssTag(i<<12|n, j)
			}
			if err := rig.runner.SetTags(field); err != nil {
				b.Fatal(err)
			}
			<-tick.C
			rss = append(rss, procStatus(b, pid, "VmRSS"))
			anon = max(anon, procStatus(b, pid, "RssAnon"))
			file = max(file, procStatus(b, pid, "RssFile"))
			if st == nil {
				continue
			}
			switch at := time.Since(start); {
			case stopped.IsZero() && at >= st.at:
				signalPID(b, broker, syscall.SIGSTOP)
				stopped = time.Now()
			case !stopped.IsZero() && resumed.IsZero() && time.Since(stopped) >= st.dur:
				signalPID(b, broker, syscall.SIGCONT)
				resumed = time.Now()
			}
			if n%depthEvery == 0 || (!resumed.IsZero() && gone == 0) {
				m, err := scrapeAll(rig.metrics)
				if err != nil {
					b.Fatal(err)
				}
				backlog, heap = max(backlog, m[spoolRecords]), max(heap, m[heapInuse])
				if stopped.IsZero() {
					before = max(before, m[spoolRecords])
				}
				drainedAt(m)
			}
		}
		tick.Stop()
		m, err := scrapeAll(rig.metrics)
		if err != nil {
			b.Fatal(err)
		}
		took += time.Since(start).Seconds()
		rigCPU += (selfCPU(b) - rig0).Seconds()
		rs := rig.runner.Stats()
		dropped += float64(rs.Dropped - rounds.Dropped)
		missed += float64(rs.Missed - rounds.Missed)
		spooled += m[arrived] + m[departed] - base[arrived] - base[departed]
		cpu += m[cpuSeconds] - base[cpuSeconds]
		if err := rig.runner.SetTags(nil); err != nil {
			b.Fatal(err)
		}
		final := drained(b, rig.metrics, drainedAt)
		drain += gone
		offered += float64(n * rateBatch)
		arrivals += final[arrived] - base[arrived]
		acks += final[acked] - base[acked]
		messages += final[sent] - base[sent]
	}
	b.StopTimer()
	slices.Sort(rss)
	b.ReportMetric(rss[len(rss)/2]/1e6, "MB-rss-med")
	b.ReportMetric(rss[len(rss)-1]/1e6, "MB-rss-max")
	b.ReportMetric(procStatus(b, pid, "VmHWM")/1e6, "MB-rss-peak")
	b.ReportMetric(anon/1e6, "MB-anon-max")
	b.ReportMetric(file/1e6, "MB-file-max")
	b.ReportMetric(spooled/took, "events/s")
	b.ReportMetric(100*cpu/took, "cpu-%")
	b.ReportMetric(arrivals/offered, "arrivals/tag")
	if messages > 0 {
		b.ReportMetric(acks/messages, "events/msg")
	}
	b.ReportMetric(100*rigCPU/took, "rig-cpu-%")
	b.ReportMetric(dropped, "rounds-dropped")
	b.ReportMetric(missed, "rounds-missed")
	if st != nil {
		b.ReportMetric(backlog, "backlog-max")
		b.ReportMetric(drain/float64(b.N), "drain-s")
		b.ReportMetric(heap/1e6, "MB-heap-max")
	}
}

// signalPID sends sig to process pid.
func signalPID(b *testing.B, pid int, sig syscall.Signal) {
	b.Helper()
	if err := syscall.Kill(pid, sig); err != nil {
		b.Fatalf("%v to %d: %v", sig, pid, err)
	}
}

// childPID returns the process ID of this process's only child named
// comm (testenv starts its peers as children of the test).
func childPID(b *testing.B, comm string) int {
	b.Helper()
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		b.Fatal(err)
	}
	found := 0
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue // ended meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		j := bytes.IndexByte(stat, '(')
		if i < 0 || j < 0 || string(stat[j+1:i]) != comm {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(os.Getpid()) {
			if found != 0 {
				b.Fatalf("two children named %s: %d and %d", comm, found, pid)
			}
			found = pid
		}
	}
	if found == 0 {
		b.Fatalf("no child named %s", comm)
	}
	return found
}

// drained waits until every tag in the daemon's field has departed and
// every event is acknowledged by the broker, and returns the daemon's
// metrics then. Each non-nil watch sees every scrape on the way.
func drained(b *testing.B, url string, watch ...func(map[string]float64)) map[string]float64 {
	b.Helper()
	var final map[string]float64
	waitMetrics(b, url, 120*time.Second, "every tag departed and every event acknowledged", func(m map[string]float64) bool {
		final = m
		for _, w := range watch {
			w(m)
		}
		return m[departed] >= m[arrived] && m[acked] >= m[arrived]+m[departed]
	})
	return final
}

// Series of the daemon's metrics the memory benchmarks follow.
const (
	arrived    = `ngic_edge_events_total{source="uhf",type="tag.arrived"}`
	departed   = `ngic_edge_events_total{source="uhf",type="tag.departed"}`
	acked      = `ngic_edge_mqtt_acked_total`
	sent       = `ngic_edge_mqtt_messages_total`
	cpuSeconds = `process_cpu_seconds_total`
)

// rssTag is the EPC of tag i of batch batch (batch < 1<<24, i < 65536).
func rssTag(batch, i int) []byte {
	return []byte{0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, byte(batch >> 16), byte(batch >> 8), byte(batch), byte(i >> 8), byte(i)}
}

// rssRig is the real daemon as released (releaseEdge: static, stripped),
// running against an emulated UHF reader (magicrf, inventory rounds every
// 20 ms, the multi-poll re-issued every second as the daemon does by
// default, tags departing 200 ms after their last read) and a real
// mosquitto, connected.
type rssRig struct {
	runner  *emulate.Runner
	cmd     *exec.Cmd
	metrics string // the daemon's /metrics URL
}

func startRSSRig(b *testing.B) rssRig {
	broker := testenv.StartMosquitto(b)
	bin := releaseEdge(b)
	proto, err := rfid.Lookup("magicrf")
	if err != nil {
		b.Fatal(err)
	}
	runner, err := emulate.New(proto, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	pty, err := runner.ServePTY(ctx, "")
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	port := testenv.FreePort(b)
	conf := filepath.Join(dir, "edge.yaml")
	y := fmt.Sprintf(`gateway: gw-rss
spool:
  path: %s/spool.db
mqtt:
  broker: tcp://%s
  window: 2000
readers:
  - name: uhf
    protocol: magicrf
    device: %s
    poll_interval: 1s
    depart_after: 200ms
http:
  listen: 127.0.0.1:%d
`, dir, broker.Addr, pty.Path, port)
	if err := os.WriteFile(conf, []byte(y), 0o644); err != nil {
		b.Fatal(err)
	}
	rig := rssRig{runner: runner, cmd: startEdge(b, bin, conf), metrics: fmt.Sprintf("http://127.0.0.1:%d/metrics", port)}
	waitMetrics(b, rig.metrics, 30*time.Second, "the daemon connected to the broker", func(m map[string]float64) bool {
		return m["ngic_edge_mqtt_connected"] == 1
	})
	return rig
}

// scrapeClient asks for /metrics uncompressed: compressing it costs the
// daemon a compressor of about 1 MB a scrape, which the benchmarks would
// measure as its own.
var scrapeClient = &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 30 * time.Second}

// scrapeAll returns every sample of a Prometheus text exposition at url,
// keyed by series (name and labels as exposed).
func scrapeAll(url string) (map[string]float64, error) {
	resp, err := scrapeClient.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %w", url, line, err)
		}
		out[line[:i]] = v
	}
	return out, sc.Err()
}

// waitMetrics scrapes url until cond holds for its samples (a series
// absent reads 0), or fails t after timeout: a hang guard, not a timing
// check. A scrape that fails (the daemon not listening yet) is retried.
func waitMetrics(t testing.TB, url string, timeout time.Duration, what string, cond func(map[string]float64) bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		m, err := scrapeAll(url)
		if err == nil && cond(m) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: not yet %s (last scrape error: %v)", timeout, what, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var statusLine = regexp.MustCompile(`(?m)^(\w+):\s+(\d+) kB$`)

// procStatus returns a field of /proc/PID/status given in kB (VmRSS,
// VmHWM), in bytes.
func procStatus(t testing.TB, pid int, field string) float64 {
	t.Helper()
	s, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range statusLine.FindAllSubmatch(s, -1) {
		if string(m[1]) == field {
			kb, _ := strconv.ParseFloat(string(m[2]), 64)
			return kb * 1024
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// selfCPU returns the CPU time this process has used.
func selfCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
