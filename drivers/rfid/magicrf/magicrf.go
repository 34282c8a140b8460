// Package magicrf speaks the serial protocol of UHF modules built on the
// MagicRF M100 reader chip: YRM100, R200, JRD-4035 and alikes.
//
// Serial settings: 115200 baud, 8 data bits, no parity, 1 stop bit.
//
// Every frame, in both directions, is
//
//	BB        header
//	type      00 command (host to module), 01 response, 02 notice
//	cmd       command code
//	PL_hi     parameter length, high byte
//	PL_lo     parameter length, low byte
//	params    PL bytes
//	CS        low byte of the sum of type, cmd, PL and params
//	7E        end
//
// A tag notice for command 22 (inventory) carries RSSI (1 byte, signed dBm),
// PC (2 bytes), the EPC (PC bits 15..11 give its length in 16-bit words) and
// the tag's CRC-16 (2 bytes); some modules add an antenna byte after the
// CRC, which the parameter length tells (ParseTagNotice). "No tag" is the
// error response
// BB 01 FF 00 01 15 16 7E.
//
// Sources: MagicRF "M100 & QM100 Firmware Command Manual" (frame layout,
// checksum, commands 03, 07, 22, 27, 28, B6, B7, FF, the region codes and
// the worked notice BB 02 22 00 11 C9 34 00 ... 3A 76 EF 7E used in the
// tests); the region codes are also in the M5Stack Unit UHF-RFID driver;
// EPC C1G2 (ISO 18000-63) for the PC word and the tag CRC-16.
package magicrf

import (
	"time"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/drivers/rfid/internal/driver"
)

// Frame constants.
const (
	// Header starts every frame.
	Header = 0xBB
	// End closes every frame.
	End = 0x7E
	// MaxParams is the longest parameter field the decoder accepts; a frame
	// announcing more is a bad frame. The longest notice (a 31-word EPC)
	// has 67 parameter bytes.
	MaxParams = 128
	// MaxFrameLen is the longest frame the decoder accepts.
	MaxFrameLen = 7 + MaxParams
	// BaudRate is the modules' default serial speed.
	BaudRate = 115200
)

// Frame types.
const (
	TypeCommand  = 0x00 // host to module
	TypeResponse = 0x01 // module's answer to a command
	TypeNotice   = 0x02 // module's unsolicited report (tag notices)
)

// Command codes.
const (
	CmdInfo       = 0x03 // get hardware/software version or manufacturer
	CmdSetRegion  = 0x07 // set the regulatory region
	CmdSinglePoll = 0x22 // one inventory round; also the code of tag notices
	CmdMultiPoll  = 0x27 // repeated inventory rounds
	CmdStopPoll   = 0x28 // stop a multi-poll
	CmdSetPower   = 0xB6 // set transmit power, dBm*100
	CmdGetPower   = 0xB7 // get transmit power, dBm*100
	CmdError      = 0xFF // error response; its parameter is the error code
)

// Info kinds, the parameter of CmdInfo.
const (
	InfoHardware     = 0x00
	InfoSoftware     = 0x01
	InfoManufacturer = 0x02
)

// Error codes carried by a CmdError response.
const (
	// ErrNoTag is "inventory failed": no tag answered.
	ErrNoTag = 0x15
	// ErrCommand is the module's answer to a command it does not know or
	// parameters it refuses.
	ErrCommand = 0x17
)

// Region codes, the parameter of CmdSetRegion.
const (
	RegionChina900 = 0x01 // China 920-925 MHz
	RegionUS       = 0x02 // US 902-928 MHz
	RegionEurope   = 0x03 // Europe 865-868 MHz
	RegionChina800 = 0x04 // China 840-845 MHz
	RegionKorea    = 0x06 // Korea 917-923 MHz
)

// Defaults.
const (
	// DefaultPollInterval is how often the session re-issues the multi-poll,
	// so that a module that was power-cycled resumes.
	DefaultPollInterval = time.Second
	// MultiPollCount is the number of inventory rounds each multi-poll asks
	// for.
	MultiPollCount = 0xFFFF
	// TickInterval is how often the emulator reports tags in a multi-poll.
	TickInterval = 20 * time.Millisecond
)

// Name is the protocol's registry name.
const Name = "magicrf"

func init() {
	rfid.Register(rfid.Protocol{
		Name:        Name,
		Description: "MagicRF M100-family UHF modules (YRM100, R200, JRD-4035)",
		DefaultBaud: BaudRate,
		NewSession:  func(o rfid.Options) (rfid.Session, error) { return driver.Session(NewSession(o)) },
		NewEmulator: func(tags [][]byte) (rfid.Emulator, error) { return driver.Emulator(NewEmulator(tags)) },
	})
}
