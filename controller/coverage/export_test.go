package coverage

import (
	"testing"
	"time"

	"github.com/ngic/ngic/controller/inventory"
)

// National is national for the benchmarks of package coverage_test: the
// generated national inventory of n villages, loaded once per process,
// and its devices' synthesised statuses.
func National(b *testing.B, villages int) (*inventory.Inventory, []DeviceStatus) {
	inv, devs, _ := national(b, villages)
	return inv, devs
}

// BenchRecompute is benchRecompute for the benchmarks of package
// coverage_test.
func BenchRecompute(b *testing.B, inv *inventory.Inventory, recompute func() *Result) {
	benchRecompute(b, inv, recompute)
}

// BenchNow is the time the benchmarks compute for.
var BenchNow = now

// CPUTime is cpuTime for the benchmarks of package coverage_test.
func CPUTime() time.Duration { return cpuTime() }
