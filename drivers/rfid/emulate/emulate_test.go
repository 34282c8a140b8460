package emulate_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
	_ "github.com/ngic/ngic/drivers/rfid/all"
	"github.com/ngic/ngic/drivers/rfid/emulate/emulatetest"
	"github.com/ngic/ngic/drivers/rfid/link"
	"github.com/ngic/ngic/drivers/rfid/magicrf"
)

// readFor collects what the port sends until want bytes arrived or the
// deadline passes.
func readFor(t *testing.T, p link.Port, want int) []byte {
	t.Helper()
	var got []byte
	buf := make([]byte, 256)
	for deadline := time.Now().Add(10 * time.Second); len(got) < want && time.Now().Before(deadline); {
		n, _ := p.Read(buf)
		got = append(got, buf[:n]...)
	}
	return got
}

// TestPTYHonoursLineSpeed: a host at the reader's speed gets its answer; a
// host at another speed gets as many bytes of garbage, in which no frame
// decodes.
func TestPTYHonoursLineSpeed(t *testing.T) {
	_, pty := emulatetest.StartAt(t, magicrf.Name, 38400)
	query := magicrf.AppendGetInfo(nil, magicrf.InfoSoftware)
	want := magicrf.AppendResponse(nil, magicrf.CmdInfo, append([]byte{magicrf.InfoSoftware}, magicrf.EmulatorSoftware...))

	for _, tc := range []struct {
		baud int
		ok   bool
	}{{115200, false}, {38400, true}, {9600, false}} {
		port, err := link.OpenSerial(pty.Path, tc.baud, 100*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := port.Write(query); err != nil {
			t.Fatal(err)
		}
		n := len(want)
		if !tc.ok {
			n = len(query)
		}
		got := readFor(t, port, n)
		port.Close()
		if tc.ok && !bytes.Equal(got, want) {
			t.Errorf("at %d baud: got % X, want % X", tc.baud, got, want)
		}
		if !tc.ok {
			var d magicrf.Decoder
			frames := 0
			d.Feed(got, func(magicrf.Frame) { frames++ })
			if len(got) != len(query) || frames != 0 {
				t.Errorf("at %d baud: got % X (%d frames), want %d bytes of garbage", tc.baud, got, frames, len(query))
			}
		}
	}
}

// TestSetTagsDuringMultiPoll: a host on the pseudo-terminal starts a
// multi-poll once and never repeats it; when the tags in the field change,
// the reads go on with the new tags.
func TestSetTagsDuringMultiPoll(t *testing.T) {
	first := [][]byte{{0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01}}
	second := [][]byte{{0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02}}
	r, pty := emulatetest.Start(t, magicrf.Name, first...)
	port, err := link.OpenSerial(pty.Path, magicrf.BaudRate, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	// The session's poll is due once, at the start, and then not for an hour.
	sess, err := magicrf.NewSession(rfid.Options{PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	reads := make(chan string, 1024)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- link.Serve(ctx, port, sess, link.ServeOpts{Silence: -1}, func(r rfid.Read) {
			select {
			case reads <- fmt.Sprintf("%X", r.Tag):
			default:
			}
		})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	waitRead := func(want []byte) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case got := <-reads:
				if got == fmt.Sprintf("%X", want) {
					return
				}
			case <-deadline:
				t.Fatalf("no read of %X within 10 s", want)
			}
		}
	}
	waitRead(first[0])
	if err := r.SetTags(second); err != nil {
		t.Fatal(err)
	}
	waitRead(second[0])
}

// TestStatsDropped: a host that stops reading the pseudo-terminal while a
// multi-poll of a full field runs loses rounds, and the runner counts
// them as dropped.
func TestStatsDropped(t *testing.T) {
	tags := make([][]byte, 500)
	for i := range tags {
		tags[i] = []byte{0x30, 0, 0, 0, 0, 0, 0, 0, 0, 0, byte(i >> 8), byte(i)}
	}
	r, pty := emulatetest.Start(t, magicrf.Name, tags...)
	port, err := link.OpenSerial(pty.Path, magicrf.BaudRate, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()
	if _, err := port.Write(magicrf.AppendMultiPoll(nil, magicrf.MultiPollCount)); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); r.Stats().Dropped == 0; {
		if time.Now().After(deadline) {
			t.Fatalf("no round dropped while the host did not read: %+v", r.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st := r.Stats(); st.Sent == 0 {
		t.Fatalf("%+v: no round sent before the host's buffers filled", st)
	}
}
