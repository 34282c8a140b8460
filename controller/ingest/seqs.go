package ingest

import (
	"slices"
	"sort"
)

// Bounds of a gateway's sequence state, in memory and on disk.
const (
	// maxSpans bounds the seen ranges above the low-water mark (one per
	// hole); past it the oldest hole is given up (counted Abandoned).
	maxSpans = 1024
	// maxExplained bounds the ranges explained by events.lost but not
	// seen; past it the oldest is forgotten (its seqs then count as seen).
	maxExplained = 64
	// maxGaps bounds the open gaps kept per gateway; past it the oldest
	// is no longer tracked.
	maxGaps = 64
	// maxSeq is the largest sequence number accepted, so that seq+1
	// never overflows.
	maxSeq = 1<<63 - 1
)

// span is an inclusive range of sequence numbers.
type span struct {
	A uint64 `json:"a"`
	B uint64 `json:"b"`
}

// gap is a range of missing sequence numbers, as first detected.
type gap struct {
	First uint64 `json:"first"`
	Last  uint64 `json:"last"`
	// Reported: the gap outlived the batch that opened it and was
	// signalled (one that fills within its batch is no gap).
	Reported bool `json:"reported,omitempty"`
	// Explained: an events.lost range covered part of it.
	Explained bool `json:"explained,omitempty"`
	// Abandoned: closed by settle because it is no longer tracked.
	Abandoned bool `json:"-"`
}

// seqState is what a gateway's sequence numbers tell: every seq <= Low
// was seen or explained by an events.lost; above it, Covered holds the
// seen or explained ranges (sorted, disjoint, not adjacent, each starting
// above Low+1). Explained holds the seqs explained but not (yet) seen,
// below Low or in Covered: an event with one of them that comes late (it
// was published before the loss, on another topic) is new. Everything
// between Low and High outside Covered is missing.
type seqState struct {
	Started   bool   `json:"started,omitempty"`
	Low       uint64 `json:"low"`
	High      uint64 `json:"high"`
	Covered   []span `json:"covered,omitempty"`
	Explained []span `json:"explained,omitempty"`
	Gaps      []gap  `json:"gaps,omitempty"`
	// Abandoned counts the missing seqs given up because of the bounds
	// or a restart.
	Abandoned uint64 `json:"abandoned,omitempty"`
	// dropped are the gaps no longer tracked since the last settle, which
	// closes the reported ones.
	dropped []gap
}

func (s *seqState) clone() seqState {
	c := *s
	c.Covered = append([]span(nil), s.Covered...)
	c.Explained = append([]span(nil), s.Explained...)
	c.Gaps = append([]gap(nil), s.Gaps...)
	c.dropped = slices.Clone(s.dropped)
	return c
}

// restart starts the sequence again at seq, giving up what was missing
// of the previous one (its gaps will never fill).
func (s *seqState) restart(seq uint64) {
	abandoned := s.Abandoned + s.missing()
	dropped := append(s.dropped, s.Gaps...)
	*s = seqState{Started: true, Low: seq - 1, High: seq - 1, Abandoned: abandoned, dropped: dropped}
}

// find returns the index of the span of spans holding x, or -1.
func find(spans []span, x uint64) int {
	i := sort.Search(len(spans), func(i int) bool { return spans[i].B >= x })
	if i < len(spans) && spans[i].A <= x {
		return i
	}
	return -1
}

// seen reports whether seq was seen before (or lies where nothing more
// can come: at or below Low, or explained and forgotten).
func (s *seqState) seen(seq uint64) bool {
	if !s.Started {
		return false
	}
	if find(s.Explained, seq) >= 0 {
		return false
	}
	return seq <= s.Low || find(s.Covered, seq) >= 0
}

// start makes seq-1 the low-water mark of a gateway seen for the first
// time: what came before the controller first heard of it is not missing.
func (s *seqState) start(seq uint64) {
	if !s.Started {
		s.Started = true
		s.Low, s.High = seq-1, seq-1
	}
}

// markSeen records seq, which seen said is new.
func (s *seqState) markSeen(seq uint64) {
	s.start(seq)
	if i := find(s.Explained, seq); i >= 0 {
		s.Explained = cut(s.Explained, i, seq, seq)
		return
	}
	s.cover(seq, seq)
}

// markExplained records that the seqs a..b will not come (events.lost).
func (s *seqState) markExplained(a, b uint64) {
	if !s.Started || b <= s.Low {
		return
	}
	a = max(a, s.Low+1)
	for i := range s.Gaps {
		if g := &s.Gaps[i]; g.First <= b && a <= g.Last {
			g.Explained = true
		}
	}
	// The parts of a..b not covered yet become explained.
	x := a
	for x <= b {
		i := sort.Search(len(s.Covered), func(i int) bool { return s.Covered[i].B >= x })
		if i == len(s.Covered) || s.Covered[i].A > b {
			s.Explained = insert(s.Explained, x, b)
			break
		}
		if c := s.Covered[i]; c.A > x {
			s.Explained = insert(s.Explained, x, c.A-1)
		}
		x = s.Covered[i].B + 1
	}
	for len(s.Explained) > maxExplained {
		s.Explained = s.Explained[1:]
	}
	s.cover(a, b)
}

// cut removes a..b (inside spans[i]) from spans.
func cut(spans []span, i int, a, b uint64) []span {
	c := spans[i]
	switch {
	case c.A == a && c.B == b:
		return append(spans[:i], spans[i+1:]...)
	case c.A == a:
		spans[i].A = b + 1
	case c.B == b:
		spans[i].B = a - 1
	default:
		spans[i].B = a - 1
		spans = append(spans, span{})
		copy(spans[i+2:], spans[i+1:])
		spans[i+1] = span{b + 1, c.B}
	}
	return spans
}

// insert adds a..b to the sorted disjoint spans, merging what touches.
func insert(spans []span, a, b uint64) []span {
	if n := len(spans); n > 0 && spans[n-1].B+1 == a {
		spans[n-1].B = b // the common case: the next seq
		return spans
	}
	i := sort.Search(len(spans), func(i int) bool { return spans[i].B+1 >= a })
	j := i
	for j < len(spans) && spans[j].A <= b+1 {
		a, b = min(a, spans[j].A), max(b, spans[j].B)
		j++
	}
	if i == j {
		spans = append(spans, span{})
		copy(spans[i+1:], spans[i:])
		spans[i] = span{a, b}
		return spans
	}
	spans[i] = span{a, b}
	return append(spans[:i+1], spans[j:]...)
}

// cover adds a..b to Covered, opening a gap if it lies past High+1, and
// moves Low up over what became contiguous.
func (s *seqState) cover(a, b uint64) {
	if b <= s.Low {
		return
	}
	a = max(a, s.Low+1)
	if a > s.High+1 {
		s.Gaps = append(s.Gaps, gap{First: s.High + 1, Last: a - 1})
	}
	s.High = max(s.High, b)
	if len(s.Covered) == 0 && a == s.Low+1 {
		s.Low = b // the common case: in order, no hole
	} else {
		s.Covered = insert(s.Covered, a, b)
	}
	for len(s.Covered) > 0 && s.Covered[0].A == s.Low+1 {
		s.Low = s.Covered[0].B
		s.Covered = s.Covered[1:]
	}
	for len(s.Covered) > maxSpans {
		// Give up the oldest hole, and the gaps it is part of: they will
		// not be filled, and must not look so.
		hole := span{s.Low + 1, s.Covered[0].A - 1}
		s.Abandoned += hole.B - hole.A + 1
		s.Gaps = slices.DeleteFunc(s.Gaps, func(g gap) bool {
			in := g.First <= hole.B && hole.A <= g.Last
			if in {
				s.dropped = append(s.dropped, g)
			}
			return in
		})
		s.Low = s.Covered[0].B
		s.Covered = s.Covered[1:]
	}
	if len(s.Gaps) > maxGaps {
		// The oldest gaps are no longer tracked (their seqs still count
		// as missing).
		s.dropped = append(s.dropped, s.Gaps[:len(s.Gaps)-maxGaps]...)
		s.Gaps = s.Gaps[len(s.Gaps)-maxGaps:]
	}
}

// missingIn counts the seqs of a..b neither seen nor explained.
func (s *seqState) missingIn(a, b uint64) uint64 {
	if b <= s.Low {
		return 0
	}
	a = max(a, s.Low+1)
	n := b - a + 1
	for _, c := range s.Covered {
		if c.B < a || c.A > b {
			continue
		}
		n -= min(b, c.B) - max(a, c.A) + 1
	}
	return n
}

// Missing is the number of seqs between Low and High neither seen nor
// explained.
func (s *seqState) missing() uint64 {
	if !s.Started {
		return 0
	}
	n := s.High - s.Low
	for _, c := range s.Covered {
		n -= c.B - c.A + 1
	}
	return n
}

// settle ends a batch: it removes the gaps now filled or explained
// (returned as closed), returns as closed (and Abandoned) the reported
// gaps no longer tracked, and marks the others reported (those newly so
// returned as opened). A gap opened and filled in the same batch is in
// neither.
func (s *seqState) settle() (opened, closed []gap) {
	for _, g := range s.dropped {
		if g.Reported {
			g.Abandoned = true
			closed = append(closed, g)
		}
	}
	s.dropped = nil
	kept := s.Gaps[:0]
	for _, g := range s.Gaps {
		if s.missingIn(g.First, g.Last) == 0 {
			if g.Reported {
				closed = append(closed, g)
			}
			continue
		}
		if !g.Reported {
			g.Reported = true
			opened = append(opened, g)
		}
		kept = append(kept, g)
	}
	s.Gaps = kept
	return opened, closed
}
