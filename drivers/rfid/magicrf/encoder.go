package magicrf

import (
	"fmt"
	"math"
)

// AppendFrame appends a frame of the given type and command carrying params,
// computing the checksum. params longer than MaxParams give a frame the
// decoder rejects; the encoders below never build one.
func AppendFrame(dst []byte, typ, cmd byte, params []byte) []byte {
	pl := len(params)
	dst = append(dst, Header, typ, cmd, byte(pl>>8), byte(pl))
	dst = append(dst, params...)
	sum := typ + cmd + byte(pl>>8) + byte(pl)
	for _, b := range params {
		sum += b
	}
	return append(dst, sum, End)
}

// SinglePoll returns the single inventory command BB 00 22 00 00 22 7E.
func SinglePoll() []byte { return AppendFrame(nil, TypeCommand, CmdSinglePoll, nil) }

// AppendMultiPoll appends the multi-poll command asking for count inventory
// rounds: BB 00 27 00 03 22 count_hi count_lo CS 7E.
func AppendMultiPoll(dst []byte, count uint16) []byte {
	return AppendFrame(dst, TypeCommand, CmdMultiPoll, []byte{0x22, byte(count >> 8), byte(count)})
}

// StopMultiPoll returns the command that stops a multi-poll,
// BB 00 28 00 00 28 7E.
func StopMultiPoll() []byte { return AppendFrame(nil, TypeCommand, CmdStopPoll, nil) }

// AppendGetInfo appends the command asking for module information of the
// given kind (InfoHardware, InfoSoftware, InfoManufacturer).
func AppendGetInfo(dst []byte, kind byte) []byte {
	return AppendFrame(dst, TypeCommand, CmdInfo, []byte{kind})
}

// AppendSetPower appends the command setting the transmit power, given in
// hundredths of a dBm (2000 = 20 dBm).
func AppendSetPower(dst []byte, centiDBm uint16) []byte {
	return AppendFrame(dst, TypeCommand, CmdSetPower, []byte{byte(centiDBm >> 8), byte(centiDBm)})
}

// GetPower returns the command asking for the transmit power,
// BB 00 B7 00 00 B7 7E.
func GetPower() []byte { return AppendFrame(nil, TypeCommand, CmdGetPower, nil) }

// AppendSetRegion appends the command setting the region (RegionEurope, ...).
func AppendSetRegion(dst []byte, region byte) []byte {
	return AppendFrame(dst, TypeCommand, CmdSetRegion, []byte{region})
}

// AppendResponse appends a response (type 01) to cmd carrying params.
func AppendResponse(dst []byte, cmd byte, params []byte) []byte {
	return AppendFrame(dst, TypeResponse, cmd, params)
}

// AppendError appends the error response carrying code; with ErrNoTag it is
// the "no tag" answer BB 01 FF 00 01 15 16 7E.
func AppendError(dst []byte, code byte) []byte {
	return AppendFrame(dst, TypeResponse, CmdError, []byte{code})
}

// AppendTagNotice appends the notice a module sends for one tag found by an
// inventory: RSSI, PC, EPC and the tag's CRC-16. pc is the PC word; when
// it is zero, the PC is built from the EPC length (whose byte count must
// then be even). The CRC is computed over PC and EPC as the tag does.
func AppendTagNotice(dst []byte, rssi int8, pc uint16, epc []byte) ([]byte, error) {
	return appendTagNotice(dst, rssi, pc, epc, 0, false)
}

// AppendTagNoticeAntenna appends a tag notice as AppendTagNotice does, with
// the antenna byte some modules add after the tag's CRC-16.
func AppendTagNoticeAntenna(dst []byte, rssi int8, pc uint16, epc []byte, antenna byte) ([]byte, error) {
	return appendTagNotice(dst, rssi, pc, epc, antenna, true)
}

func appendTagNotice(dst []byte, rssi int8, pc uint16, epc []byte, antenna byte, withAntenna bool) ([]byte, error) {
	if len(epc)%2 != 0 || len(epc) > 62 {
		return dst, fmt.Errorf("magicrf: tag notice: EPC of %d bytes is not 0..31 whole words", len(epc))
	}
	if pc == 0 {
		pc = uint16(len(epc)/2) << 11
	}
	if int(pc>>11)*2 != len(epc) {
		return dst, fmt.Errorf("magicrf: tag notice: PC %04X says %d EPC words, EPC has %d bytes", pc, pc>>11, len(epc))
	}
	var p [MaxParams]byte
	p[0] = byte(rssi)
	p[1], p[2] = byte(pc>>8), byte(pc)
	n := 3 + copy(p[3:], epc)
	crc := TagCRC(p[1:n])
	p[n], p[n+1] = byte(crc>>8), byte(crc)
	n += 2
	if withAntenna {
		p[n] = antenna
		n++
	}
	return AppendFrame(dst, TypeNotice, CmdSinglePoll, p[:n]), nil
}

// TagCRC returns the EPC Gen2 CRC-16 of data (CRC-16/CCITT, init FFFF,
// complemented), which a tag stores after its PC and EPC.
func TagCRC(data []byte) uint16 {
	crc := uint16(0xFFFF)
	for _, b := range data {
		crc ^= uint16(b) << 8
		for i := 0; i < 8; i++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return ^crc
}

// RegionCode maps a region name of rfid.Options to the module's code:
// "cn" (or "cn900"), "cn800", "us", "eu", "kr".
func RegionCode(name string) (byte, error) {
	switch name {
	case "cn", "cn900":
		return RegionChina900, nil
	case "cn800":
		return RegionChina800, nil
	case "us":
		return RegionUS, nil
	case "eu":
		return RegionEurope, nil
	case "kr":
		return RegionKorea, nil
	}
	return 0, fmt.Errorf("magicrf: region %q not supported by M100 modules (cn, cn900, cn800, us, eu, kr)", name)
}

// MaxPower is the highest transmit power, in dBm, accepted for a module of
// the family.
const MaxPower = 33

// PowerCentiDBm converts a power in dBm to the module's unit.
func PowerCentiDBm(dBm float64) (uint16, error) {
	if math.IsNaN(dBm) || dBm <= 0 || dBm > MaxPower {
		return 0, fmt.Errorf("magicrf: power %v dBm out of range: must be above 0 and at most %d dBm", dBm, MaxPower)
	}
	return uint16(math.Round(dBm * 100)), nil
}
