package ingest

import "hash/maphash"

// idRingSize is how many recent event IDs are kept per gateway. The IDs
// are a second guard against duplicates beside the durable sequence state
// and are kept in memory only, as 64-bit hashes (two IDs sharing a hash,
// which would make the newer a false duplicate, take around 2^64/4096
// events to happen once).
const idRingSize = 4096

var idSeed = maphash.MakeSeed()

// idHash is the hash under which an event ID is kept.
func idHash(id string) uint64 { return maphash.String(idSeed, id) }

// idRing is a bounded set of the most recent ID hashes.
type idRing struct {
	set  map[uint64]struct{}
	ring [idRingSize]uint64
	next int
	full bool
}

func newIDRing() *idRing { return &idRing{set: make(map[uint64]struct{}, idRingSize)} }

func (r *idRing) has(h uint64) bool {
	if r == nil {
		return false
	}
	_, ok := r.set[h]
	return ok
}

func (r *idRing) add(h uint64) {
	if _, ok := r.set[h]; ok {
		return
	}
	if r.full {
		delete(r.set, r.ring[r.next])
	}
	r.ring[r.next] = h
	r.set[h] = struct{}{}
	r.next++
	if r.next == idRingSize {
		r.next, r.full = 0, true
	}
}
