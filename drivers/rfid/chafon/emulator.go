package chafon

import (
	"fmt"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
)

// TagsPerFrame is how many tags the emulator puts in one inventory frame
// before answering "more data", small so that tests cover the split.
const TagsPerFrame = 3

// Emulator behaves like a UHFReader18 at address 0x00 presenting a fixed
// set of tags. It answers Inventory, Get Reader Information, Set Region,
// Set Scan Time and Set Power, and answers other commands with status
// 0xFE (illegal command).
type Emulator struct {
	dec  *Decoder
	addr byte
	tags [][]byte
	info ReaderInfo
	out  []byte
}

var _ rfid.Emulator = (*Emulator)(nil)

// NewEmulator returns an emulator presenting tags (EPCs of 1..62 bytes).
func NewEmulator(tags [][]byte) (*Emulator, error) {
	e := &Emulator{
		dec: NewCommandDecoder(),
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

// Tick returns nil: the reader only answers commands.
func (e *Emulator) Tick() []byte { return nil }

// TickInterval is zero: Tick is never needed.
func (e *Emulator) TickInterval() time.Duration { return 0 }

func (e *Emulator) command(f Frame) {
	if f.Addr != e.addr && f.Addr != BroadcastAddr {
		return
	}
	switch f.Cmd {
	case CmdInventory:
		e.inventory()
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
