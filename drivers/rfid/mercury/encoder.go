package mercury

// AppendCommand appends the command frame FF Len Opcode Data CRC to dst.
// Data longer than MaxData is truncated.
func AppendCommand(dst []byte, opcode byte, data ...byte) []byte {
	if len(data) > MaxData {
		data = data[:MaxData]
	}
	start := len(dst)
	dst = append(dst, Header, byte(len(data)), opcode)
	dst = append(dst, data...)
	c := CRC(dst[start+1:])
	return append(dst, byte(c>>8), byte(c))
}

// AppendResponse appends the response frame FF Len Opcode Status Data CRC
// to dst. Data longer than MaxData is truncated.
func AppendResponse(dst []byte, opcode byte, status uint16, data ...byte) []byte {
	if len(data) > MaxData {
		data = data[:MaxData]
	}
	start := len(dst)
	dst = append(dst, Header, byte(len(data)), opcode, byte(status>>8), byte(status))
	dst = append(dst, data...)
	c := CRC(dst[start+1:])
	return append(dst, byte(c>>8), byte(c))
}

// AppendGetVersion appends Get Version (0x03).
func AppendGetVersion(dst []byte) []byte { return AppendCommand(dst, OpVersion) }

// AppendSetTagProtocol appends Set Current Tag Protocol (0x93), e.g.
// ProtocolGen2.
func AppendSetTagProtocol(dst []byte, protocol byte) []byte {
	return AppendCommand(dst, OpSetTagProtocol, 0x00, protocol)
}

// AppendSetAntennaPort appends Set Antenna Port (0x91) with the TX and RX
// ports (1, 1 on single-port modules such as the Nano).
func AppendSetAntennaPort(dst []byte, tx, rx byte) []byte {
	return AppendCommand(dst, OpSetAntennaPort, tx, rx)
}

// AppendSetRegion appends Set Region (0x97) with a region code.
func AppendSetRegion(dst []byte, region byte) []byte {
	return AppendCommand(dst, OpSetRegion, region)
}

// AppendGetRegion appends Get Region (0x67).
func AppendGetRegion(dst []byte) []byte { return AppendCommand(dst, OpGetRegion) }

// AppendSetReadPower appends Set Read TX Power (0x92) in centi-dBm
// (2700 = 27.00 dBm).
func AppendSetReadPower(dst []byte, centiDBm uint16) []byte {
	return AppendCommand(dst, OpSetReadTxPower, byte(centiDBm>>8), byte(centiDBm))
}

// AppendReadTagMultiple appends Read Tag ID Multiple (0x22) without
// metadata: search the configured antennas for timeoutMs and keep the tags
// in the module's buffer. The response carries the tag count.
func AppendReadTagMultiple(dst []byte, timeoutMs uint16) []byte {
	return AppendCommand(dst, OpReadTagMultiple,
		0x00,       // option: no metadata in this response
		0x00, 0x00, // search flags
		byte(timeoutMs>>8), byte(timeoutMs))
}

// AppendGetTagBuffer appends Get Tag ID Buffer (0x29) asking for the
// records with the given metadata flags.
func AppendGetTagBuffer(dst []byte, metadata uint16) []byte {
	return AppendCommand(dst, OpGetTagBuffer, byte(metadata>>8), byte(metadata), 0x00)
}

// AppendClearTagBuffer appends Clear Tag ID Buffer (0x2A).
func AppendClearTagBuffer(dst []byte) []byte { return AppendCommand(dst, OpClearTagBuffer) }

// Continuous-reading search parameters, as in the SparkFun library's
// startReading: search flags 0x001B (configured antenna list, tag
// streaming, large tag population) and 1000 ms per search round.
const (
	streamSearchFlags = 0x001B
	streamRoundMs     = 1000
)

// AppendStartReading appends the multi-protocol search (0x2F) that starts
// continuous Gen2 reading with tag records carrying the metadata flags.
// With DefaultMetadata it is byte for byte the SparkFun library's
// startReading command.
func AppendStartReading(dst []byte, metadata uint16) []byte {
	return AppendCommand(dst, OpMultiProtocol,
		0x00, 0x00, // timeout: none, read until stopped
		OptionContinuous,  // option: continuous reading
		OpReadTagMultiple, // sub-opcode
		0x00, 0x00,        // search flags
		ProtocolGen2, // protocol
		0x07,         // length of the embedded command after its opcode
		OpReadTagMultiple,
		OptionMetadata,
		byte(streamSearchFlags>>8), byte(streamSearchFlags),
		byte(streamRoundMs>>8), byte(streamRoundMs&0xFF),
		byte(metadata>>8), byte(metadata))
}

// AppendStopReading appends the multi-protocol command that stops
// continuous reading.
func AppendStopReading(dst []byte) []byte {
	return AppendCommand(dst, OpMultiProtocol, 0x00, 0x00, OptionStop)
}

// AppendTagRecord appends one tag record with the metadata fields flags
// selects (MetaData is written as zero bits of data) and the Gen2 PC, EPC
// and tag CRC.
func AppendTagRecord(dst []byte, flags uint16, rec TagRecord) []byte {
	if flags&MetaReadCount != 0 {
		dst = append(dst, rec.ReadCount)
	}
	if flags&MetaRSSI != 0 {
		dst = append(dst, byte(rec.RSSI))
	}
	if flags&MetaAntenna != 0 {
		dst = append(dst, rec.Antenna)
	}
	if flags&MetaFrequency != 0 {
		dst = append(dst, byte(rec.Frequency>>16), byte(rec.Frequency>>8), byte(rec.Frequency))
	}
	if flags&MetaTimestamp != 0 {
		dst = append(dst, byte(rec.Timestamp>>24), byte(rec.Timestamp>>16), byte(rec.Timestamp>>8), byte(rec.Timestamp))
	}
	if flags&MetaPhase != 0 {
		dst = append(dst, byte(rec.Phase>>8), byte(rec.Phase))
	}
	if flags&MetaProtocol != 0 {
		dst = append(dst, ProtocolGen2)
	}
	if flags&MetaData != 0 {
		dst = append(dst, 0, 0)
	}
	if flags&MetaGPIO != 0 {
		dst = append(dst, rec.GPIO)
	}
	bits := (2 + len(rec.EPC) + 2) * 8
	dst = append(dst, byte(bits>>8), byte(bits), byte(rec.PC>>8), byte(rec.PC))
	dst = append(dst, rec.EPC...)
	return append(dst, byte(rec.TagCRC>>8), byte(rec.TagCRC))
}

// AppendStreamedTag appends the streamed 0x22 response continuous reading
// sends for one tag: option, search flags, metadata flags, response type
// 0x01 and the record.
func AppendStreamedTag(dst []byte, flags uint16, rec TagRecord) []byte {
	var data [MaxData]byte
	d := append(data[:0], OptionMetadata, byte(streamSearchFlags>>8), byte(streamSearchFlags),
		byte(flags>>8), byte(flags), ResponseTypeTag)
	d = AppendTagRecord(d, flags, rec)
	return AppendResponse(dst, OpReadTagMultiple, StatusOK, d...)
}

// AppendKeepAlive appends the keep-alive a module streams while no tag is
// in the field: a 0x22 response with status 0x0400 and no data.
func AppendKeepAlive(dst []byte) []byte {
	return AppendResponse(dst, OpReadTagMultiple, StatusNoTagsFound)
}

// AppendTagBuffer appends the Get Tag ID Buffer response: metadata flags,
// read options, record count and the records.
func AppendTagBuffer(dst []byte, flags uint16, recs []TagRecord) []byte {
	var data [MaxData]byte
	d := append(data[:0], byte(flags>>8), byte(flags), 0x00, byte(len(recs)))
	for _, r := range recs {
		d = AppendTagRecord(d, flags, r)
	}
	return AppendResponse(dst, OpGetTagBuffer, StatusOK, d...)
}

// Gen2CRC returns the EPC Gen2 CRC-16 a tag sends over its PC and EPC
// (polynomial 0x1021, preset 0xFFFF, result inverted).
func Gen2CRC(p []byte) uint16 {
	c := uint16(0xFFFF)
	for _, b := range p {
		c ^= uint16(b) << 8
		for range 8 {
			if c&0x8000 != 0 {
				c = c<<1 ^ 0x1021
			} else {
				c <<= 1
			}
		}
	}
	return ^c
}
