package magicrf

// Frame is one well-formed frame. Params aliases the decoder's buffer and is
// valid only during the callback that receives it.
type Frame struct {
	// Type is TypeCommand, TypeResponse or TypeNotice.
	Type byte
	// Cmd is the command code.
	Cmd byte
	// Params are the PL parameter bytes.
	Params []byte
}

// Decoder splits the byte stream of an M100 module (or of a host, for the
// emulator) into frames. It accepts bytes in any split; a candidate frame
// with an unknown type, a parameter length above MaxParams, a wrong
// checksum or a missing 7E is counted as bad, its header byte is dropped
// and the bytes after it are scanned again, so a good frame that follows
// garbage or a truncated frame is never lost. It never emits a bad frame
// and does not allocate.
//
// The zero value is ready to use. A Decoder is not safe for concurrent use.
type Decoder struct {
	buf        [MaxFrameLen]byte
	start, end int // the candidate frame is buf[start:end]

	frames     uint64
	badFrames  uint64
	skipped    uint64
	frameBytes uint64
}

// Counters are what a Decoder has counted so far. All counters only grow.
type Counters struct {
	// Frames is the number of good frames.
	Frames uint64
	// BadFrames is the number of candidate frames rejected.
	BadFrames uint64
	// SkippedBytes is the number of bytes dropped outside good frames,
	// including the header byte of each bad frame.
	SkippedBytes uint64
	// FrameBytes is the total length of the good frames.
	FrameBytes uint64
}

// Counters returns the counts so far.
func (d *Decoder) Counters() Counters {
	return Counters{Frames: d.frames, BadFrames: d.badFrames, SkippedBytes: d.skipped, FrameBytes: d.frameBytes}
}

// Buffered returns the number of bytes held for a frame not yet complete.
// Every byte fed is, at any time, counted in exactly one of FrameBytes,
// SkippedBytes and Buffered.
func (d *Decoder) Buffered() int { return d.end - d.start }

// Feed consumes p and calls emit for every good frame.
func (d *Decoder) Feed(p []byte, emit func(Frame)) {
	for len(p) > 0 {
		if d.start == d.end {
			d.start, d.end = 0, 0
			// Fast path: skip to the next header without buffering.
			i := 0
			for i < len(p) && p[i] != Header {
				i++
			}
			d.skipped += uint64(i)
			p = p[i:]
			if len(p) == 0 {
				return
			}
		}
		if d.end == len(d.buf) {
			d.end = copy(d.buf[:], d.buf[d.start:d.end])
			d.start = 0
		}
		n := copy(d.buf[d.end:], p)
		d.end += n
		p = p[n:]
		d.scan(emit)
	}
}

// scan resolves as many candidate frames as the held bytes allow.
func (d *Decoder) scan(emit func(Frame)) {
	for d.start < d.end {
		c := d.buf[d.start:d.end]
		if c[0] != Header {
			d.skipped++
			d.start++
			continue
		}
		n, ok := check(c)
		switch {
		case !ok:
			d.badFrames++
			d.skipped++
			d.start++
		case n == 0:
			return // need more bytes
		default:
			d.frames++
			d.frameBytes += uint64(n)
			d.start += n
			if emit != nil {
				emit(Frame{Type: c[1], Cmd: c[2], Params: c[5 : n-2]})
			}
		}
	}
}

// check looks at a candidate starting with Header. It returns ok=false for
// a bad frame, n=0 when more bytes are needed, else the frame length.
func check(c []byte) (n int, ok bool) {
	if len(c) >= 2 && c[1] > TypeNotice {
		return 0, false
	}
	if len(c) < 5 {
		return 0, true
	}
	pl := int(c[3])<<8 | int(c[4])
	if pl > MaxParams {
		return 0, false
	}
	n = 7 + pl
	if len(c) < n {
		return 0, true
	}
	var sum byte
	for _, b := range c[1 : n-2] {
		sum += b
	}
	if sum != c[n-2] || c[n-1] != End {
		return 0, false
	}
	return n, true
}
