package snmp

import (
	"context"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/ngic/ngic/internal/testenv"
)

// cpuTime is this process's user+system CPU time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkWalkIFMIB walks ifTable and ifXTable of every recording that
// snmpsimd serves, one session per device, and reports the poller's own
// CPU time per varbind (snmpsimd's CPU is not counted).
func BenchmarkWalkIFMIB(b *testing.B) {
	sim := testenv.StartSnmpsim(b, testenv.Recordings(b), walkRecordings...)
	var sessions []*Session
	for i := 0; i < 4*len(walkRecordings); i++ {
		sessions = append(sessions, dialT(b, Config{Target: sim.Addr, Version: "2c",
			Community: walkRecordings[i%len(walkRecordings)], Timeout: 5 * time.Second}))
	}
	roots := []string{"1.3.6.1.2.1.2.2", "1.3.6.1.2.1.31.1.1"}
	ctx := context.Background()
	var varbinds int
	b.ResetTimer()
	start := cpuTime(b)
	for i := 0; i < b.N; i++ {
		for _, s := range sessions {
			objs, _, err := s.Walk(ctx, roots)
			if err != nil {
				b.Fatal(err)
			}
			for _, o := range objs {
				varbinds += len(o)
			}
		}
	}
	cpu := cpuTime(b) - start
	b.StopTimer()
	if varbinds == 0 {
		b.Fatal("no varbinds walked")
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(varbinds), "cpu-ns/varbind")
	b.ReportMetric(float64(varbinds)/float64(b.N), "varbinds/op")
	b.ReportMetric(float64(len(sessions)), "devices")
}

// BenchmarkSessionMemory measures the heap held per idle device: a session
// that answered one request and was then released, as the Scheduler leaves
// it between cycles ("released"), against one that keeps its socket and
// receive buffer ("kept"). The sessions are Dial's, each with its own copy
// of its configuration (a Scheduler's share their device's).
func BenchmarkSessionMemory(b *testing.B) {
	const n = 2000
	a := startFakeAgent(b, 0, func(oid string) gosnmp.SnmpPDU {
		return gosnmp.SnmpPDU{Name: oid, Type: gosnmp.EndOfMibView}
	})
	for _, release := range []bool{true, false} {
		name := "kept"
		if release {
			name = "released"
		}
		b.Run(name, func(b *testing.B) {
			var perDevice float64
			for i := 0; i < b.N; i++ {
				var before, after runtime.MemStats
				runtime.GC() // twice: the pools' victim caches go too
				runtime.GC()
				runtime.ReadMemStats(&before)
				sessions := make([]*Session, 0, n)
				for j := 0; j < n; j++ {
					s, err := Dial(Config{Target: a.Addr, Version: "2c", Community: "public"})
					if err != nil {
						b.Fatal(err)
					}
					if _, err := s.Get(context.Background(), []string{"1.3.6.1.2.1.1.3.0"}); err != nil {
						b.Fatal(err)
					}
					if release {
						if err := s.Release(); err != nil {
							b.Fatal(err)
						}
					}
					sessions = append(sessions, s)
				}
				runtime.GC()
				runtime.GC()
				runtime.ReadMemStats(&after)
				perDevice = (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / n
				for _, s := range sessions {
					s.Close()
				}
				runtime.KeepAlive(sessions)
			}
			b.ReportMetric(perDevice, "heap-bytes/idle-device")
		})
	}
}
