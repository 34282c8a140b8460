package ingest

// idRingSize is how many recent event IDs are kept per gateway. The IDs
// are a second guard against duplicates beside the durable sequence state
// and are kept in memory only.
const idRingSize = 4096

// idRing is a bounded set of the most recent IDs.
type idRing struct {
	set  map[string]struct{}
	ring [idRingSize]string
	next int
}

func newIDRing() *idRing { return &idRing{set: make(map[string]struct{}, idRingSize)} }

func (r *idRing) has(id string) bool {
	if r == nil {
		return false
	}
	_, ok := r.set[id]
	return ok
}

func (r *idRing) add(id string) {
	if _, ok := r.set[id]; ok {
		return
	}
	if old := r.ring[r.next]; old != "" {
		delete(r.set, old)
	}
	r.ring[r.next] = id
	r.set[id] = struct{}{}
	r.next = (r.next + 1) % idRingSize
}
