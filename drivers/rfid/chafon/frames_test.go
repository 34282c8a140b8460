package chafon

// frameCase is one raw frame, reused by the decode, encode and validation
// tests. Byte values follow the UHFReader18 User's Manual V2.0 layouts, and
// for the UHFReader288 dialect and active mode the UR-series (UHFReader288MP)
// User Manual v1.14; frames marked "capture" are reader answers published in
// wabson/chafon-rfid tests/test_uhfreader288.py and test_uhfreader18.py.
type frameCase struct {
	name     string
	raw      []byte
	command  bool     // host -> reader
	cmd      byte     // Cmd / reCmd
	payload  []byte   // bytes between Cmd and CRC; nil in a response: raw[3:len-2]
	reads    [][]byte // tags a session emits for this response
	ants     []int    // the antenna of each read; nil: 0 for all
	rssi     []int    // the RSSI in dBm of each read; nil: no RSSI
	errors   uint64   // error responses a session counts
	encode   func() []byte
	emulated bool // the emulator produces exactly this frame (see emulator tests)
}

func init() {
	for i := range frames {
		if fc := &frames[i]; fc.payload == nil && !fc.command {
			fc.payload = fc.raw[3 : len(fc.raw)-2]
		}
	}
}

// epc0313 and epc0314 are the EPCs of the captured frames.
var (
	epc0313 = []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03, 0x13}
	epc0314 = []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03, 0x14}
	epc4944 = []byte{0x49, 0x44, 0, 0, 0, 0, 0, 0, 0x0A, 0x00, 0x03, 0x34}
	tid12   = []byte{0xE2, 0x80, 0x11, 0x60, 0x20, 0x00, 0x74, 0xCF, 0x08, 0x5A, 0x0B, 0x1F}
)

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
	{
		name: "UHFReader288 inventory, more data, antenna 1, one tag (capture)",
		raw: []byte{
			0x15,       // Len: 21
			0x00,       // Adr
			0x01,       // reCmd: inventory
			0x03,       // Status: more data
			0x01,       // Ant: mask 0x01, port 1
			0x01,       // Num: 1 tag
			0x0C,       // EPC length: 12
			0x00, 0x00, // EPC
			0x00, 0x00, //
			0x00, 0x00, //
			0x00, 0x00, //
			0x00, 0x00, //
			0x03, 0x13, //
			0x6B,       // RSSI: 107 - 129 = -22 dBm
			0xB1, 0xA5, // CRC-16 LSB, MSB
		},
		cmd: CmdInventory, reads: [][]byte{epc0313}, ants: []int{1}, rssi: []int{-22},
		encode: func() []byte {
			return AppendInventoryResponse288(nil, 0, StatusMoreData, 0x01, []TagReport{{epc0313, 0x6B}})
		},
	},
	{
		name: "UHFReader288 inventory, antenna 3 (capture)",
		raw: []byte{
			0x15,       // Len: 21
			0x00,       // Adr
			0x01,       // reCmd: inventory
			0x03,       // Status: more data
			0x04,       // Ant: mask 0x04, port 3
			0x01,       // Num: 1 tag
			0x0C,       // EPC length: 12
			0x49, 0x44, // EPC
			0x00, 0x00, //
			0x00, 0x00, //
			0x00, 0x00, //
			0x0A, 0x00, //
			0x03, 0x34, //
			0x64,       // RSSI: 100 - 129 = -29 dBm
			0x25, 0xC0, // CRC-16 LSB, MSB
		},
		cmd: CmdInventory, reads: [][]byte{epc4944}, ants: []int{3}, rssi: []int{-29},
		encode: func() []byte {
			return AppendInventoryResponse288(nil, 0, StatusMoreData, 0x04, []TagReport{{epc4944, 0x64}})
		},
	},
	{
		name: "UHFReader288 inventory, two tags (capture)",
		raw: []byte{
			0x23,       // Len: 35
			0x00,       // Adr
			0x01,       // reCmd: inventory
			0x03,       // Status: more data
			0x01,       // Ant: port 1
			0x02,       // Num: 2 tags
			0x0C,       // EPC length: 12
			0x00, 0x00, // EPC 1
			0x00, 0x00, //
			0x00, 0x00, //
			0x00, 0x00, //
			0x00, 0x00, //
			0x03, 0x13, //
			0x6B,       // RSSI 1: -22 dBm
			0x0C,       // EPC length: 12
			0x00, 0x00, // EPC 2
			0x00, 0x00, //
			0x00, 0x00, //
			0x00, 0x00, //
			0x00, 0x00, //
			0x03, 0x14, //
			0x6C,       // RSSI 2: -21 dBm
			0x70, 0xF2, // CRC-16 LSB, MSB
		},
		cmd: CmdInventory, reads: [][]byte{epc0313, epc0314}, ants: []int{1, 1}, rssi: []int{-22, -21},
		encode: func() []byte {
			return AppendInventoryResponse288(nil, 0, StatusMoreData, 0x01, []TagReport{{epc0313, 0x6B}, {epc0314, 0x6C}})
		},
	},
	{
		name: "UHFReader18 inventory, the same two tags (capture)",
		raw: []byte{
			0x20,       // Len: 32
			0x00,       // Adr
			0x01,       // reCmd: inventory
			0x03,       // Status: more data
			0x02,       // Num: 2 tags
			0x0C,       // EPC length: 12
			0x00, 0x00, // EPC 1
			0x00, 0x00, //
			0x00, 0x00, //
			0x00, 0x00, //
			0x00, 0x00, //
			0x03, 0x13, //
			0x0C,       // EPC length: 12
			0x00, 0x00, // EPC 2
			0x00, 0x00, //
			0x00, 0x00, //
			0x00, 0x00, //
			0x00, 0x00, //
			0x03, 0x14, //
			0x9A, 0xC9, // CRC-16 LSB, MSB
		},
		cmd: CmdInventory, reads: [][]byte{epc0313, epc0314},
		encode: func() []byte {
			return AppendInventoryResponse(nil, 0, StatusMoreData, [][]byte{epc0313, epc0314})
		},
	},
	{
		name: "UHFReader288 inventory, 4-byte EPC (capture)",
		raw: []byte{
			0x0D,                   // Len: 13
			0x00,                   // Adr
			0x01,                   // reCmd: inventory
			0x03,                   // Status: more data
			0x01,                   // Ant: port 1
			0x01,                   // Num: 1 tag
			0x04,                   // EPC length: 4
			0x00, 0x32, 0x30, 0x38, // EPC
			0x6D,       // RSSI: -20 dBm
			0xA3, 0xD2, // CRC-16 LSB, MSB
		},
		cmd: CmdInventory, reads: [][]byte{{0x00, 0x32, 0x30, 0x38}}, ants: []int{1}, rssi: []int{-20},
		encode: func() []byte {
			return AppendInventoryResponse288(nil, 0, StatusMoreData, 0x01, []TagReport{{[]byte{0x00, 0x32, 0x30, 0x38}, 0x6D}})
		},
	},
	{
		name: "UHFReader288 inventory finished, no more tags (capture)",
		raw: []byte{
			0x07,       // Len: 7
			0x00,       // Adr
			0x01,       // reCmd: inventory
			0x01,       // Status: inventory finished
			0x01,       // Ant: port 1
			0x00,       // Num: 0 tags
			0x1E, 0x4B, // CRC-16 LSB, MSB
		},
		cmd:    CmdInventory,
		encode: func() []byte { return AppendInventoryResponse288(nil, 0, StatusInventoryDone, 0x01, nil) },
	},
	{
		name: "UHFReader288 inventory, three tags on antenna 2 (reconstructed)",
		raw: []byte{
			0x1F,                   // Len: 31
			0x00,                   // Adr
			0x01,                   // reCmd: inventory
			0x01,                   // Status: inventory finished
			0x02,                   // Ant: mask 0x02, port 2
			0x03,                   // Num: 3 tags
			0x04,                   // EPC length: 4
			0xDE, 0xAD, 0xBE, 0xEF, // EPC 1
			0x70,       // RSSI 1: 112 - 129 = -17 dBm
			0x0C,       // EPC length: 12
			0xE2, 0x00, // EPC 2
			0x00, 0x17, //
			0x22, 0x0B, //
			0x01, 0x23, //
			0x17, 0x50, //
			0x0A, 0x2F, //
			0x64,       // RSSI 2: -29 dBm
			0x02,       // EPC length: 2
			0x12, 0x34, // EPC 3
			0x41,       // RSSI 3: 65 - 129 = -64 dBm
			0x91, 0x3F, // CRC-16 LSB, MSB
		},
		cmd: CmdInventory, reads: [][]byte{{0xDE, 0xAD, 0xBE, 0xEF}, epc12, {0x12, 0x34}},
		ants: []int{2, 2, 2}, rssi: []int{-17, -29, -64},
		encode: func() []byte {
			return AppendInventoryResponse288(nil, 0, StatusInventoryDone, 0x02, []TagReport{
				{[]byte{0xDE, 0xAD, 0xBE, 0xEF}, 0x70}, {epc12, 0x64}, {[]byte{0x12, 0x34}, 0x41}})
		},
	},
	{
		name: "UHFReader18 inventory, the same three tags (reconstructed)",
		raw: []byte{
			0x1B,                   // Len: 27
			0x00,                   // Adr
			0x01,                   // reCmd: inventory
			0x01,                   // Status: inventory finished
			0x03,                   // Num: 3 tags
			0x04,                   // EPC length: 4
			0xDE, 0xAD, 0xBE, 0xEF, // EPC 1
			0x0C,       // EPC length: 12
			0xE2, 0x00, // EPC 2
			0x00, 0x17, //
			0x22, 0x0B, //
			0x01, 0x23, //
			0x17, 0x50, //
			0x0A, 0x2F, //
			0x02,       // EPC length: 2
			0x12, 0x34, // EPC 3
			0x5F, 0x16, // CRC-16 LSB, MSB
		},
		cmd: CmdInventory, reads: [][]byte{{0xDE, 0xAD, 0xBE, 0xEF}, epc12, {0x12, 0x34}},
		encode: func() []byte {
			return AppendInventoryResponse(nil, 0, StatusInventoryDone, [][]byte{{0xDE, 0xAD, 0xBE, 0xEF}, epc12, {0x12, 0x34}})
		},
	},
	{
		name: "UHFReader288 inventory, FastID block on antenna 4 (reconstructed)",
		raw: []byte{
			0x21,       // Len: 33
			0x00,       // Adr
			0x01,       // reCmd: inventory
			0x01,       // Status: inventory finished
			0x08,       // Ant: mask 0x08, port 4
			0x01,       // Num: 1 tag
			0x98,       // bit 7: EPC + TID; bits 6..0: 24 bytes
			0xE2, 0x00, // EPC
			0x00, 0x17, //
			0x22, 0x0B, //
			0x01, 0x23, //
			0x17, 0x50, //
			0x0A, 0x2F, //
			0xE2, 0x80, // TID
			0x11, 0x60, //
			0x20, 0x00, //
			0x74, 0xCF, //
			0x08, 0x5A, //
			0x0B, 0x1F, //
			0x5A,       // RSSI: 90 - 129 = -39 dBm
			0xAB, 0xD9, // CRC-16 LSB, MSB
		},
		cmd: CmdInventory, reads: [][]byte{epc12}, ants: []int{4}, rssi: []int{-39},
	},
	{
		name: "UHFReader288 antenna error",
		raw: []byte{
			0x05,       // Len
			0x00,       // Adr
			0x01,       // reCmd: inventory
			0xF8,       // Status: antenna error
			0x69, 0x0F, // CRC-16 LSB, MSB
		},
		cmd: CmdInventory, errors: 1,
		encode: func() []byte { return AppendResponse(nil, 0, CmdInventory, StatusAntennaError) },
	},
	{
		name: "UHFReader18 active-mode report (reconstructed)",
		raw: []byte{
			0x11,       // Len: 17
			0x00,       // Adr
			0xEE,       // reCmd: active-mode report
			0x00,       // Status: tag
			0xE2, 0x00, // EPC
			0x00, 0x17, //
			0x22, 0x0B, //
			0x01, 0x23, //
			0x17, 0x50, //
			0x0A, 0x2F, //
			0x9E, 0xB9, // CRC-16 LSB, MSB
		},
		cmd: CmdActive, reads: [][]byte{epc12},
		encode: func() []byte { return AppendActiveReport(nil, 0, epc12) },
	},
	{
		name: "UHFReader288 active-mode report, antenna 2 (reconstructed)",
		raw: []byte{
			0x14,       // Len: 20
			0x00,       // Adr
			0xEE,       // reCmd: active-mode report
			0x00,       // Status: tag
			0x02,       // Ant: port 2
			0x0C,       // EPC length: 12
			0xE2, 0x00, // EPC
			0x00, 0x17, //
			0x22, 0x0B, //
			0x01, 0x23, //
			0x17, 0x50, //
			0x0A, 0x2F, //
			0x5F,       // RSSI: 95 - 129 = -34 dBm
			0xE8, 0x46, // CRC-16 LSB, MSB
		},
		cmd: CmdActive, reads: [][]byte{epc12}, ants: []int{2}, rssi: []int{-34},
		encode: func() []byte { return AppendActiveReport288(nil, 0, 0x02, TagReport{epc12, 0x5F}) },
	},
	{
		name: "UHFReader288 active-mode heartbeat (reconstructed)",
		raw: []byte{
			0x15,                   // Len: 21
			0x00,                   // Adr
			0xEE,                   // reCmd: active-mode report
			0x28,                   // Status: heartbeat
			0x00, 0x00, 0x00, 0x07, // PacketNo: 7
			0x01, 0x00, 0x00, 0x00, // AntStatus: antenna 1 connected
			0x00, 0x00, 0x00, 0x00, //
			0x00, 0x00, 0x00, 0x00, // TotalCount: 0
			0x73, 0x60, // CRC-16 LSB, MSB
		},
		cmd:    CmdActive,
		encode: func() []byte { return AppendHeartbeat(nil, 0, 7, [8]byte{1}, 0) },
	},
}
