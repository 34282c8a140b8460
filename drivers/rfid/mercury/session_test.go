package mercury

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/drivers/rfid/rfidtest"
)

var startReading = []byte{
	0xFF, 0x10, 0x2F, 0x00, 0x00, 0x01, 0x22, 0x00, 0x00, 0x05, 0x07, // multi-protocol, continuous, Gen2
	0x22, 0x10, 0x00, 0x1B, 0x03, 0xE8, 0x01, 0xFF, // embedded read tag multiple with metadata
	0xDD, 0x2B, // CRC
}

var streamedTag = []byte{
	0xFF, 0x28, 0x22, 0x00, 0x00, // header, Len, opcode, status OK
	0x10, 0x00, 0x1B, 0x01, 0xFF, 0x01, // option, search flags, metadata flags, response type
	0x01, 0xC4, 0x11, 0x0E, 0x16, 0x40, 0x00, 0x00, 0x01, 0x27, 0x00, 0x00, 0x05, 0x00, 0x00, 0x0F, // metadata
	0x00, 0x80, 0x30, 0x00, // EPC bits, PC
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x15, 0x45, // EPC
	0xE9, 0x4A, 0x56, 0x1D, // tag CRC, CRC
}

// recorded: open with region EU3 and 27 dBm, a tag streams, a keep-alive;
// then the periodic restart, answered by the module, and the tag again.
var recorded = []rfidtest.Exchange{
	{
		W: append([]byte{
			0xFF, 0x02, 0x93, 0x00, 0x05, 0x51, 0x7D, // set tag protocol Gen2
			0xFF, 0x02, 0x91, 0x01, 0x01, 0x70, 0x3B, // set antenna port 1/1
			0xFF, 0x01, 0x97, 0x08, 0x4B, 0xB5, // set region EU3
			0xFF, 0x02, 0x92, 0x0A, 0x8C, 0x4B, 0xD5, // set read power 27.00 dBm
		}, startReading...),
		R: append(append([]byte{
			0xFF, 0x00, 0x93, 0x00, 0x00, 0x37, 0x1A, // set tag protocol: OK
			0xFF, 0x00, 0x91, 0x00, 0x00, 0x17, 0x58, // set antenna port: OK
			0xFF, 0x00, 0x97, 0x00, 0x00, 0x77, 0x9E, // set region: OK
			0xFF, 0x00, 0x92, 0x00, 0x00, 0x27, 0x3B, // set power: OK
			0xFF, 0x00, 0x2F, 0x00, 0x00, 0x51, 0x4D, // start: OK
		}, streamedTag...),
			0xFF, 0x00, 0x22, 0x04, 0x00, 0x84, 0xE0), // keep-alive: no tags found
	},
	{
		Poll: true,
		W:    startReading,
		R:    append([]byte{0xFF, 0x00, 0x2F, 0x00, 0x00, 0x51, 0x4D}, streamedTag...),
	},
}

func TestPlayback(t *testing.T) {
	s, err := NewSession(rfid.Options{Region: "eu", Power: 27})
	if err != nil {
		t.Fatal(err)
	}
	p := &rfidtest.Playback{Ops: recorded, Chunk: 5}
	got := p.Run(t, s)
	if len(got) != 2 {
		t.Fatalf("%d reads, want 2", len(got))
	}
	for _, r := range got {
		if !bytes.Equal(r.Tag, sparkfunEPC) || r.RSSI != -60 || !r.HasRSSI || r.Antenna != 1 || r.PC != 0x3000 {
			t.Fatalf("read %+v", r)
		}
	}
	if st := s.Stats(); st.Frames != 9 || st.Reads != 2 || st.Errors != 0 || st.BadFrames != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestSessionEmulatorLoop(t *testing.T) {
	tags := [][]byte{
		{0x30, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01},
		{0xE2, 0x80, 0x11, 0x60},
		bytes.Repeat([]byte{0x77}, 62),
	}
	e, err := NewEmulator(tags)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSession(rfid.Options{Region: "kr", Power: 20.5})
	if err != nil {
		t.Fatal(err)
	}
	if e.Tick() != nil {
		t.Fatal("emulator streams before being started")
	}
	rfidtest.Connect(t, s, e)
	if e.Region() != RegionKR2 || e.Power() != 2050 || !e.Reading() {
		t.Fatalf("emulator region %#x power %d reading %v", e.Region(), e.Power(), e.Reading())
	}
	for tick := range 3 {
		if tick == 1 { // the periodic restart is idempotent
			if out := s.Feed(e.Handle(s.Poll()), nil); out != nil || !e.Reading() {
				t.Fatalf("restart: %v, reading %v", out, e.Reading())
			}
		}
		reads := rfidtest.Round(t, s, e, false, 1) // one byte at a time
		for _, r := range reads {
			if !r.HasRSSI || r.RSSI > -45 || r.Antenna != 1 || int(r.PC>>11)*2 != len(r.Tag) {
				t.Fatalf("read %+v", r)
			}
		}
		got := rfidtest.Tags(reads)
		if !rfidtest.SameTags(got, tags) {
			t.Fatalf("tick %d: reads % X, want % X", tick, got, tags)
		}
	}
	if st := s.Stats(); st.Reads != 9 || st.Errors != 0 || st.BadFrames != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestTagBufferLoop drives the read-multiple path: Feed answers a tag count
// with Get Tag Buffer, and the buffer's records become reads.
func TestTagBufferLoop(t *testing.T) {
	tags := [][]byte{{0x01, 0x02}, {0x03, 0x04, 0x05, 0x06}}
	e, err := NewEmulator(tags)
	if err != nil {
		t.Fatal(err)
	}
	s := newTestSession(t)
	var got [][]byte
	emit := func(r rfid.Read) { got = append(got, append([]byte(nil), r.Tag...)) }
	follow := s.Feed(e.Handle(AppendReadTagMultiple(nil, 500)), emit)
	if !bytes.Equal(follow, AppendGetTagBuffer(nil, DefaultMetadata)) {
		t.Fatalf("Feed returned % X, want get tag buffer", follow)
	}
	if back := s.Feed(e.Handle(follow), emit); back != nil {
		t.Fatalf("Feed returned % X after the buffer", back)
	}
	if !rfidtest.SameTags(got, tags) {
		t.Fatalf("reads % X, want % X", got, tags)
	}
	s.Feed(e.Handle(AppendClearTagBuffer(nil)), emit)
	if st := s.Stats(); st.Frames != 3 || st.Errors != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestEmulatorNoTag(t *testing.T) {
	e, err := NewEmulator(nil)
	if err != nil {
		t.Fatal(err)
	}
	s := newTestSession(t)
	noRead := func(r rfid.Read) { t.Fatalf("read % X from an empty field", r.Tag) }
	s.Feed(e.Handle(s.Open()), noRead)
	s.Feed(e.Tick(), noRead)
	if back := s.Feed(e.Handle(AppendReadTagMultiple(nil, 100)), noRead); back != nil {
		t.Fatalf("asked for the tag buffer of an empty field: % X", back)
	}
	if st := s.Stats(); st.Frames != 5 || st.Errors != 0 {
		t.Fatalf("stats %+v: no tags found is not an error", st)
	}
}

func TestEmulatorCommands(t *testing.T) {
	e, err := NewEmulator(nil)
	if err != nil {
		t.Fatal(err)
	}
	answer := func(cmd []byte) Frame {
		t.Helper()
		var got []Frame
		NewResponseDecoder().Feed(e.Handle(cmd), func(f Frame) {
			f.Data = append([]byte(nil), f.Data...)
			got = append(got, f)
		})
		if len(got) != 1 || got[0].Opcode != cmd[2] {
			t.Fatalf("command % X: answers %+v", cmd, got)
		}
		return got[0]
	}
	if f := answer(AppendGetVersion(nil)); f.Status != StatusOK || len(f.Data) != 20 {
		t.Fatalf("version: %+v", f)
	}
	if f := answer(AppendSetRegion(nil, 0x42)); f.Status != StatusInvalidParam {
		t.Fatalf("bad region: %+v", f)
	}
	answer(AppendSetRegion(nil, RegionPRC))
	if f := answer(AppendGetRegion(nil)); f.Status != StatusOK || !bytes.Equal(f.Data, []byte{RegionPRC}) {
		t.Fatalf("get region: %+v", f)
	}
	if f := answer(AppendSetReadPower(nil, 3200)); f.Status != StatusPowerTooHigh {
		t.Fatalf("power 32 dBm: %+v", f)
	}
	if f := answer(AppendCommand(nil, OpGetReadTxPower, 0)); !bytes.Equal(f.Data, []byte{0, 0x0A, 0x8C}) {
		t.Fatalf("get power: %+v", f)
	}
	if f := answer(AppendSetAntennaPort(nil, 2, 2)); f.Status != StatusInvalidParam {
		t.Fatalf("antenna port 2 on a single-port module: %+v", f)
	}
	if f := answer(AppendCommand(nil, 0x55)); f.Status != StatusInvalidOpcode {
		t.Fatalf("unknown opcode: %+v", f)
	}
	answer(AppendStartReading(nil, MetaRSSI))
	answer(AppendStopReading(nil))
	if e.Reading() || e.Tick() != nil {
		t.Fatal("still reading after stop")
	}
	if f := answer(AppendStartReading(nil, 0x8000)); f.Status != StatusInvalidParam {
		t.Fatalf("unknown metadata flag: %+v", f)
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []rfid.Options{
		{Power: 32}, {Power: -1}, {Region: "mars"}, {PollInterval: -time.Second},
	} {
		if _, err := NewSession(o); err == nil || !strings.HasPrefix(err.Error(), "mercury: ") {
			t.Errorf("options %+v: error %v, want a mercury error", o, err)
		}
	}
	s, err := NewSession(rfid.Options{PollInterval: time.Second})
	if err != nil || s.PollInterval() != time.Second || !bytes.HasSuffix(s.Open(), startReading) ||
		!bytes.HasPrefix(s.Open(), []byte{0xFF, 0x02, 0x93, 0x00, 0x05, 0x51, 0x7D, 0xFF, 0x02, 0x91, 0x01, 0x01, 0x70, 0x3B}) || !bytes.Equal(s.Poll(), startReading) {
		t.Fatalf("session %v, %v", s, err)
	}
	for _, bad := range [][]byte{{1}, {1, 2, 3}, make([]byte, 64)} {
		if _, err := NewEmulator([][]byte{bad}); err == nil {
			t.Errorf("emulator accepted a %d-byte EPC", len(bad))
		}
	}
}

func TestRegistered(t *testing.T) {
	p, err := rfid.Lookup(Name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.NewSession(rfid.Options{})
	if err != nil || s.PollInterval() != DefaultPollInterval || p.DefaultBaud != 115200 {
		t.Fatalf("registered session %v, %v", s, err)
	}
	em, err := p.NewEmulator([][]byte{{1, 2}})
	if err != nil || em.TickInterval() != TickInterval {
		t.Fatal(err)
	}
}
