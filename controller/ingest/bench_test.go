package ingest

import (
	"bytes"
	"fmt"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/alerts"
	"github.com/ngic/ngic/telemetry"
)

// benchGen makes batches of 500 events over 10 gateways (50 each, in seq
// order): tag arrivals and departures of UHF tags with their EPC, beams
// and passages, as a busy site sends them. Batch n is made from templates
// by writing its IDs and seqs in place, so that making it allocates
// nothing and leaves the garbage collector to the code measured.
type benchGen struct {
	tmpl   [500][]byte // spooled payload (no seq)
	idAt   [500]int    // where the 12 last digits of the ID are
	topics [500]string
	bufs   [500][]byte
	msgs   []Message
}

func newBenchGen(b testing.TB) *benchGen {
	g := &benchGen{msgs: make([]Message, 500)}
	rssi := -60
	for i := 0; i < 500; i++ {
		gw := fmt.Sprintf("gw%d", i%10)
		seq := uint64(i/10 + 1)
		e := &telemetry.Event{V: telemetry.SchemaVersion, ID: "0a1b2c3d-4e5f-4000-8000-000000000000",
			Gateway: gw, Time: t0.Add(time.Duration(seq) * time.Millisecond)}
		tagID := fmt.Sprintf("3034257BF7194E40%08X", seq/2)
		switch seq % 10 {
		case 0, 2, 4, 6:
			e.Source, e.Type = "r1", telemetry.TagArrived
			e.Tag = &telemetry.Tag{ID: tagID, Protocol: "uhf", Antenna: 1, RSSI: &rssi, EPC: sgtin, FirstSeen: e.Time, LastSeen: e.Time}
		case 1, 3, 5, 7:
			e.Source, e.Type = "r1", telemetry.TagDeparted
			e.Tag = &telemetry.Tag{ID: tagID, Protocol: "uhf", Antenna: 1, RSSI: &rssi, EPC: sgtin, Reads: 40,
				FirstSeen: e.Time.Add(-time.Second), LastSeen: e.Time}
		case 8:
			e.Source, e.Type, e.Beam = "cab", telemetry.BeamBlocked, &telemetry.Beam{}
		case 9:
			e.Source, e.Type = "gate", telemetry.Passage
			e.PassageInfo = &telemetry.PassageInfo{Direction: "in", DurationS: 0.4, In: seq / 10}
		}
		p, err := telemetry.EncodeEvent(e)
		if err != nil {
			b.Fatal(err)
		}
		g.tmpl[i], g.topics[i] = p, telemetry.EventTopic(gw, e.Source)
		g.idAt[i] = bytes.Index(p, []byte("8000-000000000000")) + 5
	}
	return g
}

// batch returns batch n (valid until the next call).
func (g *benchGen) batch(n int) []Message {
	for i := range g.msgs {
		id := uint64(n*500 + i)
		d := g.tmpl[i][g.idAt[i] : g.idAt[i]+12]
		for j := 11; j >= 0; j-- {
			d[j] = byte('0' + id%10)
			id /= 10
		}
		g.bufs[i], _ = telemetry.WithSeq(g.bufs[i][:0], g.tmpl[i], uint64(n*50+i/10+1))
		g.msgs[i] = Message{Topic: g.topics[i], Payload: g.bufs[i]}
	}
	return g.msgs
}

// discard is a Sink that drops the signals.
type discard struct{}

func (discard) Signal(alerts.Signal) {}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRecord records batches of 500 events over 10 gateways into a
// real state file (fsync per batch), the lines going to a buffer and the
// signals to a sink that drops them, and
// reports per event the wall time, the CPU time (user+system, JSON
// decoding included) and the allocations.
func BenchmarkRecord(b *testing.B) {
	var buf []byte
	in, err := Open(Options{StatePath: filepath.Join(b.TempDir(), "ingest.db"),
		Lines: func(lines []byte) error { buf = append(buf[:0], lines...); return nil }, Signals: discard{}})
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	sites := map[string]string{}
	for i := 0; i < 10; i++ {
		sites[fmt.Sprintf("gw%d", i)] = fmt.Sprintf("site-%d", i%3)
	}
	in.SetGateways(sites)
	gen := newBenchGen(b)
	var (
		wall, cpu time.Duration
		allocs    uint64
		ms        runtime.MemStats
	)
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		batch := gen.batch(n)
		runtime.ReadMemStats(&ms)
		a0, c0, w0 := ms.Mallocs, cpuTime(), time.Now()
		b.StartTimer()
		if err := in.Record(batch); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		wall += time.Since(w0)
		cpu += cpuTime() - c0
		runtime.ReadMemStats(&ms)
		allocs += ms.Mallocs - a0
		b.StartTimer()
	}
	events := float64(b.N * 500)
	b.ReportMetric(float64(wall.Nanoseconds())/events, "ns/event")
	b.ReportMetric(float64(cpu.Nanoseconds())/events, "cpu-ns/event")
	b.ReportMetric(float64(allocs)/events, "allocs/event")
	if st := in.Stats(); st.Total.Events != uint64(b.N*500) || st.Total.Gaps != 0 {
		b.Fatalf("stats: %+v", st.Total)
	}
}

// BenchmarkDecodeEvent is the telemetry decoder alone on the payloads of
// BenchmarkRecord: the part of its figure that is JSON decoding.
func BenchmarkDecodeEvent(b *testing.B) {
	msgs := newBenchGen(b).batch(0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := telemetry.DecodeEvent(msgs[i%len(msgs)].Payload); err != nil {
			b.Fatal(err)
		}
	}
}
