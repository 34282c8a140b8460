package coverage

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"
	"unsafe"
)

// TestPool: a Pool computes into the memory of the result released last
// (its villages, gaps, regions, subsets' tiers, trails' devices and blocks)
// and gives, byte for byte and entry for entry, ComputeCompact's result,
// although the memory held another computation's figures; the result
// served meanwhile is not touched; a released result is emptied.
func TestPool(t *testing.T) {
	var p Pool
	cfg := DefaultConfig()
	inv, devs, _ := national(t, 20_000)
	// Other figures: every device down for long (more gaps than devs
	// give), with the evidence of another device.
	other := make([]DeviceStatus, len(devs))
	for i := range devs {
		other[i] = DeviceStatus{State: StateDown, Since: now.Add(-100 * time.Hour), PolledAt: now,
			Evidence: devs[(i+7)%len(devs)].Evidence}
	}
	later := now.Add(48 * time.Hour) // past down_after and stale_after
	older := p.ComputeCompact(inv, other, &cfg, later)
	served := p.ComputeCompact(inv, other, &cfg, now)
	servedJSON := encode(t, served, false)
	mem := *older.mem
	p.Release(older)
	if older.Villages != nil || older.Gaps != nil || older.Regions != nil || older.mem != nil {
		t.Error("a released result keeps its villages, gaps or regions")
	}
	p.Release(older) // a second time: nothing

	got := p.ComputeCompact(inv, devs, &cfg, now)
	want := ComputeCompact(inv, devs, &cfg, now)
	same := func(name string, a, b unsafe.Pointer) {
		if a != b {
			t.Errorf("the result's %s are not in the released memory", name)
		}
	}
	same("villages", unsafe.Pointer(&got.Villages[0]), unsafe.Pointer(&mem.villages[0]))
	same("gaps", unsafe.Pointer(&got.Gaps[0]), unsafe.Pointer(&mem.gaps[0]))
	same("regions", unsafe.Pointer(&got.Regions[0]), unsafe.Pointer(&mem.regions[0]))
	same("subsets' tiers", unsafe.Pointer(&got.Regions[0].All.Tiers[0]), unsafe.Pointer(&mem.tiers[0]))
	ct := got.Villages[0].ct
	same("trails' devices", unsafe.Pointer(&ct.devs[0]), unsafe.Pointer(&mem.devs[0]))
	reused := 0
	for _, b := range ct.blocks {
		for _, o := range mem.blocks {
			if &b[0] == &o[0] {
				reused++
			}
		}
	}
	if reused == 0 || reused < len(mem.blocks)*9/10 {
		t.Errorf("%d of %d released blocks of entries filled again (%d blocks)", reused, len(mem.blocks), len(ct.blocks))
	}

	sameResult(t, "the pool's", got, "ComputeCompact's", want)
	if bytes.Equal(encode(t, got, false), servedJSON) {
		t.Error("the figures computed before are the same: the test proves nothing")
	}
	if !bytes.Equal(encode(t, served, false), servedJSON) {
		t.Error("the result served changed while the next was computed")
	}
	var none Pool
	none.Release(want) // not a pool's: nothing
	if want.Villages == nil {
		t.Error("releasing ComputeCompact's result emptied it")
	}
}

// TestPoolOtherInventory: the memory of a released national result is
// filled with a smaller inventory's result, and the other way round: each
// is ComputeCompact's.
func TestPoolOtherInventory(t *testing.T) {
	big, bigDevs, _ := national(t, 20_000)
	small, smallDevs := smallWorld(t)
	cfg := DefaultConfig()
	var p Pool
	p.Release(p.ComputeCompact(big, bigDevs, &cfg, now))
	got := p.ComputeCompact(small, smallDevs, &cfg, now)
	sameResult(t, "small in a national result's memory", got, "Compute's", Compute(small, smallDevs, &cfg, now))
	p.Release(got)
	got = p.ComputeCompact(big, bigDevs, &cfg, now)
	sameResult(t, "national in a small result's memory", got, "ComputeCompact's", ComputeCompact(big, bigDevs, &cfg, now))
}

// TestPoolConcurrent: goroutines computing with one pool, each releasing
// its results, get ComputeCompact's result every time (run with -race).
func TestPoolConcurrent(t *testing.T) {
	inv, devs := smallWorld(t)
	cfg := DefaultConfig()
	var want bytes.Buffer
	if err := ComputeCompact(inv, devs, &cfg, now).WriteJSON(&want); err != nil {
		t.Fatal(err)
	}
	var p Pool
	var wg sync.WaitGroup
	errs := make(chan string, 12)
	for range 3 {
		wg.Go(func() {
			for range 4 {
				r := p.ComputeCompact(inv, devs, &cfg, now)
				var got bytes.Buffer
				if err := r.WriteJSON(&got); err != nil || !bytes.Equal(got.Bytes(), want.Bytes()) {
					errs <- fmt.Sprintf("a pooled result differs from ComputeCompact's (%v)", err)
				}
				p.Release(r)
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
