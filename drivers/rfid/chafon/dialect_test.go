package chafon

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/drivers/rfid/rfidtest"
)

// TestDialectOfTableFrames: every inventory and active-mode frame of the
// table is read in the layout its name says, side by side.
func TestDialectOfTableFrames(t *testing.T) {
	n18, n288 := 0, 0
	for _, fc := range frames {
		if fc.command || len(fc.payload) < 1 || (fc.cmd != CmdInventory && fc.cmd != CmdActive) || fc.errors != 0 {
			continue
		}
		if fc.cmd == CmdActive && fc.payload[0] != StatusOK {
			continue
		}
		want := Dialect18
		if strings.Contains(fc.name, "UHFReader288") {
			want = Dialect288
			n288++
		} else {
			n18++
		}
		var got Dialect
		var ok bool
		if fc.cmd == CmdInventory {
			got, ok = InventoryDialect(fc.payload[1:])
		} else {
			got, ok = ActiveDialect(fc.payload[1:])
		}
		if !ok || got != want {
			t.Errorf("%s: dialect %v (ok %v), want %v", fc.name, got, ok, want)
		}
	}
	if n18 < 4 || n288 < 6 {
		t.Fatalf("only %d UHFReader18 and %d UHFReader288 frames checked", n18, n288)
	}
}

// lookalike returns a byte that is often a plausible length, count or
// antenna byte, to make frames of one layout look like the other.
func lookalike(r *rand.Rand) byte {
	if r.IntN(2) == 0 {
		return []byte{0, 1, 2, 3, 4, 6, 8, 12, 14, 16, 0x40, 0x80, 0x8C}[r.IntN(13)]
	}
	return byte(r.UintN(256))
}

// randomEPC returns an EPC of whole words, 1..31 of them, biased to short.
func randomEPC(r *rand.Rand) []byte {
	words := 1 + r.IntN(8)
	if r.IntN(8) == 0 {
		words = 1 + r.IntN(31)
	}
	epc := make([]byte, 2*words)
	for i := range epc {
		epc[i] = lookalike(r)
	}
	return epc
}

// TestDialectsNeverMisread builds many legitimate frames of each layout
// from bytes chosen to look like the other layout's fields and checks that
// each is read in its own layout with its own tags: the distinction by
// length never misreads a UHFReader18 answer as UHFReader288 or the
// reverse.
func TestDialectsNeverMisread(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 288))
	for i := range 50000 {
		var tags [][]byte
		for range r.IntN(6) {
			tags = append(tags, randomEPC(r))
		}
		var reports []TagReport
		for _, tg := range tags {
			reports = append(reports, TagReport{EPC: tg, RSSI: lookalike(r)})
		}
		port := 1 + r.IntN(8)
		f18 := AppendInventoryResponse(nil, 0, StatusInventoryDone, tags)
		f288 := AppendInventoryResponse288(nil, 0, StatusInventoryDone, AntennaMask(port), reports)
		for _, c := range []struct {
			raw     []byte
			dialect Dialect
			ant     int
		}{{f18, Dialect18, 0}, {f288, Dialect288, port}} {
			if len(c.raw) > MaxFrame {
				continue
			}
			data := c.raw[4 : len(c.raw)-2] // after Len Adr reCmd Status
			d, ok := InventoryDialect(data)
			if !ok || d != c.dialect {
				t.Fatalf("case %d: % X read as %v (ok %v), want %v", i, c.raw, d, ok, c.dialect)
			}
			s := newTestSession(t)
			var got []rfid.Read
			s.Feed(c.raw, func(rd rfid.Read) {
				rd.Tag = bytes.Clone(rd.Tag)
				got = append(got, rd)
			})
			if !rfidtest.SameTags(rfidtest.Tags(got), tags) {
				t.Fatalf("case %d: % X gave tags % X, want % X", i, c.raw, rfidtest.Tags(got), tags)
			}
			for j, rd := range got {
				if rd.Antenna != c.ant || rd.HasRSSI != (c.dialect == Dialect288) ||
					(rd.HasRSSI && rd.RSSI != RSSIdBm(reports[j].RSSI)) {
					t.Fatalf("case %d: read %d %+v, want antenna %d", i, j, rd, c.ant)
				}
			}
		}
		// Active-mode reports of the same tags.
		for j, tg := range tags {
			a18 := AppendActiveReport(nil, 0, tg)
			a288 := AppendActiveReport288(nil, 0, AntennaMask(port), reports[j])
			if d, ok := ActiveDialect(a18[4 : len(a18)-2]); !ok || d != Dialect18 {
				t.Fatalf("case %d: active % X read as %v (ok %v)", i, a18, d, ok)
			}
			if d, ok := ActiveDialect(a288[4 : len(a288)-2]); !ok || d != Dialect288 {
				t.Fatalf("case %d: active % X read as %v (ok %v)", i, a288, d, ok)
			}
		}
	}
}

// TestDialectsExhaustive: over every Data of up to 7 bytes drawn from the
// bytes that matter to the layouts, no Data is a legitimate frame of both
// layouts (whole-word EPCs, one antenna bit).
func TestDialectsExhaustive(t *testing.T) {
	alphabet := []byte{0, 1, 2, 3, 4, 6, 8, 0x82}
	checked := 0
	var data [7]byte
	var walk func(n int)
	walk = func(n int) {
		d := data[:n]
		ok18, words := check18(d)
		if ok18 && words && check288(d) {
			t.Fatalf("% X is both a UHFReader18 and a UHFReader288 inventory", d)
		}
		if d18, ok := ActiveDialect(d); ok && d18 == Dialect18 && len(d) >= 3 &&
			AntennaPort(d[0]) != 0 && int(d[1]) == len(d)-3 && epcLenOK(len(d)-3) {
			t.Fatalf("% X is both kinds of active report", d)
		}
		checked++
		if n == len(data) {
			return
		}
		for _, b := range alphabet {
			data[n] = b
			walk(n + 1)
		}
	}
	walk(0)
	if checked < 1<<21 {
		t.Fatalf("only %d Data checked", checked)
	}
}

func TestAntennaPort(t *testing.T) {
	for port := 1; port <= 8; port++ {
		if got := AntennaPort(AntennaMask(port)); got != port {
			t.Errorf("port %d: mask %#x gives port %d", port, AntennaMask(port), got)
		}
	}
	for _, m := range []byte{0x00, 0x03, 0x05, 0xFF, 0x81} {
		if p := AntennaPort(m); p != 0 {
			t.Errorf("mask %#x gives port %d, want 0", m, p)
		}
	}
	if AntennaMask(0) != 0 || AntennaMask(9) != 0 {
		t.Fatal("ports outside 1..8 have a mask")
	}
}

func ExampleInventoryDialect() {
	// The same two tags, from a UHFReader18 and from a UHFReader288
	// (antenna 1, RSSI bytes 6B and 6C).
	d18, _ := InventoryDialect([]byte{0x02, 0x02, 0xAB, 0xCD, 0x02, 0x12, 0x34})
	d288, _ := InventoryDialect([]byte{0x01, 0x02, 0x02, 0xAB, 0xCD, 0x6B, 0x02, 0x12, 0x34, 0x6C})
	fmt.Println(d18, d288)
	// Output: 18 288
}
