package telemetry

import (
	"syscall"
	"testing"
	"time"
)

// benchPoints appends one point per iteration to a reused buffer and
// reports the process's CPU time per point (cpu-ns/point): on a loaded
// machine ns/op, which is wall time, counts the other processes too.
func benchPoints(b *testing.B, appendPoint func(dst []byte) ([]byte, error)) {
	buf := make([]byte, 0, 64<<10)
	b.ReportAllocs()
	var ru0, ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	n := 0
	for b.Loop() {
		var err error
		if buf, err = appendPoint(buf); err != nil {
			b.Fatal(err)
		}
		if len(buf) > 60<<10 {
			buf = buf[:0]
		}
		n++
	}
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano()
	b.ReportMetric(float64(cpu)/float64(n), "cpu-ns/point")
}

// BenchmarkInterfacePoint: one interface line of a polled device, the
// commonest point (ten fields, the writer's benchmark's point); the
// figure is per point.
func BenchmarkInterfacePoint(b *testing.B) {
	p := &InterfacePoint{DeviceTags: DeviceTags{Site: "village-07", Device: "olt-1", Class: "olt"}, IfIndex: 4194312448,
		IfName: "GPON 0/1/0", Alias: "to cabinet 12", AdminStatus: "up", OperStatus: "up", SpeedBps: ptrOf(uint64(2488320000)),
		InBps: ptrOf(1.25e6), OutBps: ptrOf(3.5e7), InErrorsPS: ptrOf(0.5), OutErrorsPS: ptrOf(0.5), Time: pollTime}
	benchPoints(b, p.AppendLine)
}

// BenchmarkEventPoint: one tag arrival with its GS1 identity, per point.
func BenchmarkEventPoint(b *testing.B) {
	ev := &Event{V: 1, Seq: 123456, ID: "4f1c2a9e-0000-4000-8000-000000000001", Gateway: "gw-1", Source: "dock",
		Type: TagArrived, Time: time.Date(2026, 11, 27, 10, 0, 0, 123456789, time.UTC),
		Tag: &Tag{ID: "3074257BF7194E4000001A85", Protocol: "magicrf", Antenna: 1, RSSI: ptrOf(-61),
			EPC:       &EPC{Scheme: "sgtin-96", URI: "urn:epc:id:sgtin:0614141.812345.6789", GTIN: "00614141123452"},
			FirstSeen: pollTime, LastSeen: pollTime}}
	benchPoints(b, func(dst []byte) ([]byte, error) { return AppendEventLine(dst, "cab-1", ev) })
}

// BenchmarkEscapedPoint: a line where every name needs escaping.
func BenchmarkEscapedPoint(b *testing.B) {
	var e LineEncoder
	benchPoints(b, func(dst []byte) ([]byte, error) {
		e.Reset(dst)
		e.Start("m, x")
		e.Tag("a key", "a,value=with spaces")
		e.Tag("b", "plain")
		e.String("s", `say "hi" \ bye`)
		e.Float("f", 3.25)
		err := e.End(pollTime)
		return e.Bytes(), err
	})
}
