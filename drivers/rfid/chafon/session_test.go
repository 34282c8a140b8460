package chafon

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/drivers/rfid/rfidtest"
)

// recorded is a UHFReader18 session: set power 30 dBm and the US band, then
// an inventory answering three tags in two frames ("more data", then
// "finished"), then an inventory with no tag.
var recorded = []rfidtest.Exchange{
	{
		W: []byte{
			0x05, 0xFF, 0x2F, 0x1E, 0x81, 0xF2, // set power 30 dBm
			0x06, 0xFF, 0x22, 0x31, 0x80, 0x33, 0x53, // set region US 0..49
		},
		R: []byte{
			0x05, 0x00, 0x2F, 0x00, 0x8D, 0xCD, // set power: OK
			0x05, 0x00, 0x22, 0x00, 0xF5, 0x7D, // set region: OK
		},
	},
	{
		Poll: true,
		W:    []byte{0x04, 0xFF, 0x01, 0x1B, 0xB4}, // inventory
		R: []byte{
			0x10, 0x00, 0x01, 0x03, // Len, Adr, reCmd inventory, Status more data
			0x02,                         // Num 2
			0x04, 0xDE, 0xAD, 0xBE, 0xEF, // EPC length, EPC
			0x04, 0x01, 0x02, 0x03, 0x04, // EPC length, EPC
			0xE2, 0xB8, // CRC
			0x13, 0x00, 0x01, 0x01, // Len, Adr, reCmd inventory, Status finished
			0x01, 0x0C, // Num 1, EPC length 12
			0xE2, 0x00, 0x00, 0x17, 0x22, 0x0B, 0x01, 0x23, 0x17, 0x50, 0x0A, 0x2F, // EPC
			0x49, 0xE6, // CRC
		},
	},
	{
		Poll: true,
		W:    []byte{0x04, 0xFF, 0x01, 0x1B, 0xB4},       // inventory
		R:    []byte{0x05, 0x00, 0x01, 0xFB, 0xF2, 0x3D}, // no tag operable
	},
}

func TestPlayback(t *testing.T) {
	s, err := NewSession(rfid.Options{Power: 30, Region: "us"})
	if err != nil {
		t.Fatal(err)
	}
	p := &rfidtest.Playback{Ops: recorded, Chunk: 7} // the serial link delivers odd chunks
	got := rfidtest.Tags(p.Run(t, s))
	want := [][]byte{{0xDE, 0xAD, 0xBE, 0xEF}, {1, 2, 3, 4}, epc12}
	if !rfidtest.SameTags(got, want) {
		t.Fatalf("reads % X, want % X", got, want)
	}
	st := s.Stats()
	if st.Frames != 5 || st.Reads != 3 || st.Errors != 1 || st.BadFrames != 0 || st.SkippedBytes != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestSessionEmulatorLoop(t *testing.T) {
	var tags [][]byte
	for i := range 7 {
		tags = append(tags, []byte{0x30, 0x00, byte(i), 0xAA, 0xBB, byte(i * 3), 0, 0, 0, 0, 0, byte(i)})
	}
	tags = append(tags, bytes.Repeat([]byte{0x77}, MaxEPC))
	e, err := NewEmulator(tags)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSession(rfid.Options{Power: 20, Region: "eu"})
	if err != nil {
		t.Fatal(err)
	}
	if st := rfidtest.Connect(t, s, e); st.Frames != 2 || st.Errors != 0 {
		t.Fatalf("after open: %+v", st)
	}
	info := e.Info()
	if band, maxN, minN := DecodeRegion(info.MaxFre, info.MinFre); info.Power != 20 || band != BandEU || maxN != 14 || minN != 0 {
		t.Fatalf("emulator settings %+v: band %d %d..%d", info, band, minN, maxN)
	}
	e2, _ := NewEmulator(tags)
	if moreData := bytes.Count(e2.Handle(s.Poll()), []byte{CmdInventory, StatusMoreData}); moreData < 2 {
		t.Fatalf("%d more-data frames, want at least 2 for %d tags", moreData, len(tags))
	}
	for poll := range 3 {
		got := rfidtest.Tags(rfidtest.Round(t, s, e, true, 1)) // one byte at a time
		if !rfidtest.SameTags(got, tags) {
			t.Fatalf("poll %d: reads % X, want % X", poll, got, tags)
		}
	}
	if st := s.Stats(); st.Reads != uint64(3*len(tags)) || st.BadFrames != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestEmulatorNoTag(t *testing.T) {
	e, err := NewEmulator(nil)
	if err != nil {
		t.Fatal(err)
	}
	s := newTestSession(t)
	s.Feed(e.Handle(s.Poll()), func(r rfid.Read) { t.Fatalf("read % X from an empty field", r.Tag) })
	if st := s.Stats(); st.Frames != 1 || st.Errors != 1 || st.Reads != 0 {
		t.Fatalf("stats %+v, want one no-tag error", st)
	}
}

func TestEmulatorCommands(t *testing.T) {
	e, err := NewEmulator(nil)
	if err != nil {
		t.Fatal(err)
	}
	answer := func(cmd []byte) (status byte, data []byte) {
		t.Helper()
		d := NewResponseDecoder()
		n := 0
		d.Feed(e.Handle(cmd), func(f Frame) {
			n++
			status, data = f.Payload[0], append([]byte(nil), f.Payload[1:]...)
		})
		if n != 1 {
			t.Fatalf("command % X: %d answers, want 1", cmd, n)
		}
		return status, data
	}
	if st, _ := answer(AppendSetScanTime(nil, 0x00, 5)); st != StatusOK {
		t.Fatalf("set scan time: status %#x", st)
	}
	if st, _ := answer(AppendSetPower(nil, 0x00, 31)); st != StatusParamError {
		t.Fatalf("set power 31: status %#x, want parameter error", st)
	}
	if st, _ := answer(AppendSetRegion(nil, 0x00, 0x3F, 0x80)); st != StatusParamError {
		t.Fatalf("set region US channel 63: status %#x, want parameter error", st)
	}
	if st, _ := answer(AppendCommand(nil, 0x00, 0x77)); st != StatusIllegalCommand {
		t.Fatalf("unknown command: status %#x, want illegal command", st)
	}
	st, data := answer(AppendGetReaderInfo(nil, 0x00))
	ri, err := ParseReaderInfo(data)
	if st != StatusOK || err != nil || ri.ScanTime != 5 || ri.Power != MaxPower {
		t.Fatalf("reader info: status %#x %+v %v", st, ri, err)
	}
	if out := e.Handle(AppendInventory(nil, 0x07)); out != nil {
		t.Fatalf("answered a command for another address: % X", out)
	}
	if e.Tick() != nil || e.TickInterval() != 0 {
		t.Fatal("emulator streams unprompted")
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []rfid.Options{
		{Power: 31}, {Power: -1}, {Region: "mars"}, {PollInterval: -time.Second},
	} {
		_, err := NewSession(o)
		if err == nil || !strings.HasPrefix(err.Error(), "chafon: ") {
			t.Errorf("options %+v: error %v, want a chafon error", o, err)
		}
	}
	s, err := NewSession(rfid.Options{PollInterval: time.Second})
	if err != nil || s.PollInterval() != time.Second || s.Open() != nil {
		t.Fatalf("session %v, %v", s, err)
	}
	if _, err := NewEmulator([][]byte{{}}); err == nil {
		t.Fatal("emulator accepted an empty EPC")
	}
}

func TestRegistered(t *testing.T) {
	p, err := rfid.Lookup(Name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.NewSession(rfid.Options{})
	if err != nil || s.PollInterval() != DefaultPollInterval || p.DefaultBaud != 57600 {
		t.Fatalf("registered session %v, %v", s, err)
	}
	if _, err := p.NewEmulator([][]byte{epc12}); err != nil {
		t.Fatal(err)
	}
}

func TestRegionCodes(t *testing.T) {
	for band := byte(0); band <= BandEU; band++ {
		mx, mn, err := EncodeRegion(band, bandChannels[band], 1)
		if err != nil {
			t.Fatal(err)
		}
		if b, maxN, minN := DecodeRegion(mx, mn); b != band || maxN != bandChannels[band] || minN != 1 {
			t.Fatalf("band %d: round trip gave %d %d..%d", band, b, minN, maxN)
		}
	}
	if _, _, err := EncodeRegion(5, 0, 0); err == nil {
		t.Fatal("band 5 accepted")
	}
}

// TestPollWaitsForMoreData: while an inventory's "more data" frames are
// still coming, Poll holds back rather than talk over the reader.
func TestPollWaitsForMoreData(t *testing.T) {
	s, err := NewSession(rfid.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1000, 0)
	s.now = func() time.Time { return now }
	if s.Poll() == nil {
		t.Fatal("no poll at start")
	}
	tag := []byte{0xE2, 0, 0, 0x17, 0x22, 0x11, 0x01, 0x44, 0x18, 0x90, 0xAB, 0xCD}
	s.Feed(AppendInventoryResponse(nil, 0x00, StatusMoreData, [][]byte{tag}), func(rfid.Read) {})
	if s.Poll() != nil {
		t.Fatal("poll sent while more data is coming")
	}
	now = now.Add(moreDataWait + time.Millisecond)
	if s.Poll() == nil {
		t.Fatal("poll still held after the wait for the last frame")
	}
	s.Feed(AppendInventoryResponse(nil, 0x00, StatusMoreData, [][]byte{tag}), func(rfid.Read) {})
	s.Feed(AppendInventoryResponse(nil, 0x00, StatusInventoryDone, [][]byte{tag}), func(rfid.Read) {})
	if s.Poll() == nil {
		t.Fatal("poll held after the inventory finished")
	}
}
