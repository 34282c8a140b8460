package em4100

import (
	"fmt"
	"testing"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/drivers/rfid/rfidtest"
)

// rdm6300Session is an RDM6300 clone's output while a fob (the frame of the
// forum example) is held to it, then another card, with the clone's CR/LF
// between frames and a frame broken by the card leaving the field. The
// reader never reads what the host writes, so every write is empty.
var rdm6300Session = []rfidtest.Exchange{
	{R: []byte{
		0x02, '1', '0', '0', '0', '8', '6', 'F', '4', '4', '4', '2', '6', 0x03, // STX, card 10 0086F444, checksum 26, ETX
		'\r', '\n', // clone filler
		0x02, '1', '0', '0', '0', // STX and the first digits of the repeat
	}},
	{R: []byte{
		'8', '6', 'F', '4', '4', '4', '2', '6', 0x03, // rest of the repeat: card ID, checksum, ETX
		'\r', '\n', // clone filler
		0x02, '1', '0', '0', // STX and a frame cut when the card left the field
	}},
	{R: []byte{
		0x02, '0', 'a', 'b', 'c', 'd', 'e', 'f', '0', '1', '2', '8', 'a', 0x03, // STX, card 0A BCDEF012 (lower case), checksum 8a, ETX
		'\r', '\n', // clone filler
	}},
}

func TestPlayback(t *testing.T) {
	s, err := NewSession(rfid.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range (&rfidtest.Playback{Ops: rdm6300Session}).Run(t, s) {
		got = append(got, fmt.Sprintf("%X", r.Tag))
	}
	want := []string{"100086F444", "100086F444", "0ABCDEF012"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("reads %v, want %v", got, want)
	}
	// The cut frame is one bad frame; its STX and 3 digits are skipped.
	st := s.Stats()
	if st.Frames != 3 || st.Reads != 3 || st.BadFrames != 1 || st.SkippedBytes != 4 || st.Errors != 0 {
		t.Fatalf("stats %+v", st)
	}
	if s.Poll() != nil || s.PollInterval() != 0 {
		t.Fatal("an EM4100 session must not poll")
	}
}

func TestSessionEmulatorLoop(t *testing.T) {
	p, err := rfid.Lookup(Name)
	if err != nil {
		t.Fatal(err)
	}
	tags := [][]byte{{0x10, 0x00, 0x86, 0xF4, 0x44}, {0x01, 0x23, 0x45, 0x67, 0x89}, {0xAB, 0xCD, 0xEF, 0x01, 0x02}}
	em, err := p.NewEmulator(tags)
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.NewSession(rfid.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if em.TickInterval() != RepeatInterval {
		t.Fatalf("tick interval %v", em.TickInterval())
	}
	rfidtest.Connect(t, s, em)
	var got []string
	for i := 0; i < 2*len(tags); i++ {
		for _, r := range rfidtest.Round(t, s, em, false, 0) {
			got = append(got, fmt.Sprintf("%X", r.Tag))
			if r.HasRSSI || r.PC != 0 || r.Antenna != 0 {
				t.Errorf("unexpected fields in %+v", r)
			}
		}
	}
	var want []string
	for i := 0; i < 2*len(tags); i++ {
		want = append(want, fmt.Sprintf("%X", tags[i%len(tags)]))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("reads %v, want %v", got, want)
	}
	if st := s.Stats(); st.Reads != uint64(len(want)) || st.BadFrames != 0 || st.SkippedBytes != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestOptionsAndTags(t *testing.T) {
	for _, o := range []rfid.Options{{Power: 20}, {Region: "eu"}} {
		if _, err := NewSession(o); err == nil {
			t.Errorf("NewSession(%+v) accepted an option EM4100 readers lack", o)
		}
	}
	if _, err := NewSession(rfid.Options{PollInterval: 1}); err != nil {
		t.Errorf("PollInterval should be ignored: %v", err)
	}
	if _, err := NewEmulator([][]byte{{1, 2, 3}}); err == nil {
		t.Error("NewEmulator accepted a 3-byte tag")
	}
	e, err := NewEmulator(nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.Tick() != nil {
		t.Error("an emulator with no card sent a frame")
	}
}

func TestSessionFeedAllocs(t *testing.T) {
	s, _ := NewSession(rfid.Options{})
	in := rdm6300Session[2].R
	n := 0
	emit := func(r rfid.Read) { n++ }
	if a := testing.AllocsPerRun(100, func() { s.Feed(in, emit) }); a != 0 {
		t.Fatalf("Session.Feed allocates %.1f times per run", a)
	}
	if n == 0 {
		t.Fatal("no reads")
	}
}
