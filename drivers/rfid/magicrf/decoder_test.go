package magicrf

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/drivers/rfid/rfidtest"
)

// collect feeds the chunks to a fresh decoder and returns each frame
// emitted as "type/cmd/params" text, and the decoder.
func collect(chunks ...[]byte) ([]string, *Decoder) {
	d := &Decoder{}
	var got []string
	for _, c := range chunks {
		d.Feed(c, func(f Frame) { got = append(got, show(f)) })
	}
	return got, d
}

func show(f Frame) string { return fmt.Sprintf("%02X/%02X/% X", f.Type, f.Cmd, f.Params) }

// checkAccounting asserts that every byte fed is accounted for.
func checkAccounting(t testing.TB, d *Decoder, fed int) {
	t.Helper()
	rfidtest.CheckAccounting(t, accounting(d), fed)
}

func accounting(d *Decoder) rfidtest.Accounting {
	c := d.Counters()
	return rfidtest.Accounting{Good: c.FrameBytes, Skipped: c.SkippedBytes, Buffered: uint64(d.Buffered())}
}

// result is what a fresh decoder made of a stream.
type result struct {
	frames   []string
	counters Counters
}

func feed(chunks ...[]byte) result {
	got, d := collect(chunks...)
	return result{got, d.Counters()}
}

func TestDecodeFrames(t *testing.T) {
	for _, fc := range frames {
		t.Run(fc.name, func(t *testing.T) {
			got, d := collect(fc.raw)
			c := d.Counters()
			if !fc.good {
				if len(got) != 0 {
					t.Fatalf("bad frame emitted %v", got)
				}
				if c.BadFrames == 0 && d.Buffered() == 0 {
					t.Fatalf("bad frame neither counted nor held: %+v", c)
				}
			} else {
				want := show(Frame{Type: fc.typ, Cmd: fc.cmd, Params: fc.params})
				if len(got) != 1 || got[0] != want {
					t.Fatalf("got %v, want [%s]", got, want)
				}
				if c.Frames != 1 || c.BadFrames != 0 || c.SkippedBytes != 0 || d.Buffered() != 0 {
					t.Fatalf("counters %+v, buffered %d", c, d.Buffered())
				}
			}
			checkAccounting(t, d, len(fc.raw))
		})
	}
}

func TestEncodeFrames(t *testing.T) {
	n := 0
	for _, fc := range frames {
		if fc.encode == nil {
			continue
		}
		n++
		if got := fc.encode(); !bytes.Equal(got, fc.raw) {
			t.Errorf("%s: encoded % X, want % X", fc.name, got, fc.raw)
		}
	}
	if n < 10 {
		t.Fatalf("only %d frames checked against an encoder", n)
	}
}

// stream interleaves every frame of the table with garbage and returns it
// with the frames it must yield. A truncated frame is held until enough
// bytes follow, so the stream ends with enough good frames to flush it.
func stream() ([]byte, []string) {
	var s []byte
	var want []string
	junk := [][]byte{
		{0x00, 0xFF, 0x7E},       // line noise and a stray end byte
		{0xBB},                   // lone header
		{},                       // back to back
		{0xBB, 0x01, 0xBB, 0xBB}, // headers inside a broken frame
		{0xBB, 0x02, 0x22, 0x00}, // a notice cut before its length
		{0x7E, 0x7E},             // ends only
		{0xBB, 0x00, 0x00, 0x00, 0x00, 0x01, 0x7E}, // bad checksum, short
	}
	for i, fc := range frames {
		s = append(s, junk[i%len(junk)]...)
		s = append(s, fc.raw...)
		if fc.good {
			want = append(want, show(Frame{Type: fc.typ, Cmd: fc.cmd, Params: fc.params}))
		}
	}
	for i := 0; i < 4; i++ {
		s = append(s, frames[4].raw...)
		want = append(want, show(Frame{Type: frames[4].typ, Cmd: frames[4].cmd, Params: frames[4].params}))
	}
	return s, want
}

func TestStreamEverySplit(t *testing.T) {
	s, want := stream()
	whole, ref := collect(s)
	if fmt.Sprint(whole) != fmt.Sprint(want) {
		t.Fatalf("whole stream:\ngot  %v\nwant %v", whole, want)
	}
	checkAccounting(t, ref, len(s))
	if ref.Counters().BadFrames == 0 || ref.Buffered() != 0 {
		t.Fatalf("counters %+v, buffered %d", ref.Counters(), ref.Buffered())
	}
	want2 := result{want, ref.Counters()}
	rfidtest.EverySplit(t, s, want2, feed)
	rfidtest.ByteByByte(t, s, want2, feed)
}

func TestGoodFrameAfterBrokenOne(t *testing.T) {
	good := frames[4].raw // the tag notice
	for cut := 1; cut < len(good); cut++ {
		in := append(append([]byte{}, good[:cut]...), good...)
		in = append(in, good...)
		got, d := collect(in)
		if len(got) != 2 {
			t.Fatalf("cut %d: got %d frames, want 2", cut, len(got))
		}
		if c := d.Counters(); c.BadFrames == 0 && cut > 1 {
			t.Fatalf("cut %d: broken frame not counted %+v", cut, c)
		}
		checkAccounting(t, d, len(in))
	}
}

func TestDecodeAllocs(t *testing.T) {
	s, _ := stream()
	d := &Decoder{}
	n := 0
	emit := func(f Frame) { n += len(f.Params) }
	if a := testing.AllocsPerRun(100, func() { d.Feed(s, emit) }); a != 0 {
		t.Fatalf("Feed allocates %.1f times per run, want 0", a)
	}
	if n == 0 {
		t.Fatal("no frames decoded")
	}
}

func FuzzDecoder(f *testing.F) {
	for _, fc := range frames {
		f.Add(fc.raw, uint8(4))
	}
	s, _ := stream()
	f.Add(s, uint8(40))
	as, _ := antennaStream(f)
	f.Add(as, uint8(25))
	f.Fuzz(func(t *testing.T, in []byte, split uint8) {
		var raws [][]byte
		rfidtest.CheckSplit(t, in, int(split), func(chunks ...[]byte) rfidtest.Decoded {
			d := &Decoder{}
			raws = nil
			for _, c := range chunks {
				d.Feed(c, func(f Frame) {
					raws = append(raws, AppendFrame(nil, f.Type, f.Cmd, f.Params))
				})
			}
			return rfidtest.Decoded{Frames: raws, Counted: d.Counters().Frames, Counters: d.Counters(), Accounting: accounting(d)}
		})
		for _, r := range raws {
			// Re-encoding computes the checksum afresh: the frame must be
			// in the input byte for byte, so its checksum held.
			if !bytes.Contains(in, r) {
				t.Fatalf("emitted frame % X is not in the input", r)
			}
		}
		// Tag notices, with or without the antenna byte: every read's EPC is
		// the length its PC says, and the session's counts hold.
		sess, err := NewSession(rfid.Options{})
		if err != nil {
			t.Fatal(err)
		}
		rfidtest.CheckSession(t, sess, in, 0, 62, uint64(len(raws)))
		sess2, _ := NewSession(rfid.Options{})
		sess2.Feed(in, func(r rfid.Read) {
			if len(r.Tag) != int(r.PC>>11)*2 || !r.HasRSSI || r.Antenna < 0 || r.Antenna > 255 {
				t.Fatalf("read %+v inconsistent with its PC", r)
			}
		})
	})
}

func BenchmarkDecode(b *testing.B) {
	var s []byte
	for i := 0; i < 128; i++ {
		epc := []byte{0xE2, 0x00, 0x34, 0x12, 0x01, 0x23, 0x45, 0x67, 0x89, 0x00, byte(i), byte(i >> 8)}
		s, _ = AppendTagNotice(s, int8(-40-i%40), 0, epc)
	}
	d := &Decoder{}
	frames := 0
	emit := func(Frame) { frames++ }
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		d.Feed(s, emit)
	}
	b.ReportMetric(float64(frames)/b.Elapsed().Seconds(), "frames/s")
	if d.Counters().BadFrames != 0 {
		b.Fatal("bad frames in a clean stream")
	}
}
