package broker

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ngic/ngic/controller/ingest"
	"github.com/ngic/ngic/internal/testenv"
)

// countRecorder counts the messages it is given.
type countRecorder struct{ n atomic.Int64 }

func (r *countRecorder) Record(batch []ingest.Message) error {
	r.n.Add(int64(len(batch)))
	return nil
}

// syncRecorder appends the payloads to a file and syncs it once per
// batch, as a durable recorder does at least.
type syncRecorder struct {
	countRecorder
	mu  sync.Mutex
	f   *os.File
	buf []byte
}

func (r *syncRecorder) Record(batch []ingest.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf = r.buf[:0]
	for _, m := range batch {
		r.buf = append(append(r.buf, m.Payload...), '\n')
	}
	if _, err := r.f.Write(r.buf); err != nil {
		return err
	}
	if err := r.f.Sync(); err != nil {
		return err
	}
	return r.countRecorder.Record(batch)
}

// counted is a recorder the benchmarks read the progress from.
type counted interface {
	ingest.Recorder
	count() int64
}

func (r *countRecorder) count() int64 { return r.n.Load() }

// cpuTime returns the CPU time this process used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// publishAll publishes n event payloads at QoS 1 with at most window
// unacknowledged, and waits for every PUBACK.
func publishAll(c mqtt.Client, payloads [][]byte, n, window int) error {
	slots := make(chan mqtt.Token, window)
	var failed atomic.Value
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for tok := range slots {
			if !tok.WaitTimeout(wait) || tok.Error() != nil {
				failed.Store(fmt.Sprint("publish: ", tok.Error()))
			}
		}
	}()
	for i := range n {
		slots <- c.Publish(eventTopic, 1, false, payloads[i%len(payloads)])
	}
	close(slots)
	wg.Wait()
	if f := failed.Load(); f != nil {
		return errors.New(f.(string))
	}
	return nil
}

// BenchmarkSubscriberThroughput measures the Subscriber taking recorded-
// looking event payloads (about 400 bytes) from mosquitto at QoS 1:
//
//   - drain: b.N messages wait in the persistent session while the
//     subscriber is away; then it connects and records and acknowledges
//     them all. The process's CPU time then is the subscriber's alone:
//     cpu-µs/msg. The recorder only counts (count) or also appends the
//     payloads to a file and syncs it once per batch (fsync).
//   - live: a gateway publishes b.N messages (window 1000) while the
//     subscriber records them with the fsync recorder; cpu-µs/msg then
//     includes the publisher's share, in the same process.
//
// msgs/s is messages recorded per second of wall time.
func BenchmarkSubscriberThroughput(b *testing.B) {
	payloads := make([][]byte, 1000)
	for i := range payloads {
		payloads[i] = eventPayload(b, i)
	}
	b.Logf("payload %d bytes", len(payloads[0]))
	fsync := func(b *testing.B) counted {
		f, err := os.Create(filepath.Join(b.TempDir(), "record"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { f.Close() })
		return &syncRecorder{f: f}
	}
	for _, bc := range []struct {
		name string
		live bool
		rec  func(*testing.B) counted
	}{
		{"drain/count", false, func(*testing.B) counted { return &countRecorder{} }},
		{"drain/fsync", false, fsync},
		{"live/fsync", true, fsync},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m := testenv.StartMosquitto(b)
			id := "ngic-controller-bench"
			s, stop := start(b, m.Addr, id, &countRecorder{}, nil)
			waitSubscribed(b, s)
			stop()
			pub := pahoClient(b, m.Addr, "gw-bench", nil)
			if !bc.live {
				if err := publishAll(pub, payloads, b.N, 1000); err != nil {
					b.Fatal(err)
				}
			}
			rec := bc.rec(b)

			b.ResetTimer()
			cpu0, t0 := cpuTime(b), time.Now()
			s, stop = start(b, m.Addr, id, rec, nil)
			if bc.live {
				if err := publishAll(pub, payloads, b.N, 1000); err != nil {
					b.Fatal(err)
				}
			}
			deadline := time.Now().Add(time.Minute + time.Duration(b.N)*100*time.Microsecond)
			for rec.count() < int64(b.N) {
				if time.Now().After(deadline) {
					b.Fatalf("%d of %d recorded: %+v", rec.count(), b.N, s.Stats())
				}
				time.Sleep(time.Millisecond)
			}
			elapsed, cpu := time.Since(t0), cpuTime(b)-cpu0
			b.StopTimer()
			waitFor(b, "acknowledgements", func() bool { return s.Stats().Acked == uint64(b.N) })
			st := s.Stats()
			stop()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/msg")
			b.ReportMetric(float64(st.Recorded)/float64(max(st.Batches, 1)), "msgs/batch")
		})
	}
}

// BenchmarkEmbeddedHook measures the embedded broker with the recording
// hook and the fsync recorder: gateways publish b.N event payloads in all
// at QoS 1 (each with up to 100 unacknowledged), and each publish is
// recorded before its PUBACK. One gateway's publishes are recorded one at
// a time (mochi handles a client's packets in order); several gateways
// share Record calls (msgs/batch). cpu-µs/msg includes the publishers, in
// the same process.
func BenchmarkEmbeddedHook(b *testing.B) {
	payloads := make([][]byte, 1000)
	for i := range payloads {
		payloads[i] = eventPayload(b, i)
	}
	for _, gateways := range []int{1, 10, 50} {
		b.Run(fmt.Sprintf("gateways=%d", gateways), func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "record"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			h := NewRecordingHook(&syncRecorder{f: f})
			br := startEmbedded(b, "127.0.0.1:0", h)
			pubs := make([]mqtt.Client, gateways)
			for g := range pubs {
				pubs[g] = pahoClient(b, br.Addr(), fmt.Sprintf("gw-%d", g), nil)
			}
			b.ResetTimer()
			cpu0, t0 := cpuTime(b), time.Now()
			var wg sync.WaitGroup
			errs := make(chan error, gateways)
			for g, pub := range pubs {
				n := b.N / gateways
				if g < b.N%gateways {
					n++
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- publishAll(pub, payloads, n, 100)
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					b.Fatal(err)
				}
			}
			elapsed, cpu := time.Since(t0), cpuTime(b)-cpu0
			b.StopTimer()
			st := h.Stats()
			b.ReportMetric(float64(st.Recorded)/elapsed.Seconds(), "msgs/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(st.Recorded), "cpu-µs/msg")
			b.ReportMetric(float64(st.Recorded)/float64(max(st.Batches, 1)), "msgs/batch")
		})
	}
}
