package commission

import (
	"errors"
	"testing"
)

// frames are MQTT byte streams and whether a limit of 200 bytes passes
// them.
var frames = []struct {
	name string
	b    []byte
	ok   bool
}{
	{"CONNACK", []byte{
		0x20, 3, // CONNACK, remaining length 3
		0, 0, 0, // flags, reason code, no properties
	}, true},
	{"PINGRESP then SUBACK", []byte{
		0xD0, 0, // PINGRESP, remaining length 0
		0x90, 3, // SUBACK, remaining length 3
		0, 1, 0x80, // packet ID 1, refused
	}, true},
	{"a body of 200 in two length bytes", append([]byte{
		0x30, 0xC8, 0x01, // PUBLISH, remaining length 200 (0x48 + 1<<7)
	}, make([]byte, 200)...), true},
	{"a body of 201", []byte{
		0x30, 0xC9, 0x01, // PUBLISH, remaining length 201
	}, false},
	{"a length of 256 MiB", []byte{
		0x20, 0xFF, 0xFF, 0xFF, 0x7F, // CONNACK, remaining length 268435455
	}, false},
	{"a length in five bytes", []byte{
		0x20, 0x80, 0x80, 0x80, 0x80, 0x00, // CONNACK, a length that never ends
	}, false},
}

// TestFrameLimit: each stream is passed or refused as a whole and split
// at every byte.
func TestFrameLimit(t *testing.T) {
	for _, tc := range frames {
		for split := range len(tc.b) + 1 {
			f := frameLimit{max: 200}
			err := f.scan(tc.b[:split])
			if err == nil {
				err = f.scan(tc.b[split:])
			}
			if (err == nil) != tc.ok || err != nil && !errors.Is(err, errTooLong) {
				t.Errorf("%s split at %d: %v, want ok %v", tc.name, split, err, tc.ok)
			}
		}
	}
}
