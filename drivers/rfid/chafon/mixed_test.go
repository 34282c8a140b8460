package chafon

import (
	"fmt"
	"testing"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/drivers/rfid/rfidtest"
)

// mixedStream interleaves UHFReader288 answers, UHFReader18 answers,
// active-mode reports and a heartbeat with garbage, a corrupt and a
// truncated frame, and returns the reads a session must make of it, as
// "EPC/antenna/RSSI" text.
func mixedStream(t testing.TB) ([]byte, []string) {
	cap288 := frameByName(t, "UHFReader288 inventory, two tags (capture)")
	three288 := frameByName(t, "UHFReader288 inventory, three tags on antenna 2 (reconstructed)")
	three18 := frameByName(t, "UHFReader18 inventory, the same three tags (reconstructed)")
	act18 := frameByName(t, "UHFReader18 active-mode report (reconstructed)")
	act288 := frameByName(t, "UHFReader288 active-mode report, antenna 2 (reconstructed)")
	beat := frameByName(t, "UHFReader288 active-mode heartbeat (reconstructed)")
	fast := frameByName(t, "UHFReader288 inventory, FastID block on antenna 4 (reconstructed)")
	corrupt := append([]byte(nil), act288...)
	corrupt[7] ^= 0x10 // EPC byte: CRC fails
	var s []byte
	s = append(s, 0xEE, 0x23, 0x00) // garbage: 0x23 looks like the Len of the capture
	s = append(s, cap288...)
	s = append(s, three18...)
	s = append(s, corrupt...)
	s = append(s, act18...)
	s = append(s, three288[:9]...) // truncated
	s = append(s, beat...)
	s = append(s, act288...)
	s = append(s, fast...)
	s = append(s, three288...)
	want := []string{
		"000000000000000000000313/1/-22", "000000000000000000000314/1/-21",
		"DEADBEEF/0/-", "E2000017220B012317500A2F/0/-", "1234/0/-",
		"E2000017220B012317500A2F/0/-",
		"E2000017220B012317500A2F/2/-34",
		"E2000017220B012317500A2F/4/-39",
		"DEADBEEF/2/-17", "E2000017220B012317500A2F/2/-29", "1234/2/-64",
	}
	return s, want
}

func showRead(r rfid.Read) string {
	rssi := "-"
	if r.HasRSSI {
		rssi = fmt.Sprint(r.RSSI)
	}
	return fmt.Sprintf("%X/%d/%s", r.Tag, r.Antenna, rssi)
}

type mixedResult struct {
	Reads []string
	Stats rfid.Stats
}

// feedMixed gives chunks to a fresh session; as rfidtest.SessionFeed, only
// whether any candidate failed its check is kept.
func feedMixed(chunks ...[]byte) mixedResult {
	s, err := NewSession(rfid.Options{})
	if err != nil {
		panic(err)
	}
	var got []string
	for _, c := range chunks {
		s.Feed(c, func(r rfid.Read) { got = append(got, showRead(r)) })
	}
	st := s.Stats()
	st.BadFrames = min(st.BadFrames, 1)
	return mixedResult{got, st}
}

func wholeMixed(t *testing.T) ([]byte, mixedResult) {
	data, want := mixedStream(t)
	r := feedMixed(data)
	if fmt.Sprint(r.Reads) != fmt.Sprint(want) {
		t.Fatalf("whole stream:\ngot  %v\nwant %v", r.Reads, want)
	}
	if st := r.Stats; st.BadFrames == 0 || st.SkippedBytes == 0 || st.Errors != 0 || st.Reads != uint64(len(want)) {
		t.Fatalf("whole stream: stats %+v", st)
	}
	return data, r
}

func TestMixedEverySplit(t *testing.T) {
	data, want := wholeMixed(t)
	rfidtest.EverySplit(t, data, want, feedMixed)
}

func TestMixedByteByByte(t *testing.T) {
	data, want := wholeMixed(t)
	rfidtest.ByteByByte(t, data, want, feedMixed)
}

func TestMixedThreeWaySplits(t *testing.T) {
	data, want := wholeMixed(t)
	rfidtest.ThreeWaySplits(t, data, want, 3, 7, feedMixed)
}

// TestMixedZeroAllocs: the new layouts decode without allocating.
func TestMixedZeroAllocs(t *testing.T) {
	data, _ := mixedStream(t)
	s := newTestSession(t)
	emit := func(rfid.Read) {}
	if a := testing.AllocsPerRun(100, func() {
		s.Feed(data[:23], emit)
		s.Feed(data[23:], emit)
	}); a != 0 {
		t.Fatalf("%v allocations per run, want 0", a)
	}
}

// TestMalformedActive: active-mode reports whose CRC holds but whose Data
// fits neither layout are bad frames; unknown statuses are errors.
func TestMalformedActive(t *testing.T) {
	for _, c := range []struct {
		status     byte
		data       []byte
		bad, error uint64
	}{
		{StatusOK, nil, 1, 0},                                  // no EPC
		{StatusOK, []byte{0xE2}, 1, 0},                         // odd, too short for UHFReader288
		{StatusOK, []byte{0x03, 0x02, 0x12, 0x34, 0x50}, 1, 0}, // UHFReader288 with two antenna bits
		{StatusOK, []byte{0x01, 0x04, 0x12, 0x34, 0x50}, 1, 0}, // UHFReader288 whose length disagrees
		{StatusOK, []byte{0x01, 0x01, 0x12, 0x50}, 0, 0},       // even: a UHFReader18 EPC of 4 bytes
		{StatusHeartbeat, []byte{0, 0, 0, 1}, 1, 0},            // heartbeat of the wrong length
		{0x05, []byte{0x01, 0x02, 0x12, 0x34, 0x50}, 0, 1},     // unknown status
		{StatusOK, make([]byte, MaxEPC+2), 1, 0},               // EPC longer than 31 words
	} {
		s := newTestSession(t)
		n := len(rfidtest.Collect(s, AppendResponse(nil, 0, CmdActive, c.status, c.data...)))
		st := s.Stats()
		wantReads := uint64(1 - c.bad - c.error)
		if st.BadFrames != c.bad || st.Errors != c.error || uint64(n) != wantReads || st.Reads != wantReads {
			t.Errorf("status %#x data % X: %d reads, stats %+v", c.status, c.data, n, st)
		}
	}
}

// TestSessionEmulator288 polls a UHFReader288 emulator (answer mode) through
// a session: every tag comes out with its antenna and RSSI, the "more data"
// frames included, and nothing is a bad frame.
func TestSessionEmulator288(t *testing.T) {
	var tags [][]byte
	for i := range 7 {
		tags = append(tags, []byte{0x30, 0x00, byte(i), 0xAA, 0xBB, byte(i * 3), 0, 0, 0, 0, 0, byte(i)})
	}
	tags = append(tags, []byte{0x12, 0x34})
	e, err := NewEmulatorWith(tags, EmulatorOpts{Dialect: Dialect288, Antenna: 3})
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSession(rfid.Options{Power: 20, Region: "eu"})
	if err != nil {
		t.Fatal(err)
	}
	rfidtest.Connect(t, s, e)
	for poll := range 2 {
		got := rfidtest.Round(t, s, e, true, 5)
		if !rfidtest.SameTags(rfidtest.Tags(got), tags) {
			t.Fatalf("poll %d: reads % X, want % X", poll, rfidtest.Tags(got), tags)
		}
		for i, r := range got {
			if r.Antenna != 3 || !r.HasRSSI || r.RSSI != RSSIdBm(byte(EmulatorRSSI-i)) {
				t.Fatalf("poll %d: read %d %+v, want antenna 3 and RSSI %d", poll, i, r, RSSIdBm(byte(EmulatorRSSI-i)))
			}
		}
	}
	if st := s.Stats(); st.Reads != uint64(2*len(tags)) || st.BadFrames != 0 || st.Errors != 0 || st.Frames != 2+2*3 {
		t.Fatalf("stats %+v", st)
	}
}

// TestSessionEmulatorActive: emulators in active mode of both dialects push
// reports on their ticks, which the session reads; they do not answer
// Inventory; a UHFReader288 with no tag sends heartbeats, which are frames,
// not reads, errors or bad frames.
func TestSessionEmulatorActive(t *testing.T) {
	tags := [][]byte{epc12, {0xDE, 0xAD, 0xBE, 0xEF}}
	for _, opts := range []EmulatorOpts{
		{Dialect: Dialect18, Active: true},
		{Dialect: Dialect288, Active: true, Antenna: 2},
	} {
		e, err := NewEmulatorWith(tags, opts)
		if err != nil {
			t.Fatal(err)
		}
		if e.TickInterval() != ActiveTickInterval {
			t.Fatalf("%+v: tick interval %v", opts, e.TickInterval())
		}
		s := newTestSession(t)
		if out := e.Handle(s.Poll()); out != nil {
			t.Fatalf("%+v: answered an inventory in active mode: % X", opts, out)
		}
		for tick := range 3 {
			got := rfidtest.Round(t, s, e, false, 3)
			if !rfidtest.SameTags(rfidtest.Tags(got), tags) {
				t.Fatalf("%+v tick %d: reads % X", opts, tick, rfidtest.Tags(got))
			}
			for _, r := range got {
				if opts.Dialect == Dialect288 && (r.Antenna != 2 || !r.HasRSSI) ||
					opts.Dialect == Dialect18 && (r.Antenna != 0 || r.HasRSSI) {
					t.Fatalf("%+v: read %+v", opts, r)
				}
			}
		}
		if st := s.Stats(); st.Reads != 6 || st.Frames != 6 || st.BadFrames != 0 || st.Errors != 0 {
			t.Fatalf("%+v: stats %+v", opts, st)
		}
	}
	e, err := NewEmulatorWith(nil, EmulatorOpts{Dialect: Dialect288, Active: true, Antenna: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := newTestSession(t)
	for range 2 {
		if got := rfidtest.Round(t, s, e, false, 0); len(got) != 0 {
			t.Fatalf("reads from an empty field: %v", got)
		}
	}
	if st := s.Stats(); st.Frames != 2 || st.Reads != 0 || st.BadFrames != 0 || st.Errors != 0 {
		t.Fatalf("heartbeats: stats %+v", st)
	}
}

func TestEmulatorOptions(t *testing.T) {
	for _, c := range []struct {
		tags [][]byte
		opts EmulatorOpts
	}{
		{[][]byte{{1, 2, 3}}, EmulatorOpts{Dialect: Dialect288, Antenna: 1}}, // odd EPC
		{nil, EmulatorOpts{Dialect: Dialect288, Antenna: 9}},
		{nil, EmulatorOpts{Dialect: Dialect288}},
		{nil, EmulatorOpts{Dialect: 7}},
	} {
		if _, err := NewEmulatorWith(c.tags, c.opts); err == nil {
			t.Errorf("%+v accepted", c.opts)
		}
	}
}

// recorded288 is a UHFReader288 session: an inventory answered with the
// captured "more data" frames then the captured final frame.
var recorded288 = []rfidtest.Exchange{
	{
		Poll: true,
		W:    []byte{0x04, 0xFF, 0x01, 0x1B, 0xB4}, // inventory
		R: []byte{
			0x15, 0x00, 0x01, 0x03, 0x01, 0x01, 0x0C, // Len, Adr, reCmd, more data, Ant 1, Num 1, EPC length
			0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x13, // EPC
			0x6B, 0xB1, 0xA5, // RSSI, CRC
			0x15, 0x00, 0x01, 0x03, 0x04, 0x01, 0x0C, // Len, Adr, reCmd, more data, Ant 3, Num 1, EPC length
			0x49, 0x44, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0A, 0x00, 0x03, 0x34, // EPC
			0x64, 0x25, 0xC0, // RSSI, CRC
			0x07, 0x00, 0x01, 0x01, 0x01, 0x00, 0x1E, 0x4B, // finished, Ant 1, Num 0, CRC
		},
	},
}

func TestPlayback288(t *testing.T) {
	s := newTestSession(t)
	p := &rfidtest.Playback{Ops: recorded288, Chunk: 5}
	var got []string
	for _, r := range p.Run(t, s) {
		got = append(got, showRead(r))
	}
	if want := "[000000000000000000000313/1/-22 49440000000000000A000334/3/-29]"; fmt.Sprint(got) != want {
		t.Fatalf("reads %v, want %s", got, want)
	}
	if st := s.Stats(); st.Frames != 3 || st.BadFrames != 0 || st.Errors != 0 {
		t.Fatalf("stats %+v", st)
	}
}
