package ingest

import "hash/maphash"

// idRingSize bounds the recent event IDs kept per gateway: between half
// of it and all of it, the most recent. The IDs are a second guard
// against duplicates beside the durable sequence state and are kept in
// memory only, as 64-bit hashes (two IDs sharing a hash, which would make
// the newer a false duplicate, take around 2^64/4096 events to happen
// once).
const idRingSize = 4096

var idSeed = maphash.MakeSeed()

// idHash is the hash under which an event ID is kept.
func idHash(id string) uint64 { return maphash.String(idSeed, id) }

// idRing is a bounded set of the most recent ID hashes, in two
// generations: when the current one is full the previous one is emptied
// and becomes the current one (no per-entry deletes).
type idRing struct {
	cur, prev map[uint64]struct{}
}

func newIDRing() *idRing {
	return &idRing{cur: make(map[uint64]struct{}, idRingSize/2), prev: make(map[uint64]struct{}, idRingSize/2)}
}

func (r *idRing) has(h uint64) bool {
	if r == nil {
		return false
	}
	if _, ok := r.cur[h]; ok {
		return true
	}
	_, ok := r.prev[h]
	return ok
}

func (r *idRing) add(h uint64) {
	if len(r.cur) >= idRingSize/2 {
		clear(r.prev)
		r.cur, r.prev = r.prev, r.cur
	}
	r.cur[h] = struct{}{}
}
