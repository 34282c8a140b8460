package coverage

import (
	"bytes"
	"reflect"
	"runtime"
	"testing"
)

// TestComputeWorkers computes a generated inventory of 20,000 villages
// (many chunks of each parallel stage) on one goroutine and on four, and
// compares the results: Compute's deeply, ComputeCompact's (whose tables
// of strings are per goroutine) by their JSON and their trails.
func TestComputeWorkers(t *testing.T) {
	inv, devs, _ := national(t, 20_000)
	cfg := DefaultConfig()
	withProcs := func(n int, f func() *Result) *Result {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(n))
		return f()
	}
	full := func() *Result { return Compute(inv, devs, &cfg, now) }
	one, four := withProcs(1, full), withProcs(4, full)
	if len(one.Regions) == 0 || len(one.Gaps) == 0 {
		t.Fatalf("%d regions, %d gaps: the inventory tests nothing", len(one.Regions), len(one.Gaps))
	}
	if !reflect.DeepEqual(one, four) {
		t.Error("Compute on 1 and on 4 goroutines: results differ")
	}

	compact := func() *Result { return ComputeCompact(inv, devs, &cfg, now) }
	cOne, cFour := withProcs(1, compact), withProcs(4, compact)
	for v := range cOne.Villages {
		if a, b := cOne.Villages[v].TrailEntries(), cFour.Villages[v].TrailEntries(); !reflect.DeepEqual(a, b) {
			t.Fatalf("ComputeCompact: village %d's trail on 1 goroutine %+v, on 4 %+v", v, a, b)
		}
	}
	if a, b := encode(t, cOne, false), encode(t, cFour, false); !bytes.Equal(a, b) {
		t.Error("ComputeCompact on 1 and on 4 goroutines: JSON differs")
	}
	if a, b := encode(t, cFour, false), encode(t, one, false); !bytes.Equal(a, b) {
		t.Error("ComputeCompact and Compute: JSON differs")
	}
}
