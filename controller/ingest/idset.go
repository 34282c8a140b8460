package ingest

// idSet is a set of ID hashes (idHasher): open addressing with linear
// probing over a power-of-two table kept at most three quarters full.
// The hashes are keyed and well mixed, so their low bits are the slot.
// A lookup costs about half one in a map[uint64]struct{}
// (BenchmarkIDLookup), and the ingest makes two per event (the batch's
// IDs, then the recent ones).
type idSet struct {
	slots []uint64 // 0: empty
	n     int      // hashes in slots
	zero  bool     // the hash 0, which has no slot
}

// minIDSlots is the table size of a set's first hash.
const minIDSlots = 64

func (s *idSet) len() int {
	if s.zero {
		return s.n + 1
	}
	return s.n
}

func (s *idSet) has(h uint64) bool {
	if h == 0 {
		return s.zero
	}
	if len(s.slots) == 0 {
		return false
	}
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return true
		case 0:
			return false
		}
	}
}

func (s *idSet) add(h uint64) {
	if h == 0 {
		s.zero = true
		return
	}
	if 4*(s.n+1) > 3*len(s.slots) {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return
		case 0:
			s.slots[i] = h
			s.n++
			return
		}
	}
}

// grow doubles the table (or makes the first one) and puts the hashes
// back.
func (s *idSet) grow() {
	old := s.slots
	s.slots = make([]uint64, max(minIDSlots, 2*len(old)))
	s.n = 0
	for _, h := range old {
		if h != 0 {
			s.add(h)
		}
	}
}

// clear empties the set, keeping its table.
func (s *idSet) clear() {
	clear(s.slots)
	s.n, s.zero = 0, false
}
