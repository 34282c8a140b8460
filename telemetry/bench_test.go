package telemetry

import (
	"testing"
	"time"
)

// BenchmarkInterfacePoint: one interface line of a polled device, the
// commonest point; the figure is per point.
func BenchmarkInterfacePoint(b *testing.B) {
	p := &InterfacePoint{DeviceTags: DeviceTags{Site: "village-07", Device: "olt-1", Class: "olt"}, IfIndex: 4194312448,
		IfName: "GPON 0/1/0", AdminStatus: "up", OperStatus: "up", SpeedBps: ptrOf(uint64(2488320000)),
		InBps: ptrOf(1.25e6), OutBps: ptrOf(3.5e7), InErrorsPS: ptrOf(0.0), OutErrorsPS: ptrOf(0.0), Time: pollTime}
	buf := make([]byte, 0, 64<<10)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = p.AppendLine(buf); err != nil {
			b.Fatal(err)
		}
		if len(buf) > 60<<10 {
			buf = buf[:0]
		}
	}
}

// BenchmarkEventPoint: one tag arrival with its GS1 identity, per point.
func BenchmarkEventPoint(b *testing.B) {
	ev := &Event{V: 1, Seq: 123456, ID: "4f1c2a9e-0000-4000-8000-000000000001", Gateway: "gw-1", Source: "dock",
		Type: TagArrived, Time: time.Date(2026, 11, 27, 10, 0, 0, 123456789, time.UTC),
		Tag: &Tag{ID: "3074257BF7194E4000001A85", Protocol: "magicrf", Antenna: 1, RSSI: ptrOf(-61),
			EPC:       &EPC{Scheme: "sgtin-96", URI: "urn:epc:id:sgtin:0614141.812345.6789", GTIN: "00614141123452"},
			FirstSeen: pollTime, LastSeen: pollTime}}
	buf := make([]byte, 0, 64<<10)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = AppendEventLine(buf, "cab-1", ev); err != nil {
			b.Fatal(err)
		}
		if len(buf) > 60<<10 {
			buf = buf[:0]
		}
	}
}

// BenchmarkEscapedPoint: a line where every name needs escaping.
func BenchmarkEscapedPoint(b *testing.B) {
	var e LineEncoder
	e.Reset(make([]byte, 0, 64<<10))
	b.ReportAllocs()
	for b.Loop() {
		e.Start("m, x")
		e.Tag("a key", "a,value=with spaces")
		e.Tag("b", "plain")
		e.String("s", `say "hi" \ bye`)
		e.Float("f", 3.25)
		if err := e.End(pollTime); err != nil {
			b.Fatal(err)
		}
		if len(e.Bytes()) > 60<<10 {
			e.Reset(e.Bytes()[:0])
		}
	}
}
