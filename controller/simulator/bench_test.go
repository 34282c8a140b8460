package simulator

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/ngic/ngic/controller/simulator/loadgen"
	"github.com/ngic/ngic/internal/testenv"
)

// bulkIfTable is a v2c GETBULK of IF-MIB ifTable, max-repetitions 25.
func bulkIfTable(b testing.TB, community string) []byte {
	p := &gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: community, PDUType: gosnmp.GetBulkRequest,
		RequestID: 1, MaxRepetitions: 25, Variables: []gosnmp.SnmpPDU{{Name: ".1.3.6.1.2.1.2.2", Type: gosnmp.Null}}}
	req, err := p.MarshalMsg()
	if err != nil {
		b.Fatal(err)
	}
	return req
}

// BenchmarkHandlePacket measures the agent's work per GETBULK without the
// socket: requests per second per core.
func BenchmarkHandlePacket(b *testing.B) {
	s, _ := loadAll(b)
	req := bulkIfTable(b, "huawei_ma5603t")
	if resp := s.HandlePacket(nil, req); len(decodeResp(b, resp).Variables) != 25 {
		b.Fatal("GETBULK did not give 25 varbinds")
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 0, 4096)
		for pb.Next() {
			if s.HandlePacket(buf, req) == nil {
				b.Error("no answer")
				return
			}
		}
	})
	rps := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(rps, "req/s")
	b.ReportMetric(rps/float64(runtime.GOMAXPROCS(0)), "req/s/core")
}

// BenchmarkServeUDP measures GETBULKs answered over loopback UDP with
// several client goroutines, each with one request in flight.
func BenchmarkServeUDP(b *testing.B) {
	s, _ := loadAll(b)
	port := serve(b, s)
	req := bulkIfTable(b, "huawei_ma5603t")
	const clients = 8
	var wg sync.WaitGroup
	per := b.N/clients + 1
	b.ResetTimer()
	for range clients {
		wg.Go(func() {
			c, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
			if err != nil {
				b.Error(err)
				return
			}
			defer c.Close()
			in := make([]byte, 65536)
			for range per {
				if _, err := c.Write(req); err != nil {
					b.Error(err)
					return
				}
				_ = c.SetReadDeadline(time.Now().Add(time.Second))
				if _, err := c.Read(in); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	rps := float64(per*clients) / b.Elapsed().Seconds()
	b.ReportMetric(rps, "req/s")
	b.ReportMetric(rps/float64(runtime.GOMAXPROCS(0)), "req/s/core")
}

// bulkwalk runs net-snmp's snmpbulkwalk against an agent and returns the
// number of varbinds and the time taken.
func bulkwalk(b *testing.B, port int, community string) (int, time.Duration) {
	bin, err := exec.LookPath("snmpbulkwalk")
	if err != nil {
		if testenv.Require() {
			b.Fatal("snmpbulkwalk not found (apt-get install snmp)")
		}
		b.Skip("snmpbulkwalk not found (apt-get install snmp)")
	}
	start := time.Now()
	out, err := exec.Command(bin, "-v2c", "-c", community, "-Cr25", "-On", "-Oq", "-t", "10",
		fmt.Sprintf("127.0.0.1:%d", port), ".1.3").Output()
	d := time.Since(start)
	if err != nil {
		b.Fatalf("snmpbulkwalk: %v", err)
	}
	return bytes.Count(out, []byte("\n")), d
}

// BenchmarkBulkwalkVsSnmpsim walks the same recording with snmpbulkwalk
// through the simulator and through snmpsimd and reports the time per
// varbind of each and their ratio.
func BenchmarkBulkwalkVsSnmpsim(b *testing.B) {
	const dev = "huawei_ma5603t"
	sim := testenv.StartSnmpsim(b, testenv.Recordings(b), dev)
	s, _ := loadAll(b)
	port := serve(b, s)
	var ours, theirs time.Duration
	var nOurs, nTheirs int
	for b.Loop() {
		n, d := bulkwalk(b, port, dev)
		nOurs, ours = nOurs+n, ours+d
		n, d = bulkwalk(b, sim.Port, dev)
		nTheirs, theirs = nTheirs+n, theirs+d
	}
	if nOurs == 0 || nTheirs == 0 {
		b.Fatalf("walks returned %d and %d varbinds", nOurs, nTheirs)
	}
	o := float64(ours.Nanoseconds()) / float64(nOurs)
	t := float64(theirs.Nanoseconds()) / float64(nTheirs)
	b.ReportMetric(o, "sim-ns/varbind")
	b.ReportMetric(t, "snmpsimd-ns/varbind")
	b.ReportMetric(t/o, "speedup")
}

// BenchmarkServeCPU serves the shared recordings from a child process,
// batched and one datagram per system call (the path before batches),
// and drives it with the batched load generator: GETBULKs of 25 varbinds
// of ifTable to every agent in turn, 256 or 8 in flight. It reports the
// simulator's own CPU per request and heap allocations per request (from
// the child's getrusage and MemStats, so the generator's are not counted)
// and the requests answered per second. NGIC_SIMULATOR_PROFILE=FILE
// writes the child's CPU profile.
func BenchmarkServeCPU(b *testing.B) {
	s, _ := loadAll(b)
	for _, c := range []struct {
		name     string
		batch    int
		workers  int
		inFlight int
	}{
		{"batched/inflight=256", DefaultOptions.Batch, 0, 256}, {"plain/inflight=256", 1, 0, 256},
		{"batched/inflight=8", DefaultOptions.Batch, 0, 8}, {"plain/inflight=8", 1, 0, 8},
		{"batched1/inflight=256", DefaultOptions.Batch, 1, 256}, {"plain1/inflight=256", 1, 1, 256},
		{"batched1/inflight=8", DefaultOptions.Batch, 1, 8}, {"plain1/inflight=8", 1, 1, 8},
	} {
		b.Run(c.name, func(b *testing.B) {
			ch := startChild(b, c.batch, c.workers)
			opts := loadgen.Options{Target: ch.addr, Communities: s.Devices(), InFlight: c.inFlight, Timeout: 5 * time.Second}
			warm := opts
			warm.Requests = 10000
			if _, err := loadgen.Run(context.Background(), warm); err != nil {
				b.Fatal(err)
			}
			cpu0, m0 := ch.usage(b)
			opts.Requests = b.N
			b.ResetTimer()
			res, err := loadgen.Run(context.Background(), opts)
			b.StopTimer()
			cpu1, m1 := ch.usage(b)
			if err != nil {
				b.Fatal(err)
			}
			if res.Answers == 0 || res.Malformed > 0 {
				b.Fatalf("load: %v", res)
			}
			b.ReportMetric(float64((cpu1-cpu0).Nanoseconds())/1000/float64(res.Answers), "sim-µs/req")
			b.ReportMetric(float64(m1-m0)/float64(res.Answers), "sim-allocs/req")
			b.ReportMetric(res.PerSecond(), "req/s")
			b.ReportMetric(float64(res.Timeouts), "timeouts")
		})
	}
}
