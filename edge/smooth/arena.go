package smooth

import "unsafe"

// pool hands out the Smoother's presences and the bytes of their tags, so
// that an arrival allocates nothing most of the time.
//
// A presence is the Smoother's own: everything it returns is a copy, so a
// departed presence is reused for the next arrival. The bytes of a tag
// (its hex Tag and its Raw) are handed out with the copies, so they are
// never written again once cut: they are cut from blocks of blockBytes,
// and a block is freed by the garbage collector once no Tag or Raw points
// into it.
type pool struct {
	free  []*Presence // departed, zeroed
	block []Presence  // not handed out yet
	bytes []byte      // the current block of tag bytes; only its free end is written
}

const (
	// presenceBlock is the number of presences allocated at once.
	presenceBlock = 64
	// maxFree bounds the departed presences kept for reuse (136 KiB).
	maxFree = 1024
	// blockBytes is the size of a block of tag bytes: about 28 EPC-96 tags
	// (24 hex digits and 12 bytes each). A presence present for long keeps
	// its block alive, so the blocks are small.
	blockBytes = 1 << 10
)

// presence returns a zeroed presence.
func (p *pool) presence() *Presence {
	if n := len(p.free); n > 0 {
		e := p.free[n-1]
		p.free = p.free[:n-1]
		return e
	}
	if len(p.block) == 0 {
		p.block = make([]Presence, presenceBlock)
	}
	e := &p.block[0]
	p.block = p.block[1:]
	return e
}

// release takes back a presence that left the table. Its Tag and Raw stay
// valid in the copies handed out. Beyond maxFree the presence is left to
// the garbage collector, so that a burst of tags does not keep its
// presences for good.
func (p *pool) release(e *Presence) {
	*e = Presence{}
	if len(p.free) < maxFree {
		p.free = append(p.free, e)
	}
}

// keep returns n bytes, capped, for a tag's bytes: the caller fills them
// at once and never writes them again.
func (p *pool) keep(n int) []byte {
	if n > blockBytes/4 {
		return make([]byte, n)
	}
	if cap(p.bytes)-len(p.bytes) < n {
		p.bytes = make([]byte, 0, blockBytes)
	}
	at := len(p.bytes)
	p.bytes = p.bytes[:at+n]
	return p.bytes[at : at+n : at+n]
}

// frozen returns b as a string without copying it: b must never be written
// again (bytes from keep, once filled).
func frozen(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
