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
	sameResult(t, "ComputeCompact on 4 goroutines", cFour, "on 1", cOne)
	sameResult(t, "ComputeCompact", cFour, "Compute", one)
}

// sameResult fails the test unless results got and want have the same
// trails, entry for entry, and the same JSON, byte for byte.
func sameResult(t *testing.T, gotName string, got *Result, wantName string, want *Result) {
	t.Helper()
	if len(got.Villages) != len(want.Villages) {
		t.Fatalf("%s: %d villages, %s %d", gotName, len(got.Villages), wantName, len(want.Villages))
	}
	for v := range want.Villages {
		if a, b := got.Villages[v].TrailEntries(), want.Villages[v].TrailEntries(); !reflect.DeepEqual(a, b) {
			t.Fatalf("village %d's trail: %s %+v, %s %+v", v, gotName, a, wantName, b)
		}
	}
	if a, b := encode(t, got, false), encode(t, want, false); !bytes.Equal(a, b) {
		t.Errorf("%s and %s: JSON differs", gotName, wantName)
	}
}
