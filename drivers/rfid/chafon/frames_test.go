package chafon

// frameCase is one raw frame, reused by the decode, encode and validation
// tests. Byte values follow the UHFReader18 User's Manual V2.0 layouts.
type frameCase struct {
	name     string
	raw      []byte
	command  bool     // host -> reader
	cmd      byte     // Cmd / reCmd
	payload  []byte   // bytes between Cmd and CRC
	reads    [][]byte // tags a session emits for this response
	errors   uint64   // error responses a session counts
	encode   func() []byte
	emulated bool // the emulator produces exactly this frame (see emulator tests)
}

var epc12 = []byte{0xE2, 0x00, 0x00, 0x17, 0x22, 0x0B, 0x01, 0x23, 0x17, 0x50, 0x0A, 0x2F}

var frames = []frameCase{
	{
		name: "inventory command",
		raw: []byte{
			0x04,       // Len: Adr..CRC
			0xFF,       // Adr: broadcast
			0x01,       // Cmd: inventory
			0x1B, 0xB4, // CRC-16 LSB, MSB
		},
		command: true, cmd: CmdInventory,
		encode: func() []byte { return AppendInventory(nil, BroadcastAddr) },
	},
	{
		name: "get reader information command",
		raw: []byte{
			0x04,       // Len
			0xFF,       // Adr: broadcast
			0x21,       // Cmd: get reader information
			0x19, 0x95, // CRC-16 LSB, MSB
		},
		command: true, cmd: CmdGetReaderInfo,
		encode: func() []byte { return AppendGetReaderInfo(nil, BroadcastAddr) },
	},
	{
		name: "set power 30 dBm",
		raw: []byte{
			0x05,       // Len
			0xFF,       // Adr: broadcast
			0x2F,       // Cmd: set power
			0x1E,       // Pwr: 30 dBm
			0x81, 0xF2, // CRC-16 LSB, MSB
		},
		command: true, cmd: CmdSetPower, payload: []byte{0x1E},
		encode: func() []byte { return AppendSetPower(nil, BroadcastAddr, 30) },
	},
	{
		name: "set region US band, channels 0..49",
		raw: []byte{
			0x06,       // Len
			0xFF,       // Adr: broadcast
			0x22,       // Cmd: set region
			0x31,       // MaxFre: band bits 3..2 = 00, max channel 49
			0x80,       // MinFre: band bits 1..0 = 10 (US), min channel 0
			0x33, 0x53, // CRC-16 LSB, MSB
		},
		command: true, cmd: CmdSetRegion, payload: []byte{0x31, 0x80},
		encode: func() []byte {
			mx, mn, err := EncodeRegion(BandUS, 49, 0)
			if err != nil {
				panic(err)
			}
			return AppendSetRegion(nil, BroadcastAddr, mx, mn)
		},
	},
	{
		name: "set scan time 1 s",
		raw: []byte{
			0x05,       // Len
			0xFF,       // Adr: broadcast
			0x25,       // Cmd: set scan time
			0x0A,       // ScanTime: 10 x 100 ms
			0x54, 0x59, // CRC-16 LSB, MSB
		},
		command: true, cmd: CmdSetScanTime, payload: []byte{0x0A},
		encode: func() []byte { return AppendSetScanTime(nil, BroadcastAddr, 10) },
	},
	{
		name: "inventory response, one 96-bit EPC",
		raw: []byte{
			0x13,       // Len: 19
			0x00,       // Adr: reader 0
			0x01,       // reCmd: inventory
			0x01,       // Status: inventory finished
			0x01,       // Num: 1 tag
			0x0C,       // EPC length: 12 bytes
			0xE2, 0x00, // EPC
			0x00, 0x17, //
			0x22, 0x0B, //
			0x01, 0x23, //
			0x17, 0x50, //
			0x0A, 0x2F, //
			0x49, 0xE6, // CRC-16 LSB, MSB
		},
		cmd: CmdInventory, payload: append([]byte{0x01, 0x01, 0x0C}, epc12...),
		reads:  [][]byte{epc12},
		encode: func() []byte { return AppendInventoryResponse(nil, 0, StatusInventoryDone, [][]byte{epc12}) },
	},
	{
		name: "inventory response, more data follows, two tags",
		raw: []byte{
			0x10,                   // Len: 16
			0x00,                   // Adr
			0x01,                   // reCmd: inventory
			0x03,                   // Status: more data
			0x02,                   // Num: 2 tags
			0x04,                   // EPC length: 4
			0xDE, 0xAD, 0xBE, 0xEF, // EPC 1
			0x04,                   // EPC length: 4
			0x01, 0x02, 0x03, 0x04, // EPC 2
			0xE2, 0xB8, // CRC-16 LSB, MSB
		},
		cmd:     CmdInventory,
		payload: []byte{0x03, 0x02, 0x04, 0xDE, 0xAD, 0xBE, 0xEF, 0x04, 0x01, 0x02, 0x03, 0x04},
		reads:   [][]byte{{0xDE, 0xAD, 0xBE, 0xEF}, {0x01, 0x02, 0x03, 0x04}},
		encode: func() []byte {
			return AppendInventoryResponse(nil, 0, StatusMoreData, [][]byte{{0xDE, 0xAD, 0xBE, 0xEF}, {1, 2, 3, 4}})
		},
	},
	{
		name: "inventory response, no tag",
		raw: []byte{
			0x05,       // Len
			0x00,       // Adr
			0x01,       // reCmd: inventory
			0xFB,       // Status: no tag operable
			0xF2, 0x3D, // CRC-16 LSB, MSB
		},
		cmd: CmdInventory, payload: []byte{0xFB}, errors: 1,
		encode: func() []byte { return AppendResponse(nil, 0, CmdInventory, StatusNoTag) },
	},
	{
		name: "reader information response",
		raw: []byte{
			0x0D,       // Len: 13
			0x00,       // Adr
			0x21,       // reCmd: get reader information
			0x00,       // Status: OK
			0x02, 0x00, // Version 2.0
			0x08,       // Type
			0x03,       // Tr_Type: 18000-6C and 6B
			0x31,       // DMaxFre: band bits 00, channel 49
			0x80,       // DMinFre: band bits 10 (US), channel 0
			0x1E,       // Power: 30 dBm
			0x0A,       // Scntm: 10 x 100 ms
			0xF9, 0x5E, // CRC-16 LSB, MSB
		},
		cmd:     CmdGetReaderInfo,
		payload: []byte{0x00, 0x02, 0x00, 0x08, 0x03, 0x31, 0x80, 0x1E, 0x0A},
		encode: func() []byte {
			return AppendReaderInfoResponse(nil, 0, ReaderInfo{Version: [2]byte{2, 0}, Type: 8, Protocols: 3,
				MaxFre: 0x31, MinFre: 0x80, Power: 30, ScanTime: 10})
		},
	},
	{
		name: "set power response OK",
		raw: []byte{
			0x05,       // Len
			0x00,       // Adr
			0x2F,       // reCmd: set power
			0x00,       // Status: OK
			0x8D, 0xCD, // CRC-16 LSB, MSB
		},
		cmd: CmdSetPower, payload: []byte{0x00},
		encode: func() []byte { return AppendResponse(nil, 0, CmdSetPower, StatusOK) },
	},
}
