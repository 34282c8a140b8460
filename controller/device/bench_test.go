package device

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"
)

// benchRecording is a large, complete recording: 197 interfaces and the
// DOCSIS tables of a CMTS.
const benchRecording = "arris_c4-cmts"

// BenchmarkCollect polls a recording through an in-memory client and
// reports documents per second, allocations per varbind and bytes
// allocated per document.
func BenchmarkCollect(b *testing.B) {
	for _, name := range []string{benchRecording, "terra_sdi480"} {
		b.Run(name, func(b *testing.B) {
			pdus, _ := readSnmprec(b, filepath.Join(recordingsDir(b), name+".snmprec"))
			set, err := DefaultProfiles()
			if err != nil {
				b.Fatal(err)
			}
			c := newFakeClient(name, pdus)
			ctx := context.Background()
			d, _, err := Collect(ctx, c, set)
			if err != nil {
				b.Fatal(err)
			}
			if d.Class == "" {
				b.Fatal("no class")
			}
			// Varbinds one poll reads: those under the walked roots plus
			// the system group.
			var varbinds int
			for _, roots := range c.walks {
				objs, _, _ := c.Walk(ctx, roots)
				for _, l := range objs {
					varbinds += len(l)
				}
			}
			varbinds += len(SystemOIDs)
			c.walks = nil
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := Collect(ctx, c, set); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			runtime.ReadMemStats(&after)
			n := float64(b.N)
			b.ReportMetric(n/b.Elapsed().Seconds(), "docs/s")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n/float64(varbinds), "allocs/varbind")
			b.ReportMetric(float64(varbinds), "varbinds/doc")
			c.walks = nil
		})
	}
}

// BenchmarkDocumentMemory reports the heap a built document keeps alive
// (the walked objects dropped), so a poller holding one document per
// device can be sized.
func BenchmarkDocumentMemory(b *testing.B) {
	pdus, _ := readSnmprec(b, filepath.Join(recordingsDir(b), benchRecording+".snmprec"))
	set, err := DefaultProfiles()
	if err != nil {
		b.Fatal(err)
	}
	c := newFakeClient(benchRecording, pdus)
	ctx := context.Background()
	const keep = 50
	docs := make([]*Document, keep)
	var total float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for j := range docs {
			d, _, err := Collect(ctx, c, set)
			if err != nil {
				b.Fatal(err)
			}
			docs[j] = d
		}
		c.walks = nil
		runtime.GC()
		runtime.ReadMemStats(&after)
		total += float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / keep
		runtime.KeepAlive(docs)
		clear(docs)
	}
	b.ReportMetric(total/float64(b.N), "bytes/document")
}
