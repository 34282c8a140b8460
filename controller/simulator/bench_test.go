package simulator

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
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
// socket: requests per second per core, and the process's CPU time per
// request (cpu-ns/req, from getrusage: steadier than ns/op on a loaded
// machine).
func BenchmarkHandlePacket(b *testing.B) {
	s, _ := loadAll(b)
	req := bulkIfTable(b, "huawei_ma5603t")
	if resp := s.HandlePacket(nil, req); len(decodeResp(b, resp).Variables) != 25 {
		b.Fatal("GETBULK did not give 25 varbinds")
	}
	b.ReportAllocs()
	cpu0 := processCPU(b)
	defer func() { b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/req") }()
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

// processCPU returns the CPU time this process has used, in nanoseconds.
func processCPU(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
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
// and drives it with GETBULKs of 25 varbinds of ifTable to every agent in
// turn: from the batched load generator with 1, 8, 64 or 256 requests in
// flight, or from 8 plain sockets with one request in flight each (as
// pollers do). It reports the simulator's own CPU per request, its heap
// allocations per request and how often per request one of its threads
// went to sleep (from the child's getrusage and MemStats, so the load's
// are not counted), the load's CPU per request (this process's) and the
// requests answered per second.
// NGIC_SIMULATOR_PROFILE=FILE writes the child's CPU profile;
// NGIC_SIMULATOR_CHILD_EXE=FILE runs another build's test binary as the
// child, to compare builds under the same load.
func BenchmarkServeCPU(b *testing.B) {
	s, _ := loadAll(b)
	type drive func(b *testing.B, to netip.AddrPort, communities []string, n int) loadgen.Result
	byLoadgen := func(inFlight int) drive {
		return func(b *testing.B, to netip.AddrPort, communities []string, n int) loadgen.Result {
			res, err := loadgen.Run(context.Background(), loadgen.Options{Target: to, Communities: communities,
				InFlight: inFlight, Requests: n, Timeout: 5 * time.Second})
			if err != nil {
				b.Fatal(err)
			}
			return res
		}
	}
	for _, path := range []struct {
		name  string
		batch int
	}{{"batched", DefaultOptions.Batch}, {"plain", 1}} {
		for _, load := range []struct {
			name  string
			drive drive
		}{{"loadgen-1", byLoadgen(1)}, {"loadgen-8", byLoadgen(8)}, {"loadgen-64", byLoadgen(64)},
			{"loadgen-256", byLoadgen(256)}, {"clients-8", syncClients(8)}} {
			b.Run(path.name+"/"+load.name, func(b *testing.B) {
				ch := startChild(b, path.batch, 0)
				load.drive(b, ch.addr, s.Devices(), 10000) // warm up
				u0, l0 := ch.usage(b), processCPU(b)
				b.ResetTimer()
				res := load.drive(b, ch.addr, s.Devices(), b.N)
				b.StopTimer()
				u1, l1 := ch.usage(b), processCPU(b)
				if res.Answers == 0 || res.Malformed > 0 {
					b.Fatalf("load: %v", res)
				}
				n := float64(res.Answers)
				b.ReportMetric(float64((u1.cpu-u0.cpu).Nanoseconds())/1000/n, "sim-µs/req")
				b.ReportMetric(float64(u1.mallocs-u0.mallocs)/n, "sim-allocs/req")
				b.ReportMetric(float64(l1-l0)/1000/n, "load-µs/req")
				if u0.sleeps >= 0 {
					b.ReportMetric(float64(u1.sleeps-u0.sleeps)/n, "sim-sleeps/req")
				}
				b.ReportMetric(res.PerSecond(), "req/s")
				b.ReportMetric(float64(res.Timeouts), "timeouts")
			})
		}
	}
}

// syncClients drives an agent from k plain sockets, each sending a request
// and waiting for its answer (a timeout of 5 s fails the benchmark).
func syncClients(k int) func(b *testing.B, to netip.AddrPort, communities []string, n int) loadgen.Result {
	return func(b *testing.B, to netip.AddrPort, communities []string, n int) loadgen.Result {
		reqs := make([][]byte, len(communities))
		for i, c := range communities {
			reqs[i] = bulkIfTable(b, c)
		}
		var next atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range k {
			wg.Go(func() {
				c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(to))
				if err != nil {
					b.Error(err)
					return
				}
				defer c.Close()
				in := make([]byte, 65536)
				for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
					if _, err := c.Write(reqs[i%int64(len(reqs))]); err != nil {
						b.Error(err)
						return
					}
					_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
					if _, err := c.Read(in); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		return loadgen.Result{Sent: int64(n), Answers: int64(n), Elapsed: time.Since(start)}
	}
}
