package emulate

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
	_ "github.com/ngic/ngic/drivers/rfid/all"
	"github.com/ngic/ngic/drivers/rfid/magicrf"
)

// host is a protocol's session talking to a Runner directly, without a
// port or a clock: what the runner answers and sends is fed to the session
// at once, and the session's replies are written back.
type host struct {
	t     *testing.T
	r     *Runner
	sess  rfid.Session
	reads []string // hex tags read since the last take
}

func newHost(t *testing.T, protocol string, tags [][]byte) *host {
	t.Helper()
	proto := mustLookup(t, protocol)
	r, err := New(proto, tags)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := proto.NewSession(rfid.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &host{t: t, r: r, sess: sess}
}

// write sends b to the reader and takes in its answer.
func (h *host) write(b []byte) {
	if len(b) > 0 {
		h.feed(h.r.handle(b, 0))
	}
}

// feed gives the session what the reader sent, writing back its reply.
func (h *host) feed(b []byte) {
	if len(b) == 0 {
		return
	}
	reply := h.sess.Feed(b, func(r rfid.Read) { h.reads = append(h.reads, fmt.Sprintf("%X", r.Tag)) })
	if st := h.sess.Stats(); st.BadFrames != 0 || st.SkippedBytes != 0 {
		h.t.Fatalf("the session decoded %+v: the reader's framing is broken", st)
	}
	h.write(append([]byte(nil), reply...))
}

// tick runs one of the reader's rounds and reports whether it sent
// anything.
func (h *host) tick() bool {
	b, _ := h.r.tick(nil)
	h.feed(b)
	return b != nil
}

// take returns the distinct tags read since the last take.
func (h *host) take() map[string]bool {
	got := map[string]bool{}
	for _, r := range h.reads {
		got[r] = true
	}
	h.reads = nil
	return got
}

// field returns n distinct tags of the size protocol takes, batch telling
// fields apart.
func field(protocol string, batch byte, n int) [][]byte {
	size := 12
	if protocol == "em4100" {
		size = 5
	}
	tags := make([][]byte, n)
	for i := range tags {
		tags[i] = bytes.Repeat([]byte{0xE2}, size)
		tags[i][size-2], tags[i][size-1] = batch, byte(i)
	}
	return tags
}

func hexSet(tags [][]byte) map[string]bool {
	m := map[string]bool{}
	for _, t := range tags {
		m[fmt.Sprintf("%X", t)] = true
	}
	return m
}

// TestSetTagsKeepsInventory: for every protocol, a host that opened the
// reader and reads its first field keeps reading when the field changes,
// without sending anything more to a reader that inventories on its own
// (a multi-poll, continuous reading, a streaming card reader): the rounds
// after the change report exactly the new tags, in frames the session
// decodes without a bad byte. A reader that only answers polls (chafon)
// is polled, as its host does.
func TestSetTagsKeepsInventory(t *testing.T) {
	for _, name := range rfid.Names() {
		t.Run(name, func(t *testing.T) {
			before, after := field(name, 1, 4), field(name, 2, 5)
			h := newHost(t, name, before)
			h.write(h.sess.Open())
			ticking := h.r.em.TickInterval() > 0
			round := func() {
				if !ticking {
					h.write(h.sess.Poll())
				} else if !h.tick() {
					t.Fatal("the reader's round sent nothing: its inventory stopped")
				}
			}
			read := func(want map[string]bool) {
				t.Helper()
				got := map[string]bool{}
				for range 2 * len(want) {
					round()
					for tag := range h.take() {
						if !want[tag] {
							t.Fatalf("read %s, not in the field %v", tag, want)
						}
						got[tag] = true
					}
				}
				if len(got) != len(want) {
					t.Fatalf("read %v, want all of %v", got, want)
				}
			}
			if !ticking {
				h.write(h.sess.Poll())
				h.take()
			}
			read(hexSet(before))
			if err := h.r.SetTags(after); err != nil {
				t.Fatal(err)
			}
			read(hexSet(after))
		})
	}
}

// magicrfTags is a field of n tags.
func magicrfTags(batch byte, n int) [][]byte { return field(magicrf.Name, batch, n) }

// TestSetTagsKeepsRoundsLeft: a multi-poll of three rounds, whose field
// changes after the first round, reports the new tags in its two other
// rounds and then stops: the change neither restarts its count nor ends
// it. A field that empties and refills does not restart it either.
func TestSetTagsKeepsRoundsLeft(t *testing.T) {
	before, after := magicrfTags(1, 2), magicrfTags(2, 3)
	h := newHost(t, magicrf.Name, before)
	h.write(magicrf.AppendMultiPoll(nil, 3))
	if !h.tick() || !equal(h.take(), hexSet(before)) {
		t.Fatal("round 1 did not report the first field")
	}
	if err := h.r.SetTags(after); err != nil {
		t.Fatal(err)
	}
	if !h.tick() || !equal(h.take(), hexSet(after)) {
		t.Fatal("round 2 did not report the new field")
	}
	if err := h.r.SetTags(nil); err != nil {
		t.Fatal(err)
	}
	if h.tick() {
		t.Fatal("an empty field sent a round")
	}
	if err := h.r.SetTags(after); err != nil {
		t.Fatal(err)
	}
	if !h.tick() || !equal(h.take(), hexSet(after)) {
		t.Fatal("round 3 did not report the refilled field")
	}
	if h.tick() {
		t.Fatalf("a fourth round of a three-round multi-poll: %v", h.take())
	}
}

// TestSetTagsKeepsSettingsAndHalfFrames: a power the host set stays set
// across a change of field, and a command whose first half was written
// before the change is answered once its second half arrives.
func TestSetTagsKeepsSettingsAndHalfFrames(t *testing.T) {
	r, err := New(mustLookup(t, magicrf.Name), magicrfTags(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.handle(magicrf.AppendSetPower(nil, 2000), 0), magicrf.AppendResponse(nil, magicrf.CmdSetPower, []byte{0x00}); !bytes.Equal(got, want) {
		t.Fatalf("set power: % X, want % X", got, want)
	}
	get := magicrf.AppendFrame(nil, magicrf.TypeCommand, magicrf.CmdGetPower, nil)
	if got := r.handle(get[:3], 0); got != nil {
		t.Fatalf("half a command answered: % X", got)
	}
	if err := r.SetTags(magicrfTags(2, 2)); err != nil {
		t.Fatal(err)
	}
	want := magicrf.AppendResponse(nil, magicrf.CmdGetPower, []byte{0x07, 0xD0}) // 20.00 dBm
	if got := r.handle(get[3:], 0); !bytes.Equal(got, want) {
		t.Fatalf("get power, its halves either side of the change: % X, want % X", got, want)
	}
}

func mustLookup(t testing.TB, name string) rfid.Protocol {
	t.Helper()
	p, err := rfid.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func equal(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// recorder is an emulator that records what it is given.
type recorder struct {
	in    []byte
	ticks int
}

func (r *recorder) Handle(in []byte) []byte     { r.in = append(r.in, in...); return nil }
func (r *recorder) Tick() []byte                { r.ticks++; return nil }
func (r *recorder) TickInterval() time.Duration { return time.Millisecond }

// TestJournalBounded: a host that writes and a reader that reports for
// long leave a journal that replays the host's opening bytes whole, then
// only its latest chunks, whole, within the bounds; rounds beyond them
// stop being counted.
func TestJournalBounded(t *testing.T) {
	var j journal
	j.ticked() // a streaming reader reports before the host writes
	open := bytes.Repeat([]byte{'o'}, journalHead-10)
	j.wrote(open)
	var last []byte
	for i := range 10000 {
		last = []byte(fmt.Sprintf("poll %d;", i))
		j.wrote(last)
		for range i % 3 {
			j.ticked()
		}
	}
	var rec recorder
	j.replay(&rec)
	if !bytes.HasPrefix(rec.in, open) {
		t.Fatalf("replay does not start with the opening bytes: %.40q", rec.in)
	}
	tail := rec.in[len(open):]
	if len(tail) > journalTail || !bytes.HasSuffix(tail, last) || !bytes.HasPrefix(tail, []byte("poll ")) {
		t.Fatalf("replay after the opening bytes is %d bytes, %.20q...%q; want at most %d, whole chunks, ending with %q",
			len(tail), tail, tail[max(0, len(tail)-20):], journalTail, last)
	}
	if rec.ticks > journalTicks || rec.ticks < journalTicks/2 {
		t.Fatalf("replayed %d rounds, want up to %d, most of them", rec.ticks, journalTicks)
	}

	// A reader that reports on and on after one command: its rounds stop
	// being counted at the bound.
	var k journal
	k.wrote([]byte("multi-poll"))
	for range 3 * journalTicks {
		k.ticked()
	}
	rec = recorder{}
	k.replay(&rec)
	if string(rec.in) != "multi-poll" || rec.ticks != journalTicks {
		t.Fatalf("replayed %q and %d rounds, want %q and %d", rec.in, rec.ticks, "multi-poll", journalTicks)
	}
}

// FuzzSetTags: whatever the host writes, in whatever pieces, and however
// the reader's rounds fall between them, a reader whose field is replaced
// by the same tags now and then answers and sends exactly what a reader
// left alone does (within the journal's bounds): the replay rebuilds its
// whole state. ops drives the exchange, one byte a step: a write of the
// next 1..32 bytes of in, a round, or (on the second reader only) the
// change of field.
func FuzzSetTags(f *testing.F) {
	for i, name := range rfid.Names() {
		sess, err := mustLookup(f, name).NewSession(rfid.Options{})
		if err != nil {
			f.Fatal(err)
		}
		in := append(append([]byte(nil), sess.Open()...), sess.Poll()...)
		f.Add(byte(i), in, []byte{93, 1, 2, 1, 93, 1, 2, 1, 1}) // 93: a write of 32 bytes
	}
	f.Add(byte(2), magicrf.AppendMultiPoll(nil, 2), []byte{27, 1, 2, 1, 2, 1, 1}) // 27: a write of 10 bytes
	f.Fuzz(func(t *testing.T, which byte, in, ops []byte) {
		if len(in) > journalTail || len(ops) > journalTicks {
			return // past the bounds, the replay forgets on purpose
		}
		names := rfid.Names()
		name := names[int(which)%len(names)]
		proto := mustLookup(t, name)
		tags := field(name, 1, 4)
		alone, changed := mustNew(t, proto, tags), mustNew(t, proto, tags)
		for step, op := range ops {
			var a, b []byte
			switch op % 3 {
			case 0:
				n := min(int(op/3)%32+1, len(in))
				a, b = alone.handle(in[:n], 0), changed.handle(in[:n], 0)
				in = in[n:]
			case 1:
				a, _ = alone.tick(nil)
				b, _ = changed.tick(nil)
			case 2:
				if err := changed.SetTags(tags); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(a, b) {
				t.Fatalf("%s, step %d (op %d): the reader whose field was replaced sent % X, the other % X", name, step, op, b, a)
			}
		}
	})
}

func mustNew(t *testing.T, proto rfid.Protocol, tags [][]byte) *Runner {
	t.Helper()
	r, err := New(proto, tags)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
