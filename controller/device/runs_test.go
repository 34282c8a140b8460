package device

import (
	"testing"

	"github.com/gosnmp/gosnmp"
)

func FuzzOIDCmp(f *testing.F) {
	for _, c := range [][2]string{
		{"1.3.6.1", "1.3.6.1.2"}, {"1.3.6.10", "1.3.6.9"}, {"", ""}, {"", "1"}, {"1..2", "1.0.2"},
		{"18446744073709551615", "18446744073709551616"}, {"01.2", "1.2"}, {"a.1", "1.a"}, {"1.", "1"},
		{"2.1", "10"}, {"7", "7"}, {"1.3.6.1.2.1.2.2.1.10.12", "1.3.6.1.2.1.2.2.1.10.2"},
		{"9999999999999999999.1", "10000000000000000000.1"}, {"5.0", "5.00"}, {"12.3", "12.30"},
	} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		want := 0
		switch {
		case oidLess(a, b):
			want = -1
		case oidLess(b, a):
			want = 1
		}
		if got := oidCmp(a, b); got != want {
			t.Fatalf("oidCmp(%q, %q) = %d, oidLess says %d", a, b, got, want)
		}
	})
}

// walkOf is a walk's answer: an INTEGER under root at each index.
func walkOf(root string, idx ...string) []gosnmp.SnmpPDU {
	var pdus []gosnmp.SnmpPDU
	for i, x := range idx {
		pdus = append(pdus, gosnmp.SnmpPDU{Name: "." + root + "." + x, Type: gosnmp.Integer, Value: i + 1})
	}
	return pdus
}

// TestRunReadsMatchColumn checks that reading a walked column in place
// (at, colSpan, eachIndex, Get) gives what its map gives, for runs read
// in order, out of order and at indexes they lack, for runs that are not
// in OID order, and for runs that another walk or Add overlaps.
func TestRunReadsMatchColumn(t *testing.T) {
	const root, other = "1.3.6.1.2.1.2.2.1.2", "1.3.6.1.2.1.2.2.1.3"
	cases := []struct {
		name   string
		build  func(o *Objects)
		search bool // whether root's run is searched in place
	}{
		{"in order", func(o *Objects) { o.addWalk(root, walkOf(root, "1", "2", "10", "11.5", "200")) }, true},
		{"with an absent object", func(o *Objects) {
			w := walkOf(root, "1", "2", "3")
			w[1].Type, w[1].Value = gosnmp.NoSuchInstance, nil
			o.addWalk(root, w)
		}, true},
		{"not in order", func(o *Objects) { o.addWalk(root, walkOf(root, "2", "1", "10")) }, false},
		{"a repeat", func(o *Objects) { o.addWalk(root, walkOf(root, "1", "1", "3")) }, false},
		{"walked twice", func(o *Objects) {
			o.addWalk(root, walkOf(root, "1", "2"))
			o.addWalk(root, walkOf(root, "3"))
		}, false},
		{"an object added under it", func(o *Objects) {
			o.addWalk(root, walkOf(root, "1", "2"))
			o.Add(walkOf(root, "7"))
		}, false},
		{"a sibling walked", func(o *Objects) {
			o.addWalk(root, walkOf(root, "1", "2"))
			o.addWalk(other, walkOf(other, "1", "2"))
		}, true},
		{"a walk of its table", func(o *Objects) {
			o.addWalk(root, walkOf(root, "1", "2"))
			o.addWalk("1.3.6.1.2.1.2.2.1", walkOf(root, "1", "5"))
		}, false},
	}
	probes := []string{"1", "2", "3", "5", "7", "10", "11.5", "200", "01", "0", "9", "1000"}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := NewObjects()
			c.build(o)
			if got := o.searchable(root) != nil; got != c.search {
				t.Fatalf("searchable = %v, want %v", got, c.search)
			}
			// The reference: a fresh Objects built the same way, read
			// through maps only.
			ref := NewObjects()
			c.build(ref)
			col := ref.Column(root)
			for _, order := range [][]string{probes, {"200", "1", "10", "2", "10"}} {
				for _, idx := range order {
					p, ok := o.at(root, idx)
					q, want := col[idx]
					if ok != want || ok && (p.Name != q.Name || p.Value != q.Value) {
						t.Errorf("at(%s) = %v %v, the column has %v %v", idx, p, ok, q, want)
					}
					g, gok := o.Get(root + "." + idx)
					r, rok := ref.Get(root + "." + idx)
					if gok != rok || gok && g.Value != r.Value {
						t.Errorf("Get(%s) = %v %v, want %v %v", idx, g, gok, r, rok)
					}
				}
			}
			n, last := o.colSpan(root)
			if n != len(col) || last != lastIndex(col) {
				t.Errorf("colSpan = %d %q, the column has %d rows, last %q", n, last, len(col), lastIndex(col))
			}
			seen := map[string]bool{}
			o.eachIndex(root, func(idx string) { seen[idx] = true })
			if len(seen) != len(col) {
				t.Errorf("eachIndex gave %v, the column has %d rows", seen, len(col))
			}
			for idx := range col {
				if !seen[idx] {
					t.Errorf("eachIndex left out %s", idx)
				}
			}
		})
	}
}
