package emulate_test

import (
	"bytes"
	"testing"
	"time"

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
