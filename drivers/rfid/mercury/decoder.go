package mercury

import "github.com/ngic/ngic/drivers/rfid/internal/resync"

// Frame is one well-formed frame: header, length and CRC hold. Data and Raw
// alias the decoder's buffer and are valid only during the callback that
// received them.
type Frame struct {
	// Opcode is the command opcode, echoed in responses.
	Opcode byte
	// Status is the response status word; zero in commands.
	Status uint16
	// Data is the data after the opcode (after the status in responses).
	Data []byte
	// Raw is the whole frame, header through CRC.
	Raw []byte
}

const bufSize = 2 * MaxFrame

// Decoder splits a byte stream into frames. It accepts bytes in any split,
// hunts for the 0xFF header, verifies length and CRC, and resynchronises
// after garbage, noise and truncated frames by dropping one byte and
// rescanning; a candidate whose Len claims more bytes than have arrived
// does not block a complete, CRC-valid frame found later in the buffer. It
// never allocates after construction. The zero value decodes responses.
type Decoder struct {
	buf      [bufSize]byte
	win      resync.Window
	command  bool
	overhead int

	// Frames counts frames emitted.
	Frames uint64
	// BadFrames counts candidates dropped for a bad CRC.
	BadFrames uint64
	// SkippedBytes counts bytes discarded while resynchronising.
	SkippedBytes uint64
}

// NewCommandDecoder returns a decoder for host commands (no status word),
// the emulator's side of the link.
func NewCommandDecoder() *Decoder { return &Decoder{command: true, overhead: CommandOverhead} }

// NewResponseDecoder returns a decoder for module responses, the host's
// side of the link.
func NewResponseDecoder() *Decoder { return &Decoder{overhead: ResponseOverhead} }

// Buffered returns how many received bytes wait for the rest of a frame.
func (d *Decoder) Buffered() int { return d.win.Buffered() }

// Feed consumes p and calls fn for every well-formed frame, in order.
func (d *Decoder) Feed(p []byte, fn func(Frame)) {
	if d.overhead == 0 {
		d.overhead = ResponseOverhead
	}
	for len(p) > 0 {
		p = d.win.Fill(d.buf[:], p)
		d.scan(fn)
	}
}

func (d *Decoder) crcOK(f []byte) bool {
	n := len(f)
	return CRC(f[1:n-2]) == uint16(f[n-2])<<8|uint16(f[n-1])
}

// candidate classifies position i: a complete CRC-valid frame (Valid), one
// that can never be (Never: no header, or complete with a bad CRC), or
// one still waiting for bytes (Waiting).
func (d *Decoder) candidate(i int) int {
	if d.buf[i] != Header {
		return resync.Never
	}
	if i+1 >= d.win.W {
		return resync.Waiting
	}
	total := int(d.buf[i+1]) + d.overhead
	if i+total > d.win.W {
		return resync.Waiting
	}
	if d.crcOK(d.buf[i : i+total]) {
		return resync.Valid
	}
	return resync.Never
}

func (d *Decoder) scan(fn func(Frame)) {
	for d.win.R < d.win.W {
		if d.buf[d.win.R] != Header {
			d.skip(1)
			continue
		}
		if d.win.R+1 >= d.win.W {
			return
		}
		total := int(d.buf[d.win.R+1]) + d.overhead
		if d.win.R+total <= d.win.W {
			f := d.buf[d.win.R : d.win.R+total]
			if !d.crcOK(f) {
				d.BadFrames++
				d.skip(1)
				continue
			}
			d.Frames++
			fr := Frame{Opcode: f[2], Raw: f}
			if d.command {
				fr.Data = f[3 : total-2]
			} else {
				fr.Status = uint16(f[3])<<8 | uint16(f[4])
				fr.Data = f[5 : total-2]
			}
			fn(fr)
			d.win.R += total
			continue
		}
		if !d.lookahead() {
			return
		}
	}
}

// lookahead looks past an incomplete candidate at r for a complete valid
// frame and skips to it.
func (d *Decoder) lookahead() bool {
	for i := d.win.Start(); i+d.overhead <= d.win.W; i++ {
		if d.win.Saw(i, d.candidate(i)) {
			d.skip(i - d.win.R)
			return true
		}
	}
	return false
}

// skip drops n bytes, and the known-garbage positions that follow them.
func (d *Decoder) skip(n int) { d.SkippedBytes += d.win.Skip(n) }

// TagRecord is one tag report: the metadata fields present per the
// metadata flags, then the tag's EPC memory as read.
type TagRecord struct {
	// Flags are the metadata flags the record was parsed with.
	Flags uint16
	// ReadCount is how often the tag was read (MetaReadCount).
	ReadCount byte
	// RSSI is the signal strength in dBm (MetaRSSI).
	RSSI int8
	// Antenna is the raw antenna byte: TX port in bits 7..4, RX in 3..0
	// (MetaAntenna).
	Antenna byte
	// Frequency is the carrier in kHz (MetaFrequency).
	Frequency uint32
	// Timestamp is milliseconds since the search started (MetaTimestamp).
	Timestamp uint32
	// Phase is the backscatter phase in degrees (MetaPhase).
	Phase uint16
	// Protocol is the tag protocol ID (MetaProtocol); Gen2 when absent.
	Protocol byte
	// GPIO is the GPIO input state (MetaGPIO).
	GPIO byte
	// PC is the Gen2 Protocol Control word.
	PC uint16
	// EPC is the tag identifier, without PC, XPC or CRC.
	EPC []byte
	// TagCRC is the tag's own CRC-16 over PC and EPC, as reported.
	TagCRC uint16
}

// TxPort returns the 1-based transmit antenna port (0 in the byte means 16).
func (t TagRecord) TxPort() int {
	p := int(t.Antenna >> 4)
	if p == 0 {
		p = 16
	}
	return p
}

// ParseTagRecord parses one tag record laid out per flags from the start of
// p and returns it with the number of bytes it used. It fails (ok false) on
// unknown flags or a record that does not fit in p. EPC aliases p.
func ParseTagRecord(flags uint16, p []byte) (rec TagRecord, n int, ok bool) {
	if flags&^MetaKnown != 0 {
		return rec, 0, false
	}
	rec.Flags = flags
	rec.Protocol = ProtocolGen2
	i := 0
	need := func(k int) bool { return i+k <= len(p) }
	fields := [...]struct {
		flag uint16
		size int
	}{
		{MetaReadCount, 1}, {MetaRSSI, 1}, {MetaAntenna, 1}, {MetaFrequency, 3},
		{MetaTimestamp, 4}, {MetaPhase, 2}, {MetaProtocol, 1},
	}
	for _, f := range fields {
		if flags&f.flag == 0 {
			continue
		}
		if !need(f.size) {
			return rec, 0, false
		}
		v := p[i : i+f.size]
		switch f.flag {
		case MetaReadCount:
			rec.ReadCount = v[0]
		case MetaRSSI:
			rec.RSSI = int8(v[0])
		case MetaAntenna:
			rec.Antenna = v[0]
		case MetaFrequency:
			rec.Frequency = uint32(v[0])<<16 | uint32(v[1])<<8 | uint32(v[2])
		case MetaTimestamp:
			rec.Timestamp = uint32(v[0])<<24 | uint32(v[1])<<16 | uint32(v[2])<<8 | uint32(v[3])
		case MetaPhase:
			rec.Phase = uint16(v[0])<<8 | uint16(v[1])
		case MetaProtocol:
			rec.Protocol = v[0]
		}
		i += f.size
	}
	if flags&MetaData != 0 {
		if !need(2) {
			return rec, 0, false
		}
		bytes := (int(p[i])<<8 | int(p[i+1]) + 7) / 8
		i += 2
		if !need(bytes) {
			return rec, 0, false
		}
		i += bytes
	}
	if flags&MetaGPIO != 0 {
		if !need(1) {
			return rec, 0, false
		}
		rec.GPIO = p[i]
		i++
	}
	if !need(2) {
		return rec, 0, false
	}
	idLen := (int(p[i])<<8 | int(p[i+1]) + 7) / 8 // PC + EPC + CRC, in bits
	i += 2
	if !need(idLen) || idLen < 2 {
		return rec, 0, false
	}
	id := p[i : i+idLen]
	i += idLen
	rec.TagCRC = uint16(id[idLen-2])<<8 | uint16(id[idLen-1])
	id = id[:idLen-2]
	if rec.Protocol == ProtocolGen2 {
		if len(id) < 2 {
			return rec, 0, false
		}
		rec.PC = uint16(id[0])<<8 | uint16(id[1])
		id = id[2:]
		if rec.PC&0x0200 != 0 { // XI: an XPC_W1 word follows the PC
			if len(id) < 2 {
				return rec, 0, false
			}
			xpc := id[0]
			id = id[2:]
			if xpc&0x80 != 0 { // XEB: XPC_W2 follows
				if len(id) < 2 {
					return rec, 0, false
				}
				id = id[2:]
			}
		}
	}
	if len(id) == 0 {
		return rec, 0, false
	}
	rec.EPC = id
	return rec, i, true
}
