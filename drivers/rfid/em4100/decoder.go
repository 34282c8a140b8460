package em4100

// Decoder turns the byte stream of an EM4100 reader into card reads. It
// accepts bytes in any split, resynchronises on the next STX after garbage
// or a broken frame, and emits only frames whose digits, checksum and ETX
// all hold. It keeps a fixed buffer and does not allocate per frame.
//
// The zero value is ready to use. A Decoder is not safe for concurrent use.
type Decoder struct {
	buf [FrameLen]byte // bytes of the frame being assembled; buf[0] is STX
	n   int            // number of bytes held in buf
	tag [TagLen]byte   // data bytes of the last good frame

	frames    uint64
	badFrames uint64
	skipped   uint64
	filler    uint64
}

// Counters are what a Decoder has counted so far. All counters only grow.
type Counters struct {
	// Frames is the number of good frames decoded.
	Frames uint64
	// BadFrames is the number of frames dropped for a non-hex digit, a
	// wrong checksum or a missing ETX.
	BadFrames uint64
	// SkippedBytes is the number of bytes discarded outside any frame,
	// including the STX of each bad frame.
	SkippedBytes uint64
	// FillerBytes is the number of CR and LF bytes ignored between frames.
	FillerBytes uint64
}

// Counters returns the counts so far.
func (d *Decoder) Counters() Counters {
	return Counters{Frames: d.frames, BadFrames: d.badFrames, SkippedBytes: d.skipped, FillerBytes: d.filler}
}

// Buffered returns the number of bytes held for a frame not yet complete.
// Every byte fed is, at any time, in exactly one of: a good frame
// (FrameLen each), SkippedBytes, FillerBytes or Buffered.
func (d *Decoder) Buffered() int { return d.n }

// Feed consumes p and calls emit with the 5 data bytes (version and card
// ID) of every good frame completed. The slice passed to emit aliases the
// decoder's buffer and is valid only during the call.
func (d *Decoder) Feed(p []byte, emit func(tag []byte)) {
	for _, b := range p {
		d.push(b, emit)
	}
}

// push adds one byte to the frame being assembled.
func (d *Decoder) push(b byte, emit func(tag []byte)) {
	if d.n == 0 {
		switch b {
		case STX:
			d.buf[0] = b
			d.n = 1
		case '\r', '\n':
			d.filler++
		default:
			d.skipped++
		}
		return
	}
	d.buf[d.n] = b
	d.n++
	ok := true
	switch {
	case d.n < FrameLen:
		_, ok = unhex(b)
	default:
		ok = b == ETX && d.decode()
	}
	if !ok {
		d.resync(emit)
		return
	}
	if d.n == FrameLen {
		d.n = 0
		d.frames++
		if emit != nil {
			emit(d.tag[:])
		}
	}
}

// decode checks the checksum of the complete frame in buf and fills tag.
func (d *Decoder) decode() bool {
	var sum byte
	for i := 0; i < TagLen; i++ {
		hi, _ := unhex(d.buf[1+2*i])
		lo, _ := unhex(d.buf[2+2*i])
		d.tag[i] = hi<<4 | lo
		sum ^= d.tag[i]
	}
	hi, _ := unhex(d.buf[1+2*TagLen])
	lo, _ := unhex(d.buf[2+2*TagLen])
	return sum == hi<<4|lo
}

// resync drops a broken frame: it counts it, discards its STX and feeds the
// bytes that followed again, so that a good frame starting inside them is
// not lost.
func (d *Decoder) resync(emit func(tag []byte)) {
	d.badFrames++
	d.skipped++ // the STX of the broken frame
	var rest [FrameLen - 1]byte
	n := copy(rest[:], d.buf[1:d.n])
	d.n = 0
	for _, b := range rest[:n] {
		d.push(b, emit)
	}
}

// unhex decodes one ASCII hex digit, upper- or lower-case.
func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
