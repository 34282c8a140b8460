// Package rfidtest holds what the tests of every reader protocol package
// share: a Playback of recorded host/reader exchanges, checks that a byte
// stream decodes the same in any split, the byte-accounting invariant of a
// decoder, a session<->emulator round trip and the invariants a FuzzDecoder
// target checks.
//
// It is the rfid counterpart of periph's gpiotest and i2ctest: only tests
// import it.
package rfidtest

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/ngic/ngic/drivers/rfid"
)

// Exchange is one step of a recorded conversation between a host and a
// reader.
type Exchange struct {
	// Poll tells whether the poll timer fired before this step, so that the
	// session's Poll bytes follow whatever it still had to write.
	Poll bool
	// W is what the host must write in this step: Open's bytes in the first
	// step, then what Feed asked to write back, then Poll's bytes.
	W []byte
	// R is what the reader sent back.
	R []byte
}

// Playback replays recorded exchanges through a session in the manner of
// periph's i2ctest.Playback: the bytes the session wants written must match
// each recorded write, and every recorded exchange must be used.
type Playback struct {
	// Ops is the recording, in order.
	Ops []Exchange
	// Chunk is how many bytes of each reply are fed at a time, as a serial
	// link delivers them; zero feeds each reply at once.
	Chunk int
	// Count is how many exchanges have been used so far.
	Count int
}

// Run replays every exchange through s and returns the reads emitted, with
// their tags copied. It fails t when a write differs from the recording, when
// the session still wants to write after the last exchange, or when not
// every exchange was used.
func (p *Playback) Run(t testing.TB, s rfid.Session) []rfid.Read {
	t.Helper()
	var got []rfid.Read
	emit := func(r rfid.Read) {
		r.Tag = bytes.Clone(r.Tag)
		got = append(got, r)
	}
	pending := bytes.Clone(s.Open())
	for p.Count < len(p.Ops) {
		op := p.Ops[p.Count]
		if op.Poll {
			pending = append(pending, s.Poll()...)
		}
		if !bytes.Equal(pending, op.W) {
			t.Fatalf("exchange %d: session wrote % X, recording says % X", p.Count, pending, op.W)
		}
		pending = nil
		for _, c := range Chunks(op.R, p.Chunk) {
			pending = append(pending, s.Feed(c, emit)...)
		}
		p.Count++
	}
	if len(pending) != 0 {
		t.Fatalf("session wants to write % X after the recording ended", pending)
	}
	p.Close(t)
	return got
}

// Close fails t unless every recorded exchange was used.
func (p *Playback) Close(t testing.TB) {
	t.Helper()
	if p.Count != len(p.Ops) {
		t.Fatalf("%d of %d recorded exchanges used", p.Count, len(p.Ops))
	}
}

// Chunks cuts p into pieces of n bytes (the last may be shorter); n <= 0
// gives p whole. An empty p gives no pieces.
func Chunks(p []byte, n int) [][]byte {
	if len(p) == 0 {
		return nil
	}
	if n <= 0 {
		return [][]byte{p}
	}
	out := make([][]byte, 0, (len(p)+n-1)/n)
	for i := 0; i < len(p); i += n {
		out = append(out, p[i:min(i+n, len(p))])
	}
	return out
}

// Tags returns the tags of reads.
func Tags(reads []rfid.Read) [][]byte {
	tags := make([][]byte, len(reads))
	for i, r := range reads {
		tags[i] = r.Tag
	}
	return tags
}

// SameTags reports whether a and b hold the same tags in the same order; a
// nil tag and an empty one are the same.
func SameTags(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// same compares two results by their %v formatting, so that nil and empty
// slices are the same and structs of counters compare field by field.
func same[T any](a, b T) bool { return fmt.Sprintf("%v", a) == fmt.Sprintf("%v", b) }

// EverySplit feeds data in two pieces, cut at every position from 0 to
// len(data), and fails t unless each run gives want. collect must start from
// a fresh decoder or session, feed it the chunks in order and return what it
// made of them (reads, frames, counters); results are compared by their %v
// formatting.
func EverySplit[T any](t testing.TB, data []byte, want T, collect func(chunks ...[]byte) T) {
	t.Helper()
	for i := 0; i <= len(data); i++ {
		if got := collect(data[:i], data[i:]); !same(got, want) {
			t.Fatalf("split at %d: got %v, want %v", i, got, want)
		}
	}
}

// ByteByByte feeds data one byte at a time and fails t unless the result is
// want; collect is as for EverySplit.
func ByteByByte[T any](t testing.TB, data []byte, want T, collect func(chunks ...[]byte) T) {
	t.Helper()
	if got := collect(Chunks(data, 1)...); !same(got, want) {
		t.Fatalf("byte by byte: got %v, want %v", got, want)
	}
}

// ThreeWaySplits feeds data in three pieces, the first cut every stepI bytes
// and the second every stepJ bytes after it, and fails t unless each run
// gives want; collect is as for EverySplit. Steps below 1 count as 1.
func ThreeWaySplits[T any](t testing.TB, data []byte, want T, stepI, stepJ int, collect func(chunks ...[]byte) T) {
	t.Helper()
	stepI, stepJ = max(stepI, 1), max(stepJ, 1)
	for i := 0; i <= len(data); i += stepI {
		for j := i; j <= len(data); j += stepJ {
			if got := collect(data[:i], data[i:j], data[j:]); !same(got, want) {
				t.Fatalf("split at %d,%d: got %v, want %v", i, j, got, want)
			}
		}
	}
}

// Accounting is where a decoder says the bytes it was fed went.
type Accounting struct {
	// Good is the bytes of the frames it emitted.
	Good uint64
	// Skipped is the bytes it discarded while resynchronising.
	Skipped uint64
	// Filler is the bytes it passed over as harmless filler between frames
	// (CR and LF for EM4100 clones); zero for most protocols.
	Filler uint64
	// Buffered is the bytes it holds waiting for the rest of a frame.
	Buffered uint64
}

// CheckAccounting fails t unless every byte fed is accounted for:
// good + skipped + filler + buffered = fed.
func CheckAccounting(t testing.TB, a Accounting, fed int) {
	t.Helper()
	if sum := a.Good + a.Skipped + a.Filler + a.Buffered; sum != uint64(fed) {
		t.Fatalf("accounting: %d good + %d skipped + %d filler + %d buffered = %d, fed %d",
			a.Good, a.Skipped, a.Filler, a.Buffered, sum, fed)
	}
}

// Decoded is what one decoder run made of a byte stream.
type Decoded struct {
	// Frames holds every frame emitted, in order, copied out of the
	// decoder's buffer (raw bytes, a re-encoding or a text form).
	Frames [][]byte
	// Counted is the number of frames the decoder's counters report.
	Counted uint64
	// Counters is the decoder's full counter set, compared between runs by
	// its %v formatting; nil when there is nothing more to compare.
	Counters any
	// Accounting is where the bytes went.
	Accounting Accounting
}

// CheckDecoded fails t unless a run over fed bytes is consistent: it
// emitted as many frames as it counted, and every byte is accounted for.
func CheckDecoded(t testing.TB, d Decoded, fed int) {
	t.Helper()
	if uint64(len(d.Frames)) != d.Counted {
		t.Fatalf("emitted %d frames, counted %d", len(d.Frames), d.Counted)
	}
	CheckAccounting(t, d.Accounting, fed)
}

// CheckSplit decodes in whole and in two pieces cut at cut (clamped to
// len(in)), checks both runs with CheckDecoded and fails t unless they agree
// on the frames and the counters. It is the core of FuzzDecoder for
// protocols whose decoding does not depend on how the bytes arrive; decode
// must start from a fresh decoder.
func CheckSplit(t testing.TB, in []byte, cut int, decode func(chunks ...[]byte) Decoded) {
	t.Helper()
	cut = min(max(cut, 0), len(in))
	whole := decode(in)
	CheckDecoded(t, whole, len(in))
	split := decode(in[:cut], in[cut:])
	CheckDecoded(t, split, len(in))
	if !SameTags(whole.Frames, split.Frames) || !same(whole.Counters, split.Counters) {
		t.Fatalf("split at %d changed the result: % X %+v, whole % X %+v",
			cut, split.Frames, split.Counters, whole.Frames, whole.Counters)
	}
}

// CheckSession feeds in to s at once and fails t unless the session holds
// the invariants every rfid.Session must: Stats.Reads equals the reads
// emitted, every tag is minTag to maxTag bytes long, and Stats.Frames plus
// Stats.BadFrames is at least minFrames (the frames the session's decoder
// found in the same bytes). It returns the stats.
func CheckSession(t testing.TB, s rfid.Session, in []byte, minTag, maxTag int, minFrames uint64) rfid.Stats {
	t.Helper()
	var reads uint64
	s.Feed(in, func(r rfid.Read) {
		reads++
		if len(r.Tag) < minTag || len(r.Tag) > maxTag {
			t.Fatalf("read of %d bytes, want %d to %d", len(r.Tag), minTag, maxTag)
		}
	})
	st := s.Stats()
	if st.Reads != reads || st.Frames+st.BadFrames < minFrames {
		t.Fatalf("session stats %+v inconsistent with %d reads, %d frames", st, reads, minFrames)
	}
	return st
}

// Connect feeds what e answers to s.Open back to s and fails t if that
// yields a read or a reply to write: opening configures, it does not read.
// It returns the stats after the open.
func Connect(t testing.TB, s rfid.Session, e rfid.Emulator) rfid.Stats {
	t.Helper()
	if back := s.Feed(e.Handle(s.Open()), func(r rfid.Read) {
		t.Fatalf("read % X while opening", r.Tag)
	}); back != nil {
		t.Fatalf("session answered the open with % X", back)
	}
	return s.Stats()
}

// Round runs one round of a session against an emulator: when poll is set,
// the session's Poll goes to the emulator; then the emulator ticks once.
// Everything the emulator sends is fed to the session in pieces of chunk
// bytes (zero: at once), and whatever the session asks to write back goes to
// the emulator, whose answer is fed in turn. It returns the reads, tags
// copied.
func Round(t testing.TB, s rfid.Session, e rfid.Emulator, poll bool, chunk int) []rfid.Read {
	t.Helper()
	var got []rfid.Read
	emit := func(r rfid.Read) {
		r.Tag = bytes.Clone(r.Tag)
		got = append(got, r)
	}
	var out []byte
	if poll {
		out = e.Handle(s.Poll())
	}
	out = append(out, e.Tick()...)
	for range 8 { // a reply answers a reply at most a few times
		var back []byte
		for _, c := range Chunks(out, chunk) {
			back = append(back, s.Feed(c, emit)...)
		}
		if len(back) == 0 {
			return got
		}
		out = e.Handle(back)
	}
	t.Fatal("session and emulator keep answering each other")
	return nil
}

// Collect feeds parts to s in turn and returns a copy of every tag read.
func Collect(s rfid.Session, parts ...[]byte) [][]byte {
	var got [][]byte
	for _, p := range parts {
		s.Feed(p, func(r rfid.Read) { got = append(got, append([]byte(nil), r.Tag...)) })
	}
	return got
}

// Result is what a fresh session made of a stream: its reads and stats.
type Result struct {
	Reads [][]byte
	Stats rfid.Stats
}

// SessionFeed returns a function that gives chunks to a fresh session from
// newSession, for EverySplit and its kin. For protocols without a start
// byte, how many candidates fail their check depends on where the stream is
// cut (a lookahead may drop an incomplete candidate before it can be
// checked): there only whether any did is kept.
func SessionFeed(newSession func() rfid.Session) func(chunks ...[]byte) Result {
	return func(chunks ...[]byte) Result {
		s := newSession()
		reads := Collect(s, chunks...)
		st := s.Stats()
		st.BadFrames = min(st.BadFrames, 1)
		return Result{reads, st}
	}
}

// WholeStream decodes data at once with feed and checks the reads against
// want and that the stats show bad frames, skipped bytes and errors error
// responses: the result every split must then give again.
func WholeStream(t testing.TB, data []byte, want [][]byte, errors uint64, feed func(chunks ...[]byte) Result) Result {
	t.Helper()
	r := feed(data)
	if !SameTags(r.Reads, want) {
		t.Fatalf("whole stream: reads % X, want % X", r.Reads, want)
	}
	if st := r.Stats; st.BadFrames == 0 || st.SkippedBytes == 0 || st.Errors != errors || st.Reads != uint64(len(want)) {
		t.Fatalf("whole stream: stats %+v: want bad frames, skipped bytes and %d errors", st, errors)
	}
	return r
}

// Corruptions calls fn with every corruption of raw that flips bits in one
// byte (with the masks 0x01, 0x80 and 0xFF), followed by the good frame:
// what a decoder emits from in must be the good frame alone.
func Corruptions(raw []byte, fn func(i int, mask byte, in []byte)) {
	for i := range raw {
		for _, x := range []byte{0x01, 0x80, 0xFF} {
			bad := append([]byte(nil), raw...)
			bad[i] ^= x
			fn(i, x, append(bad, raw...))
		}
	}
}
