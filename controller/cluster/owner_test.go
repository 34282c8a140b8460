package cluster

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

func deviceIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("olt-%05d", i)
	}
	return ids
}

func TestOwnerEmptyAndOrder(t *testing.T) {
	if got := Owner("olt-1", nil); got != -1 {
		t.Fatalf("Owner over no member = %d, want -1", got)
	}
	for _, id := range deviceIDs(200) {
		a := Owner(id, []int{0, 1, 2, 3})
		b := Owner(id, []int{3, 1, 0, 2})
		if a != b || a < 0 || a > 3 {
			t.Fatalf("%s: owner %d in one order, %d in another", id, a, b)
		}
	}
}

// TestOwnerMovesOnlyTheNewShare adds a fourth member to three and removes
// one: only the devices the new member wins move (about 1/4), all of them
// to it, and removing a member moves only its own devices.
func TestOwnerMovesOnlyTheNewShare(t *testing.T) {
	ids := deviceIDs(30000)
	three, four := []int{0, 1, 2}, []int{0, 1, 2, 3}
	moved := 0
	for _, id := range ids {
		a, b := Owner(id, three), Owner(id, four)
		if a != b {
			moved++
			if b != 3 {
				t.Fatalf("%s moved from %d to %d, not to the new member", id, a, b)
			}
		}
	}
	share := float64(moved) / float64(len(ids))
	t.Logf("adding a 4th member moved %d of %d devices (%.3f; ideal 0.25)", moved, len(ids), share)
	if math.Abs(share-0.25) > 0.02 {
		t.Fatalf("adding a 4th member moved %.3f of the devices, want about 1/4", share)
	}
	without1 := []int{0, 2, 3}
	for _, id := range ids {
		a, b := Owner(id, four), Owner(id, without1)
		if a != 1 && a != b {
			t.Fatalf("%s of member %d moved to %d when member 1 left", id, a, b)
		}
		if b == 1 {
			t.Fatalf("%s still owned by the member that left", id)
		}
	}
}

// TestOwnerSpread checks that each of n members gets close to 1/n of the
// devices, for several n and sparse ordinals.
func TestOwnerSpread(t *testing.T) {
	ids := deviceIDs(30000)
	for _, members := range [][]int{{0, 1}, {0, 1, 2}, {0, 1, 2, 3, 4, 5, 6}, {2, 5, 11}} {
		count := map[int]int{}
		for _, id := range ids {
			count[Owner(id, members)]++
		}
		want := float64(len(ids)) / float64(len(members))
		for _, m := range members {
			if dev := math.Abs(float64(count[m])-want) / want; dev > 0.05 {
				t.Errorf("members %v: %d has %d devices, %.1f%% off the even %f", members, m, count[m], 100*dev, want)
			}
		}
		if len(count) != len(members) || !slices.ContainsFunc(members, func(m int) bool { return count[m] > 0 }) {
			t.Errorf("members %v: owners %v", members, count)
		}
	}
}

func BenchmarkOwner(b *testing.B) {
	ids := deviceIDs(1024)
	members := []int{0, 1, 2, 3, 4}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Owner(ids[i%len(ids)], members)
	}
}
