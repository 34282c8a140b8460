// Package smooth turns a reader's stream of raw tag reads into presence:
// a tag "arrives" on its first read and "departs" when it has not been read
// for a configured time. Raw reads (tens per second per tag) are counted,
// not forwarded.
//
// Presence is kept per antenna: the same tag seen on two antennas of one
// reader is present twice, so a portal can tell which side it is on.
package smooth

import (
	"encoding/hex"
	"sort"
	"sync"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
)

// Presence is a tag present at one antenna of a reader.
type Presence struct {
	// Tag is the identifier in upper-case hex.
	Tag string
	// Antenna is the 1-based antenna, or 0 when the reader does not say.
	Antenna int
	// PC is the last UHF protocol-control word seen.
	PC uint16
	// FirstSeen and LastSeen bound the reads of this presence.
	FirstSeen, LastSeen time.Time
	// Reads counts the raw reads.
	Reads uint64
	// MaxRSSI is the strongest RSSI seen, valid when HasRSSI.
	MaxRSSI int
	// HasRSSI tells whether any read carried RSSI.
	HasRSSI bool
	// Raw is the tag identifier as bytes, shared by every copy of the
	// presence: do not modify it.
	Raw []byte
	// Restored tells a presence handed to Restore that has not been read
	// since.
	Restored bool
}

// key is an antenna and a tag in upper-case hex (the Presence's Tag, so
// that an arrival spells the tag once for both).
type key struct {
	antenna int
	tag     string
}

// maxStackTag is the longest tag whose lookup needs no allocation.
const maxStackTag = 64

// Smoother tracks the tags present at one reader. It is safe for concurrent
// use: the reader's goroutine calls Observe and Expire, a status page calls
// Present.
type Smoother struct {
	departAfter time.Duration

	mu      sync.Mutex
	present map[key]*Presence
	held    bool // restored tags wait for Release
	pool    pool // the presences and the bytes of their tags (arena.go)
}

// New returns a smoother that declares a tag departed after departAfter
// without a read. A non-positive departAfter means 3 s.
func New(departAfter time.Duration) *Smoother {
	if departAfter <= 0 {
		departAfter = 3 * time.Second
	}
	return &Smoother{departAfter: departAfter, present: map[key]*Presence{}}
}

// DepartAfter returns the departure time.
func (s *Smoother) DepartAfter() time.Duration { return s.departAfter }

// Observe records one raw read at now. It returns the new presence, and true,
// when the read is an arrival; repeated reads of a present tag return false
// and allocate nothing. An arrival allocates only now and then: its presence
// is a departed one reused, and its Tag and Raw are cut from a block of
// bytes (arena.go).
func (s *Smoother) Observe(r rfid.Read, now time.Time) (Presence, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var hb [2 * maxStackTag]byte
	var h []byte
	if len(r.Tag) <= maxStackTag {
		h = appendHexUpper(hb[:0], r.Tag)
	} else {
		h = appendHexUpper(nil, r.Tag)
	}
	// The map lookup with string(h) does not allocate.
	if p, ok := s.present[key{r.Antenna, string(h)}]; ok {
		p.LastSeen = now
		p.Reads++
		p.PC = r.PC
		if r.HasRSSI && (!p.HasRSSI || r.RSSI > p.MaxRSSI) {
			p.MaxRSSI, p.HasRSSI = r.RSSI, true
		}
		if p.Restored {
			// Seen again after a restart: an arrival again, for a far end
			// that forgot the presence state, from its first arrival.
			p.Restored = false
			return *p, true
		}
		return Presence{}, false
	}
	p := s.pool.presence()
	b := s.pool.keep(len(h) + len(r.Tag))
	copy(b, h)
	copy(b[len(h):], r.Tag)
	*p = Presence{Tag: frozen(b[:len(h)]), Antenna: r.Antenna, PC: r.PC, FirstSeen: now, LastSeen: now,
		Reads: 1, MaxRSSI: r.RSSI, HasRSSI: r.HasRSSI, Raw: b[len(h):len(b):len(b)]}
	s.present[key{r.Antenna, p.Tag}] = p
	return *p, true
}

// Restore makes tags present that were present before a restart, without
// an arrival: one read again is an arrival again (Observe returns it with
// its first FirstSeen); one not read departs as usual, but only once
// Release started its clock. Restore replaces tags already present.
func (s *Smoother) Restore(ps []Presence) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range ps {
		b := s.pool.keep(2*len(r.Raw) + len(r.Raw))
		appendHexUpper(b[:0], r.Raw)
		copy(b[2*len(r.Raw):], r.Raw)
		k := key{r.Antenna, frozen(b[:2*len(r.Raw)])}
		if old, ok := s.present[k]; ok {
			s.pool.release(old)
		}
		p := s.pool.presence()
		*p = r
		p.Restored = true
		p.Reads = 0
		p.Raw = b[2*len(r.Raw) : len(b) : len(b)]
		s.present[k] = p
	}
	s.held = true
}

// Release starts the departure clock of restored tags at now (the reader
// is running): those not read within DepartAfter then depart.
func (s *Smoother) Release(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.held {
		return
	}
	s.held = false
	for _, p := range s.present {
		if p.Restored {
			p.LastSeen = now
		}
	}
}

// Expire removes and returns, oldest last-read first, the tags not read
// since now - DepartAfter (restored tags only after Release).
func (s *Smoother) Expire(now time.Time) []Presence {
	s.mu.Lock()
	defer s.mu.Unlock()
	var gone []Presence
	for k, p := range s.present {
		if p.Restored && s.held {
			continue
		}
		if now.Sub(p.LastSeen) >= s.departAfter {
			gone = append(gone, *p)
			delete(s.present, k)
			s.pool.release(p)
		}
	}
	sortPresence(gone)
	return gone
}

// Flush removes and returns every present tag (the reader was stopped).
func (s *Smoother) Flush() []Presence {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := make([]Presence, 0, len(s.present))
	for k, p := range s.present {
		all = append(all, *p)
		delete(s.present, k)
		s.pool.release(p)
	}
	sortPresence(all)
	return all
}

// Present returns the tags present now, ordered by first read.
func (s *Smoother) Present() []Presence {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := make([]Presence, 0, len(s.present))
	for _, p := range s.present {
		all = append(all, *p)
	}
	sort.Slice(all, func(i, j int) bool {
		if !all[i].FirstSeen.Equal(all[j].FirstSeen) {
			return all[i].FirstSeen.Before(all[j].FirstSeen)
		}
		return all[i].Tag < all[j].Tag
	})
	return all
}

// Len returns the number of tags present.
func (s *Smoother) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.present)
}

func sortPresence(ps []Presence) {
	sort.Slice(ps, func(i, j int) bool {
		if !ps[i].LastSeen.Equal(ps[j].LastSeen) {
			return ps[i].LastSeen.Before(ps[j].LastSeen)
		}
		if ps[i].Tag != ps[j].Tag {
			return ps[i].Tag < ps[j].Tag
		}
		return ps[i].Antenna < ps[j].Antenna
	})
}

func hexUpper(b []byte) string {
	return string(appendHexUpper(make([]byte, 0, hex.EncodedLen(len(b))), b))
}

// appendHexUpper appends b in upper-case hex to dst.
func appendHexUpper(dst, b []byte) []byte {
	const digits = "0123456789ABCDEF"
	for _, c := range b {
		dst = append(dst, digits[c>>4], digits[c&0x0f])
	}
	return dst
}

// HexUpper returns b in upper-case hex, as tags are spelled everywhere in ngic.
func HexUpper(b []byte) string { return hexUpper(b) }
