// Package mercury speaks the ThingMagic Mercury embedded-module serial
// protocol of the M6e, M6e Micro, M6e Nano and M7e UHF modules (the
// SparkFun Simultaneous RFID Tag Reader among them).
//
// Serial settings: 115200 baud, 8N1 (the modules' default).
//
// Frame layout (ThingMagic Mercury API, serial_reader_l3.c; SparkFun
// Simultaneous RFID Tag Reader library, SparkFun_UHF_RFID_Reader.cpp):
//
//	host -> reader:  FF Len Opcode [Data...]                       CRC-hi CRC-lo
//	reader -> host:  FF Len Opcode Status-hi Status-lo [Data...]   CRC-hi CRC-lo
//
// Len counts the Data bytes only (not the status word), so a command is
// Len+5 bytes and a response Len+7. The CRC covers Len through the last data
// byte and is sent high byte first. It is ThingMagic's "mutated" CRC-16:
// polynomial 0x1021 and register preset 0xFFFF like CRC-16/CCITT, but the
// message is shifted into the register a nibble at a time without
// augmentation, so its values differ from CRC-16/CCITT-FALSE (get version is
// FF 00 03 1D 0C; see CRC). A non-zero status word is an error, except 0x0400
// "no tags found", which is the normal empty answer and the continuous-mode
// keep-alive.
//
// Opening: set tag protocol Gen2 and antenna port 1/1 (as the SparkFun
// library's setup does), region and read power when asked, then start.
//
// Reading mode: continuous reading, as the SparkFun library's startReading
// does: a multi-protocol search (opcode 0x2F, option 0x01 "continuous")
// wrapping Read Tag ID Multiple (0x22) with the metadata option. The module
// then streams one 0x22 response per tag (option, search flags, metadata
// flags, response type 0x01, tag record) until stopped, and keep-alives
// (status 0x0400, no data) while no tag is in the field. The session sends
// the start command on open and again every PollInterval, so that a module
// that was power-cycled resumes; the emulator accepts it idempotently. Read
// Tag ID Multiple with Get Tag Buffer (0x29) answers are decoded as well,
// and Feed answers a Read Tag ID Multiple that found tags with Get Tag
// Buffer.
package mercury

import (
	"time"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/drivers/rfid/internal/driver"
)

// Name is the protocol's registry name.
const Name = "mercury"

// DefaultBaud is the modules' default serial speed.
const DefaultBaud = 115200

// DefaultPollInterval is how often the session re-sends the start of
// continuous reading.
const DefaultPollInterval = 2 * time.Second

// Header starts every frame.
const Header = 0xFF

// MaxData is the most data bytes a frame carries (Len is one byte).
const MaxData = 255

// Frame overheads: header, Len, opcode and CRC; responses add the status
// word.
const (
	CommandOverhead  = 5
	ResponseOverhead = 7
	MaxFrame         = MaxData + ResponseOverhead
)

// Opcodes (Mercury API serial_reader_imp.h).
const (
	OpVersion          = 0x03 // get version
	OpReadTagMultiple  = 0x22 // read tag ID multiple
	OpGetTagBuffer     = 0x29 // get tag ID buffer
	OpClearTagBuffer   = 0x2A // clear tag ID buffer
	OpMultiProtocol    = 0x2F // multi-protocol tag operation (continuous reading)
	OpGetRegion        = 0x67 // get current region
	OpSetAntennaPort   = 0x91 // set TX and RX antenna ports
	OpSetReadTxPower   = 0x92 // set read TX power, centi-dBm
	OpSetRegion        = 0x97 // set current region
	OpSetTagProtocol   = 0x93 // set current tag protocol
	OpGetReadTxPower   = 0x62 // get read TX power
	ProtocolGen2       = 0x05 // tag protocol ID of EPC Gen2 / ISO 18000-6C
	OptionContinuous   = 0x01 // multi-protocol option: start continuous reading
	OptionStop         = 0x02 // multi-protocol option: stop continuous reading
	OptionMetadata     = 0x10 // read tag multiple option: tag records carry metadata
	ResponseTypeTag    = 0x01 // streamed 0x22 response: a tag record follows
	ResponseTypeStatus = 0x02 // streamed 0x22 response: status report
)

// Status words (Mercury API tmr_status.h).
const (
	StatusOK              = 0x0000
	StatusWrongDataLength = 0x0100 // wrong number of data bytes
	StatusInvalidOpcode   = 0x0101 // opcode not recognised
	StatusPowerTooHigh    = 0x0103 // power above the module's limit
	StatusInvalidParam    = 0x0105 // parameter value invalid
	StatusNoTagsFound     = 0x0400 // no tags found: normal empty answer and keep-alive
	StatusTempThrottle    = 0x0504 // temperature throttling
)

// Metadata flags of tag records, in the order their fields appear (Mercury
// API TMR_TRD_MetadataFlag and TMR_SR_parseMetadataFromMessage).
const (
	MetaReadCount = 0x0001 // 1 byte
	MetaRSSI      = 0x0002 // 1 byte, signed dBm
	MetaAntenna   = 0x0004 // 1 byte: TX port in bits 7..4, RX port in 3..0
	MetaFrequency = 0x0008 // 3 bytes, kHz
	MetaTimestamp = 0x0010 // 4 bytes, ms
	MetaPhase     = 0x0020 // 2 bytes, degrees
	MetaProtocol  = 0x0040 // 1 byte, tag protocol ID
	MetaData      = 0x0080 // 2 bytes of bit count, then the data
	MetaGPIO      = 0x0100 // 1 byte
	MetaKnown     = 0x01FF // every flag this package can parse
)

// DefaultMetadata is what the session asks for: every field up to GPIO, the
// set in the SparkFun library's startReading (captured from ThingMagic's
// Universal Reader Assistant), so RSSI and antenna are included.
const DefaultMetadata = MetaKnown

// MaxPower is the highest read power accepted, in dBm (M6e: 31.5 dBm; the
// Nano and M7e answer StatusPowerTooHigh above their own limit).
const MaxPower = 31.5

// Region codes for Set Region (Mercury API TMR_Region; the SparkFun library
// uses EU3, KR2 and NA2 on the M6e Nano).
const (
	RegionNA   = 0x01
	RegionEU   = 0x02
	RegionKR   = 0x03
	RegionIN   = 0x04
	RegionJP   = 0x05
	RegionPRC  = 0x06
	RegionEU3  = 0x08
	RegionKR2  = 0x09
	RegionAU   = 0x0B
	RegionNZ   = 0x0C
	RegionNA2  = 0x0D
	RegionOpen = 0xFF
)

// Regions maps rfid.Options region names to region codes.
var Regions = map[string]byte{
	"us": RegionNA2, "na": RegionNA2, "eu": RegionEU3, "kr": RegionKR2,
	"in": RegionIN, "jp": RegionJP, "cn": RegionPRC, "au": RegionAU,
	"nz": RegionNZ, "open": RegionOpen,
}

func init() {
	rfid.Register(rfid.Protocol{
		Name:        Name,
		Description: "ThingMagic Mercury serial protocol (M6e, M6e Nano, M7e)",
		DefaultBaud: DefaultBaud,
		NewSession:  func(o rfid.Options) (rfid.Session, error) { return driver.Session(NewSession(o)) },
		NewEmulator: func(tags [][]byte) (rfid.Emulator, error) { return driver.Emulator(NewEmulator(tags)) },
	})
}

// crcTable is ThingMagic's nibble table for polynomial 0x1021.
var crcTable = func() (t [16]uint16) {
	for i := range t {
		c := uint16(i) << 12
		for range 4 {
			if c&0x8000 != 0 {
				c = c<<1 ^ 0x1021
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

// CRC returns the frame checksum of p (Len through the last data byte):
// ThingMagic's CRC-16 with polynomial 0x1021, preset 0xFFFF, the message
// shifted in a nibble at a time without augmentation.
func CRC(p []byte) uint16 {
	c := uint16(0xFFFF)
	for _, b := range p {
		c = (c<<4 | uint16(b>>4)) ^ crcTable[c>>12]
		c = (c<<4 | uint16(b&0x0F)) ^ crcTable[c>>12]
	}
	return c
}
