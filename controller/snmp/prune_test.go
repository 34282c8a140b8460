package snmp

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	"github.com/gosnmp/gosnmp"
)

// pruneRoots are the columns FuzzPruneBulk walks.
var pruneRoots = []string{"1.3.6.1.4.1.99.1", "1.3.6.1.4.1.99.2", "1.3.6.1.4.1.99.10", "1.3.6.1.4.1.99.2.5"}

// pruneName makes the next varbind of a column from an op byte: 0 to 6 as
// fuzzName, 7 before the root, 8 the root itself, 9 an OCTET STRING child.
func pruneName(op byte, cur, root string) gosnmp.SnmpPDU {
	switch op % 10 {
	case 7:
		return gosnmp.SnmpPDU{Name: "1.3.6.1.4.1.98.5", Type: gosnmp.Integer, Value: 5}
	case 8:
		return gosnmp.SnmpPDU{Name: root, Type: gosnmp.Integer, Value: 6}
	case 9:
		return gosnmp.SnmpPDU{Name: cur + ".200", Type: gosnmp.OctetString, Value: []byte("eth0")}
	}
	return fuzzName(func() byte { return op % 10 }, cur, root)
}

// FuzzPruneBulk checks that pruning GETBULK answers changes nothing a walk
// returns: two walkers of the same roots get the same answers, built from
// the input and encoded by gosnmp (then perhaps with a byte changed), one
// as gosnmp decodes them, the other pruned as the link prunes them. Their
// objects, warnings and requests must be the same, unless the answer as
// it came cannot be decoded (its pruned form may then be).
//
// Input layout: byte 0 = roots (1..4), byte 1 = roots per request (1..4),
// byte 2 = rows kept per root (1..16), byte 3 = memory bound (0 none, else
// 64 bytes a step); then per answer one count byte (varbinds, 0..15) and
// one op byte per varbind (see pruneName). flip, when not 0, changes the
// byte flip%len of the first answer to its high byte.
func FuzzPruneBulk(f *testing.F) {
	f.Add([]byte{4, 4, 16, 0, 12, 0, 0, 0, 0, 1, 1, 1, 1, 4, 4, 4, 4, 8, 1, 1, 1, 1, 1, 1, 1, 1}, uint16(0))
	f.Add([]byte{2, 2, 3, 0, 10, 0, 9, 1, 9, 1, 5, 0, 0, 4, 4}, uint16(0))
	f.Add([]byte{3, 3, 8, 2, 9, 0, 0, 0, 7, 1, 3, 6, 6, 6}, uint16(0))
	f.Add([]byte{1, 1, 2, 0, 6, 0, 1, 1, 4, 2, 2}, uint16(0x7f21))
	f.Add([]byte{4, 2, 16, 1, 14, 9, 9, 9, 9, 9, 9, 9, 9, 4, 4, 4, 4, 4, 4}, uint16(0x0130))
	f.Fuzz(func(t *testing.T, in []byte, flip uint16) {
		b := fuzzReader(&in)
		roots := pruneRoots[:int(b()%4)+1]
		lim := walkLimits{maxOIDs: int(b()%4) + 1, maxCalls: 8, maxRows: int(b()%16) + 1, maxRep: 10,
			maxBytes: int64(b()%8) * 64}
		plain, pruned := newWalker("fuzz:161", roots, lim), newWalker("fuzz:161", roots, lim)
		pruned.prune()
		codec := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Community: "public"}
		for answer := 0; ; answer++ {
			oids, oidsP := plain.next(), pruned.next()
			if !reflect.DeepEqual(oids, oidsP) {
				t.Fatalf("answer %d: requests differ: %q, pruned %q", answer, oids, oidsP)
			}
			if oids == nil {
				break
			}
			last := append([]string(nil), oids...)
			var vbs []gosnmp.SnmpPDU
			for k, n := 0, int(b()%16); k < n; k++ {
				col := k % len(oids)
				vb := pruneName(b(), last[col], plain.roots[plain.active[col]].root)
				last[col] = vb.Name
				vbs = append(vbs, vb)
			}
			pkt := &gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: "public", PDUType: gosnmp.GetResponse,
				RequestID: 1, Variables: vbs}
			msg, err := pkt.MarshalMsg()
			if err != nil {
				return // an arc grown past 2^32-1
			}
			if answer == 0 && flip != 0 {
				msg[int(flip)%len(msg)] = byte(flip >> 8)
			}
			orig, origErr := codec.SnmpDecodePacket(append([]byte(nil), msg...))
			// As link.decode does.
			out, plan, kept, ok := pruneBulk(nil, msg, pruned.cols, nil)
			var short *gosnmp.SnmpPacket
			if ok {
				if bytes.Equal(out, msg) {
					t.Fatalf("pruneBulk left out nothing yet reported ok")
				}
				if p, err := codec.SnmpDecodePacket(out); err == nil && len(p.Variables) == kept {
					short = p
				}
			}
			if origErr != nil {
				return // the pruned answer may now be taken: nothing to compare
			}
			if ok && short == nil && origErr == nil && flip == 0 {
				t.Fatalf("answer %d: gosnmp decodes the answer but not its pruned form", answer)
			}
			if orig.Error != gosnmp.NoError {
				return
			}
			plain.feed(orig.Variables)
			if short != nil {
				pruned.feedPlan(short.Variables, plan)
			} else {
				pruned.feed(orig.Variables)
			}
		}
		a, p := plain.result(), pruned.result()
		if !reflect.DeepEqual(a, p) {
			t.Fatalf("objects differ:\n plain  %v\n pruned %v", a, p)
		}
		if fmt.Sprint(plain.warnings) != fmt.Sprint(pruned.warnings) {
			t.Fatalf("warnings differ:\n plain  %v\n pruned %v", plain.warnings, pruned.warnings)
		}
	})
}

// TestPruneBulkLeavesOutPastTheEnd checks a GETBULK answer of two columns
// whose first ends after one row: its later varbinds are left out, the
// first past the root as a quiet end, and the kept ones are gosnmp's bytes.
func TestPruneBulkLeavesOutPastTheEnd(t *testing.T) {
	vbs := []gosnmp.SnmpPDU{
		{Name: ".1.3.6.1.2.1.2.2.1.2.1", Type: gosnmp.OctetString, Value: []byte("eth0")},
		{Name: ".1.3.6.1.2.1.2.2.1.3.1", Type: gosnmp.Integer, Value: 6},
		{Name: ".1.3.6.1.2.1.2.2.1.3.1", Type: gosnmp.Integer, Value: 6}, // past ifDescr: ifType.1
		{Name: ".1.3.6.1.2.1.2.2.1.3.2", Type: gosnmp.Integer, Value: 6},
		{Name: ".1.3.6.1.2.1.2.2.1.3.2", Type: gosnmp.Integer, Value: 6}, // skipped
		{Name: ".1.3.6.1.2.1.2.2.1.4.1", Type: gosnmp.Integer, Value: 1500},
	}
	msg, err := (&gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: "c", PDUType: gosnmp.GetResponse,
		RequestID: 9, Variables: vbs}).MarshalMsg()
	if err != nil {
		t.Fatal(err)
	}
	var roots [][]byte
	for _, r := range []string{"1.3.6.1.2.1.2.2.1.2", "1.3.6.1.2.1.2.2.1.3"} {
		ber, err := appendOIDContent(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		roots = append(roots, ber)
	}
	out, plan, kept, ok := pruneBulk([]byte("x"), msg, roots, nil)
	if !ok || kept != 3 || string(out[:1]) != "x" {
		t.Fatalf("pruneBulk: ok %v, %d kept", ok, kept)
	}
	if want := []byte{planKept, planKept, planEnd, planKept, planSkip, planEnd}; !bytes.Equal(plan, want) {
		t.Fatalf("plan %v, want %v", plan, want)
	}
	pkt, err := (&gosnmp.GoSNMP{Version: gosnmp.Version2c}).SnmpDecodePacket(out[1:])
	if err != nil {
		t.Fatal(err)
	}
	if pkt.RequestID != 9 || pkt.Community != "c" || len(pkt.Variables) != 3 ||
		pkt.Variables[2].Name != ".1.3.6.1.2.1.2.2.1.3.2" {
		t.Fatalf("decoded %+v", pkt)
	}
	// An answer with an error status, or one with nothing to leave out,
	// is decoded as it came.
	if _, _, _, ok := pruneBulk(nil, msg[:len(msg)-1], roots, nil); ok {
		t.Fatal("a truncated answer was pruned")
	}
	entry, _ := appendOIDContent(nil, "1.3.6.1.2.1.2.2.1")
	if _, _, _, ok := pruneBulk(nil, msg, [][]byte{entry}, nil); ok {
		t.Fatal("an answer of one column that never leaves its root was pruned")
	}
}
