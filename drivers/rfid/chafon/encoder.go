package chafon

import "fmt"

// AppendCommand appends the host command frame Len Adr Cmd Data CRC to dst.
// Data longer than a frame can hold is truncated to fit.
func AppendCommand(dst []byte, addr, cmd byte, data ...byte) []byte {
	if len(data) > MaxFrame-MinCommandLen-1 {
		data = data[:MaxFrame-MinCommandLen-1]
	}
	start := len(dst)
	dst = append(dst, byte(len(data)+MinCommandLen), addr, cmd)
	dst = append(dst, data...)
	c := CRC(dst[start:])
	return append(dst, byte(c), byte(c>>8))
}

// AppendResponse appends the reader response frame Len Adr reCmd Status
// Data CRC to dst. Data longer than a frame can hold is truncated to fit.
func AppendResponse(dst []byte, addr, cmd, status byte, data ...byte) []byte {
	if len(data) > MaxFrame-MinResponseLen-1 {
		data = data[:MaxFrame-MinResponseLen-1]
	}
	start := len(dst)
	dst = append(dst, byte(len(data)+MinResponseLen), addr, cmd, status)
	dst = append(dst, data...)
	c := CRC(dst[start:])
	return append(dst, byte(c), byte(c>>8))
}

// AppendInventory appends the Inventory command (0x01) without parameters:
// inventory EPCs for the reader's scan time.
func AppendInventory(dst []byte, addr byte) []byte {
	return AppendCommand(dst, addr, CmdInventory)
}

// AppendGetReaderInfo appends the Get Reader Information command (0x21).
func AppendGetReaderInfo(dst []byte, addr byte) []byte {
	return AppendCommand(dst, addr, CmdGetReaderInfo)
}

// AppendSetPower appends the Set Power command (0x2F); dbm is 0..30.
func AppendSetPower(dst []byte, addr, dbm byte) []byte {
	return AppendCommand(dst, addr, CmdSetPower, dbm)
}

// AppendSetRegion appends the Set Region command (0x22) with the raw MaxFre
// and MinFre bytes (see EncodeRegion).
func AppendSetRegion(dst []byte, addr, maxFre, minFre byte) []byte {
	return AppendCommand(dst, addr, CmdSetRegion, maxFre, minFre)
}

// AppendSetScanTime appends the Set Scan Time command (0x25); scanTime is
// in units of 100 ms, 3..255 (ZK-RFID102 User's Manual V2.0 §8.4.4).
func AppendSetScanTime(dst []byte, addr, scanTime byte) []byte {
	return AppendCommand(dst, addr, CmdSetScanTime, scanTime)
}

// AppendInventoryResponse appends one inventory response frame carrying
// tags: Status, Num, then EPC-length and EPC for every tag. The caller keeps
// the frame within MaxFrame (see InventoryFits).
func AppendInventoryResponse(dst []byte, addr, status byte, tags [][]byte) []byte {
	start := len(dst)
	dst = append(dst, 0, addr, CmdInventory, status, byte(len(tags)))
	for _, t := range tags {
		dst = append(dst, byte(len(t)))
		dst = append(dst, t...)
	}
	dst[start] = byte(len(dst) - start + 2 - 1)
	c := CRC(dst[start:])
	return append(dst, byte(c), byte(c>>8))
}

// InventoryFits reports whether an inventory response whose tags need
// epcBytes bytes in total (EPC-length bytes included) fits in one frame.
func InventoryFits(epcBytes int) bool {
	return MinResponseLen+1+epcBytes+1 <= MaxFrame
}

// TagReport is one tag as a UHFReader288 reports it: the EPC and the raw
// RSSI byte (see RSSIdBm).
type TagReport struct {
	// EPC is the tag's EPC, whole 16-bit words.
	EPC []byte
	// RSSI is the raw RSSI byte.
	RSSI byte
}

// AppendInventoryResponse288 appends one UHFReader288 inventory response
// frame: Status, Ant (the antenna mask, see AntennaMask), Num, then
// EPC-length, EPC and RSSI for every tag. The caller keeps the frame within
// MaxFrame (see InventoryFits288).
func AppendInventoryResponse288(dst []byte, addr, status, ant byte, tags []TagReport) []byte {
	start := len(dst)
	dst = append(dst, 0, addr, CmdInventory, status, ant, byte(len(tags)))
	for _, t := range tags {
		dst = append(dst, byte(len(t.EPC)))
		dst = append(dst, t.EPC...)
		dst = append(dst, t.RSSI)
	}
	dst[start] = byte(len(dst) - start + 2 - 1)
	c := CRC(dst[start:])
	return append(dst, byte(c), byte(c>>8))
}

// InventoryFits288 reports whether a UHFReader288 inventory response whose
// tags need tagBytes bytes in total (EPC-length and RSSI bytes included)
// fits in one frame.
func InventoryFits288(tagBytes int) bool {
	return MinResponseLen+2+tagBytes+1 <= MaxFrame
}

// AppendActiveReport appends the report a UHFReader18 in active mode pushes
// for one tag: reCmd 0xEE, Status 0x00, the EPC.
func AppendActiveReport(dst []byte, addr byte, epc []byte) []byte {
	return AppendResponse(dst, addr, CmdActive, StatusOK, epc...)
}

// AppendActiveReport288 appends the report a UHFReader288 in active mode
// pushes for one tag: reCmd 0xEE, Status 0x00, Ant (mask), EPC-length, EPC,
// RSSI.
func AppendActiveReport288(dst []byte, addr, ant byte, t TagReport) []byte {
	start := len(dst)
	dst = append(dst, 0, addr, CmdActive, StatusOK, ant, byte(len(t.EPC)))
	dst = append(dst, t.EPC...)
	dst = append(dst, t.RSSI)
	dst[start] = byte(len(dst) - start + 2 - 1)
	c := CRC(dst[start:])
	return append(dst, byte(c), byte(c>>8))
}

// AppendHeartbeat appends the heartbeat a UHFReader288 in active mode sends
// when no tag was seen for its heartbeat interval: reCmd 0xEE, Status 0x28,
// PacketNo (big-endian), AntStatus, TotalCount (big-endian).
func AppendHeartbeat(dst []byte, addr byte, packetNo uint32, antStatus [8]byte, total uint32) []byte {
	var data [HeartbeatLen]byte
	data[0], data[1], data[2], data[3] = byte(packetNo>>24), byte(packetNo>>16), byte(packetNo>>8), byte(packetNo)
	copy(data[4:12], antStatus[:])
	data[12], data[13], data[14], data[15] = byte(total>>24), byte(total>>16), byte(total>>8), byte(total)
	return AppendResponse(dst, addr, CmdActive, StatusHeartbeat, data[:]...)
}

// ReaderInfo is the data of the Get Reader Information response
// (ZK-RFID102 User's Manual V2.0 §8.4.1).
type ReaderInfo struct {
	// Version is the firmware version: major, minor.
	Version [2]byte
	// Type is the reader model code.
	Type byte
	// Protocols has bit 1 set for ISO 18000-6C and bit 0 for 18000-6B.
	Protocols byte
	// MaxFre and MinFre are the region bytes as in Set Region.
	MaxFre, MinFre byte
	// Power is the output power in dBm.
	Power byte
	// ScanTime is the inventory scan time in units of 100 ms.
	ScanTime byte
}

// AppendReaderInfoResponse appends the Get Reader Information response.
func AppendReaderInfoResponse(dst []byte, addr byte, ri ReaderInfo) []byte {
	return AppendResponse(dst, addr, CmdGetReaderInfo, StatusOK,
		ri.Version[0], ri.Version[1], ri.Type, ri.Protocols, ri.MaxFre, ri.MinFre, ri.Power, ri.ScanTime)
}

// ParseReaderInfo decodes the data of a Get Reader Information response
// (the payload after Status).
func ParseReaderInfo(data []byte) (ReaderInfo, error) {
	if len(data) != 8 {
		return ReaderInfo{}, fmt.Errorf("chafon: reader information is %d bytes, want 8", len(data))
	}
	return ReaderInfo{
		Version: [2]byte{data[0], data[1]}, Type: data[2], Protocols: data[3],
		MaxFre: data[4], MinFre: data[5], Power: data[6], ScanTime: data[7],
	}, nil
}

// Frequency bands of Set Region: the band number's two high bits go in
// MaxFre bits 7..6 and its two low bits in MinFre bits 7..6; bits 5..0 of
// each hold the highest and lowest channel (UHFReader18 User's Manual V2.0
// §8.4.2; EU band as in the UHFReader288 manual).
const (
	BandUser    = 0 // 902.6 + N*0.4 MHz, N 0..62
	BandChinese = 1 // Chinese band 2: 920.125 + N*0.25 MHz, N 0..19
	BandUS      = 2 // 902.75 + N*0.5 MHz, N 0..49
	BandKorean  = 3 // 917.1 + N*0.2 MHz, N 0..31
	BandEU      = 4 // 865.1 + N*0.2 MHz, N 0..14
)

// bandChannels is the highest channel number of each band.
var bandChannels = [...]byte{BandUser: 62, BandChinese: 19, BandUS: 49, BandKorean: 31, BandEU: 14}

// EncodeRegion returns the MaxFre and MinFre bytes for band with channels
// minN..maxN. It fails on an unknown band or a channel outside it.
func EncodeRegion(band, maxN, minN byte) (maxFre, minFre byte, err error) {
	if int(band) >= len(bandChannels) {
		return 0, 0, fmt.Errorf("chafon: band %d unknown (0..%d)", band, len(bandChannels)-1)
	}
	if minN > maxN || maxN > bandChannels[band] {
		return 0, 0, fmt.Errorf("chafon: channels %d..%d outside band %d (0..%d)", minN, maxN, band, bandChannels[band])
	}
	return band>>2<<6 | maxN, band&3<<6 | minN, nil
}

// DecodeRegion splits the MaxFre and MinFre bytes into band and channels.
func DecodeRegion(maxFre, minFre byte) (band, maxN, minN byte) {
	return maxFre>>6<<2 | minFre>>6, maxFre & 0x3F, minFre & 0x3F
}

// RegionBand maps an rfid.Options region name to its band, using every
// channel of the band.
func RegionBand(name string) (band byte, err error) {
	switch name {
	case "cn":
		return BandChinese, nil
	case "us":
		return BandUS, nil
	case "kr":
		return BandKorean, nil
	case "eu":
		return BandEU, nil
	}
	return 0, fmt.Errorf("chafon: region %q not supported (cn, eu, kr, us)", name)
}
