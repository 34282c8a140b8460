package daemon

import "testing"

// TestMemoryLimit: the limit counts the devices, and never falls below
// a quarter more than the live heap, whatever the device count (a
// national inventory of villages with few devices).
func TestMemoryLimit(t *testing.T) {
	for _, tc := range []struct {
		devices int
		live    uint64
		want    int64
	}{
		{10_000, 60 << 20, memoryBase + 10_000*memoryPerDevice}, // 152 MiB: the devices rule
		{10, 900 << 20, (900<<20)*5/4 + memoryBase},             // villages without devices
		{20_000, 1400 << 20, (1400<<20)*5/4 + memoryBase},       // a large inventory, few devices polled
		{0, 0, memoryBase},
		{200_000, 300 << 20, memoryCeiling},                // a national inventory, nothing polled yet
		{200_000, 1100 << 20, (1100<<20)*5/4 + memoryBase}, // ... its live heap above the ceiling
	} {
		if got := memoryLimit(tc.devices, tc.live); got != tc.want {
			t.Errorf("memoryLimit(%d, %d MiB) = %d, want %d", tc.devices, tc.live>>20, got, tc.want)
		}
		if got := memoryLimit(tc.devices, tc.live); uint64(got) < tc.live+tc.live/4 {
			t.Errorf("memoryLimit(%d, %d MiB) = %d: not above the live heap", tc.devices, tc.live>>20, got)
		}
	}
}
