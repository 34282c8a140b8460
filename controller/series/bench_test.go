package series

import (
	"bytes"
	"runtime"
	"testing"
)

// BenchmarkAppendDocument appends the second poll's document (with rates)
// of a large CMTS, an OLT and a DSLAM to a buffer that already has room, and
// reports the time and allocations per point (line).
func BenchmarkAppendDocument(b *testing.B) {
	f := startFleet(b)
	for _, name := range []string{"arris_c4-cmts", "bdcom_gp3600-16b", "zyxel_ies-5106"} {
		b.Run(name, func(b *testing.B) {
			d := f.twoPolls(b, name)[1]
			tg := tagsOf(name)
			buf, err := AppendDocument(nil, tg, d)
			if err != nil {
				b.Fatal(err)
			}
			points := bytes.Count(buf, []byte("\n"))
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if buf, err = AppendDocument(buf[:0], tg, d); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			runtime.ReadMemStats(&after)
			n := float64(b.N) * float64(points)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/point")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/point")
			b.ReportMetric(float64(points), "points/doc")
		})
	}
}
