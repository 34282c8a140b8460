package chafon

import "github.com/ngic/ngic/drivers/rfid/internal/resync"

// Frame is one well-formed frame: its CRC holds and its length is within
// bounds. Payload aliases the decoder's buffer and is valid only during the
// callback that received it.
type Frame struct {
	// Addr is the reader address byte.
	Addr byte
	// Cmd is the command (or, in a response, the echoed reCmd).
	Cmd byte
	// Payload is everything between Cmd and the CRC: Status then Data in a
	// response, Data in a command.
	Payload []byte
	// Raw is the whole frame, Len through CRC.
	Raw []byte
}

// bufSize holds two maximal frames so that a frame that follows a long
// garbage candidate can be found before the candidate is complete.
const bufSize = 2 * MaxFrame

// Decoder splits a byte stream into frames. It accepts bytes in any split,
// verifies length and CRC, and resynchronises after garbage, noise and
// truncated frames by dropping one byte and rescanning. Because the format
// has no start-of-frame marker, a candidate whose Len claims more bytes than
// have arrived does not block a complete, CRC-valid frame found later in the
// buffer. It never allocates after construction. The zero value decodes
// response frames.
type Decoder struct {
	buf    [bufSize]byte
	win    resync.Window
	minLen byte

	// Frames counts frames emitted.
	Frames uint64
	// BadFrames counts candidates dropped for a bad CRC or length.
	BadFrames uint64
	// SkippedBytes counts bytes discarded while resynchronising.
	SkippedBytes uint64
}

// NewCommandDecoder returns a decoder for host commands (Len >= 4), the
// emulator's side of the link.
func NewCommandDecoder() *Decoder { return &Decoder{minLen: MinCommandLen} }

// NewResponseDecoder returns a decoder for reader responses (Len >= 5), the
// host's side of the link.
func NewResponseDecoder() *Decoder { return &Decoder{minLen: MinResponseLen} }

// Buffered returns how many received bytes wait for the rest of a frame.
func (d *Decoder) Buffered() int { return d.win.Buffered() }

// Reset drops buffered bytes; counters are kept.
func (d *Decoder) Reset() { d.win.Reset() }

// Feed consumes p and calls fn for every well-formed frame, in order.
func (d *Decoder) Feed(p []byte, fn func(Frame)) {
	if d.minLen == 0 {
		d.minLen = MinResponseLen
	}
	for len(p) > 0 {
		p = d.win.Fill(d.buf[:], p)
		d.scan(fn)
	}
}

// candidate classifies position i: a complete CRC-valid frame (Valid), one
// that can never be (Never: Len too small, or complete with a bad CRC), or
// one still waiting for bytes (Waiting).
func (d *Decoder) candidate(i int) int {
	l := d.buf[i]
	if l < d.minLen {
		return resync.Never
	}
	total := int(l) + 1
	if i+total > d.win.W {
		return resync.Waiting
	}
	if crcOK(d.buf[i : i+total]) {
		return resync.Valid
	}
	return resync.Never
}

func crcOK(f []byte) bool {
	n := len(f)
	return CRC(f[:n-2]) == uint16(f[n-2])|uint16(f[n-1])<<8
}

func (d *Decoder) scan(fn func(Frame)) {
	for d.win.R < d.win.W {
		l := d.buf[d.win.R]
		if l < d.minLen {
			d.skip(1)
			continue
		}
		total := int(l) + 1
		if d.win.R+total <= d.win.W {
			f := d.buf[d.win.R : d.win.R+total]
			if !crcOK(f) {
				d.BadFrames++
				d.skip(1)
				continue
			}
			d.Frames++
			fn(Frame{Addr: f[1], Cmd: f[2], Payload: f[3 : total-2], Raw: f})
			d.win.R += total
			continue
		}
		// The candidate at r is incomplete: if a complete valid frame
		// starts later, the candidate was garbage.
		if !d.lookahead() {
			return
		}
	}
}

// lookahead looks past an incomplete candidate at r for a complete valid
// frame and skips to it.
func (d *Decoder) lookahead() bool {
	for i := d.win.Start(); i+int(d.minLen)+1 <= d.win.W; i++ {
		if d.win.Saw(i, d.candidate(i)) {
			d.skip(i - d.win.R)
			return true
		}
	}
	return false
}

// skip drops n bytes, and the known-garbage positions that follow them.
func (d *Decoder) skip(n int) { d.SkippedBytes += d.win.Skip(n) }
