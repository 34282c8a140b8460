package ingest

import "testing"

func TestIDRingKeepsTheRecent(t *testing.T) {
	r := newIDRing()
	for i := uint64(0); i < 3*idRingSize; i++ {
		r.add(i)
	}
	for i := uint64(3*idRingSize - idRingSize/2); i < 3*idRingSize; i++ {
		if !r.has(i) {
			t.Fatalf("recent id %d forgotten", i)
		}
	}
	if r.has(0) || len(r.cur)+len(r.prev) > idRingSize {
		t.Fatalf("not bounded: %d kept, first still there: %v", len(r.cur)+len(r.prev), r.has(0))
	}
}
