package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ngic/ngic/controller/scale"
	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// procCPU is the CPU time (user + system) the process pid has used.
func procCPU(tb testing.TB, pid int) time.Duration {
	user, system := procTimes(tb, pid)
	return user + system
}

// procTimes is the user and the system CPU time the process pid has used.
func procTimes(tb testing.TB, pid int) (user, system time.Duration) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Fatal(err)
	}
	// Fields after the command name (which is in parentheses).
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut) * time.Second / 100, time.Duration(st) * time.Second / 100 // USER_HZ
}

// procSyscalls is the number of read and write system calls the process
// pid has made (its /proc/pid/io).
func procSyscalls(tb testing.TB, pid int) (reads, writes int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		tb.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "syscr: "); ok {
			reads, _ = strconv.ParseInt(v, 10, 64)
		}
		if v, ok := strings.CutPrefix(l, "syscw: "); ok {
			writes, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return reads, writes
}

// procRSS is the resident memory of the process pid, in bytes.
func procRSS(tb testing.TB, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return -1
}

// recordedPayloads are edge events as a UHF gateway publishes them: tag
// arrivals and departures with a GS1 identity.
func recordedPayloads(tb testing.TB, gateway string, n int) [][]byte {
	out := make([][]byte, n)
	t0 := time.Now().UTC()
	for i := range out {
		now := t0.Add(time.Duration(i) * time.Millisecond)
		typ := telemetry.TagArrived
		if i%2 == 1 {
			typ = telemetry.TagDeparted
		}
		rssi := -61
		ev := &telemetry.Event{V: telemetry.SchemaVersion, ID: fmt.Sprintf("%s-%09d-5f0c6a7e-9b1d-4c1e", gateway, i+1),
			Gateway: gateway, Source: "dock-door-2", Type: typ, Time: now,
			Tag: &telemetry.Tag{ID: fmt.Sprintf("3034257BF7194E4000%06X", i/2), Protocol: "magicrf", Antenna: 2, RSSI: &rssi,
				EPC: &telemetry.EPC{Scheme: "sgtin-96", URI: fmt.Sprintf("urn:epc:id:sgtin:0614141.812345.%d", i/2),
					GTIN: "00614141123452"}, FirstSeen: now, LastSeen: now}}
		b, err := telemetry.EncodeEvent(ev)
		if err != nil {
			tb.Fatal(err)
		}
		if out[i], err = telemetry.WithSeq(nil, b, uint64(i+1)); err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

// batched puts the payloads of a gateway's reader into batches of up to n
// consecutive events each (telemetry.AppendToBatch), as the edge publishes
// them under load; n of 1 leaves them one event per message.
func batched(payloads [][]byte, n int) [][]byte {
	if n <= 1 {
		return payloads
	}
	var out [][]byte
	for i := 0; i < len(payloads); i += n {
		var b []byte
		for _, p := range payloads[i:min(i+n, len(payloads))] {
			b = telemetry.AppendToBatch(b, p)
		}
		out = append(out, b)
	}
	return out
}

// replay publishes each gateway's payloads at QoS 1 with up to window
// unacknowledged, at rate payloads/s in all (0: as fast as the broker
// takes them).
func replay(tb testing.TB, broker string, payloads map[string][][]byte, rate int) {
	var wg sync.WaitGroup
	per := 0
	if rate > 0 {
		per = rate / len(payloads)
	}
	for gw, ps := range payloads {
		c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("tcp://" + broker).SetClientID("replay-" + gw).
			SetMaxResumePubInFlight(1000))
		if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			tb.Fatalf("replay %s: %v", gw, tok.Error())
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Disconnect(100)
			window := make(chan mqtt.Token, 1000)
			done := make(chan struct{})
			go func() {
				for tok := range window {
					tok.Wait()
				}
				close(done)
			}()
			start := time.Now()
			for i, p := range ps {
				if per > 0 {
					if d := time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(per))); d > 0 {
						time.Sleep(d)
					}
				}
				window <- c.Publish(telemetry.EventTopic(gw, "dock-door-2"), 1, false, p)
			}
			close(window)
			<-done
		}()
	}
	wg.Wait()
}

// benchController starts mosquitto, influxd and the controller with the
// given devices.csv body and gateways, for a benchmark. With
// NGIC_BENCH_CONTROLLER=path it runs that ngic-controller binary instead
// of the one built from this tree (to compare two builds in turn).
func benchController(b *testing.B, devicesCSV string, gateways []string, interval string) (*controllerProc, *testenv.Mosquitto, *testenv.Influxd) {
	if bin := os.Getenv("NGIC_BENCH_CONTROLLER"); bin != "" {
		binary = bin // another build, for an A/B comparison
	}
	mosq := testenv.StartMosquitto(b)
	influxd := testenv.StartInfluxd(b)
	influxd.CreateDatabase(b, "ngic")
	dir := b.TempDir()
	inv := filepath.Join(dir, "inventory")
	os.Mkdir(inv, 0o755)
	writeFile(b, inv, "devices.csv", "id,site,address,credentials,parent\n"+devicesCSV)
	gws := "gateway,site\n"
	for _, g := range gateways {
		gws += g + ",cabinet-1\n"
	}
	writeFile(b, inv, "gateways.csv", gws)
	httpAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(b))
	cfg := writeFile(b, dir, "controller.yaml", fmt.Sprintf(`inventory: inventory
poll:
  interval: %s
  concurrency: 256
mqtt:
  broker: tcp://%s
  client_id: ngic-controller-bench
influxdb:
  url: %s
  bucket: ngic/autogen
http:
  listen: %s
state_dir: %s
`, interval, mosq.Addr, influxd.URL, httpAddr, filepath.Join(dir, "state")))
	return startController(b, cfg, httpAddr), mosq, influxd
}

// BenchmarkIngestEndToEnd: recorded edge events replayed by paho
// publishers through mosquitto into ngic-controller run and on to
// influxd, as fast as they go. Reports the events ingested per second
// (durably recorded, so acknowledged), the events per second until influxd
// holds them all, and the controller's own CPU per event, everything
// included (from its /proc CPU time), and of that the system's share, the
// events per read and per write system call, and the events per batch
// recorded (the CPU per event falls as batches grow: under a steady load
// the subscriber starts its batches broker.DefaultMaxDelay apart, and a
// controller that keeps up with a slower stream records smaller batches
// and wakes more per event). Each event is its own MQTT message.
// With NGIC_BENCH_PROFILE=path it saves a CPU profile of 4 s of the run in
// path and the allocations in path.allocs.
func BenchmarkIngestEndToEnd(b *testing.B) { benchIngestEndToEnd(b, 1, 0) }

// BenchmarkIngestEndToEndBatched is BenchmarkIngestEndToEnd with the same
// events in event batches of 64 a message (consecutive seqs of one
// reader), what the edge publishes under load. As fast as they go, the
// publishers put the whole run in the controller's queue at once (some
// 90 MB of 30 KB messages).
func BenchmarkIngestEndToEndBatched(b *testing.B) { benchIngestEndToEnd(b, 64, 0) }

// BenchmarkIngestEndToEndPaced publishes the events of
// BenchmarkIngestEndToEnd at a steady 30,000 events/s in all, one event a
// message (single) or 64 (batched): a heavy load the controller keeps up
// with, without a backlog.
func BenchmarkIngestEndToEndPaced(b *testing.B) {
	b.Run("single", func(b *testing.B) { benchIngestEndToEnd(b, 1, 30_000) })
	b.Run("batched", func(b *testing.B) { benchIngestEndToEnd(b, 64, 30_000) })
}

// benchIngestEndToEnd runs BenchmarkIngestEndToEnd with perMessage events
// a message, at rate events/s in all (0: as fast as they go).
func benchIngestEndToEnd(b *testing.B, perMessage, rate int) {
	const perGateway = 50_000
	gateways := []string{"gw-a", "gw-b", "gw-c", "gw-d"}
	c, mosq, influxd := benchController(b, "", gateways, "60s")
	payloads := map[string][][]byte{}
	for _, g := range gateways {
		payloads[g] = batched(recordedPayloads(b, g, perGateway), perMessage)
	}
	total := float64(perGateway * len(gateways))
	pid := c.cmd.Process.Pid
	user0, sys0 := procTimes(b, pid)
	reads0, writes0 := procSyscalls(b, pid)
	start := time.Now()
	b.ResetTimer()
	if prof := os.Getenv("NGIC_BENCH_PROFILE"); prof != "" {
		go saveProfile(b, "http://"+c.http+"/debug/pprof/profile?seconds=4", prof)
	}
	replay(b, mosq.Addr, payloads, rate/perMessage)
	waitUntil(b, "every event ingested", func() bool { n, _ := c.ingested(); return n >= total })
	ingested := time.Since(start)
	user, sys := procTimes(b, pid)
	user, sys = user-user0, sys-sys0
	cpu := user + sys
	reads, writes := procSyscalls(b, pid)
	reads, writes = reads-reads0, writes-writes0
	waitUntil(b, "every event in influxd", func() bool {
		rows, err := influxd.TryQuery("ngic", `SELECT count(seq) FROM edge_event`)
		return err == nil && len(rows) == 1 && num(rows[0].Values["count"]) >= total
	})
	written := time.Since(start)
	b.StopTimer()
	if prof := os.Getenv("NGIC_BENCH_PROFILE"); prof != "" {
		saveProfile(b, "http://"+c.http+"/debug/pprof/allocs", prof+".allocs")
	}
	b.ReportMetric(total/ingested.Seconds(), "events/s")
	b.ReportMetric(total/written.Seconds(), "events_in_influxd/s")
	b.ReportMetric(float64(cpu.Microseconds())/total, "ctl-µs/event")
	b.ReportMetric(float64(sys.Microseconds())/total, "ctl-sys-µs/event")
	b.ReportMetric(total/float64(max(reads, 1)), "events/read-syscall")
	b.ReportMetric(total/float64(max(writes, 1)), "events/write-syscall")
	b.ReportMetric(float64(procRSS(b, pid))/(1<<20), "ctl-RSS-MB")
	if batches := scrapeMetric(c, `ngic_controller_ingest_batches_total{result="ok"}`); batches > 0 {
		b.ReportMetric(total/batches, "events/batch")
	}
	logMetrics(b, c, "ngic_controller_mqtt_", "ngic_controller_ingest_batches")
	c.stop(b)
}

// BenchmarkDaemonTenThousandDevices: the controller polls 10,000
// simulated devices (IF-MIB recordings, served by the project's simulator
// in this process) on a 60 s cycle while ingesting 5,000 events/s through
// mosquitto into influxd, for 70 s. Reports its CPU share (of one core)
// over the run and its peak resident memory.
func BenchmarkDaemonTenThousandDevices(b *testing.B) {
	const devices, rate, run = 10_000, 5_000, 70 * time.Second
	addr, comms := startFarm(b, devices)
	var csv strings.Builder
	for i, cm := range comms {
		fmt.Fprintf(&csv, "dev-%05d,site-%03d,%s,community:%s,\n", i, i%500, addr, cm)
	}
	gateways := []string{"gw-a", "gw-b"}
	c, mosq, _ := benchController(b, csv.String(), gateways, "60s")
	payloads := map[string][][]byte{}
	for _, g := range gateways {
		payloads[g] = recordedPayloads(b, g, rate*int(run/time.Second)/len(gateways))
	}
	pid := c.cmd.Process.Pid
	cpu0 := procCPU(b, pid)
	start := time.Now()
	var peak int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		replay(b, mosq.Addr, payloads, rate)
	}()
	for {
		select {
		case <-done:
		case <-time.After(time.Second):
			peak = max(peak, procRSS(b, pid))
			continue
		}
		break
	}
	elapsed := time.Since(start)
	cpu := procCPU(b, pid) - cpu0
	peak = max(peak, procRSS(b, pid))
	if prof := os.Getenv("NGIC_BENCH_PROFILE"); prof != "" {
		saveProfile(b, "http://"+c.http+"/debug/pprof/heap", prof)
	}
	h, _ := c.health()
	b.ReportMetric(cpu.Seconds()/elapsed.Seconds()*100, "ctl-CPU-%")
	b.ReportMetric(float64(peak)/(1<<20), "ctl-peak-RSS-MB")
	if devs, ok := h["devices"].(map[string]any); ok {
		b.ReportMetric(devs["up"].(float64), "devices-up")
		b.Logf("devices by state: %v", devs)
	}
	logMetrics(b, c, "ngic_controller_poll_deadlines", "ngic_controller_polls_")
	c.stop(b)
}

// saveProfile fetches a CPU profile of the controller into path (with
// NGIC_BENCH_PROFILE=path, for a look at where the time goes).
func saveProfile(b *testing.B, url, path string) {
	resp, err := http.Get(url)
	if err != nil {
		b.Log(err)
		return
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		b.Log(err)
		return
	}
	defer f.Close()
	io.Copy(f, resp.Body)
}

// startFarm builds the scale harness's farmsim and runs it in its own
// process serving n devices, so that the simulator's CPU is not the
// benchmark's; it returns the farm's address and the devices' communities.
func startFarm(b *testing.B, n int) (string, []string) {
	dir := testenv.Recordings(b)
	bin := filepath.Join(b.TempDir(), "farmsim")
	if out, err := exec.Command("go", "build", "-o", bin, "./scale/internal/farmsim").CombinedOutput(); err != nil {
		b.Fatalf("build farmsim: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-recordings", dir, "-n", strconv.Itoa(n))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stdin.Close(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("farmsim: %v", err)
	}
	go io.Copy(io.Discard, stdout)
	views, err := scale.LoadViews(dir, scale.IFMIBRecordings)
	if err != nil {
		b.Fatal(err)
	}
	comms, _ := scale.Farm(views, n)
	return strings.TrimSpace(line), comms
}

// scrapeMetric returns the value of the controller's metric series (name
// and labels as /metrics spells them), -1 when it is not there.
func scrapeMetric(c *controllerProc, series string) float64 {
	resp, err := http.Get("http://" + c.http + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	m, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(m), "\n") {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				return f
			}
		}
	}
	return -1
}

// logMetrics logs the controller's metrics whose names start with one of
// prefixes.
func logMetrics(b *testing.B, c *controllerProc, prefixes ...string) {
	resp, err := http.Get("http://" + c.http + "/metrics")
	if err != nil {
		return
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, l := range strings.Split(string(m), "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				b.Log(l)
			}
		}
	}
}
