package chafon

import (
	"bytes"
	"testing"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/drivers/rfid/rfidtest"
)

func TestCRCCheckValue(t *testing.T) {
	// CRC-16/MCRF4XX catalogue check value for "123456789".
	if got := CRC([]byte("123456789")); got != 0x6F91 {
		t.Fatalf("CRC(123456789) = %#04x, want 0x6f91", got)
	}
}

func TestFramesEncode(t *testing.T) {
	for _, fc := range frames {
		if fc.encode == nil {
			continue
		}
		if got := fc.encode(); !bytes.Equal(got, fc.raw) {
			t.Errorf("%s: encoded % X, want % X", fc.name, got, fc.raw)
		}
	}
}

func TestFramesDecode(t *testing.T) {
	for _, fc := range frames {
		var d *Decoder
		if fc.command {
			d = NewCommandDecoder()
		} else {
			d = NewResponseDecoder()
		}
		var got []Frame
		d.Feed(fc.raw, func(f Frame) {
			f.Payload = append([]byte(nil), f.Payload...)
			got = append(got, f)
		})
		if len(got) != 1 {
			t.Errorf("%s: %d frames, want 1", fc.name, len(got))
			continue
		}
		if got[0].Cmd != fc.cmd || got[0].Addr != fc.raw[1] || !bytes.Equal(got[0].Payload, fc.payload) {
			t.Errorf("%s: got %+v, want cmd %#x payload % X", fc.name, got[0], fc.cmd, fc.payload)
		}
		if int(fc.raw[0])+1 != len(fc.raw) {
			t.Errorf("%s: Len %d does not match %d bytes", fc.name, fc.raw[0], len(fc.raw))
		}
	}
}

// TestFramesValidation flips every byte of every frame: a corrupted frame
// must never be emitted as it was.
func TestFramesValidation(t *testing.T) {
	for _, fc := range frames {
		rfidtest.Corruptions(fc.raw, func(i int, x byte, in []byte) {
			d := &Decoder{minLen: MinCommandLen}
			var got [][]byte
			d.Feed(in, func(f Frame) { got = append(got, append([]byte(nil), f.Payload...)) })
			if len(got) != 1 || !bytes.Equal(got[0], fc.payload) {
				t.Errorf("%s: byte %d ^ %#x then the good frame: got payloads % X, want only the good one", fc.name, i, x, got)
			}
			if d.BadFrames+d.SkippedBytes == 0 {
				t.Errorf("%s: byte %d ^ %#x: nothing counted", fc.name, i, x)
			}
		})
		// Truncated: no frame, bytes wait.
		d := &Decoder{minLen: MinCommandLen}
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
		s.Feed(fc.raw, func(r rfid.Read) {
			r.Tag = bytes.Clone(r.Tag)
			got = append(got, r)
		})
		if len(got) != len(fc.reads) {
			t.Fatalf("%s: %d reads, want %d", fc.name, len(got), len(fc.reads))
		}
		for i, r := range got {
			want := rfid.Read{Tag: fc.reads[i]}
			if fc.ants != nil {
				want.Antenna = fc.ants[i]
			}
			if fc.rssi != nil {
				want.RSSI, want.HasRSSI = fc.rssi[i], true
			}
			if !bytes.Equal(r.Tag, want.Tag) || r.Antenna != want.Antenna || r.RSSI != want.RSSI || r.HasRSSI != want.HasRSSI || r.PC != 0 {
				t.Errorf("%s: read %d = %+v, want %+v", fc.name, i, r, want)
			}
		}
		st := s.Stats()
		if st.Frames != 1 || st.BadFrames != 0 || st.Errors != fc.errors || st.Reads != uint64(len(fc.reads)) {
			t.Errorf("%s: stats %+v", fc.name, st)
		}
	}
}
