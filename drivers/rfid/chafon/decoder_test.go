package chafon

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/drivers/rfid/rfidtest"
)

// crcBitwise is an independent bit-at-a-time CRC-16/MCRF4XX for checking.
func crcBitwise(p []byte) uint16 {
	c := uint16(0xFFFF)
	for _, b := range p {
		c ^= uint16(b)
		for range 8 {
			if c&1 == 1 {
				c = c>>1 ^ 0x8408
			} else {
				c >>= 1
			}
		}
	}
	return c
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

// stream builds garbage, good, corrupt and truncated frames interleaved and
// the tags a session must read from it, in order.
func stream(t testing.TB) ([]byte, [][]byte) {
	one := frameByName(t, "inventory response, one 96-bit EPC")
	two := frameByName(t, "inventory response, more data follows, two tags")
	none := frameByName(t, "inventory response, no tag")
	info := frameByName(t, "reader information response")
	corrupt := append([]byte(nil), one...)
	corrupt[9] ^= 0x40 // EPC byte flipped: CRC fails
	var s []byte
	s = append(s, 0xFF, 0x13, 0x00, 0x77) // garbage: 0xFF and 0x13 look like long Len bytes
	s = append(s, two...)
	s = append(s, corrupt...)
	s = append(s, one[:11]...) // truncated frame
	s = append(s, one...)
	s = append(s, 0x02, 0x00) // noise shorter than any frame
	s = append(s, none...)
	s = append(s, info...)
	s = append(s, two[:5]...) // truncated again
	s = append(s, two...)
	want := [][]byte{
		{0xDE, 0xAD, 0xBE, 0xEF}, {1, 2, 3, 4},
		epc12,
		{0xDE, 0xAD, 0xBE, 0xEF}, {1, 2, 3, 4},
	}
	return s, want
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
	rfidtest.ThreeWaySplits(t, data, want, 3, 5, feed)
}

// TestDecoderLongInput feeds more than the internal buffer at once.
func TestDecoderLongInput(t *testing.T) {
	one := frameByName(t, "inventory response, one 96-bit EPC")
	var data []byte
	for range 100 {
		data = append(data, 0x55)
		data = append(data, one...)
	}
	s := newTestSession(t)
	got := rfidtest.Collect(s, data)
	if len(got) != 100 {
		t.Fatalf("%d reads, want 100", len(got))
	}
	if st := s.Stats(); st.Frames != 100 || st.SkippedBytes != 100 {
		t.Fatalf("stats %+v, want 100 frames and 100 skipped bytes", st)
	}
}

// TestMalformedInventory: the CRC holds but Num and the EPC lengths
// disagree; the frame is bad and nothing is emitted.
func TestMalformedInventory(t *testing.T) {
	for _, data := range [][]byte{
		{0x02, 0x04, 1, 2, 3, 4},             // Num 2, one tag present
		{0x01, 0x05, 1, 2, 3, 4},             // EPC length past the end
		{0x01, 0x02, 1, 2, 3},                // trailing byte
		{},                                   // no Num
		{0x01, 0x00, 0x00},                   // zero-length EPC (01 00 alone is a UHFReader288 answer: antenna 1, no tag)
		{0x03, 0x02, 0x04, 1, 2, 3, 4, 0x50}, // UHFReader288 layout, antenna mask 0x03 (two bits)
		{0x01, 0x01, 0x03, 1, 2, 3, 0x50},    // UHFReader288 layout, EPC of 3 bytes (not whole words)
		{0x01, 0x01, 0x84, 1, 2, 3, 4, 0x50}, // UHFReader288 FastID block too short for a TID
		{0x01, 0x02, 0x02, 1, 2, 0x50},       // UHFReader288 layout, Num 2 with one tag
	} {
		s := newTestSession(t)
		raw := AppendResponse(nil, 0, CmdInventory, StatusInventoryDone, data...)
		if got := rfidtest.Collect(s, raw); len(got) != 0 {
			t.Errorf("% X: emitted %d reads", data, len(got))
		}
		if st := s.Stats(); st.BadFrames != 1 || st.Frames != 0 {
			t.Errorf("% X: stats %+v, want one bad frame", data, st)
		}
	}
}

func TestDecoderZeroAllocs(t *testing.T) {
	data, _ := stream(t)
	s := newTestSession(t)
	emit := func(rfid.Read) {}
	allocs := testing.AllocsPerRun(100, func() {
		s.Feed(data[:17], emit)
		s.Feed(data[17:], emit)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run, want 0", allocs)
	}
}

func FuzzDecoder(f *testing.F) {
	data, _ := stream(f)
	f.Add(data)
	mixed, _ := mixedStream(f)
	f.Add(mixed)
	for _, fc := range frames {
		f.Add(fc.raw)
	}
	f.Add([]byte{})
	f.Add([]byte{0xFF})
	f.Add(bytes.Repeat([]byte{0x05}, 300))
	f.Fuzz(func(t *testing.T, in []byte) {
		d := NewResponseDecoder()
		var got rfidtest.Decoded
		d.Feed(in, func(fr Frame) {
			got.Frames = append(got.Frames, bytes.Clone(fr.Raw))
			got.Accounting.Good += uint64(len(fr.Raw))
			n := len(fr.Raw)
			if n < MinResponseLen+1 || int(fr.Raw[0])+1 != n {
				t.Fatalf("frame % X: bad length", fr.Raw)
			}
			if crcBitwise(fr.Raw[:n-2]) != uint16(fr.Raw[n-2])|uint16(fr.Raw[n-1])<<8 {
				t.Fatalf("frame % X: CRC fails", fr.Raw)
			}
		})
		got.Counted = d.Frames
		got.Accounting.Skipped, got.Accounting.Buffered = d.SkippedBytes, uint64(d.Buffered())
		rfidtest.CheckDecoded(t, got, len(in))
		rfidtest.CheckSession(t, newTestSession(t), in, 1, MaxEPC, d.Frames)
		// A UHFReader288 read has an antenna and RSSI and whole words; a
		// UHFReader18 read has neither antenna nor RSSI.
		newTestSession(t).Feed(in, func(r rfid.Read) {
			if r.HasRSSI && (r.Antenna < 1 || r.Antenna > 8 || len(r.Tag)%2 != 0) || !r.HasRSSI && r.Antenna != 0 {
				t.Fatalf("read %+v mixes the dialects", r)
			}
		})
	})
}

func BenchmarkDecode(b *testing.B) {
	one := frameByName(b, "inventory response, one 96-bit EPC")
	two := frameByName(b, "inventory response, more data follows, two tags")
	var data []byte
	perOp := 0
	for len(data) < 4096 {
		data = append(data, one...)
		data = append(data, two...)
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

func ExampleAppendInventory() {
	fmt.Printf("% X\n", AppendInventory(nil, BroadcastAddr))
	// Output: 04 FF 01 1B B4
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
