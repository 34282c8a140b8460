package link

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/ngic/ngic/drivers/rfid"
	_ "github.com/ngic/ngic/drivers/rfid/chafon"
	"github.com/ngic/ngic/drivers/rfid/em4100"
	"github.com/ngic/ngic/drivers/rfid/emulate"
)

func em4100Proto(t *testing.T) rfid.Protocol {
	t.Helper()
	p, err := rfid.Lookup("em4100")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type collector struct {
	mu   sync.Mutex
	tags []string
}

func (c *collector) add(r rfid.Read) {
	c.mu.Lock()
	c.tags = append(c.tags, string(append([]byte(nil), r.Tag...)))
	c.mu.Unlock()
}

func (c *collector) count(tag []byte) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, s := range c.tags {
		if s == string(tag) {
			n++
		}
	}
	return n
}

func (c *collector) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.tags)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestGarbageOnARealPTY writes good EM4100 frames interleaved with noise,
// corrupt checksums, truncated frames and bad terminators on a
// pseudo-terminal: the good ones are decoded, the bad ones counted.
func TestGarbageOnARealPTY(t *testing.T) {
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	path := slave.Name()
	defer slave.Close()
	l, err := New(em4100Proto(t), Opts{Device: path})
	if err != nil {
		t.Fatal(err)
	}
	var c collector
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx, c.add) }()
	waitFor(t, "the link to open", func() bool { return l.State().Connected })

	good := []byte{0x0A, 0x00, 0xC0, 0xFF, 0xEE}
	frame, err := em4100.AppendFrame(nil, good)
	if err != nil {
		t.Fatal(err)
	}
	corrupt := bytes.Clone(frame)
	corrupt[11] ^= 0x01 // one checksum digit off
	noEnd := bytes.Clone(frame)
	noEnd[13] = 'X' // terminator replaced
	var stream []byte
	for i := 0; i < 50; i++ {
		stream = append(stream, 0xFF, 0x00, 'G', 0x02) // noise, including a stray start byte
		stream = append(stream, frame...)
		stream = append(stream, corrupt...)
		stream = append(stream, frame[:7]...) // truncated
		stream = append(stream, noEnd...)
	}
	stream = append(stream, frame...)
	// A last frame of another card marks the end: the link decodes the
	// stream in order, so once it is read (and the counters of the Feed
	// that read it are published, which the stats' 52nd read shows) every
	// byte before it has been handled, and the counts below are final
	// rather than "after a while".
	end := []byte{0x0B, 0x0E, 0x0E, 0x0F, 0xFF}
	endFrame, err := em4100.AppendFrame(nil, end)
	if err != nil {
		t.Fatal(err)
	}
	stream = append(stream, endFrame...)
	for len(stream) > 0 { // in odd-sized writes, as a UART delivers
		n := min(len(stream), 37)
		if _, err := master.Write(stream[:n]); err != nil {
			t.Fatal(err)
		}
		stream = stream[n:]
	}
	waitFor(t, "the end marker", func() bool { return c.count(end) == 1 && l.State().Stats.Reads >= 52 })
	if n, all := c.count(good), c.len(); n != 51 || all != 52 {
		t.Fatalf("%d reads of the card and %d in all, want exactly the 51 good frames and the end marker", n, all)
	}
	st := l.State().Stats
	if st.BadFrames < 100 {
		t.Fatalf("bad frames counted %d, want at least the 50 corrupt checksums and 50 bad terminators", st.BadFrames)
	}
	if st.Reads != 52 {
		t.Fatalf("stats reads %d, want 52", st.Reads)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("run returned %v", err)
	}
}

// TestReconnectsAfterUnplug closes the emulator (the reader "unplugged"),
// starts a new one at the same symlink, and checks that the link comes back
// on its own and counts the reconnect.
func TestReconnectsAfterUnplug(t *testing.T) {
	proto := em4100Proto(t)
	dev := filepath.Join(t.TempDir(), "ttyRFID")
	card1, card2 := []byte{1, 2, 3, 4, 5}, []byte{6, 7, 8, 9, 10}
	r1, _ := emulate.New(proto, [][]byte{card1})
	ctx1, stop1 := context.WithCancel(context.Background())
	p1, err := r1.ServePTY(ctx1, dev)
	if err != nil {
		t.Fatal(err)
	}
	l, err := New(proto, Opts{Device: dev, MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var c collector
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go l.Run(ctx, c.add)
	waitFor(t, "reads of the first card", func() bool { return c.count(card1) > 2 })

	stop1()
	p1.Close()
	waitFor(t, "the link to notice the unplug", func() bool { return !l.State().Connected })
	if st := l.State(); st.LastError == "" {
		t.Fatalf("no error recorded after unplug: %+v", st)
	}
	if _, err := os.Lstat(dev); err == nil {
		t.Fatal("symlink still there after close")
	}

	r2, _ := emulate.New(proto, [][]byte{card2})
	ctx2, stop2 := context.WithCancel(context.Background())
	defer stop2()
	if _, err := r2.ServePTY(ctx2, dev); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "reads after replug", func() bool { return c.count(card2) > 2 })
	st := l.State()
	if !st.Connected || st.Reconnects < 1 || st.Opens < 2 {
		t.Fatalf("state after replug: %+v", st)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	p := em4100Proto(t)
	if _, err := New(p, Opts{}); err == nil {
		t.Fatal("no device accepted")
	}
	if _, err := New(p, Opts{Device: "/dev/x", Baud: -1}); err == nil {
		t.Fatal("negative baud accepted")
	}
	if _, err := New(p, Opts{Device: "/dev/x", Session: rfid.Options{Power: 20}}); err == nil {
		t.Fatal("power on an EM4100 reader accepted")
	}
}

// TestSilentReaderIsReopened opens a "reader" that never answers its polls:
// the link gives up on it after Silence and reopens it.
func TestSilentReaderIsReopened(t *testing.T) {
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	defer slave.Close()
	go func() { // swallow the polls, answer nothing
		buf := make([]byte, 256)
		for {
			if _, err := master.Read(buf); err != nil {
				return
			}
		}
	}()
	proto, err := rfid.Lookup("chafon") // answers every inventory, so silence means trouble
	if err != nil {
		t.Fatal(err)
	}
	l, err := New(proto, Opts{Device: slave.Name(), Silence: 300 * time.Millisecond,
		Session: rfid.Options{PollInterval: 50 * time.Millisecond}, MinBackoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go l.Run(ctx, func(rfid.Read) {})
	waitFor(t, "a reopen after silence", func() bool { return l.State().Reconnects >= 1 })
	if st := l.State(); !strings.Contains(st.LastError, "no answer to polls") {
		t.Fatalf("last error %q", st.LastError)
	}
}
