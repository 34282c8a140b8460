package magicrf

import (
	"fmt"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
)

// Emulator behaves like an M100-family module with tags in its field. It
// answers the info, power and region commands; a single poll gets a notice
// per tag then a response, a multi-poll makes every Tick report each tag
// until the count runs out or a stop arrives; with no tags, both polls are
// answered "no tag". Unknown commands get the command error.
type Emulator struct {
	dec     Decoder
	notices []byte // the notices of all tags, built once
	power   uint16
	region  byte
	polling bool
	rounds  uint16
	out     []byte
	handle  func(Frame)
}

var _ rfid.Emulator = (*Emulator)(nil)

// Module information the emulator reports.
const (
	EmulatorHardware     = "M100 26dBm V1.0"
	EmulatorSoftware     = "V2.3.5"
	EmulatorManufacturer = "MagicRF"
)

// NewEmulator returns an emulator presenting tags, each an EPC of whole
// 16-bit words (at most 31). Tag i is reported with RSSI -40-i dBm.
func NewEmulator(tags [][]byte) (*Emulator, error) {
	e := &Emulator{power: 2600, region: RegionEurope}
	for i, t := range tags {
		var err error
		e.notices, err = AppendTagNotice(e.notices, int8(-40-i%80), 0, t)
		if err != nil {
			return nil, fmt.Errorf("magicrf: emulator tag %d: %w", i+1, err)
		}
	}
	e.handle = e.command
	return e, nil
}

// Handle decodes the host's commands and returns the module's answers.
func (e *Emulator) Handle(in []byte) []byte {
	e.out = nil
	e.dec.Feed(in, e.handle)
	return e.out
}

// command answers one frame from the host.
func (e *Emulator) command(f Frame) {
	if f.Type != TypeCommand {
		return
	}
	p := f.Params
	switch {
	case f.Cmd == CmdInfo && len(p) == 1 && p[0] <= InfoManufacturer:
		text := [...]string{EmulatorHardware, EmulatorSoftware, EmulatorManufacturer}[p[0]]
		e.out = AppendResponse(e.out, CmdInfo, append([]byte{p[0]}, text...))
	case f.Cmd == CmdSetRegion && len(p) == 1 && validRegion(p[0]):
		e.region = p[0]
		e.out = AppendResponse(e.out, CmdSetRegion, []byte{0x00})
	case f.Cmd == CmdSetPower && len(p) == 2:
		e.power = uint16(p[0])<<8 | uint16(p[1])
		e.out = AppendResponse(e.out, CmdSetPower, []byte{0x00})
	case f.Cmd == CmdGetPower && len(p) == 0:
		e.out = AppendResponse(e.out, CmdGetPower, []byte{byte(e.power >> 8), byte(e.power)})
	case f.Cmd == CmdSinglePoll && len(p) == 0:
		if len(e.notices) == 0 {
			e.out = AppendError(e.out, ErrNoTag)
			return
		}
		e.out = append(e.out, e.notices...)
		e.out = AppendResponse(e.out, CmdSinglePoll, []byte{0x00})
	case f.Cmd == CmdMultiPoll && len(p) == 3 && p[0] == 0x22:
		if len(e.notices) == 0 {
			e.out = AppendError(e.out, ErrNoTag)
			return
		}
		e.rounds = uint16(p[1])<<8 | uint16(p[2])
		e.polling = e.rounds > 0
	case f.Cmd == CmdStopPoll && len(p) == 0:
		e.polling = false
		e.out = AppendResponse(e.out, CmdStopPoll, []byte{0x00})
	default:
		e.out = AppendError(e.out, ErrCommand)
	}
}

func validRegion(b byte) bool {
	switch b {
	case RegionChina900, RegionUS, RegionEurope, RegionChina800, RegionKorea:
		return true
	}
	return false
}

// Tick returns one inventory round's notices while a multi-poll runs.
func (e *Emulator) Tick() []byte {
	if !e.polling {
		return nil
	}
	e.rounds--
	e.polling = e.rounds > 0
	return append([]byte(nil), e.notices...)
}

// TickInterval returns the emulated inventory round time, 20 ms.
func (e *Emulator) TickInterval() time.Duration { return TickInterval }

// Power returns the transmit power last set, in hundredths of a dBm.
func (e *Emulator) Power() uint16 { return e.power }

// Region returns the region code last set.
func (e *Emulator) Region() byte { return e.region }
