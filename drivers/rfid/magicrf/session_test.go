package magicrf

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/drivers/rfid/rfidtest"
)

// yrm100Session is the exchange of a session opened with region "eu" and
// 20 dBm against a module with the manual's tag in its field: the module
// acknowledges the settings, streams notices (split across reads as a UART
// delivers them), then after a power cut answers "no tag" until the tag
// returns.
var yrm100Session = []rfidtest.Exchange{
	{
		W: []byte{
			0xBB, 0x00, 0x07, 0x00, 0x01, 0x03, 0x0B, 0x7E, // set region: Europe
			0xBB, 0x00, 0xB6, 0x00, 0x02, 0x07, 0xD0, 0x8F, 0x7E, // set power: 20.00 dBm
			0xBB, 0x00, 0x27, 0x00, 0x03, 0x22, 0xFF, 0xFF, 0x4A, 0x7E, // multi-poll: 65535 rounds
		},
		R: []byte{
			0xBB, 0x01, 0x07, 0x00, 0x01, 0x00, 0x09, 0x7E, // region response: success
			0xBB, 0x01, 0xB6, 0x00, 0x01, 0x00, 0xB8, 0x7E, // power response: success
			0xBB, 0x02, 0x22, 0x00, 0x11, 0xC9, 0x34, 0x00, // notice: header, type, cmd, PL 17, RSSI -55, PC
		},
	},
	{
		R: []byte{
			0x30, 0x75, 0x1F, 0xEB, 0x70, 0x5C, 0x59, 0x04, 0xE3, 0xD5, 0x0D, 0x70, // EPC
			0x3A, 0x76, 0xEF, 0x7E, // tag CRC, CS, end
			0x00, 0x00, // noise while the power was cut
		},
	},
	{
		Poll: true,
		W: []byte{
			0xBB, 0x00, 0x27, 0x00, 0x03, 0x22, 0xFF, 0xFF, 0x4A, 0x7E, // multi-poll again
		},
		R: []byte{
			0xBB, 0x01, 0xFF, 0x00, 0x01, 0x15, 0x16, 0x7E, // no tag
		},
	},
	{
		Poll: true,
		W: []byte{
			0xBB, 0x00, 0x27, 0x00, 0x03, 0x22, 0xFF, 0xFF, 0x4A, 0x7E, // multi-poll again
		},
		R: []byte{
			0xBB, 0x02, 0x22, 0x00, 0x11, 0xC9, 0x34, 0x00, // notice: header .. PC
			0x30, 0x75, 0x1F, 0xEB, 0x70, 0x5C, 0x59, 0x04, 0xE3, 0xD5, 0x0D, 0x70, // EPC
			0x3A, 0x76, 0xEF, 0x7E, // tag CRC, CS, end
		},
	},
}

func TestPlayback(t *testing.T) {
	s, err := NewSession(rfid.Options{Region: "eu", Power: 20})
	if err != nil {
		t.Fatal(err)
	}
	if s.PollInterval() != DefaultPollInterval {
		t.Fatalf("poll interval %v", s.PollInterval())
	}
	got := (&rfidtest.Playback{Ops: yrm100Session}).Run(t, s)
	if len(got) != 2 {
		t.Fatalf("%d reads, want 2", len(got))
	}
	for _, r := range got {
		if !bytes.Equal(r.Tag, noticeEPC) || r.PC != 0x3400 || r.RSSI != -55 || !r.HasRSSI || r.Antenna != 0 {
			t.Fatalf("read %+v", r)
		}
	}
	st := s.Stats()
	want := rfid.Stats{Frames: 5, Reads: 2, SkippedBytes: 2, Errors: 1}
	if st != want {
		t.Fatalf("stats %+v, want %+v", st, want)
	}
}

func TestBadNotice(t *testing.T) {
	s, _ := NewSession(rfid.Options{})
	good, _ := AppendTagNotice(nil, -60, 0, noticeEPC)
	// Same notice with the tag CRC broken and the frame checksum fixed up.
	p := append([]byte(nil), good[5:len(good)-2]...)
	p[len(p)-1] ^= 0x01
	badCRC := AppendFrame(nil, TypeNotice, CmdSinglePoll, p)
	// A notice whose PC announces more words than it carries.
	p2 := append([]byte(nil), good[5:len(good)-2]...)
	p2[1] = 0x3C
	badLen := AppendFrame(nil, TypeNotice, CmdSinglePoll, p2)
	n := 0
	s.Feed(append(append(badCRC, badLen...), good...), func(rfid.Read) { n++ })
	if n != 1 {
		t.Fatalf("%d reads, want 1", n)
	}
	if st := s.Stats(); st.BadFrames != 2 || st.Frames != 1 || st.Reads != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestSessionEmulatorLoop(t *testing.T) {
	p, err := rfid.Lookup(Name)
	if err != nil {
		t.Fatal(err)
	}
	tags := [][]byte{noticeEPC, {0xE2, 0x00, 0x00, 0x17}, {}}
	em, err := p.NewEmulator(tags)
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.NewSession(rfid.Options{Region: "us", Power: 26, PollInterval: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if s.PollInterval() != 500*time.Millisecond {
		t.Fatalf("poll interval %v", s.PollInterval())
	}
	var got []string
	emit := func(r rfid.Read) { got = append(got, fmt.Sprintf("%X/%d", r.Tag, r.RSSI)) }
	s.Feed(em.Handle(s.Open()), emit)
	e := em.(*Emulator)
	if e.Region() != RegionUS || e.Power() != 2600 {
		t.Fatalf("emulator region %d power %d", e.Region(), e.Power())
	}
	for i := 0; i < 3; i++ {
		for _, r := range rfidtest.Round(t, s, em, false, 0) {
			emit(r)
		}
	}
	want := []string{}
	for i := 0; i < 3; i++ {
		want = append(want, fmt.Sprintf("%X/-40", noticeEPC), "E2000017/-41", "/-42")
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("reads %v, want %v", got, want)
	}
	// Stop: the emulator acknowledges and ticks stay silent.
	s.Feed(em.Handle(StopMultiPoll()), emit)
	if out := em.Tick(); out != nil {
		t.Fatalf("tick after stop sent % X", out)
	}
	// A single poll: one notice per tag, then the response.
	got = nil
	s.Feed(em.Handle(SinglePoll()), emit)
	if len(got) != 3 {
		t.Fatalf("single poll gave %v", got)
	}
	// Info, power, an unknown command.
	var frames []string
	var d Decoder
	d.Feed(em.Handle(append(append(AppendGetInfo(nil, InfoManufacturer), GetPower()...), AppendFrame(nil, TypeCommand, 0x55, nil)...)),
		func(f Frame) { frames = append(frames, show(f)) })
	wantFrames := []string{
		show(Frame{Type: TypeResponse, Cmd: CmdInfo, Params: append([]byte{InfoManufacturer}, EmulatorManufacturer...)}),
		show(Frame{Type: TypeResponse, Cmd: CmdGetPower, Params: []byte{0x0A, 0x28}}),
		show(Frame{Type: TypeResponse, Cmd: CmdError, Params: []byte{ErrCommand}}),
	}
	if fmt.Sprint(frames) != fmt.Sprint(wantFrames) {
		t.Fatalf("answers %v, want %v", frames, wantFrames)
	}
	if st := s.Stats(); st.BadFrames != 0 || st.SkippedBytes != 0 || st.Reads != 12 || st.Errors != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestEmulatorNoTag(t *testing.T) {
	em, err := NewEmulator(nil)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := NewSession(rfid.Options{})
	n := 0
	s.Feed(em.Handle(s.Open()), func(rfid.Read) { n++ })
	s.Feed(em.Handle(SinglePoll()), func(rfid.Read) { n++ })
	if em.Tick() != nil {
		t.Fatal("tick with no tags sent data")
	}
	if st := s.Stats(); n != 0 || st.Errors != 2 {
		t.Fatalf("%d reads, stats %+v; want 0 reads and 2 no-tag errors", n, st)
	}
}

func TestMultiPollCountRunsOut(t *testing.T) {
	em, _ := NewEmulator([][]byte{noticeEPC})
	em.Handle(AppendMultiPoll(nil, 2))
	if em.Tick() == nil || em.Tick() == nil {
		t.Fatal("two rounds asked, fewer reported")
	}
	if em.Tick() != nil {
		t.Fatal("a third round reported")
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []rfid.Options{{Region: "jp"}, {Power: -1}, {Power: 40}, {PollInterval: -time.Second}} {
		if _, err := NewSession(o); err == nil {
			t.Errorf("NewSession(%+v) accepted", o)
		}
	}
	for _, r := range []string{"cn", "cn900", "cn800", "us", "eu", "kr"} {
		if _, err := NewSession(rfid.Options{Region: r}); err != nil {
			t.Errorf("region %q: %v", r, err)
		}
	}
	s, _ := NewSession(rfid.Options{})
	if !bytes.Equal(s.Open(), AppendMultiPoll(nil, MultiPollCount)) {
		t.Fatalf("open without options sends % X", s.Open())
	}
	for _, bad := range [][]byte{{1}, make([]byte, 64)} {
		if _, err := NewEmulator([][]byte{bad}); err == nil {
			t.Errorf("emulator accepted a %d-byte EPC", len(bad))
		}
	}
}

func TestSessionFeedAllocs(t *testing.T) {
	s, _ := NewSession(rfid.Options{})
	in := yrm100Session[3].R
	n := 0
	emit := func(rfid.Read) { n++ }
	if a := testing.AllocsPerRun(100, func() { s.Feed(in, emit) }); a != 0 {
		t.Fatalf("Session.Feed allocates %.1f times per run", a)
	}
	if n == 0 {
		t.Fatal("no reads")
	}
}
