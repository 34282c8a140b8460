package magicrf

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/drivers/rfid/rfidtest"
)

func frameByName(t testing.TB, name string) []byte {
	for _, fc := range frames {
		if fc.name == name {
			return fc.raw
		}
	}
	t.Fatalf("no frame %q", name)
	return nil
}

// TestNoticeReads: every tag notice of the table, with or without the
// antenna byte, gives one read with its tag, PC, RSSI and antenna through a
// session, and no bad frame.
func TestNoticeReads(t *testing.T) {
	for _, c := range []struct {
		name     string
		tag      []byte
		pc       uint16
		rssi     int
		antenna  int
		withAnts bool
	}{
		{"tag notice", noticeEPC, 0x3400, -55, 0, false},
		{"tag notice with antenna byte", noticeEPC, 0x3400, -55, 2, true},
		{"tag notice with antenna byte, 2-word EPC", []byte{0xDE, 0xAD, 0xBE, 0xEF}, 0x1000, -70, 1, true},
	} {
		s, err := NewSession(rfid.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var got []rfid.Read
		s.Feed(frameByName(t, c.name), func(r rfid.Read) {
			r.Tag = bytes.Clone(r.Tag)
			got = append(got, r)
		})
		want := rfid.Read{Tag: c.tag, PC: c.pc, RSSI: c.rssi, HasRSSI: true, Antenna: c.antenna}
		if len(got) != 1 || fmt.Sprint(got[0]) != fmt.Sprint(want) {
			t.Errorf("%s: reads %+v, want %+v", c.name, got, want)
		}
		if st := s.Stats(); st.Frames != 1 || st.BadFrames != 0 || st.Reads != 1 {
			t.Errorf("%s: stats %+v", c.name, st)
		}
	}
}

// TestBadAntennaNotice: the parameter length allows the antenna byte and
// nothing more, and the tag CRC is still checked before it.
func TestBadAntennaNotice(t *testing.T) {
	good, err := AppendTagNoticeAntenna(nil, -60, 0, noticeEPC, 3)
	if err != nil {
		t.Fatal(err)
	}
	params := good[5 : len(good)-2]
	twoExtra := AppendFrame(nil, TypeNotice, CmdSinglePoll, append(bytes.Clone(params), 0x04))
	badCRC := bytes.Clone(params)
	badCRC[len(badCRC)-2] ^= 0x01 // tag CRC low byte, before the antenna
	oneShort := params[:len(params)-2]
	s, _ := NewSession(rfid.Options{})
	var ants []int
	in := append(append(twoExtra, AppendFrame(nil, TypeNotice, CmdSinglePoll, badCRC)...),
		AppendFrame(nil, TypeNotice, CmdSinglePoll, oneShort)...)
	in = append(in, good...)
	s.Feed(in, func(r rfid.Read) { ants = append(ants, r.Antenna) })
	if fmt.Sprint(ants) != "[3]" {
		t.Fatalf("antennas of the reads %v, want [3]", ants)
	}
	if st := s.Stats(); st.BadFrames != 3 || st.Frames != 1 || st.Reads != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// antennaStream mixes notices with and without the antenna byte, a no-tag
// answer, garbage, a notice with a bad checksum and a truncated one.
func antennaStream(t testing.TB) ([]byte, []string) {
	plain := frameByName(t, "tag notice")
	ant2 := frameByName(t, "tag notice with antenna byte")
	ant1 := frameByName(t, "tag notice with antenna byte, 2-word EPC")
	corrupt := bytes.Clone(ant2)
	corrupt[len(corrupt)-2]++ // checksum
	var s []byte
	s = append(s, 0x7E, 0xBB, 0x02) // garbage, a header with nothing after it
	s = append(s, ant2...)
	s = append(s, plain...)
	s = append(s, corrupt...)
	s = append(s, ant1[:9]...) // truncated
	s = append(s, AppendError(nil, ErrNoTag)...)
	s = append(s, ant1...)
	s = append(s, ant2...)
	s = append(s, ant2...)
	full := fmt.Sprintf("%X", noticeEPC)
	want := []string{full + "/2/-55", full + "/0/-55", "DEADBEEF/1/-70", full + "/2/-55", full + "/2/-55"}
	return s, want
}

type antennaResult struct {
	Reads []string
	Stats rfid.Stats
}

func feedAntenna(chunks ...[]byte) antennaResult {
	s, err := NewSession(rfid.Options{})
	if err != nil {
		panic(err)
	}
	var got []string
	for _, c := range chunks {
		s.Feed(c, func(r rfid.Read) { got = append(got, fmt.Sprintf("%X/%d/%d", r.Tag, r.Antenna, r.RSSI)) })
	}
	return antennaResult{got, s.Stats()}
}

func TestAntennaStreamEverySplit(t *testing.T) {
	data, want := antennaStream(t)
	whole := feedAntenna(data)
	if fmt.Sprint(whole.Reads) != fmt.Sprint(want) {
		t.Fatalf("whole stream:\ngot  %v\nwant %v", whole.Reads, want)
	}
	if st := whole.Stats; st.BadFrames == 0 || st.SkippedBytes == 0 || st.Errors != 1 || st.Reads != uint64(len(want)) {
		t.Fatalf("whole stream: stats %+v", st)
	}
	rfidtest.EverySplit(t, data, whole, feedAntenna)
	rfidtest.ByteByByte(t, data, whole, feedAntenna)
	rfidtest.ThreeWaySplits(t, data, whole, 2, 5, feedAntenna)
}

func TestAntennaNoticeAllocs(t *testing.T) {
	data, _ := antennaStream(t)
	s, _ := NewSession(rfid.Options{})
	emit := func(rfid.Read) {}
	if a := testing.AllocsPerRun(100, func() { s.Feed(data, emit) }); a != 0 {
		t.Fatalf("%v allocations per run, want 0", a)
	}
}
