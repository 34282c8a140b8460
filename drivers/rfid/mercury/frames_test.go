package mercury

// frameCase is one raw frame, reused by the decode, encode and validation
// tests.
type frameCase struct {
	name    string
	raw     []byte
	command bool   // host -> module
	op      byte   // opcode
	status  uint16 // response status word
	data    []byte // bytes between opcode (or status) and CRC
	reads   []readWant
	errors  uint64
	reply   []byte // what Session.Feed returns for this response
	encode  func() []byte
}

type readWant struct {
	epc     []byte
	pc      uint16
	rssi    int
	hasRSSI bool
	antenna int
}

// sparkfunEPC is the EPC of the continuous-reading capture in the SparkFun
// library's parseResponse comment (its frame CRC 56 1D and tag CRC E9 4A
// both check, which pins the CRC algorithm and the record layout).
var sparkfunEPC = []byte{0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x15, 0x45}

var bufEPC = []byte{0xAD, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05}

var frames = []frameCase{
	{
		name: "get version",
		raw: []byte{
			0xFF,       // header
			0x00,       // Len: no data
			0x03,       // opcode: get version
			0x1D, 0x0C, // CRC hi, lo (as every Mercury host library sends it)
		},
		command: true, op: OpVersion,
		encode: func() []byte { return AppendGetVersion(nil) },
	},
	{
		name: "set tag protocol Gen2",
		raw: []byte{
			0xFF,       // header
			0x02,       // Len
			0x93,       // opcode: set current tag protocol
			0x00, 0x05, // protocol: Gen2
			0x51, 0x7D, // CRC
		},
		command: true, op: OpSetTagProtocol, data: []byte{0x00, 0x05},
		encode: func() []byte { return AppendSetTagProtocol(nil, ProtocolGen2) },
	},
	{
		name: "set antenna port 1/1",
		raw: []byte{
			0xFF,       // header
			0x02,       // Len
			0x91,       // opcode: set antenna port
			0x01,       // TX port
			0x01,       // RX port
			0x70, 0x3B, // CRC
		},
		command: true, op: OpSetAntennaPort, data: []byte{0x01, 0x01},
		encode: func() []byte { return AppendSetAntennaPort(nil, 1, 1) },
	},
	{
		name: "set region EU3",
		raw: []byte{
			0xFF,       // header
			0x01,       // Len
			0x97,       // opcode: set region
			0x08,       // region: EU3
			0x4B, 0xB5, // CRC
		},
		command: true, op: OpSetRegion, data: []byte{0x08},
		encode: func() []byte { return AppendSetRegion(nil, RegionEU3) },
	},
	{
		name: "get region",
		raw: []byte{
			0xFF,       // header
			0x00,       // Len
			0x67,       // opcode: get region
			0x1D, 0x68, // CRC
		},
		command: true, op: OpGetRegion,
		encode: func() []byte { return AppendGetRegion(nil) },
	},
	{
		name: "set read power 27.00 dBm",
		raw: []byte{
			0xFF,       // header
			0x02,       // Len
			0x92,       // opcode: set read TX power
			0x0A, 0x8C, // 2700 centi-dBm
			0x4B, 0xD5, // CRC
		},
		command: true, op: OpSetReadTxPower, data: []byte{0x0A, 0x8C},
		encode: func() []byte { return AppendSetReadPower(nil, 2700) },
	},
	{
		name: "read tag ID multiple, 1000 ms",
		raw: []byte{
			0xFF,       // header
			0x05,       // Len
			0x22,       // opcode: read tag ID multiple
			0x00,       // option: no metadata
			0x00, 0x00, // search flags
			0x03, 0xE8, // timeout 1000 ms
			0x0B, 0x57, // CRC
		},
		command: true, op: OpReadTagMultiple, data: []byte{0x00, 0x00, 0x00, 0x03, 0xE8},
		encode: func() []byte { return AppendReadTagMultiple(nil, 1000) },
	},
	{
		name: "get tag buffer, RSSI and antenna",
		raw: []byte{
			0xFF,       // header
			0x03,       // Len
			0x29,       // opcode: get tag ID buffer
			0x00, 0x06, // metadata flags: RSSI, antenna
			0x00,       // read options
			0xF2, 0x22, // CRC
		},
		command: true, op: OpGetTagBuffer, data: []byte{0x00, 0x06, 0x00},
		encode: func() []byte { return AppendGetTagBuffer(nil, MetaRSSI|MetaAntenna) },
	},
	{
		name: "clear tag buffer",
		raw: []byte{
			0xFF,       // header
			0x00,       // Len
			0x2A,       // opcode: clear tag ID buffer
			0x1D, 0x25, // CRC
		},
		command: true, op: OpClearTagBuffer,
		encode: func() []byte { return AppendClearTagBuffer(nil) },
	},
	{
		name: "start continuous reading (SparkFun startReading)",
		raw: []byte{
			0xFF,       // header
			0x10,       // Len: 16
			0x2F,       // opcode: multi-protocol tag operation
			0x00, 0x00, // timeout: none
			0x01,       // option: continuous reading
			0x22,       // sub-opcode: read tag ID multiple
			0x00, 0x00, // search flags
			0x05,       // protocol: Gen2
			0x07,       // embedded command length after its opcode
			0x22,       // embedded opcode: read tag ID multiple
			0x10,       // option: metadata
			0x00, 0x1B, // search flags: antenna list, streaming, large population
			0x03, 0xE8, // search round 1000 ms
			0x01, 0xFF, // metadata flags: read count .. GPIO
			0xDD, 0x2B, // CRC
		},
		command: true, op: OpMultiProtocol,
		data:   []byte{0x00, 0x00, 0x01, 0x22, 0x00, 0x00, 0x05, 0x07, 0x22, 0x10, 0x00, 0x1B, 0x03, 0xE8, 0x01, 0xFF},
		encode: func() []byte { return AppendStartReading(nil, DefaultMetadata) },
	},
	{
		name: "stop continuous reading",
		raw: []byte{
			0xFF,       // header
			0x03,       // Len
			0x2F,       // opcode: multi-protocol tag operation
			0x00, 0x00, // timeout
			0x02,       // option: stop
			0x5E, 0x86, // CRC
		},
		command: true, op: OpMultiProtocol, data: []byte{0x00, 0x00, 0x02},
		encode: func() []byte { return AppendStopReading(nil) },
	},
	{
		name: "streamed tag record (SparkFun capture)",
		raw: []byte{
			0xFF,       // header
			0x28,       // Len: 40
			0x22,       // opcode: read tag ID multiple
			0x00, 0x00, // status: OK
			0x10,       // option: metadata
			0x00, 0x1B, // search flags
			0x01, 0xFF, // metadata flags
			0x01,             // response type: tag record, stream continues
			0x01,             // read count
			0xC4,             // RSSI: -60 dBm
			0x11,             // antenna: TX 1, RX 1
			0x0E, 0x16, 0x40, // frequency: 923200 kHz
			0x00, 0x00, 0x01, 0x27, // timestamp: 295 ms
			0x00, 0x00, // phase
			0x05,       // protocol: Gen2
			0x00, 0x00, // embedded data: 0 bits
			0x0F,       // GPIO
			0x00, 0x80, // PC+EPC+CRC: 128 bits
			0x30, 0x00, // PC: 6 words
			0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // EPC
			0x00, 0x00, 0x00, 0x00, 0x15, 0x45, //
			0xE9, 0x4A, // tag CRC
			0x56, 0x1D, // CRC
		},
		op: OpReadTagMultiple,
		data: append([]byte{0x10, 0x00, 0x1B, 0x01, 0xFF, 0x01, 0x01, 0xC4, 0x11, 0x0E, 0x16, 0x40, 0x00, 0x00, 0x01, 0x27,
			0x00, 0x00, 0x05, 0x00, 0x00, 0x0F, 0x00, 0x80, 0x30, 0x00}, append(append([]byte(nil), sparkfunEPC...), 0xE9, 0x4A)...),
		reads: []readWant{{epc: sparkfunEPC, pc: 0x3000, rssi: -60, hasRSSI: true, antenna: 1}},
		encode: func() []byte {
			return AppendStreamedTag(nil, DefaultMetadata, TagRecord{ReadCount: 1, RSSI: -60, Antenna: 0x11,
				Frequency: 0x0E1640, Timestamp: 0x127, GPIO: 0x0F, PC: 0x3000, EPC: sparkfunEPC, TagCRC: 0xE94A})
		},
	},
	{
		name: "keep-alive: no tags found",
		raw: []byte{
			0xFF,       // header
			0x00,       // Len
			0x22,       // opcode: read tag ID multiple
			0x04, 0x00, // status: no tags found
			0x84, 0xE0, // CRC
		},
		op: OpReadTagMultiple, status: StatusNoTagsFound,
		encode: func() []byte { return AppendKeepAlive(nil) },
	},
	{
		name: "get region response EU3",
		raw: []byte{
			0xFF,       // header
			0x01,       // Len
			0x67,       // opcode: get region
			0x00, 0x00, // status: OK
			0x08,       // region: EU3
			0xB4, 0x89, // CRC
		},
		op: OpGetRegion, data: []byte{0x08},
		encode: func() []byte { return AppendResponse(nil, OpGetRegion, StatusOK, RegionEU3) },
	},
	{
		name: "set power error: too high",
		raw: []byte{
			0xFF,       // header
			0x00,       // Len
			0x92,       // opcode: set read TX power
			0x01, 0x03, // status: power too high
			0x26, 0x38, // CRC
		},
		op: OpSetReadTxPower, status: StatusPowerTooHigh, errors: 1,
		encode: func() []byte { return AppendResponse(nil, OpSetReadTxPower, StatusPowerTooHigh) },
	},
	{
		name: "read tag ID multiple response: 2 tags buffered",
		raw: []byte{
			0xFF,       // header
			0x04,       // Len
			0x22,       // opcode: read tag ID multiple
			0x00, 0x00, // status: OK
			0x00,       // option
			0x00, 0x00, // search flags
			0x02,       // tag count
			0x7B, 0xAA, // CRC
		},
		op: OpReadTagMultiple, data: []byte{0x00, 0x00, 0x00, 0x02},
		reply:  AppendGetTagBuffer(nil, DefaultMetadata),
		encode: func() []byte { return AppendResponse(nil, OpReadTagMultiple, StatusOK, 0, 0, 0, 2) },
	},
	{
		name: "get tag buffer response, one record",
		raw: []byte{
			0xFF,       // header
			0x14,       // Len: 20
			0x29,       // opcode: get tag ID buffer
			0x00, 0x00, // status: OK
			0x00, 0x06, // metadata flags: RSSI, antenna
			0x00,       // read options
			0x01,       // record count
			0xC8,       // RSSI: -56 dBm
			0x21,       // antenna: TX 2, RX 1
			0x00, 0x60, // PC+EPC+CRC: 96 bits
			0x20, 0x00, // PC: 4 words
			0xAD, 0x00, 0x00, 0x01, // EPC
			0x02, 0x03, 0x04, 0x05, //
			0x75, 0x4E, // tag CRC
			0x21, 0xCE, // CRC
		},
		op:    OpGetTagBuffer,
		data:  []byte{0x00, 0x06, 0x00, 0x01, 0xC8, 0x21, 0x00, 0x60, 0x20, 0x00, 0xAD, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x75, 0x4E},
		reads: []readWant{{epc: bufEPC, pc: 0x2000, rssi: -56, hasRSSI: true, antenna: 2}},
		encode: func() []byte {
			return AppendTagBuffer(nil, MetaRSSI|MetaAntenna, []TagRecord{{RSSI: -56, Antenna: 0x21, PC: 0x2000, EPC: bufEPC, TagCRC: 0x754E}})
		},
	},
}
