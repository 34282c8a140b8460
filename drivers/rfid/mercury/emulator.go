package mercury

import (
	"fmt"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
)

// TickInterval is how often the emulator streams its tags while reading.
const TickInterval = 250 * time.Millisecond

// Emulator behaves like an M6e Nano presenting a fixed set of Gen2 tags. It
// answers Get Version, Set Tag Protocol (Gen2), Set Antenna Port (1/1),
// Set/Get Region, Set/Get Read TX Power, Read Tag ID
// Multiple, Get/Clear Tag Buffer and the multi-protocol start/stop of
// continuous reading (start is idempotent and answered with an empty OK
// response); unknown opcodes get status 0x0101.
type Emulator struct {
	dec     *Decoder
	tags    [][]byte
	region  byte
	power   uint16
	reading bool
	meta    uint16
	buffer  int // tags waiting in the tag buffer, from the front of tags
	ms      uint32
	out     []byte
}

var _ rfid.Emulator = (*Emulator)(nil)

// NewEmulator returns an emulator presenting tags: EPCs of 2..62 bytes, an
// even number (whole Gen2 words).
func NewEmulator(tags [][]byte) (*Emulator, error) {
	e := &Emulator{dec: NewCommandDecoder(), region: RegionNA2, power: 2700, meta: DefaultMetadata}
	for i, t := range tags {
		if len(t) < 2 || len(t) > 62 || len(t)%2 != 0 {
			return nil, fmt.Errorf("mercury: emulator tag %d is %d bytes, want an even 2..62", i+1, len(t))
		}
		e.tags = append(e.tags, append([]byte(nil), t...))
	}
	return e, nil
}

// Region returns the region code the host set.
func (e *Emulator) Region() byte { return e.region }

// Power returns the read power the host set, in centi-dBm.
func (e *Emulator) Power() uint16 { return e.power }

// Reading tells whether continuous reading is on.
func (e *Emulator) Reading() bool { return e.reading }

// Handle consumes host bytes and returns the module's answers.
func (e *Emulator) Handle(in []byte) []byte {
	e.out = e.out[:0]
	e.dec.Feed(in, e.command)
	if len(e.out) == 0 {
		return nil
	}
	return append([]byte(nil), e.out...)
}

// Tick streams one record per tag while continuous reading is on, or a
// keep-alive when no tag is present; nil when not reading.
func (e *Emulator) Tick() []byte {
	if !e.reading {
		return nil
	}
	e.ms += uint32(TickInterval / time.Millisecond)
	if len(e.tags) == 0 {
		return AppendKeepAlive(nil)
	}
	var out []byte
	for i := range e.tags {
		out = AppendStreamedTag(out, e.meta, e.record(i))
	}
	return out
}

// TickInterval is how often Tick is called.
func (e *Emulator) TickInterval() time.Duration { return TickInterval }

// record is tag i as the emulated module reports it.
func (e *Emulator) record(i int) TagRecord {
	epc := e.tags[i]
	pc := uint16(len(epc)/2) << 11
	id := append([]byte{byte(pc >> 8), byte(pc)}, epc...)
	return TagRecord{
		ReadCount: 1, RSSI: int8(-45 - i%20), Antenna: 0x11, Frequency: 915250,
		Timestamp: e.ms, Protocol: ProtocolGen2, PC: pc, EPC: epc, TagCRC: Gen2CRC(id),
	}
}

func (e *Emulator) ok(op byte, data ...byte) {
	e.out = AppendResponse(e.out, op, StatusOK, data...)
}

func (e *Emulator) fail(op byte, status uint16) {
	e.out = AppendResponse(e.out, op, status)
}

func validRegion(code byte) bool {
	for _, c := range Regions {
		if c == code {
			return true
		}
	}
	return code == RegionNA || code == RegionEU || code == RegionKR
}

func (e *Emulator) command(f Frame) {
	d := f.Data
	switch f.Opcode {
	case OpVersion:
		e.ok(f.Opcode,
			0x12, 0x08, 0x00, 0x00, // bootloader
			0x30, 0x00, 0x00, 0x00, // hardware
			0x20, 0x26, 0x01, 0x01, // firmware date
			0x01, 0x0B, 0x01, 0x00, // firmware version
			0x00, 0x00, 0x00, 0x10) // protocols: Gen2
	case OpSetRegion:
		if len(d) != 1 || !validRegion(d[0]) {
			e.fail(f.Opcode, StatusInvalidParam)
			return
		}
		e.region = d[0]
		e.ok(f.Opcode)
	case OpSetTagProtocol:
		if len(d) != 2 || d[0] != 0 || d[1] != ProtocolGen2 {
			e.fail(f.Opcode, StatusInvalidParam)
			return
		}
		e.ok(f.Opcode)
	case OpSetAntennaPort:
		if len(d) != 2 || d[0] != 1 || d[1] != 1 {
			e.fail(f.Opcode, StatusInvalidParam) // a single-port module
			return
		}
		e.ok(f.Opcode)
	case OpGetRegion:
		e.ok(f.Opcode, e.region)
	case OpSetReadTxPower:
		if len(d) != 2 {
			e.fail(f.Opcode, StatusWrongDataLength)
			return
		}
		p := uint16(d[0])<<8 | uint16(d[1])
		if p > uint16(MaxPower*100) {
			e.fail(f.Opcode, StatusPowerTooHigh)
			return
		}
		e.power = p
		e.ok(f.Opcode)
	case OpGetReadTxPower:
		e.ok(f.Opcode, 0x00, byte(e.power>>8), byte(e.power))
	case OpReadTagMultiple:
		if len(d) < 5 {
			e.fail(f.Opcode, StatusWrongDataLength)
			return
		}
		e.buffer = len(e.tags)
		if e.buffer == 0 {
			e.fail(f.Opcode, StatusNoTagsFound)
			return
		}
		e.ok(f.Opcode, d[0], d[1], d[2], byte(e.buffer))
	case OpGetTagBuffer:
		if len(d) != 3 || (uint16(d[0])<<8|uint16(d[1]))&^MetaKnown != 0 {
			e.fail(f.Opcode, StatusInvalidParam)
			return
		}
		e.tagBuffer(uint16(d[0])<<8 | uint16(d[1]))
	case OpClearTagBuffer:
		e.buffer = 0
		e.ok(f.Opcode)
	case OpMultiProtocol:
		e.multiProtocol(d)
	default:
		e.fail(f.Opcode, StatusInvalidOpcode)
	}
}

// tagBuffer answers with as many buffered records as fit in one response.
func (e *Emulator) tagBuffer(flags uint16) {
	var recs []TagRecord
	size := 4
	start := len(e.tags) - e.buffer
	for i := start; i < len(e.tags); i++ {
		r := e.record(i)
		n := len(AppendTagRecord(nil, flags, r))
		if size+n > MaxData {
			break
		}
		size += n
		recs = append(recs, r)
	}
	e.buffer -= len(recs)
	e.out = AppendTagBuffer(e.out, flags, recs)
}

func (e *Emulator) multiProtocol(d []byte) {
	if len(d) < 3 {
		e.fail(OpMultiProtocol, StatusWrongDataLength)
		return
	}
	switch d[2] {
	case OptionStop:
		e.reading = false
		e.ok(OpMultiProtocol)
	case OptionContinuous:
		meta := uint16(0)
		if len(d) >= 16 && d[9]&OptionMetadata != 0 {
			meta = uint16(d[14])<<8 | uint16(d[15])
		}
		if len(d) < 9 || d[3] != OpReadTagMultiple || d[6] != ProtocolGen2 || meta&^MetaKnown != 0 {
			e.fail(OpMultiProtocol, StatusInvalidParam)
			return
		}
		e.meta = meta
		e.reading = true
		e.ok(OpMultiProtocol)
	default:
		e.fail(OpMultiProtocol, StatusInvalidParam)
	}
}
