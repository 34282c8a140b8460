package chafon

import "github.com/ngic/ngic/drivers/rfid"

// Dialect is one of the two inventory layouts the family speaks. Both use
// the same frames (Len Adr reCmd Status Data CRC); only the Data of an
// inventory response (reCmd 0x01) and of an active-mode report (reCmd 0xEE)
// differ.
type Dialect int

// The dialects.
const (
	// Dialect18 is the UHFReader18 / CF-RU5102 layout: an inventory answers
	// Num then EPC-length and EPC per tag; an active-mode report carries the
	// EPC alone.
	Dialect18 Dialect = iota
	// Dialect288 is the UHFReader288 layout: an inventory answers Ant, Num,
	// then EPC-length, EPC and RSSI per tag; an active-mode report carries
	// Ant, EPC-length, EPC and RSSI.
	Dialect288
)

// String returns "18" or "288".
func (d Dialect) String() string {
	if d == Dialect288 {
		return "288"
	}
	return "18"
}

// FastIDFlag is bit 7 of a UHFReader288 EPC-length byte: the block holds the
// EPC followed by TIDLen bytes of TID (Impinj FastID); bits 6..0 are the
// length of both.
const FastIDFlag = 0x80

// TIDLen is the length of the TID a FastID block appends to the EPC.
const TIDLen = 12

// AntennaPort turns a UHFReader288 antenna byte, a mask with one bit per
// port (0x01 port 1, 0x02 port 2, 0x04 port 3, ... 0x80 port 8), into the
// 1-based port. It returns 0 unless exactly one bit is set.
func AntennaPort(mask byte) int {
	if mask == 0 || mask&(mask-1) != 0 {
		return 0
	}
	n := 1
	for mask > 1 {
		mask >>= 1
		n++
	}
	return n
}

// AntennaMask is the inverse of AntennaPort for ports 1..8; other ports give
// 0.
func AntennaMask(port int) byte {
	if port < 1 || port > 8 {
		return 0
	}
	return 1 << (port - 1)
}

// RSSIOffset converts a UHFReader288 RSSI byte to dBm: dBm = byte - 129.
// The UHFReader288 manual gives no unit; this is the mapping of the
// Impinj-R2000-based readers whose RSSI bytes have the same range (the
// captured 0x64..0x6D are -29..-20 dBm for tags beside the antenna). See the
// README: unverified.
const RSSIOffset = 129

// RSSIdBm returns the RSSI in dBm of a UHFReader288 RSSI byte.
func RSSIdBm(b byte) int { return int(b) - RSSIOffset }

// epcLenOK tells whether n is a plausible EPC length in bytes: whole 16-bit
// words, 1..31 of them (EPC Gen2 PC bits 15..11).
func epcLenOK(n int) bool { return n >= 2 && n <= MaxEPC && n%2 == 0 }

// check18 checks that data is Num tags of EPC-length + EPC exactly. words
// tells whether every EPC is whole words, as every EPC is; a frame with an
// odd length is still accepted as UHFReader18 when no other layout fits.
func check18(data []byte) (ok, words bool) {
	if len(data) == 0 {
		return false, false
	}
	words = true
	i := 1
	for range int(data[0]) {
		if i >= len(data) {
			return false, false
		}
		l := int(data[i])
		if l == 0 || l > MaxEPC || i+1+l > len(data) {
			return false, false
		}
		words = words && l%2 == 0
		i += 1 + l
	}
	return i == len(data), words
}

// block288 returns the length of the EPC (or EPC+TID) block whose length
// byte is b, and how many of its bytes are the EPC, or ok=false.
func block288(b byte) (n, epc int, ok bool) {
	n = int(b &^ FastIDFlag)
	epc = n
	if b&FastIDFlag != 0 {
		epc = n - TIDLen
	}
	return n, epc, n%2 == 0 && epcLenOK(epc)
}

// check288 checks that data is Ant (one bit set), Num, then Num tags of
// EPC-length + EPC + RSSI exactly, every EPC of whole words.
func check288(data []byte) bool {
	if len(data) < 2 || AntennaPort(data[0]) == 0 {
		return false
	}
	i := 2
	for range int(data[1]) {
		if i >= len(data) {
			return false
		}
		n, _, ok := block288(data[i])
		if !ok || i+1+n+1 > len(data) {
			return false
		}
		i += 1 + n + 1
	}
	return i == len(data)
}

// InventoryDialect tells which layout the Data of an inventory response
// (after Status) has, by its lengths alone.
//
// A UHFReader18 reading whose EPCs are all whole words wins; then a
// UHFReader288 reading (one antenna bit, whole-word EPCs); then a
// UHFReader18 reading with an odd EPC length. No frame of either layout
// with whole-word EPCs can be read as the other: a UHFReader288 Data has an
// even length (Ant, Num, and per tag two bytes beside an even EPC), a
// UHFReader18 Data with Num tags has the parity of 1+Num, so only an odd
// Num could collide, and Ant would then be 0x01 with Num288 = the first
// EPC-length, too many tags for the bytes left (see the README).
func InventoryDialect(data []byte) (Dialect, bool) {
	ok18, words := check18(data)
	if ok18 && words {
		return Dialect18, true
	}
	if check288(data) {
		return Dialect288, true
	}
	return Dialect18, ok18
}

// eachInventoryRead calls fn for every tag of an inventory Data already
// checked to have dialect d. Tags alias data.
func eachInventoryRead(d Dialect, data []byte, fn func(rfid.Read)) {
	if d == Dialect18 {
		i := 1
		for range int(data[0]) {
			l := int(data[i])
			fn(rfid.Read{Tag: data[i+1 : i+1+l]})
			i += 1 + l
		}
		return
	}
	ant := AntennaPort(data[0])
	i := 2
	for range int(data[1]) {
		n, epc, _ := block288(data[i])
		fn(rfid.Read{Tag: data[i+1 : i+1+epc], Antenna: ant, RSSI: RSSIdBm(data[i+1+n]), HasRSSI: true})
		i += 1 + n + 1
	}
}

// ActiveDialect tells which layout the Data of an active-mode tag report
// (reCmd 0xEE, Status 0x00) has: UHFReader288 Ant EPC-length EPC RSSI, an
// odd length; UHFReader18 the EPC alone, an even length. The two never
// overlap.
func ActiveDialect(data []byte) (Dialect, bool) {
	switch {
	case len(data)%2 == 0:
		return Dialect18, epcLenOK(len(data))
	case len(data) >= 3 && AntennaPort(data[0]) != 0 && int(data[1]) == len(data)-3:
		return Dialect288, epcLenOK(len(data) - 3)
	}
	return Dialect18, false
}

// activeRead returns the read of an active-mode report Data already checked
// to have dialect d. The tag aliases data.
func activeRead(d Dialect, data []byte) rfid.Read {
	if d == Dialect18 {
		return rfid.Read{Tag: data}
	}
	n := len(data)
	return rfid.Read{Tag: data[2 : n-1], Antenna: AntennaPort(data[0]), RSSI: RSSIdBm(data[n-1]), HasRSSI: true}
}
