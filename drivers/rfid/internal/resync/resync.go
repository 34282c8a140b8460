// Package resync holds the buffer bookkeeping of the frame decoders whose
// formats have no reliable start-of-frame marker (Chafon, ThingMagic
// Mercury): bytes are gathered in a fixed buffer, a frame that cannot be
// checked yet does not block a complete, valid frame found later, and
// positions known never to start a frame are remembered so that garbage is
// not rescanned on every call. The frame format itself stays in the
// protocol package, which classifies candidate positions.
package resync

// Window tracks the unread part buf[R:W] of a decoder's buffer. It never
// allocates; the buffer is the decoder's and is passed to each call.
type Window struct {
	// R is where the next candidate frame starts.
	R int
	// W is where the next received byte goes.
	W int
	// Look is the first position after R that may still start a frame:
	// positions between R and Look are known to hold none.
	Look int

	settled bool // every position classified so far by this lookahead was Never
}

// Buffered returns how many received bytes wait for the rest of a frame.
func (w *Window) Buffered() int { return w.W - w.R }

// Reset drops the buffered bytes.
func (w *Window) Reset() { w.R, w.W, w.Look = 0, 0, 0 }

// Fill moves the unread bytes to the front of buf when it is full or
// drained, copies as much of p as fits after them and returns the rest of p.
func (w *Window) Fill(buf, p []byte) []byte {
	if w.R > 0 && (w.W == len(buf) || w.R == w.W) {
		w.W = copy(buf, buf[w.R:w.W])
		w.Look = max(w.Look-w.R, 0)
		w.R = 0
	}
	n := copy(buf[w.W:], p)
	w.W += n
	return p[n:]
}

// Skip drops n bytes at R, and the known-garbage positions that follow
// them; it returns how many bytes were dropped.
func (w *Window) Skip(n int) uint64 {
	n = max(n, w.Look-w.R)
	w.R += n
	return uint64(n)
}

// Candidate classifications returned by the function given to Lookahead.
const (
	// Never: no frame can start here (no header, a length too small, or a
	// complete candidate whose check fails).
	Never = -1
	// Waiting: a frame may start here once more bytes arrive.
	Waiting = 0
	// Valid: a complete frame whose check holds starts here.
	Valid = 1
)

// Start begins a lookahead past the incomplete candidate at R and returns
// the first position to classify. The caller classifies each position i
// from there while i plus the shortest frame fits before W, passes each
// answer to Saw, and stops at the first Valid one:
//
//	for i := w.Start(); i+minFrame <= w.W; i++ {
//		if w.Saw(i, classify(i)) {
//			skipped += w.Skip(i - w.R)
//			return true
//		}
//	}
//
// The loop stays in the protocol package so that classify is a direct call
// the compiler can inline: a function value here halves the speed of
// resynchronising on noise.
func (w *Window) Start() int {
	w.Look = max(w.Look, w.R+1)
	w.settled = true
	return w.Look
}

// Saw records what position i holds (Never, Waiting or Valid) and reports
// whether it starts a valid frame. Positions that can never start a frame,
// up to the first that is Waiting, are remembered in Look.
func (w *Window) Saw(i, class int) bool {
	switch class {
	case Valid:
		return true
	case Never:
		if w.settled {
			w.Look = i + 1
		}
	default:
		w.settled = false
	}
	return false
}
