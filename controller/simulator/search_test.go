package simulator

import (
	"testing"

	"github.com/ngic/ngic/controller/snmprec"
)

// TestSearchAsView: search and next find what snmprec.View's Search and
// Next find, for recorded OIDs of every agent (about 400 spread over each)
// and for names between and around them (an arc cut, grown, or made
// longer).
func TestSearchAsView(t *testing.T) {
	checked := 0
	eachRecording(t, func(name string, r *recording) {
		v := r.View
		for i := 0; i < v.Len(); i += max(1, v.Len()/400) {
			o := v.Record(i).OID
			for _, q := range [][]byte{o, o[:len(o)-1], append(o[:len(o):len(o)], 0), append(o[:len(o):len(o)], 0x81, 0),
				bumped(o, 1), bumped(o, -1)} {
				if !snmprec.CanonicalOID(q) {
					continue
				}
				gi, ge := search(v, q)
				wi, we := v.Search(q)
				if gi != wi || ge != we || next(v, q) != v.Next(q) {
					t.Fatalf("%s: %s: search %d,%v next %d; View %d,%v next %d",
						name, snmprec.FormatOID(q), gi, ge, next(v, q), wi, we, v.Next(q))
				}
				checked++
			}
		}
	})
	t.Logf("%d names searched", checked)
}

// bumped returns a copy of oid with its last octet moved by d.
func bumped(oid []byte, d int) []byte {
	b := append([]byte(nil), oid...)
	b[len(b)-1] = byte(int(b[len(b)-1]) + d)
	return b
}

// FuzzCompareOID: compareOID orders any two canonical OIDs as
// snmprec.CompareOID does.
func FuzzCompareOID(f *testing.F) {
	for _, p := range [][2]string{
		{"1.3.6.1.2.1.2.2", "1.3.6.1.2.1.2.2.1.1.1"},
		{"1.3.6.1.2.1.2.2.1.10.5", "1.3.6.1.2.1.2.2.1.10.200"},
		{"1.3.6.1.4.1.2011.6.128", "1.3.6.1.4.1.311.1"},
		{"1.3.6.1.4.1.4294967295", "1.3.6.1.4.1.268435456.1"},
		{"1.3.6.1.2.1.1.3.0", "1.3.6.1.2.1.1.3.0"},
		{"0.0", "2.999.1"},
	} {
		a, _ := snmprec.AppendOID(nil, p[0])
		b, _ := snmprec.AppendOID(nil, p[1])
		f.Add(a, b)
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		if !snmprec.CanonicalOID(a) || !snmprec.CanonicalOID(b) {
			return
		}
		if got, want := compareOID(a, b), snmprec.CompareOID(a, b); got != want {
			t.Fatalf("compareOID(% x, % x) = %d, snmprec.CompareOID %d", a, b, got, want)
		}
	})
}
