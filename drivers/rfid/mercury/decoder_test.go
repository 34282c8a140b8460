package mercury

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/drivers/rfid/rfidtest"
)

// crcBitwise is an independent bit-at-a-time form of ThingMagic's CRC: the
// message bits are shifted into the register, MSB first, with no
// augmentation.
func crcBitwise(p []byte) uint16 {
	c := uint16(0xFFFF)
	for _, b := range p {
		for i := 7; i >= 0; i-- {
			top := c & 0x8000
			c = c<<1 | uint16(b>>uint(i)&1)
			if top != 0 {
				c ^= 0x1021
			}
		}
	}
	return c
}

func TestCRCBitwise(t *testing.T) {
	for _, fc := range frames {
		n := len(fc.raw)
		want := uint16(fc.raw[n-2])<<8 | uint16(fc.raw[n-1])
		if got := crcBitwise(fc.raw[1 : n-2]); got != want {
			t.Errorf("%s: bitwise CRC %#04x, frame says %#04x", fc.name, got, want)
		}
	}
}

func frameByName(t testing.TB, name string) []byte {
	for _, fc := range frames {
		if fc.name == name {
			return fc.raw
		}
	}
	t.Fatalf("no frame %q", name)
	return nil
}

// stream interleaves garbage, good, corrupt and truncated frames and
// returns the EPCs a session must read, in order.
func stream(t testing.TB) ([]byte, [][]byte) {
	tag := frameByName(t, "streamed tag record (SparkFun capture)")
	buf := frameByName(t, "get tag buffer response, one record")
	keep := frameByName(t, "keep-alive: no tags found")
	errResp := frameByName(t, "set power error: too high")
	corrupt := append([]byte(nil), tag...)
	corrupt[20] ^= 0x04
	var s []byte
	s = append(s, 0x00, 0xFF, 0xFF, 0x13) // garbage: FF FF claims a 262-byte frame
	s = append(s, tag...)
	s = append(s, corrupt...)
	s = append(s, buf[:9]...) // truncated
	s = append(s, keep...)
	s = append(s, 0xFF) // stray header
	s = append(s, buf...)
	s = append(s, errResp...)
	s = append(s, tag[:30]...) // truncated
	s = append(s, tag...)
	return s, [][]byte{sparkfunEPC, bufEPC, sparkfunEPC}
}

func newTestSession(t testing.TB) *Session {
	s, err := NewSession(rfid.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// feed gives chunks to a fresh session.
var feed = rfidtest.SessionFeed(func() rfid.Session {
	s, err := NewSession(rfid.Options{})
	if err != nil {
		panic(err) // the zero options are valid
	}
	return s
})

// wholeStream decodes the test stream at once and checks the result, which
// every split must then give again.
func wholeStream(t *testing.T) ([]byte, rfidtest.Result) {
	data, want := stream(t)
	return data, rfidtest.WholeStream(t, data, want, 1, feed)
}

func TestDecoderEverySplit(t *testing.T) {
	data, want := wholeStream(t)
	rfidtest.EverySplit(t, data, want, feed)
}

func TestDecoderByteByByte(t *testing.T) {
	data, want := wholeStream(t)
	rfidtest.ByteByByte(t, data, want, feed)
}

func TestDecoderThreeWaySplits(t *testing.T) {
	data, want := wholeStream(t)
	rfidtest.ThreeWaySplits(t, data, want, 3, 7, feed)
}

func TestDecoderLongInput(t *testing.T) {
	tag := frameByName(t, "streamed tag record (SparkFun capture)")
	var data []byte
	for range 100 {
		data = append(data, 0x55)
		data = append(data, tag...)
	}
	s := newTestSession(t)
	if got := rfidtest.Collect(s, data); len(got) != 100 {
		t.Fatalf("%d reads, want 100", len(got))
	}
	if st := s.Stats(); st.Frames != 100 || st.SkippedBytes != 100 {
		t.Fatalf("stats %+v", st)
	}
}

// TestMalformedRecords: the CRC holds but the tag data is inconsistent.
func TestMalformedRecords(t *testing.T) {
	for _, raw := range [][]byte{
		AppendResponse(nil, OpReadTagMultiple, StatusOK, 0x10, 0x00, 0x1B, 0x00, 0x06, 0x01, 0xC8),                      // record cut short
		AppendResponse(nil, OpReadTagMultiple, StatusOK, 0x10, 0x00, 0x1B, 0x80, 0x00, 0x01, 0, 0),                      // unknown flag
		AppendResponse(nil, OpGetTagBuffer, StatusOK, 0x00, 0x00, 0x00, 0x02, 0x00, 0x30, 0x08, 0x00, 0xAA, 0xBB, 0, 0), // count 2, one record
		AppendResponse(nil, OpGetTagBuffer, StatusOK, 0x00, 0x00),                                                       // no count
		AppendResponse(nil, OpReadTagMultiple, StatusOK, 0x00, 0x00),                                                    // neither count nor record
	} {
		s := newTestSession(t)
		if got := rfidtest.Collect(s, raw); len(got) != 0 {
			t.Errorf("% X: %d reads", raw, len(got))
		}
		if st := s.Stats(); st.BadFrames != 1 || st.Frames != 0 {
			t.Errorf("% X: stats %+v, want one bad frame", raw, st)
		}
	}
}

func TestDecoderZeroAllocs(t *testing.T) {
	data, _ := stream(t)
	s := newTestSession(t)
	emit := func(rfid.Read) {}
	allocs := testing.AllocsPerRun(100, func() {
		s.Feed(data[:23], emit)
		s.Feed(data[23:], emit)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run, want 0", allocs)
	}
}

func FuzzDecoder(f *testing.F) {
	data, _ := stream(f)
	f.Add(data)
	for _, fc := range frames {
		f.Add(fc.raw)
	}
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xFF}, 600))
	f.Fuzz(func(t *testing.T, in []byte) {
		d := NewResponseDecoder()
		var got rfidtest.Decoded
		d.Feed(in, func(fr Frame) {
			got.Frames = append(got.Frames, bytes.Clone(fr.Raw))
			got.Accounting.Good += uint64(len(fr.Raw))
			n := len(fr.Raw)
			if fr.Raw[0] != Header || int(fr.Raw[1])+ResponseOverhead != n {
				t.Fatalf("frame % X: bad header or length", fr.Raw)
			}
			if crcBitwise(fr.Raw[1:n-2]) != uint16(fr.Raw[n-2])<<8|uint16(fr.Raw[n-1]) {
				t.Fatalf("frame % X: CRC fails", fr.Raw)
			}
		})
		got.Counted = d.Frames
		got.Accounting.Skipped, got.Accounting.Buffered = d.SkippedBytes, uint64(d.Buffered())
		rfidtest.CheckDecoded(t, got, len(in))
		rfidtest.CheckSession(t, newTestSession(t), in, 1, MaxData, d.Frames)
	})
}

func BenchmarkDecode(b *testing.B) {
	tag := frameByName(b, "streamed tag record (SparkFun capture)")
	keep := frameByName(b, "keep-alive: no tags found")
	var data []byte
	perOp := 0
	for len(data) < 4096 {
		data = append(data, tag...)
		data = append(data, keep...)
		perOp += 2
	}
	s := newTestSession(b)
	emit := func(rfid.Read) {}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		for i := 0; i < len(data); i += 64 {
			s.Feed(data[i:min(i+64, len(data))], emit)
		}
	}
	frames := s.Stats().Frames
	if frames != uint64(perOp*b.N) {
		b.Fatalf("decoded %d frames, want %d", frames, perOp*b.N)
	}
	b.ReportMetric(float64(frames)/b.Elapsed().Seconds(), "frames/s")
}

func ExampleAppendGetVersion() {
	fmt.Printf("% X\n", AppendGetVersion(nil))
	// Output: FF 00 03 1D 0C
}

// BenchmarkDecodeNoise feeds a line stuck at 0xFF one byte at a time, the
// worst case for resynchronisation; it reports bytes/s.
func BenchmarkDecodeNoise(b *testing.B) {
	d := NewResponseDecoder()
	noise := []byte{0xFF}
	fn := func(Frame) { b.Fatal("frame from noise") }
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		d.Feed(noise, fn)
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "bytes/s")
}
