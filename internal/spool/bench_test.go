package spool

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
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
