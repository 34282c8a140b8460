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
		putDigits(g.tmpl[i][g.idAt[i]:g.idAt[i]+12], uint64(n*500+i))
		g.bufs[i], _ = telemetry.WithSeq(g.bufs[i][:0], g.tmpl[i], uint64(n*50+i/10+1))
		g.msgs[i] = Message{Topic: g.topics[i], Payload: g.bufs[i]}
	}
	return g.msgs
}

// putDigits writes id in decimal over d, zero-padded (the template IDs'
// last digits).
func putDigits(d []byte, id uint64) {
	for j := len(d) - 1; j >= 0; j-- {
		d[j] = byte('0' + id%10)
		id /= 10
	}
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
	gen := newBenchGen(b)
	benchRecord(b, 500, gen.batch)
}

// BenchmarkRecordReader records the events of one UHF reader per gateway
// (tag arrivals and departures with EPC, consecutive seqs), 10 gateways
// of 64 events each a call: one event a message (single), or each
// gateway's 64 in one event batch (batched, what the edge sends under
// load); and 10 gateways of 6,400 events, in batches of 64 (batched-big:
// what the broker side hands Record when it falls behind, 100 messages of
// 64 events each a gateway).
func BenchmarkRecordReader(b *testing.B) {
	for _, c := range []struct {
		name           string
		events, perMsg int
	}{{"single", 64, 1}, {"batched", 64, 64}, {"batched-big", 6400, 64}} {
		b.Run(c.name, func(b *testing.B) {
			gen := newReaderGen(b, 10, c.events, c.perMsg)
			benchRecord(b, 10*c.events, gen.batch)
		})
	}
}

// benchRecord records batch(n) for n from 0, events events each, and
// reports the figures of BenchmarkRecord.
func benchRecord(b *testing.B, events int, batch func(n int) []Message) {
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
	var (
		wall, cpu time.Duration
		allocs    uint64
		ms        runtime.MemStats
	)
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		msgs := batch(n)
		runtime.ReadMemStats(&ms)
		a0, c0, w0 := ms.Mallocs, cpuTime(), time.Now()
		b.StartTimer()
		if err := in.Record(msgs); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		wall += time.Since(w0)
		cpu += cpuTime() - c0
		runtime.ReadMemStats(&ms)
		allocs += ms.Mallocs - a0
		b.StartTimer()
	}
	total := float64(b.N * events)
	b.ReportMetric(float64(wall.Nanoseconds())/total, "ns/event")
	b.ReportMetric(float64(cpu.Nanoseconds())/total, "cpu-ns/event")
	b.ReportMetric(float64(allocs)/total, "allocs/event")
	if st := in.Stats(); st.Total.Events != uint64(b.N*events) || st.Total.Gaps != 0 {
		b.Fatalf("stats: %+v", st.Total)
	}
}

// readerGen makes the calls of BenchmarkRecordReader from templates, in
// place like benchGen.
type readerGen struct {
	events, perMsg int
	tmpl           [][]byte // per gateway, then per event: spooled payload
	idAt           []int
	topics         []string // per gateway
	one            []byte
	bufs           [][]byte
	msgs           []Message
}

func newReaderGen(b testing.TB, gateways, events, perMsg int) *readerGen {
	g := &readerGen{events: events, perMsg: perMsg}
	rssi := -61
	for gi := range gateways {
		gw := fmt.Sprintf("gw%d", gi)
		g.topics = append(g.topics, telemetry.EventTopic(gw, "r1"))
		for j := range events {
			at := t0.Add(time.Duration(j) * time.Millisecond)
			e := &telemetry.Event{V: telemetry.SchemaVersion, ID: "0a1b2c3d-4e5f-4000-8000-000000000000",
				Gateway: gw, Source: "r1", Type: telemetry.TagArrived, Time: at,
				Tag: &telemetry.Tag{ID: fmt.Sprintf("3034257BF7194E40%08X", j/2), Protocol: "uhf", Antenna: 1, RSSI: &rssi,
					EPC: sgtin, FirstSeen: at, LastSeen: at}}
			if j%2 == 1 {
				e.Type, e.Tag.Reads = telemetry.TagDeparted, 40
			}
			p, err := telemetry.EncodeEvent(e)
			if err != nil {
				b.Fatal(err)
			}
			g.tmpl = append(g.tmpl, p)
			g.idAt = append(g.idAt, bytes.Index(p, []byte("8000-000000000000"))+5)
		}
	}
	n := gateways * events / perMsg
	g.bufs, g.msgs = make([][]byte, n), make([]Message, n)
	return g
}

// batch returns call n (valid until the next call).
func (g *readerGen) batch(n int) []Message {
	for i := range g.bufs {
		g.bufs[i] = g.bufs[i][:0]
	}
	for i, tmpl := range g.tmpl {
		putDigits(tmpl[g.idAt[i]:g.idAt[i]+12], uint64(n*len(g.tmpl)+i))
		g.one, _ = telemetry.WithSeq(g.one[:0], tmpl, uint64(n*g.events+i%g.events+1))
		m := i / g.perMsg
		if g.perMsg == 1 {
			g.bufs[m] = append(g.bufs[m], g.one...)
		} else {
			g.bufs[m] = telemetry.AppendToBatch(g.bufs[m], g.one)
		}
		g.msgs[m] = Message{Topic: g.topics[i/g.events], Payload: g.bufs[m]}
	}
	return g.msgs
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
