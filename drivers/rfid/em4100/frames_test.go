package em4100

// frameCase is one raw frame as a reader sends it, reused by the decode,
// encode and validation tests.
type frameCase struct {
	name string
	raw  []byte
	// tag is the card the frame carries; nil when the frame must be rejected.
	tag []byte
	// canonical is true when AppendFrame(tag) gives raw exactly (upper-case).
	canonical bool
}

// frames is the table of raw frames. The first is the frame worked through
// in the Hobby Components RDM6300 forum thread.
var frames = []frameCase{
	{
		name: "rdm6300 example",
		raw: []byte{
			0x02,     // STX
			'1', '0', // version 0x10
			'0', '0', '8', '6', 'F', '4', '4', '4', // card ID 0x0086F444
			'2', '6', // checksum 0x10^0x00^0x86^0xF4^0x44 = 0x26
			0x03, // ETX
		},
		tag:       []byte{0x10, 0x00, 0x86, 0xF4, 0x44},
		canonical: true,
	},
	{
		name: "lower-case hex",
		raw: []byte{
			0x02,     // STX
			'0', 'a', // version 0x0A
			'b', 'c', 'd', 'e', 'f', '0', '1', '2', // card ID 0xBCDEF012
			'8', 'a', // checksum 0x0A^0xBC^0xDE^0xF0^0x12 = 0x8A
			0x03, // ETX
		},
		tag: []byte{0x0A, 0xBC, 0xDE, 0xF0, 0x12},
	},
	{
		name: "all zero",
		raw: []byte{
			0x02,     // STX
			'0', '0', // version 0x00
			'0', '0', '0', '0', '0', '0', '0', '0', // card ID 0x00000000
			'0', '0', // checksum 0x00
			0x03, // ETX
		},
		tag:       []byte{0, 0, 0, 0, 0},
		canonical: true,
	},
	{
		name: "all ones",
		raw: []byte{
			0x02,     // STX
			'F', 'F', // version 0xFF
			'F', 'F', 'F', 'F', 'F', 'F', 'F', 'F', // card ID 0xFFFFFFFF
			'F', 'F', // checksum: five 0xFF XOR to 0xFF
			0x03, // ETX
		},
		tag:       []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF},
		canonical: true,
	},
	{
		name: "bad checksum",
		raw: []byte{
			0x02,     // STX
			'1', '0', // version 0x10
			'0', '0', '8', '6', 'F', '4', '4', '4', // card ID 0x0086F444
			'2', '7', // checksum 0x27, should be 0x26
			0x03, // ETX
		},
	},
	{
		name: "non-hex digit",
		raw: []byte{
			0x02,     // STX
			'1', '0', // version 0x10
			'0', '0', '8', '6', 'G', '4', '4', '4', // card ID with 'G'
			'2', '6', // checksum
			0x03, // ETX
		},
	},
	{
		name: "missing ETX",
		raw: []byte{
			0x02,     // STX
			'1', '0', // version 0x10
			'0', '0', '8', '6', 'F', '4', '4', '4', // card ID 0x0086F444
			'2', '6', // checksum 0x26
			0x04, // not ETX
		},
	},
	{
		name: "truncated",
		raw: []byte{
			0x02,     // STX
			'1', '0', // version 0x10
			'0', '0', '8', // card ID cut short
			0x03, // ETX too early
		},
	},
}
