package snmp

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gosnmp/gosnmp"
)

// FuzzWalkResponses feeds arbitrary answer sequences to the walk state
// machine: it must never panic, never exceed the call cap, and keep per
// root only strictly increasing OIDs under that root.
//
// Input layout: byte 0 = number of roots (1..4), byte 1 = roots per request
// (1..4), byte 2 = call cap (1..16); then per answer one count byte (varbinds,
// 0..8) followed by one op byte per varbind (see fuzzName), op 7 taking a
// length byte and that many raw bytes as the OID text.
func FuzzWalkResponses(f *testing.F) {
	seeds := [][]byte{
		{2, 2, 8 /* 2 roots, 2 per request, cap 8 */, 4 /* 4 varbinds */, 0, 0, 1, 1 /* children, siblings */, 2, 5, 5 /* end both */},
		{1, 1, 3, 1, 2 /* the same OID again */},
		{1, 1, 16, 2, 3, 3 /* going back */},
		{3, 2, 4, 0 /* empty answer */, 3, 4, 4, 4 /* leave the root */},
		{1, 1, 16, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0 /* endless growth until the cap */},
		{1, 1, 4, 2, 7, 5, '1', '.', '3', '.', 'x', 6 /* garbage name, then an error type */},
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		b := fuzzReader(&in)
		nRoots := int(b()%4) + 1
		maxOIDs := int(b()%4) + 1
		maxCalls := int(b()%16) + 1
		maxRows := int(b()%8) + 1
		maxRep := uint32(b()%5) + 1
		roots := make([]string, nRoots)
		for i := range roots {
			roots[i] = fmt.Sprintf("1.3.6.1.4.1.99.%d", i+1)
		}
		w := newWalker("fuzz:161", roots, walkLimits{maxOIDs: maxOIDs, maxCalls: maxCalls, maxRows: maxRows, maxRep: maxRep})
		calls := 0
		for oids := w.next(); oids != nil; oids = w.next() {
			calls++
			if calls > maxCalls {
				t.Fatalf("%d calls beyond the cap of %d", calls, maxCalls)
			}
			if len(oids) > maxOIDs {
				t.Fatalf("%d OIDs in one request, cap %d", len(oids), maxOIDs)
			}
			if w.rep > maxRep || w.rep < 1 {
				t.Fatalf("%d repetitions, cap %d", w.rep, maxRep)
			}
			op := b()
			if op%5 == 0 { // an answer that cannot be used
				w.badAnswer("fuzz")
				continue
			}
			if op%7 == 0 {
				w.tooBig()
				continue
			}
			if op%11 == 0 { // no answer after the retries
				w.noAnswer("fuzz")
				continue
			}
			if op%13 == 0 { // an error status, blaming a varbind or none
				w.agentError(gosnmp.SNMPError(b()%19), b()%4)
				continue
			}
			last := append([]string(nil), oids...)
			n := int(b() % 9)
			vbs := make([]gosnmp.SnmpPDU, 0, n)
			for k := 0; k < n; k++ {
				col := k % len(oids)
				vb := fuzzName(b, last[col], w.roots[w.active[col]].root)
				last[col] = vb.Name
				vbs = append(vbs, vb)
			}
			w.feed(vbs)
		}
		res := w.result()
		for _, r := range w.roots {
			if !r.done {
				t.Fatalf("root %s not done at the end", r.root)
			}
			objs := res[r.key]
			if len(objs) > maxRows || len(objs) != r.n {
				t.Fatalf("root %s kept %d objects (counted %d), the bound is %d", r.root, len(objs), r.n, maxRows)
			}
			prev := r.root
			for _, o := range objs {
				if !underRoot(o.Name, r.root) || oidCompare(o.Name, prev) <= 0 {
					t.Fatalf("root %s kept %s after %s", r.root, o.Name, prev)
				}
				prev = o.Name
			}
		}
		for _, e := range w.warnings {
			if !strings.HasPrefix(e.Error(), "snmp: walk fuzz:161 root ") {
				t.Fatalf("warning text %q", e.Error())
			}
		}
	})
}

// fuzzName makes the next varbind of a column from an op byte: 0 a child,
// 1 the next sibling, 2 the same OID, 3 an earlier OID, 4 outside the root,
// 5 endOfMibView, 6 noSuchObject, 7 raw bytes.
func fuzzName(b func() byte, cur, root string) gosnmp.SnmpPDU {
	switch b() % 8 {
	case 0:
		return gosnmp.SnmpPDU{Name: cur + ".1", Type: gosnmp.Integer, Value: 1}
	case 1:
		i := strings.LastIndexByte(cur, '.')
		if i < 0 {
			return gosnmp.SnmpPDU{Name: cur + ".1", Type: gosnmp.Integer, Value: 1}
		}
		var n int
		fmt.Sscanf(cur[i+1:], "%d", &n)
		return gosnmp.SnmpPDU{Name: fmt.Sprintf("%s.%d", cur[:i], n+1), Type: gosnmp.Counter32, Value: uint(n)}
	case 2:
		return gosnmp.SnmpPDU{Name: cur, Type: gosnmp.Integer, Value: 2}
	case 3:
		return gosnmp.SnmpPDU{Name: root + ".0", Type: gosnmp.Integer, Value: 3}
	case 4:
		return gosnmp.SnmpPDU{Name: "1.3.6.1.4.1.100", Type: gosnmp.Integer, Value: 4}
	case 5:
		return gosnmp.SnmpPDU{Name: cur, Type: gosnmp.EndOfMibView}
	case 6:
		return gosnmp.SnmpPDU{Name: cur, Type: gosnmp.NoSuchObject}
	}
	n := int(b() % 32)
	raw := make([]byte, 0, n)
	for i := 0; i < n; i++ {
		raw = append(raw, b())
	}
	return gosnmp.SnmpPDU{Name: string(raw), Type: gosnmp.OctetString, Value: raw}
}

// fuzzReader returns a function taking the fuzzer's bytes one at a time
// from *in, 0 once none is left.
func fuzzReader(in *[]byte) func() byte {
	return func() byte {
		if len(*in) == 0 {
			return 0
		}
		c := (*in)[0]
		*in = (*in)[1:]
		return c
	}
}
