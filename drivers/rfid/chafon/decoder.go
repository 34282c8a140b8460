package chafon

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
	r, w   int
	look   int // positions after r and before look hold no frame
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
func (d *Decoder) Buffered() int { return d.w - d.r }

// Reset drops buffered bytes; counters are kept.
func (d *Decoder) Reset() { d.r, d.w = 0, 0 }

// Feed consumes p and calls fn for every well-formed frame, in order.
func (d *Decoder) Feed(p []byte, fn func(Frame)) {
	if d.minLen == 0 {
		d.minLen = MinResponseLen
	}
	for len(p) > 0 {
		if d.r > 0 && (d.w == len(d.buf) || d.r == d.w) {
			d.w = copy(d.buf[:], d.buf[d.r:d.w])
			d.look = max(d.look-d.r, 0)
			d.r = 0
		}
		n := copy(d.buf[d.w:], p)
		d.w += n
		p = p[n:]
		d.scan(fn)
	}
}

// candidate classifies position i: a complete CRC-valid frame (1), one
// that can never be (-1: Len too small, or complete with a bad CRC), or one
// still waiting for bytes (0).
func (d *Decoder) candidate(i int) int {
	l := d.buf[i]
	if l < d.minLen {
		return -1
	}
	total := int(l) + 1
	if i+total > d.w {
		return 0
	}
	if crcOK(d.buf[i : i+total]) {
		return 1
	}
	return -1
}

func crcOK(f []byte) bool {
	n := len(f)
	return CRC(f[:n-2]) == uint16(f[n-2])|uint16(f[n-1])<<8
}

func (d *Decoder) scan(fn func(Frame)) {
	for d.r < d.w {
		l := d.buf[d.r]
		if l < d.minLen {
			d.skip(1)
			continue
		}
		total := int(l) + 1
		if d.r+total <= d.w {
			f := d.buf[d.r : d.r+total]
			if !crcOK(f) {
				d.BadFrames++
				d.skip(1)
				continue
			}
			d.Frames++
			fn(Frame{Addr: f[1], Cmd: f[2], Payload: f[3 : total-2], Raw: f})
			d.r += total
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
// frame and skips to it. Positions known never to start a frame are
// remembered in look, so garbage is not rescanned on every call.
func (d *Decoder) lookahead() bool {
	d.look = max(d.look, d.r+1)
	settled := true
	for i := d.look; i+int(d.minLen) < d.w; i++ {
		switch d.candidate(i) {
		case 1:
			d.skip(i - d.r)
			return true
		case -1:
			if settled {
				d.look = i + 1
			}
		default:
			settled = false
		}
	}
	return false
}

// skip drops n bytes, and the known-garbage positions that follow them.
func (d *Decoder) skip(n int) {
	n = max(n, d.look-d.r)
	d.r += n
	d.SkippedBytes += uint64(n)
}
