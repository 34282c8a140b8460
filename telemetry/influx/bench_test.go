package influx

import (
	"bytes"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ngic/ngic/internal/spool"
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
// and the delete on acceptance. encode-cpu-ns/point is the CPU of
// encoding the same points beforehand, 1,000 at a time into a reused
// buffer as the controller does (telemetry's InterfacePoint.AppendLine),
// and total-cpu-ns/point the two together. influxd's own CPU is not
// counted.
func BenchmarkWriteInfluxd(b *testing.B) {
	d := testenv.StartInfluxd(b)
	d.CreateDatabase(b, "ngic")
	for _, c := range []struct {
		name   string
		noGzip bool
	}{{"gzip", false}, {"plain", true}} {
		b.Run(c.name, func(b *testing.B) {
			enc := encodeCPU(b, b.N)
			var chunks [][]byte
			for i := 0; i < b.N; i += 1000 {
				chunks = append(chunks, appendInterfaceLines(b, nil, i, min(1000, b.N-i)))
			}
			w := open(b, Options{URL: d.URL, Bucket: "ngic/autogen", BufferPath: filepath.Join(b.TempDir(), "s"),
				NoGzip: c.noGzip, FlushInterval: 10 * time.Millisecond})
			stop := run(b, w)
			defer stop()
			b.ResetTimer()
			cpu0 := cpuTime(b)
			for _, chunk := range chunks {
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
			perPoint := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) }
			b.ReportMetric(perPoint(cpu), "cpu-ns/point")
			b.ReportMetric(perPoint(enc), "encode-cpu-ns/point")
			b.ReportMetric(perPoint(enc+cpu), "total-cpu-ns/point")
		})
	}
}

// encodeCPU is the CPU time of encoding the interface points 0..n-1,
// 1,000 at a time into one reused buffer.
func encodeCPU(b *testing.B, n int) time.Duration {
	buf := appendInterfaceLines(b, nil, 0, 1000) // warm, to size
	c0 := cpuTime(b)
	for i := 0; i < n; i += 1000 {
		buf = appendInterfaceLines(b, buf[:0], i, min(1000, n-i))
	}
	return cpuTime(b) - c0
}

// appendInterfaceLines appends the interface points i0..i0+n-1 to dst.
func appendInterfaceLines(b *testing.B, dst []byte, i0, n int) []byte {
	speed, in, out, errs := uint64(2488320000), 1.25e6, 3.5e7, 0.5
	for i := i0; i < i0+n; i++ {
		p := telemetry.InterfacePoint{DeviceTags: telemetry.DeviceTags{Site: "village-07", Device: "olt-1", Class: "olt"},
			IfIndex: 4194312448 + int64(i%64), IfName: "GPON 0/1/0", Alias: "to cabinet 12", AdminStatus: "up", OperStatus: "up",
			SpeedBps: &speed, InBps: &in, OutBps: &out, InErrorsPS: &errs, OutErrorsPS: &errs,
			Time: base.Add(time.Duration(i) * time.Microsecond)}
		var err error
		if dst, err = p.AppendLine(dst); err != nil {
			b.Fatal(err)
		}
	}
	return dst
}

// BenchmarkBufferRecord isolates the writer's costs of one 1,000-line
// record, per point: encoding the record (gzip unless plain:
// record-cpu-ns/point), appending it to the spool with its fsync (one
// transaction per record, as one Write: append-cpu-ns/point), and reading
// the records back and acknowledging them, as Run does, until the next
// append deletes them in its transaction (delete-cpu-ns/point).
func BenchmarkBufferRecord(b *testing.B) {
	lines := appendInterfaceLines(b, nil, 0, 1000)
	for _, c := range []struct {
		name string
		gzip bool
	}{{"gzip", true}, {"plain", false}} {
		b.Run(c.name, func(b *testing.B) {
			sp, err := spool.Open(filepath.Join(b.TempDir(), "s"), spool.Options{MaxBytes: maxMaxBytes, MaxRecords: maxMaxRecords})
			if err != nil {
				b.Fatal(err)
			}
			defer sp.Close()
			var rec, app time.Duration
			for b.Loop() {
				c0 := cpuTime(b)
				r := encodeRecord(lines, 1000, c.gzip)
				c1 := cpuTime(b)
				if _, err := sp.Append(r); err != nil {
					b.Fatal(err)
				}
				rec, app = rec+c1-c0, app+cpuTime(b)-c1
			}
			c0 := cpuTime(b)
			for {
				recs, err := sp.Next(0, nextChunk)
				if err != nil {
					b.Fatal(err)
				}
				if len(recs) == 0 {
					break
				}
				seqs := make([]uint64, len(recs))
				for i, r := range recs {
					seqs[i] = r.Seq
				}
				sp.Acknowledge(seqs...)
			}
			if _, err := sp.Append(encodeRecord(lines[:bytes.IndexByte(lines, '\n')+1], 1, c.gzip)); err != nil {
				b.Fatal(err)
			}
			if st := sp.Stats(); st.Records != 1 {
				b.Fatalf("%d records left, want the last one appended", st.Records)
			}
			del := cpuTime(b) - c0
			perPoint := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) / 1000 }
			b.ReportMetric(perPoint(rec), "record-cpu-ns/point")
			b.ReportMetric(perPoint(app), "append-cpu-ns/point")
			b.ReportMetric(perPoint(del), "delete-cpu-ns/point")
		})
	}
}
