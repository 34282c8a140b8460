package poller

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/config"
	"github.com/ngic/ngic/controller/snmp"
)

// nationalDevices are n devices as a national inventory gives them, each
// with its own address.
func nationalDevices(n int, interval time.Duration) []config.DeviceConfig {
	devs := make([]config.DeviceConfig, n)
	for i := range devs {
		devs[i] = config.DeviceConfig{ID: fmt.Sprintf("dev-%06d", i), Site: fmt.Sprintf("site-%05d", i/4),
			Interval: interval, SNMP: snmp.Config{Target: fmt.Sprintf("10.%d.%d.%d:161", i>>16&255, i>>8&255, i&255),
				Version: "2c", Community: "public"}}
	}
	return devs
}

// BenchmarkSetDevices sets an inventory of 200,000 devices on an empty
// poller, then a reload that changes a tenth of them and removes another
// tenth, as a SIGHUP of the national inventory does; ms/set and
// ms/reload are the figures.
func BenchmarkSetDevices(b *testing.B) {
	const n = 200_000
	devs := nationalDevices(n, time.Hour)
	next := append([]config.DeviceConfig(nil), devs[n/10:]...)
	for i := 0; i < len(next); i += 9 {
		next[i].Interval = 2 * time.Hour
	}
	var set, reload time.Duration
	for b.Loop() {
		p, err := New(Options{})
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		if _, err := p.SetDevices(devs); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		ch, err := p.SetDevices(next)
		if err != nil {
			b.Fatal(err)
		}
		set += t1.Sub(t0)
		reload += time.Since(t1)
		if len(ch.Removed) != n/10 || len(ch.Changed) == 0 {
			b.Fatalf("reload: %d removed, %d changed", len(ch.Removed), len(ch.Changed))
		}
	}
	b.ReportMetric(float64(set.Milliseconds())/float64(b.N), "ms/set")
	b.ReportMetric(float64(reload.Milliseconds())/float64(b.N), "ms/reload")
}

// BenchmarkMemoryPerDevice sets 50,000 devices on a poller and reports
// the heap they keep (poller and scheduler state, before any poll), in
// bytes a device, once the collector has run.
func BenchmarkMemoryPerDevice(b *testing.B) {
	const n = 50_000
	devs := nationalDevices(n, time.Hour)
	var perDevice float64
	for b.Loop() {
		before := heapInUse()
		p, err := New(Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.SetDevices(devs); err != nil {
			b.Fatal(err)
		}
		perDevice = float64(heapInUse()-before) / n
		runtime.KeepAlive(p)
	}
	b.ReportMetric(perDevice, "B/device")
}

// heapInUse is the live heap after a collection.
func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
