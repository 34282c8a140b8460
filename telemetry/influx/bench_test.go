package influx

import (
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// cpuTime is this process's user+system CPU time (influxd's is not in it).
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkWriteInfluxd writes b.N interface points (ten fields, ~250
// bytes) to the real influxd 1.8 through the writer, 1,000 lines per
// Write, and reports the writer's CPU per point (cpu-ns/point): Write
// (gzip, spool append with fsync), reading the spool, the HTTP request,
// and the delete on acceptance. Encoding the lines (telemetry's
// benchmarks) and influxd's own CPU are not counted.
func BenchmarkWriteInfluxd(b *testing.B) {
	d := testenv.StartInfluxd(b)
	d.CreateDatabase(b, "ngic")
	for _, c := range []struct {
		name   string
		noGzip bool
	}{{"gzip", false}, {"plain", true}} {
		b.Run(c.name, func(b *testing.B) {
			lines := interfaceLines(b, b.N)
			w := open(b, Options{URL: d.URL, Bucket: "ngic/autogen", BufferPath: filepath.Join(b.TempDir(), "s"),
				NoGzip: c.noGzip, FlushInterval: 10 * time.Millisecond})
			stop := run(b, w)
			defer stop()
			b.ResetTimer()
			cpu0 := cpuTime(b)
			for _, chunk := range lines {
				if err := w.Write(chunk); err != nil {
					b.Fatal(err)
				}
			}
			// Polled every 100 ms: the waiting's own CPU is the
			// harness's, not the writer's.
			waitEvery(b, 10*time.Minute, 100*time.Millisecond, func() string { return fmt.Sprintf("not all written: %+v", w.Stats()) },
				func() bool { st := w.Stats(); return st.Written >= uint64(b.N) && st.BufferedRecords == 0 })
			cpu := cpuTime(b) - cpu0
			b.StopTimer()
			if st := w.Stats(); st.WriteErrors != 0 || st.BufferedRecords != 0 {
				b.Fatalf("stats %+v", st)
			}
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/point")
		})
	}
}

// interfaceLines encodes n interface points in chunks of 1,000 lines.
func interfaceLines(b *testing.B, n int) [][]byte {
	var out [][]byte
	var buf []byte
	speed, in, out2, errs := uint64(2488320000), 1.25e6, 3.5e7, 0.5
	for i := 0; i < n; i++ {
		p := telemetry.InterfacePoint{DeviceTags: telemetry.DeviceTags{Site: "village-07", Device: "olt-1", Class: "olt"},
			IfIndex: 4194312448 + i%64, IfName: "GPON 0/1/0", Alias: "to cabinet 12", AdminStatus: "up", OperStatus: "up",
			SpeedBps: &speed, InBps: &in, OutBps: &out2, InErrorsPS: &errs, OutErrorsPS: &errs,
			Time: base.Add(time.Duration(i) * time.Microsecond)}
		var err error
		if buf, err = p.AppendLine(buf); err != nil {
			b.Fatal(err)
		}
		if (i+1)%1000 == 0 || i == n-1 {
			out = append(out, buf)
			buf = nil
		}
	}
	return out
}
