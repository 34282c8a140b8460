package spool

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"testing"
)

// benchEvents returns n events of about 200 bytes.
func benchEvents(n int) [][]byte {
	rng := rand.New(rand.NewPCG(9, 10))
	evs := make([][]byte, n)
	for i := range evs {
		evs[i] = makePayload(uint64(i), 186, rng)
	}
	return evs
}

// BenchmarkAppend appends batches of ~200-byte events with fsync (and,
// for comparison, without) and reports events/s. Nothing is deleted: the
// spool grows with b.N, as it does during a broker outage.
func BenchmarkAppend(b *testing.B) {
	for _, noSync := range []bool{false, true} {
		for _, batch := range []int{1, 64, 512} {
			b.Run(fmt.Sprintf("batch=%d/nosync=%v", batch, noSync), func(b *testing.B) {
				s, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{NoSync: noSync})
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				evs := benchEvents(batch)
				b.SetBytes(int64(batch * len(evs[0])))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := s.Append(evs...); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}

// BenchmarkNextDelete reads and acknowledges a backlog the way the
// publisher does: Next of 512 then Delete of the same 512, with fsync.
func BenchmarkNextDelete(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const page = 512
	evs := benchEvents(page)
	var after uint64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if _, err := s.Append(evs...); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		recs, err := s.Next(after, page)
		if err != nil || len(recs) != page {
			b.Fatalf("Next: %d records, %v", len(recs), err)
		}
		seqs := make([]uint64, len(recs))
		for j, r := range recs {
			seqs[j] = r.Seq
		}
		after = seqs[len(seqs)-1]
		if err := s.Delete(seqs...); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*page)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkAppendAcknowledge is the gateway's use of the spool: batches of
// ~200-byte events, each setting a presence key of the state (tags cycling
// through 4096 present ones), read back with Next and acknowledged, so
// that the next append's transaction deletes them. It reports the
// allocations per event of the whole cycle, from runtime.MemStats.
func BenchmarkAppendAcknowledge(b *testing.B) {
	for _, batch := range []int{1, 64, 1024} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			data := benchEvents(batch)
			evs := make([]Event, batch)
			kvs := make([]KV, batch)
			seqs := make([]uint64, 0, batch)
			var after uint64
			cycle := func(i int) {
				for j := range evs {
					tag := uint64(i*batch+j) % 4096
					kvs[j] = KV{Key: fmt.Appendf(kvs[j].Key[:0], "presence\x00r1\x001\x00E28011700000020A%08X", tag),
						Value: append(kvs[j].Value[:0], `{"protocol":"epc-gen2","first_seen":"2026-01-01T00:00:00Z","rssi":-60}`...)}
					evs[j] = Event{Data: data[j], State: &kvs[j]}
				}
				if _, err := s.AppendEvents(evs...); err != nil {
					b.Fatal(err)
				}
				recs, err := s.Next(after, batch)
				if err != nil || len(recs) != batch {
					b.Fatalf("Next: %d records, %v", len(recs), err)
				}
				seqs = seqs[:0]
				for _, r := range recs {
					seqs = append(seqs, r.Seq)
				}
				after = seqs[len(seqs)-1]
				s.Acknowledge(seqs...)
			}
			for i := range 4096/batch + 1 { // every tag's key stored once: the state at its size
				cycle(i)
			}
			b.ReportAllocs()
			b.ResetTimer()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			for i := 0; i < b.N; i++ {
				cycle(i)
			}
			runtime.ReadMemStats(&m1)
			b.StopTimer()
			b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(b.N*batch), "allocs/event")
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
