// Package chafon speaks the serial protocol of the Chafon CF-RU5102 /
// UHFReader18 family of UHF readers (also sold as UHFReader09, UHFReader288
// and ZK-RFID102), often called "the Chafon protocol".
//
// Serial settings: 57600 baud, 8 data bits, no parity, 1 stop bit (the
// family's factory default; UHFReader18 User's Manual V2.0 §2, ZK-RFID102
// User's Manual V2.0 §8.4.5).
//
// Frame layout (UHFReader18 User's Manual V2.0 §3):
//
//	host -> reader:  Len Adr Cmd    [Data...]        CRC-lo CRC-hi
//	reader -> host:  Len Adr reCmd  Status [Data...] CRC-lo CRC-hi
//
// Len counts the bytes after itself (Adr through the CRC), so a whole frame
// is Len+1 bytes and at most 256. Adr is the reader address 0x00..0xFE;
// 0xFF is the broadcast address every reader answers. The CRC is
// CRC-16/MCRF4XX (polynomial 0x8408 reflected, preset 0xFFFF, no final
// XOR) over Len through the last data byte, sent low byte first.
//
// The reader only answers commands: the session polls with Inventory (0x01)
// every PollInterval. An inventory that finds more tags than fit in one
// frame answers with status 0x03 ("more data") frames followed by a final
// frame with status 0x01, 0x02 or 0x04; every frame carries its own tag
// count and tags, and all of them are decoded.
//
// Two dialects share these frames (see Dialect): the UHFReader18 inventory
// Data is Num then EPC-length EPC per tag; the UHFReader288 one is Ant, Num,
// then EPC-length EPC RSSI per tag. The session tells them apart frame by
// frame from the lengths (InventoryDialect), so one protocol name serves
// both. A reader set to active mode pushes reCmd 0xEE reports, one tag each
// (ActiveDialect), which the session turns into reads as well.
package chafon

import (
	"time"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/drivers/rfid/internal/driver"
)

// Name is the protocol's registry name.
const Name = "chafon"

// DefaultBaud is the family's factory serial speed.
const DefaultBaud = 57600

// DefaultPollInterval is how often the session sends Inventory.
const DefaultPollInterval = 200 * time.Millisecond

// BroadcastAddr is the address every reader answers, whatever its own
// address (UHFReader18 User's Manual V2.0 §3.1). The session sends to it.
const BroadcastAddr = 0xFF

// MaxFrame is the longest frame: Len is one byte and counts the bytes after
// itself.
const MaxFrame = 256

// Minimum values of Len: a command has Adr, Cmd and the CRC; a response
// also has Status.
const (
	MinCommandLen  = 4
	MinResponseLen = 5
)

// Commands (UHFReader18 User's Manual V2.0 §4 and §8).
const (
	CmdInventory     = 0x01 // EPC C1G2 inventory (multiple tags)
	CmdGetReaderInfo = 0x21 // get reader information
	CmdSetRegion     = 0x22 // set region / working frequency
	CmdSetAddress    = 0x24 // set reader address
	CmdSetScanTime   = 0x25 // set inventory scan time
	CmdSetPower      = 0x2F // set RF output power
	// CmdActive is the reCmd of the reports a reader in active mode (also
	// "real time inventory mode") pushes without being asked.
	CmdActive = 0xEE
)

// Response status bytes (UHFReader18 User's Manual V2.0 §5 "list of
// command execution result status").
const (
	StatusOK               = 0x00 // command executed
	StatusInventoryDone    = 0x01 // inventory finished before the scan time
	StatusInventoryTimeout = 0x02 // scan time ran out before the inventory finished
	StatusMoreData         = 0x03 // the reply did not fit: more frames follow
	StatusMemoryFull       = 0x04 // reader memory full: partial inventory
	StatusHeartbeat        = 0x28 // active mode: no tag within the heartbeat interval (UHFReader288)
	StatusAntennaError     = 0xF8 // antenna error, possibly disconnected (UHFReader288)
	StatusCmdError         = 0xF9 // command execution error
	StatusPoorComms        = 0xFA // tags present but communication failed
	StatusNoTag            = 0xFB // no tag operable
	StatusTagError         = 0xFC // tag returned an error code
	StatusLengthError      = 0xFD // command length wrong
	StatusIllegalCommand   = 0xFE // unknown command
	StatusParamError       = 0xFF // parameter out of range
)

// HeartbeatLen is the Data length of an active-mode heartbeat (Status
// 0x28): PacketNo (4 bytes), AntStatus (8), TotalCount (4).
const HeartbeatLen = 16

// MaxPower is the highest power setting in dBm (ZK-RFID102 User's Manual
// V2.0 §8.4.6: "range is 0~30").
const MaxPower = 30

// MaxEPC is the longest EPC in bytes the reader reports (15 words in the
// UHFReader18 manual's EPC-length rules, 31 words in the Gen2 PC field;
// this package accepts up to 62 bytes).
const MaxEPC = 62

func init() {
	rfid.Register(rfid.Protocol{
		Name:        Name,
		Description: "Chafon CF-RU5102 / UHFReader18 / UHFReader09 / UHFReader288 UHF readers",
		DefaultBaud: DefaultBaud,
		// Every Inventory gets an answer, 0xFB when no tag is in the field.
		AnswersPolls: true,
		NewSession:   func(o rfid.Options) (rfid.Session, error) { return driver.Session(NewSession(o)) },
		NewEmulator:  func(tags [][]byte) (rfid.Emulator, error) { return driver.Emulator(NewEmulator(tags)) },
	})
}

// crcTable drives a byte-at-a-time CRC-16/MCRF4XX.
var crcTable = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ 0x8408
			} else {
				c >>= 1
			}
		}
		t[i] = c
	}
	return t
}()

// CRC returns the CRC-16/MCRF4XX of p (polynomial 0x8408 reflected, preset
// 0xFFFF, no final XOR), the checksum of every frame.
func CRC(p []byte) uint16 {
	c := uint16(0xFFFF)
	for _, b := range p {
		c = c>>8 ^ crcTable[byte(c)^b]
	}
	return c
}
