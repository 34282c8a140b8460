package chafon

import (
	"fmt"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
)

// TagsPerFrame is how many tags the emulator puts in one inventory frame
// before answering "more data", small so that tests cover the split.
const TagsPerFrame = 3

// EmulatorOpts chooses what kind of reader the emulator is.
type EmulatorOpts struct {
	// Dialect is the inventory layout the emulator answers and reports
	// with.
	Dialect Dialect
	// Active makes the emulator a reader in active mode: every
	// ActiveTickInterval it pushes one 0xEE report per tag (a UHFReader288
	// with no tag pushes a heartbeat instead), and it does not answer
	// Inventory.
	Active bool
	// Antenna is the 1-based port a UHFReader288 reports, 1..8.
	Antenna int
}

// DefaultEmulatorOpts is a UHFReader18 in answer mode, what NewEmulator
// and the protocol registry give.
var DefaultEmulatorOpts = EmulatorOpts{Dialect: Dialect18, Antenna: 1}

// ActiveTickInterval is how often an emulator in active mode reports its
// tags.
const ActiveTickInterval = 100 * time.Millisecond

// EmulatorRSSI is the raw RSSI byte a UHFReader288 emulator reports for
// its first tag (-29 dBm); tag i is reported with EmulatorRSSI - i%32.
const EmulatorRSSI = 0x64

// Emulator behaves like a UHFReader18 (or, with EmulatorOpts, a
// UHFReader288, in answer or active mode) at address 0x00 presenting a
// fixed set of tags. It answers Inventory, Get Reader Information, Set
// Region, Set Scan Time and Set Power, and answers other commands with
// status 0xFE (illegal command).
type Emulator struct {
	dec  *Decoder
	addr byte
	tags [][]byte
	opts EmulatorOpts
	info ReaderInfo
	out  []byte
	beat uint32
}

var _ rfid.Emulator = (*Emulator)(nil)

// NewEmulator returns a UHFReader18 emulator in answer mode presenting
// tags (EPCs of 1..62 bytes).
func NewEmulator(tags [][]byte) (*Emulator, error) {
	return NewEmulatorWith(tags, DefaultEmulatorOpts)
}

// NewEmulatorWith returns an emulator of the kind opts says presenting tags
// (EPCs of 1..62 bytes, whole 16-bit words for a UHFReader288).
func NewEmulatorWith(tags [][]byte, opts EmulatorOpts) (*Emulator, error) {
	if opts.Dialect != Dialect18 && opts.Dialect != Dialect288 {
		return nil, fmt.Errorf("chafon: emulator dialect %d unknown", opts.Dialect)
	}
	if opts.Dialect == Dialect288 && AntennaMask(opts.Antenna) == 0 {
		return nil, fmt.Errorf("chafon: emulator antenna %d outside 1..8", opts.Antenna)
	}
	e := &Emulator{
		opts: opts,
		dec:  NewCommandDecoder(),
		info: ReaderInfo{
			Version: [2]byte{2, 0}, Type: 0x08, Protocols: 0x03,
			MaxFre: bandChannels[BandChinese], MinFre: BandChinese << 6,
			Power: MaxPower, ScanTime: 10,
		},
	}
	for i, t := range tags {
		if len(t) == 0 || len(t) > MaxEPC {
			return nil, fmt.Errorf("chafon: emulator tag %d is %d bytes, want 1..%d", i+1, len(t), MaxEPC)
		}
		if opts.Dialect == Dialect288 && len(t)%2 != 0 {
			return nil, fmt.Errorf("chafon: emulator tag %d is %d bytes, not whole 16-bit words", i+1, len(t))
		}
		e.tags = append(e.tags, append([]byte(nil), t...))
	}
	return e, nil
}

// Info returns the reader information the emulator reports, reflecting the
// settings the host made.
func (e *Emulator) Info() ReaderInfo { return e.info }

// Handle consumes host bytes and returns the reader's answers.
func (e *Emulator) Handle(in []byte) []byte {
	e.out = e.out[:0]
	e.dec.Feed(in, e.command)
	if len(e.out) == 0 {
		return nil
	}
	return append([]byte(nil), e.out...)
}

// Tick returns nil in answer mode, where the reader only answers commands.
// In active mode it returns one report per tag, or a UHFReader288's
// heartbeat when there is no tag.
func (e *Emulator) Tick() []byte {
	if !e.opts.Active {
		return nil
	}
	var out []byte
	if len(e.tags) == 0 && e.opts.Dialect == Dialect288 {
		e.beat++
		var ants [8]byte
		ants[0] = 1
		return AppendHeartbeat(out, e.addr, e.beat, ants, 0)
	}
	for i, t := range e.tags {
		if e.opts.Dialect == Dialect288 {
			out = AppendActiveReport288(out, e.addr, AntennaMask(e.opts.Antenna), e.report(i))
		} else {
			out = AppendActiveReport(out, e.addr, t)
		}
	}
	return out
}

// TickInterval is zero in answer mode (Tick is never needed) and
// ActiveTickInterval in active mode.
func (e *Emulator) TickInterval() time.Duration {
	if e.opts.Active {
		return ActiveTickInterval
	}
	return 0
}

// report returns tag i as a UHFReader288 reports it.
func (e *Emulator) report(i int) TagReport {
	return TagReport{EPC: e.tags[i], RSSI: byte(EmulatorRSSI - i%32)}
}

func (e *Emulator) command(f Frame) {
	if f.Addr != e.addr && f.Addr != BroadcastAddr {
		return
	}
	switch f.Cmd {
	case CmdInventory:
		if !e.opts.Active {
			e.inventory()
		}
	case CmdGetReaderInfo:
		e.out = AppendReaderInfoResponse(e.out, e.addr, e.info)
	case CmdSetPower:
		if len(f.Payload) != 1 || f.Payload[0] > MaxPower {
			e.out = AppendResponse(e.out, e.addr, f.Cmd, StatusParamError)
			return
		}
		e.info.Power = f.Payload[0]
		e.out = AppendResponse(e.out, e.addr, f.Cmd, StatusOK)
	case CmdSetRegion:
		if len(f.Payload) != 2 {
			e.out = AppendResponse(e.out, e.addr, f.Cmd, StatusParamError)
			return
		}
		band, maxN, minN := DecodeRegion(f.Payload[0], f.Payload[1])
		if _, _, err := EncodeRegion(band, maxN, minN); err != nil {
			e.out = AppendResponse(e.out, e.addr, f.Cmd, StatusParamError)
			return
		}
		e.info.MaxFre, e.info.MinFre = f.Payload[0], f.Payload[1]
		e.out = AppendResponse(e.out, e.addr, f.Cmd, StatusOK)
	case CmdSetScanTime:
		if len(f.Payload) != 1 {
			e.out = AppendResponse(e.out, e.addr, f.Cmd, StatusParamError)
			return
		}
		st := f.Payload[0]
		if st < 3 {
			st = 10 // the manual: values below 3 set the default
		}
		e.info.ScanTime = st
		e.out = AppendResponse(e.out, e.addr, f.Cmd, StatusOK)
	default:
		e.out = AppendResponse(e.out, e.addr, f.Cmd, StatusIllegalCommand)
	}
}

// inventory answers with every tag, TagsPerFrame (or fewer, to fit) per
// frame: status 0x03 on all frames but the last, 0x01 on the last; 0xFB
// when there is no tag.
func (e *Emulator) inventory() {
	if len(e.tags) == 0 {
		e.out = AppendResponse(e.out, e.addr, CmdInventory, StatusNoTag)
		return
	}
	if e.opts.Dialect == Dialect288 {
		e.inventory288()
		return
	}
	rest := e.tags
	for len(rest) > 0 {
		n, size := 0, 0
		for n < len(rest) && n < TagsPerFrame && InventoryFits(size+1+len(rest[n])) {
			size += 1 + len(rest[n])
			n++
		}
		status := byte(StatusMoreData)
		if n == len(rest) {
			status = StatusInventoryDone
		}
		e.out = AppendInventoryResponse(e.out, e.addr, status, rest[:n])
		rest = rest[n:]
	}
}

// inventory288 answers as inventory does, in the UHFReader288 layout.
func (e *Emulator) inventory288() {
	ant := AntennaMask(e.opts.Antenna)
	var reps [TagsPerFrame]TagReport
	for i := 0; i < len(e.tags); {
		n, size := 0, 0
		for i+n < len(e.tags) && n < TagsPerFrame && InventoryFits288(size+2+len(e.tags[i+n])) {
			reps[n] = e.report(i + n)
			size += 2 + len(e.tags[i+n])
			n++
		}
		status := byte(StatusMoreData)
		if i+n == len(e.tags) {
			status = StatusInventoryDone
		}
		e.out = AppendInventoryResponse288(e.out, e.addr, status, ant, reps[:n])
		i += n
	}
}
