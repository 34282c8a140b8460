package reading

import (
	"context"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
	_ "github.com/ngic/ngic/drivers/rfid/all"
	"github.com/ngic/ngic/drivers/rfid/emulate"
	"github.com/ngic/ngic/drivers/rfid/link"
)

func TestDescribeSGTIN(t *testing.T) {
	raw, _ := hex.DecodeString("3074257BF7194E4000001A85")
	l := Describe("magicrf", rfid.Read{Tag: raw, PC: 0x3000, RSSI: -61, HasRSSI: true, Antenna: 1}, time.Unix(0, 0))
	if l.Tag != "3074257BF7194E4000001A85" || l.PC != "3000" || l.RSSI == nil || *l.RSSI != -61 {
		t.Fatalf("line: %+v", l)
	}
	if l.EPC == nil || l.EPC.Scheme != "sgtin-96" || l.EPC.URI != "urn:epc:id:sgtin:0614141.812345.6789" {
		t.Fatalf("epc: %+v", l.EPC)
	}
	if Describe("em4100", rfid.Read{Tag: raw[:5]}, time.Now()).EPC != nil {
		t.Fatal("an EM4100 card got an EPC reading")
	}
}

// TestReadEachProtocol reads every registered protocol's emulator over a
// pseudo-terminal, as `ngic-edge read` does.
func TestReadEachProtocol(t *testing.T) {
	tag, _ := hex.DecodeString("3074257BF7194E4000001A85")
	for _, name := range rfid.Names() {
		t.Run(name, func(t *testing.T) {
			proto, _ := rfid.Lookup(name)
			want := tag
			if name == "em4100" {
				want = tag[:5]
			}
			r, err := emulate.New(proto, [][]byte{want})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			p, err := r.ServePTY(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			port, err := link.OpenSerial(p.Path, proto.DefaultBaud, 50*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			defer port.Close()
			var lines []Line
			_, err = Run(ctx, port, proto, rfid.Options{}, func(l Line) bool {
				lines = append(lines, l)
				return len(lines) < 3
			})
			if !errors.Is(err, ErrStopped) {
				t.Fatalf("run: %v", err)
			}
			for _, l := range lines {
				if l.Tag != hex.EncodeToString(want) && l.Tag != upper(hex.EncodeToString(want)) {
					t.Fatalf("read %q, want %X", l.Tag, want)
				}
				if l.Protocol != name {
					t.Fatalf("protocol %q", l.Protocol)
				}
			}
		})
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 32
		}
	}
	return string(b)
}
