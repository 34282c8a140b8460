package ingest

import (
	"math/rand/v2"
	"testing"
)

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
	if r.has(0) || r.cur.len()+r.prev.len() > idRingSize {
		t.Fatalf("not bounded: %d kept, first still there: %v", r.cur.len()+r.prev.len(), r.has(0))
	}
}

// TestIDSetIsASet: the set against a map over hashes that share their low
// bits (long probe runs), the hash 0, repeats and clears.
func TestIDSetIsASet(t *testing.T) {
	var s idSet
	model := map[uint64]bool{}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 3; round++ {
		for i := 0; i < 5000; i++ {
			h := rng.Uint64()
			switch i % 4 {
			case 0:
				h <<= 20 // same low bits as many others
			case 1:
				h %= 3 // 0, 1, 2: repeats and the hash 0
			}
			if s.has(h) != model[h] {
				t.Fatalf("round %d: has(%#x) = %v before add, want %v", round, h, s.has(h), model[h])
			}
			s.add(h)
			model[h] = true
		}
		if s.len() != len(model) {
			t.Fatalf("round %d: len %d, want %d", round, s.len(), len(model))
		}
		for h := range model {
			if !s.has(h) {
				t.Fatalf("round %d: %#x lost", round, h)
			}
		}
		for i := 0; i < 1000; i++ {
			if h := rng.Uint64() | 1<<63; s.has(h) != model[h] {
				t.Fatalf("round %d: has(%#x) = %v, want %v", round, h, s.has(h), model[h])
			}
		}
		s.clear()
		clear(model)
		if s.len() != 0 || s.has(0) || s.has(1) {
			t.Fatalf("round %d: not empty after clear", round)
		}
	}
}

// BenchmarkIDLookup: a lookup among 2,048 recent ID hashes (half of them
// present), in the idSet and in a map.
func BenchmarkIDLookup(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	hs := make([]uint64, 4096)
	var s idSet
	m := map[uint64]struct{}{}
	for i := range hs {
		hs[i] = rng.Uint64()
		if i%2 == 0 {
			s.add(hs[i])
			m[hs[i]] = struct{}{}
		}
	}
	found := 0
	b.Run("idSet", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if s.has(hs[i&4095]) {
				found++
			}
		}
	})
	b.Run("map", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, ok := m[hs[i&4095]]; ok {
				found++
			}
		}
	})
	if found == 0 {
		b.Fatal("nothing found")
	}
}
