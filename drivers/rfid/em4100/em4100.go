// Package em4100 speaks the ASCII protocol of 125 kHz EM4100 readers such as
// the RDM6300 and its many clones.
//
// Serial settings: 9600 baud, 8 data bits, no parity, 1 stop bit.
//
// The reader is unsolicited: while a card is in the field it sends the same
// 14-byte frame about every 50 ms and ignores anything the host writes.
//
//	0x02                 STX, start of frame
//	10 ASCII hex digits  2 digits of version (customer ID), 8 digits of card ID
//	2 ASCII hex digits   checksum: XOR of the 5 data bytes
//	0x03                 ETX, end of frame
//
// Example: 02 '1' '0' '0' '0' '8' '6' 'F' '4' '4' '4' '2' '6' 03 is version
// 0x10, card 0x0086F444, checksum 0x10^0x00^0x86^0xF4^0x44 = 0x26.
// Some clones put CR and/or LF between frames; the decoder ignores them.
//
// Sources: RDM6300 125KHz card reader mini-module data sheet (frame layout,
// 9600 8N1); Hobby Components forum thread on the RDM6300 (HCRFID0006), which
// works the XOR checksum through a captured frame and gives the 50 ms repeat.
package em4100

import (
	"fmt"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/drivers/rfid/internal/driver"
)

// Frame constants.
const (
	// STX starts a frame.
	STX = 0x02
	// ETX ends a frame.
	ETX = 0x03
	// TagLen is the number of data bytes: 1 version byte and 4 card-ID bytes.
	TagLen = 5
	// FrameLen is the length of a frame on the wire: STX, 10 hex digits of
	// data, 2 hex digits of checksum, ETX.
	FrameLen = 1 + 2*TagLen + 2 + 1
	// BaudRate is the serial speed of RDM6300-family readers.
	BaudRate = 9600
	// RepeatInterval is how often a reader repeats the frame of a card that
	// stays in the field.
	RepeatInterval = 50 * time.Millisecond
)

// Name is the protocol's registry name.
const Name = "em4100"

func init() {
	rfid.Register(rfid.Protocol{
		Name:        Name,
		Description: "EM4100 125 kHz ASCII readers (RDM6300 and clones)",
		DefaultBaud: BaudRate,
		NewSession:  func(o rfid.Options) (rfid.Session, error) { return driver.Session(NewSession(o)) },
		NewEmulator: func(tags [][]byte) (rfid.Emulator, error) { return driver.Emulator(NewEmulator(tags)) },
	})
}

// checkTag reports whether tag is a valid EM4100 identifier.
func checkTag(tag []byte) error {
	if len(tag) != TagLen {
		return fmt.Errorf("tag % X is %d bytes, want %d (version + 32-bit card ID)", tag, len(tag), TagLen)
	}
	return nil
}
