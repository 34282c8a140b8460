package em4100

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/ngic/ngic/drivers/rfid/rfidtest"
)

// collect feeds the chunks to a fresh decoder and returns the tags emitted,
// as upper-case hex, and the decoder.
func collect(chunks ...[]byte) ([]string, *Decoder) {
	d := &Decoder{}
	var got []string
	for _, c := range chunks {
		d.Feed(c, func(tag []byte) { got = append(got, fmt.Sprintf("%X", tag)) })
	}
	return got, d
}

// checkAccounting asserts that every byte fed is accounted for.
func checkAccounting(t testing.TB, d *Decoder, fed int) {
	t.Helper()
	rfidtest.CheckAccounting(t, accounting(d), fed)
}

func accounting(d *Decoder) rfidtest.Accounting {
	c := d.Counters()
	return rfidtest.Accounting{Good: c.Frames * FrameLen, Skipped: c.SkippedBytes, Filler: c.FillerBytes, Buffered: uint64(d.Buffered())}
}

// result is what a fresh decoder made of a stream.
type result struct {
	tags     []string
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
			if fc.tag == nil {
				if len(got) != 0 {
					t.Fatalf("bad frame emitted %v", got)
				}
				if c.BadFrames == 0 {
					t.Fatalf("bad frame not counted: %+v", c)
				}
			} else {
				want := fmt.Sprintf("%X", fc.tag)
				if len(got) != 1 || got[0] != want {
					t.Fatalf("got %v, want [%s]", got, want)
				}
				if c.Frames != 1 || c.BadFrames != 0 || c.SkippedBytes != 0 {
					t.Fatalf("counters %+v", c)
				}
			}
			checkAccounting(t, d, len(fc.raw))
		})
	}
}

func TestEncodeFrames(t *testing.T) {
	for _, fc := range frames {
		if !fc.canonical {
			continue
		}
		got, err := AppendFrame(nil, fc.tag)
		if err != nil {
			t.Fatalf("%s: %v", fc.name, err)
		}
		if !bytes.Equal(got, fc.raw) {
			t.Errorf("%s: AppendFrame = % X, want % X", fc.name, got, fc.raw)
		}
		if Checksum(fc.tag) != fc.tag[0]^fc.tag[1]^fc.tag[2]^fc.tag[3]^fc.tag[4] {
			t.Errorf("%s: checksum", fc.name)
		}
	}
	for _, bad := range [][]byte{nil, {1, 2, 3, 4}, {1, 2, 3, 4, 5, 6}} {
		if _, err := AppendFrame(nil, bad); err == nil {
			t.Errorf("AppendFrame(% X) accepted a tag of %d bytes", bad, len(bad))
		}
	}
}

// stream interleaves every frame of the table with garbage, CR/LF filler
// and noise that contains STX, and returns it with the tags it must yield.
func stream() ([]byte, []string) {
	var s []byte
	var want []string
	junk := [][]byte{
		{'\r', '\n'},          // clone filler
		{0xFF, 0x00, 'Z'},     // line noise
		{0x02, '1'},           // truncated frame start
		{},                    // back to back
		{0x02, 0x02, 0x02},    // repeated STX
		{'\n'},                // LF alone
		{0x03, 0x03, '9'},     // stray ETX and digit
		{0x02, 'a', 'b', 'c'}, // a frame start cut short by the next STX
	}
	for i, fc := range frames {
		s = append(s, junk[i%len(junk)]...)
		s = append(s, fc.raw...)
		if fc.tag != nil {
			want = append(want, fmt.Sprintf("%X", fc.tag))
		}
	}
	s = append(s, frames[0].raw...)
	want = append(want, fmt.Sprintf("%X", frames[0].tag))
	return s, want
}

func TestStreamEverySplit(t *testing.T) {
	s, want := stream()
	whole, ref := collect(s)
	if fmt.Sprint(whole) != fmt.Sprint(want) {
		t.Fatalf("whole stream: got %v, want %v", whole, want)
	}
	checkAccounting(t, ref, len(s))
	if ref.Counters().BadFrames == 0 {
		t.Fatal("no bad frames counted in a stream that has them")
	}
	want2 := result{want, ref.Counters()}
	rfidtest.EverySplit(t, s, want2, feed)
	rfidtest.ByteByByte(t, s, want2, feed)
}

func TestGoodFrameAfterBrokenOne(t *testing.T) {
	good := frames[0].raw
	want := fmt.Sprintf("%X", frames[0].tag)
	for cut := 1; cut < FrameLen; cut++ {
		// A frame cut after cut bytes, then a good frame at once.
		in := append(append([]byte{}, good[:cut]...), good...)
		got, d := collect(in)
		if len(got) != 1 || got[0] != want {
			t.Fatalf("cut %d: got %v, want [%s]", cut, got, want)
		}
		if c := d.Counters(); c.BadFrames != 1 {
			t.Fatalf("cut %d: counters %+v, want one bad frame", cut, c)
		}
		checkAccounting(t, d, len(in))
	}
}

func TestCRLFNotSkipped(t *testing.T) {
	in := append(append(append([]byte{}, frames[0].raw...), '\r', '\n'), frames[2].raw...)
	got, d := collect(in)
	if len(got) != 2 {
		t.Fatalf("got %v", got)
	}
	if c := d.Counters(); c.SkippedBytes != 0 || c.FillerBytes != 2 || c.BadFrames != 0 {
		t.Fatalf("counters %+v", c)
	}
}

func TestDecodeAllocs(t *testing.T) {
	s, _ := stream()
	d := &Decoder{}
	n := 0
	emit := func(tag []byte) { n += len(tag) }
	allocs := testing.AllocsPerRun(100, func() { d.Feed(s, emit) })
	if allocs != 0 {
		t.Fatalf("Feed allocates %.1f times per run, want 0", allocs)
	}
	if n == 0 {
		t.Fatal("no frames decoded")
	}
}

func FuzzDecoder(f *testing.F) {
	for _, fc := range frames {
		f.Add(fc.raw, uint8(3))
	}
	s, _ := stream()
	f.Add(s, uint8(17))
	f.Add([]byte{0x02, 0x02, '\r', 0x03}, uint8(0))
	f.Fuzz(func(t *testing.T, in []byte, split uint8) {
		rfidtest.CheckSplit(t, in, int(split), func(chunks ...[]byte) rfidtest.Decoded {
			got, d := collect(chunks...)
			var frames [][]byte
			for _, h := range got {
				frames = append(frames, []byte(h))
			}
			return rfidtest.Decoded{Frames: frames, Counted: d.Counters().Frames, Counters: d.Counters(), Accounting: accounting(d)}
		})
		got, _ := collect(in)
		// Every tag emitted must appear in the input as a whole valid frame.
		lower := bytes.ToLower(in)
		for _, h := range got {
			tag, err := hex.DecodeString(h)
			if err != nil {
				t.Fatal(err)
			}
			fr, err := AppendFrame(nil, tag)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(lower, bytes.ToLower(fr)) {
				t.Fatalf("emitted %s, whose valid frame % X is not in the input", h, fr)
			}
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	var s []byte
	for i := 0; i < 256; i++ {
		tag := []byte{byte(i), 0x00, byte(i * 7), 0xF4, byte(i * 13)}
		s, _ = AppendFrame(s, tag)
		s = append(s, '\r', '\n')
	}
	d := &Decoder{}
	frames := 0
	emit := func([]byte) { frames++ }
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
