package magicrf

// frameCase is one raw frame, reused by the decode, encode and validation
// tests.
type frameCase struct {
	name string
	raw  []byte
	good bool
	// typ, cmd and params are what a good frame decodes to.
	typ, cmd byte
	params   []byte
	// encode builds the frame with the package's encoder; nil when none.
	encode func() []byte
}

// noticeEPC is the EPC of the tag notice worked in the M100 command manual.
var noticeEPC = []byte{0x30, 0x75, 0x1F, 0xEB, 0x70, 0x5C, 0x59, 0x04, 0xE3, 0xD5, 0x0D, 0x70}

var frames = []frameCase{
	{
		name: "single poll",
		raw: []byte{
			0xBB,       // header
			0x00,       // type: command
			0x22,       // cmd: single poll
			0x00, 0x00, // PL: 0
			0x22, // CS
			0x7E, // end
		},
		good: true, typ: TypeCommand, cmd: CmdSinglePoll,
		encode: SinglePoll,
	},
	{
		name: "multi poll 10000",
		raw: []byte{
			0xBB,       // header
			0x00,       // type: command
			0x27,       // cmd: multi-poll
			0x00, 0x03, // PL: 3
			0x22,       // reserved, always 22
			0x27, 0x10, // count: 10000
			0x83, // CS
			0x7E, // end
		},
		good: true, typ: TypeCommand, cmd: CmdMultiPoll, params: []byte{0x22, 0x27, 0x10},
		encode: func() []byte { return AppendMultiPoll(nil, 10000) },
	},
	{
		name: "stop multi poll",
		raw: []byte{
			0xBB,       // header
			0x00,       // type: command
			0x28,       // cmd: stop multi-poll
			0x00, 0x00, // PL: 0
			0x28, // CS
			0x7E, // end
		},
		good: true, typ: TypeCommand, cmd: CmdStopPoll,
		encode: StopMultiPoll,
	},
	{
		name: "stop response",
		raw: []byte{
			0xBB,       // header
			0x01,       // type: response
			0x28,       // cmd: stop multi-poll
			0x00, 0x01, // PL: 1
			0x00, // status: success
			0x2A, // CS
			0x7E, // end
		},
		good: true, typ: TypeResponse, cmd: CmdStopPoll, params: []byte{0x00},
		encode: func() []byte { return AppendResponse(nil, CmdStopPoll, []byte{0}) },
	},
	{
		name: "tag notice",
		raw: []byte{
			0xBB,       // header
			0x02,       // type: notice
			0x22,       // cmd: inventory
			0x00, 0x11, // PL: 17
			0xC9,       // RSSI: -55 dBm
			0x34, 0x00, // PC: 6 EPC words
			0x30, 0x75, 0x1F, 0xEB, 0x70, 0x5C, 0x59, 0x04, 0xE3, 0xD5, 0x0D, 0x70, // EPC
			0x3A, 0x76, // tag CRC-16
			0xEF, // CS
			0x7E, // end
		},
		good: true, typ: TypeNotice, cmd: CmdSinglePoll,
		params: []byte{0xC9, 0x34, 0x00, 0x30, 0x75, 0x1F, 0xEB, 0x70, 0x5C, 0x59, 0x04, 0xE3, 0xD5, 0x0D, 0x70, 0x3A, 0x76},
		encode: func() []byte { b, _ := AppendTagNotice(nil, -55, 0x3400, noticeEPC); return b },
	},
	{
		name: "tag notice with antenna byte",
		raw: []byte{
			0xBB,       // header
			0x02,       // type: notice
			0x22,       // cmd: inventory
			0x00, 0x12, // PL: 18, one more than the PC's EPC length asks
			0xC9,       // RSSI: -55 dBm
			0x34, 0x00, // PC: 6 EPC words
			0x30, 0x75, 0x1F, 0xEB, 0x70, 0x5C, 0x59, 0x04, 0xE3, 0xD5, 0x0D, 0x70, // EPC
			0x3A, 0x76, // tag CRC-16
			0x02, // antenna: port 2
			0xF2, // CS
			0x7E, // end
		},
		good: true, typ: TypeNotice, cmd: CmdSinglePoll,
		params: []byte{0xC9, 0x34, 0x00, 0x30, 0x75, 0x1F, 0xEB, 0x70, 0x5C, 0x59, 0x04, 0xE3, 0xD5, 0x0D, 0x70, 0x3A, 0x76, 0x02},
		encode: func() []byte { b, _ := AppendTagNoticeAntenna(nil, -55, 0x3400, noticeEPC, 2); return b },
	},
	{
		name: "tag notice with antenna byte, 2-word EPC",
		raw: []byte{
			0xBB,       // header
			0x02,       // type: notice
			0x22,       // cmd: inventory
			0x00, 0x0A, // PL: 10 = RSSI 1 + PC 2 + EPC 4 + CRC 2 + antenna 1
			0xBA,       // RSSI: -70 dBm
			0x10, 0x00, // PC: 2 EPC words
			0xDE, 0xAD, 0xBE, 0xEF, // EPC
			0x2F, 0x3C, // tag CRC-16
			0x01, // antenna: port 1
			0x9C, // CS
			0x7E, // end
		},
		good: true, typ: TypeNotice, cmd: CmdSinglePoll,
		params: []byte{0xBA, 0x10, 0x00, 0xDE, 0xAD, 0xBE, 0xEF, 0x2F, 0x3C, 0x01},
		encode: func() []byte {
			b, _ := AppendTagNoticeAntenna(nil, -70, 0, []byte{0xDE, 0xAD, 0xBE, 0xEF}, 1)
			return b
		},
	},
	{
		name: "no tag",
		raw: []byte{
			0xBB,       // header
			0x01,       // type: response
			0xFF,       // cmd: error
			0x00, 0x01, // PL: 1
			0x15, // error code: inventory failed, no tag
			0x16, // CS
			0x7E, // end
		},
		good: true, typ: TypeResponse, cmd: CmdError, params: []byte{ErrNoTag},
		encode: func() []byte { return AppendError(nil, ErrNoTag) },
	},
	{
		name: "set power 20 dBm",
		raw: []byte{
			0xBB,       // header
			0x00,       // type: command
			0xB6,       // cmd: set power
			0x00, 0x02, // PL: 2
			0x07, 0xD0, // power: 2000 = 20.00 dBm
			0x8F, // CS
			0x7E, // end
		},
		good: true, typ: TypeCommand, cmd: CmdSetPower, params: []byte{0x07, 0xD0},
		encode: func() []byte { return AppendSetPower(nil, 2000) },
	},
	{
		name: "get power",
		raw: []byte{
			0xBB,       // header
			0x00,       // type: command
			0xB7,       // cmd: get power
			0x00, 0x00, // PL: 0
			0xB7, // CS
			0x7E, // end
		},
		good: true, typ: TypeCommand, cmd: CmdGetPower,
		encode: GetPower,
	},
	{
		name: "get power response",
		raw: []byte{
			0xBB,       // header
			0x01,       // type: response
			0xB7,       // cmd: get power
			0x00, 0x02, // PL: 2
			0x0A, 0x28, // power: 2600 = 26.00 dBm
			0xEC, // CS
			0x7E, // end
		},
		good: true, typ: TypeResponse, cmd: CmdGetPower, params: []byte{0x0A, 0x28},
		encode: func() []byte { return AppendResponse(nil, CmdGetPower, []byte{0x0A, 0x28}) },
	},
	{
		name: "set region europe",
		raw: []byte{
			0xBB,       // header
			0x00,       // type: command
			0x07,       // cmd: set region
			0x00, 0x01, // PL: 1
			0x03, // region: Europe
			0x0B, // CS
			0x7E, // end
		},
		good: true, typ: TypeCommand, cmd: CmdSetRegion, params: []byte{RegionEurope},
		encode: func() []byte { return AppendSetRegion(nil, RegionEurope) },
	},
	{
		name: "get hardware info",
		raw: []byte{
			0xBB,       // header
			0x00,       // type: command
			0x03,       // cmd: module info
			0x00, 0x01, // PL: 1
			0x00, // kind: hardware version
			0x04, // CS
			0x7E, // end
		},
		good: true, typ: TypeCommand, cmd: CmdInfo, params: []byte{InfoHardware},
		encode: func() []byte { return AppendGetInfo(nil, InfoHardware) },
	},
	{
		name: "bad checksum",
		raw: []byte{
			0xBB,       // header
			0x02,       // type: notice
			0x22,       // cmd: inventory
			0x00, 0x11, // PL: 17
			0xC9,       // RSSI
			0x34, 0x00, // PC
			0x30, 0x75, 0x1F, 0xEB, 0x70, 0x5C, 0x59, 0x04, 0xE3, 0xD5, 0x0D, 0x70, // EPC
			0x3A, 0x76, // tag CRC-16
			0xEE, // CS, should be EF
			0x7E, // end
		},
	},
	{
		name: "missing end",
		raw: []byte{
			0xBB,       // header
			0x00,       // type: command
			0x28,       // cmd: stop
			0x00, 0x00, // PL: 0
			0x28, // CS
			0x7F, // not the end byte
		},
	},
	{
		name: "unknown type",
		raw: []byte{
			0xBB,       // header
			0x03,       // type: none such
			0x22,       // cmd
			0x00, 0x00, // PL: 0
			0x25, // CS (correct for the bytes)
			0x7E, // end
		},
	},
	{
		name: "length above maximum",
		raw: []byte{
			0xBB,       // header
			0x02,       // type: notice
			0x22,       // cmd
			0x01, 0x00, // PL: 256, above MaxParams
			0x25, // first parameter byte
			0x7E, // end
		},
	},
	{
		name: "truncated notice",
		raw: []byte{
			0xBB,       // header
			0x02,       // type: notice
			0x22,       // cmd: inventory
			0x00, 0x11, // PL: 17
			0xC9,       // RSSI
			0x34, 0x00, // PC, then the frame stops
		},
	},
}
