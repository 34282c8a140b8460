package mercury

import (
	"bytes"
	"testing"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/drivers/rfid/rfidtest"
)

func TestFramesEncode(t *testing.T) {
	for _, fc := range frames {
		if got := fc.encode(); !bytes.Equal(got, fc.raw) {
			t.Errorf("%s: encoded % X, want % X", fc.name, got, fc.raw)
		}
	}
}

func newDecoder(command bool) *Decoder {
	if command {
		return NewCommandDecoder()
	}
	return NewResponseDecoder()
}

func TestFramesDecode(t *testing.T) {
	for _, fc := range frames {
		d := newDecoder(fc.command)
		var got []Frame
		d.Feed(fc.raw, func(f Frame) {
			f.Data = append([]byte(nil), f.Data...)
			got = append(got, f)
		})
		if len(got) != 1 {
			t.Errorf("%s: %d frames, want 1", fc.name, len(got))
			continue
		}
		f := got[0]
		if f.Opcode != fc.op || f.Status != fc.status || !bytes.Equal(f.Data, fc.data) {
			t.Errorf("%s: got op %#x status %#04x data % X; want %#x %#04x % X", fc.name, f.Opcode, f.Status, f.Data, fc.op, fc.status, fc.data)
		}
		if int(fc.raw[1]) != len(fc.data) {
			t.Errorf("%s: Len %d but %d data bytes", fc.name, fc.raw[1], len(fc.data))
		}
	}
}

// TestFramesValidation corrupts every byte of every frame, then appends the
// good frame: only the good frame may come out.
func TestFramesValidation(t *testing.T) {
	for _, fc := range frames {
		rfidtest.Corruptions(fc.raw, func(i int, x byte, in []byte) {
			d := newDecoder(fc.command)
			var got [][]byte
			d.Feed(in, func(f Frame) { got = append(got, append([]byte(nil), f.Raw...)) })
			if len(got) != 1 || !bytes.Equal(got[0], fc.raw) {
				t.Errorf("%s: byte %d ^ %#x then the good frame: got % X", fc.name, i, x, got)
			}
			if d.BadFrames+d.SkippedBytes == 0 {
				t.Errorf("%s: byte %d ^ %#x: nothing counted", fc.name, i, x)
			}
		})
		d := newDecoder(fc.command)
		d.Feed(fc.raw[:len(fc.raw)-1], func(Frame) { t.Errorf("%s: truncated frame emitted", fc.name) })
	}
}

func TestSessionFrames(t *testing.T) {
	for _, fc := range frames {
		if fc.command {
			continue
		}
		s, err := NewSession(rfid.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var got []rfid.Read
		reply := s.Feed(fc.raw, func(r rfid.Read) {
			r.Tag = append([]byte(nil), r.Tag...)
			got = append(got, r)
		})
		if !bytes.Equal(reply, fc.reply) {
			t.Errorf("%s: Feed returned % X, want % X", fc.name, reply, fc.reply)
		}
		if len(got) != len(fc.reads) {
			t.Fatalf("%s: %d reads, want %d", fc.name, len(got), len(fc.reads))
		}
		for i, w := range fc.reads {
			r := got[i]
			if !bytes.Equal(r.Tag, w.epc) || r.PC != w.pc || r.RSSI != w.rssi || r.HasRSSI != w.hasRSSI || r.Antenna != w.antenna {
				t.Errorf("%s: read %d = %+v, want %+v", fc.name, i, r, w)
			}
		}
		st := s.Stats()
		if st.Frames != 1 || st.Errors != fc.errors || st.Reads != uint64(len(fc.reads)) || st.BadFrames != 0 {
			t.Errorf("%s: stats %+v", fc.name, st)
		}
	}
}

// TestTagCRC: the tag CRCs in the table are the Gen2 CRC of PC and EPC.
func TestTagCRC(t *testing.T) {
	if got := Gen2CRC(append([]byte{0x30, 0x00}, sparkfunEPC...)); got != 0xE94A {
		t.Fatalf("Gen2CRC of the SparkFun capture = %#04x, want 0xe94a", got)
	}
	if got := Gen2CRC(append([]byte{0x20, 0x00}, bufEPC...)); got != 0x754E {
		t.Fatalf("Gen2CRC = %#04x, want 0x754e", got)
	}
}

func TestParseTagRecordXPC(t *testing.T) {
	rec := []byte{
		0x00, 0x60, // 96 bits: PC, XPC_W1, EPC 6 bytes, CRC
		0x1A, 0x00, // PC: 3 words, XI set
		0x00, 0x00, // XPC_W1
		1, 2, 3, 4, 5, 6, // EPC
		0xAB, 0xCD, // tag CRC
	}
	r, n, ok := ParseTagRecord(0, rec)
	if !ok || n != len(rec) || !bytes.Equal(r.EPC, []byte{1, 2, 3, 4, 5, 6}) || r.PC != 0x1A00 || r.TagCRC != 0xABCD {
		t.Fatalf("got %+v, %d, %v", r, n, ok)
	}
	if _, _, ok := ParseTagRecord(0x0200, rec); ok {
		t.Fatal("unknown metadata flag accepted")
	}
	for i := range rec {
		if _, _, ok := ParseTagRecord(0, rec[:i]); ok {
			t.Fatalf("record truncated to %d bytes accepted", i)
		}
	}
}
