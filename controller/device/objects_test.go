package device

import (
	"strconv"
	"strings"
	"testing"

	"github.com/gosnmp/gosnmp"
)

// oidLessSplit is oidLess as first written, splitting both OIDs: the
// reference the allocation-free one must agree with.
func oidLessSplit(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		ai, errA := strconv.ParseUint(as[i], 10, 64)
		bi, errB := strconv.ParseUint(bs[i], 10, 64)
		if errA != nil || errB != nil {
			if as[i] != bs[i] {
				return as[i] < bs[i]
			}
			continue
		}
		if ai != bi {
			return ai < bi
		}
	}
	return len(as) < len(bs)
}

func FuzzOIDLess(f *testing.F) {
	for _, c := range [][2]string{
		{"1.3.6.1", "1.3.6.1.2"}, {"1.3.6.10", "1.3.6.9"}, {"", ""}, {"", "1"}, {"1..2", "1.0.2"},
		{"18446744073709551615", "18446744073709551616"}, {"01.2", "1.2"}, {"a.1", "1.a"}, {"1.", "1"},
		{"2.1", "10"}, {"7", "7"}, {"1.3.6.1.2.1.2.2.1.10.12", "1.3.6.1.2.1.2.2.1.10.2"},
	} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if got, want := oidLess(a, b), oidLessSplit(a, b); got != want {
			t.Errorf("oidLess(%q, %q) = %v, want %v", a, b, got, want)
		}
	})
}

func TestColumnAfterAdd(t *testing.T) {
	pdu := func(oid string, v int) gosnmp.SnmpPDU {
		return gosnmp.SnmpPDU{Name: oid, Type: gosnmp.Integer, Value: v}
	}
	o := NewObjects([]gosnmp.SnmpPDU{pdu(".1.3.6.1.2.1.2.2.1.1.1", 1), pdu(".1.3.6.1.2.1.2.2.1.1.2", 2),
		pdu(".1.3.6.1.2.1.2.2.1.10.1", 10), pdu(".1.3.6.1.2.1.2.2.1.1", 0)})
	col := func(root string) string {
		var s []string
		for _, k := range indexes(o.Column(root)) {
			s = append(s, k+"="+strconv.Itoa(o.Column(root)[k].Value.(int)))
		}
		return strings.Join(s, " ")
	}
	if got := col("1.3.6.1.2.1.2.2.1.1"); got != "1=1 2=2" {
		t.Errorf("column 1: %q", got)
	}
	if got := col(".1.3.6.1.2.1.2.2.1"); got != "1=0 1.1=1 1.2=2 10.1=10" {
		t.Errorf("entry: %q", got)
	}
	o.Add([]gosnmp.SnmpPDU{pdu(".1.3.6.1.2.1.2.2.1.1.10", 10), pdu(".1.3.6.1.2.1.2.2.1.1.1", 11)})
	if got := col("1.3.6.1.2.1.2.2.1.1"); got != "1=11 2=2 10=10" {
		t.Errorf("column 1 after Add: %q", got)
	}
	if got := col("1.3.6.1.2.1.2.2.1.2"); got != "" {
		t.Errorf("absent column: %q", got)
	}
}

// TestColumnOfWalks checks that a column read from a walk's run is the
// one the sorted objects give, whether or not other walks or objects
// overlap the root.
func TestColumnOfWalks(t *testing.T) {
	pdu := func(oid string, v int) gosnmp.SnmpPDU {
		return gosnmp.SnmpPDU{Name: oid, Type: gosnmp.Integer, Value: v}
	}
	const col, entry = "1.3.6.1.2.1.2.2.1.1", "1.3.6.1.2.1.2.2.1"
	run := []gosnmp.SnmpPDU{pdu(".1.3.6.1.2.1.2.2.1.1.1", 1), pdu(".1.3.6.1.2.1.2.2.1.1.2", 2),
		{Name: ".1.3.6.1.2.1.2.2.1.1.3", Type: gosnmp.Null}}
	for name, c := range map[string]struct {
		build func(o *Objects)
		want  string
	}{
		"alone":                              {func(o *Objects) { o.addWalk(col, run) }, "1=1 2=2"},
		"empty walk, object of another walk": {func(o *Objects) { o.addWalk(col, nil); o.addWalk(entry+".2", run[:1]) }, "1=1"},
		"empty walk":                         {func(o *Objects) { o.addWalk(col, nil); o.addWalk(entry+".2", nil) }, ""},
		"entry walked": {func(o *Objects) {
			o.addWalk(col, run)
			o.addWalk(entry, []gosnmp.SnmpPDU{pdu(".1.3.6.1.2.1.2.2.1.1.2", 7)})
		}, "1=1 2=7"},
		"loose object":  {func(o *Objects) { o.addWalk(col, run); o.Add([]gosnmp.SnmpPDU{pdu("1.3.6.1.2.1.2.2.1.1.9", 9)}) }, "1=1 2=2 9=9"},
		"walked twice":  {func(o *Objects) { o.addWalk(col, run); o.addWalk(col, run[1:2]) }, "1=1 2=2"},
		"object beyond": {func(o *Objects) { o.addWalk(col, append(run[:2:2], pdu(".1.3.6.1.2.1.2.2.1.2.1", 5))) }, "1=1 2=2"},
	} {
		o := NewObjects()
		c.build(o)
		var s []string
		m := o.Column(col)
		for _, k := range indexes(m) {
			s = append(s, k+"="+strconv.Itoa(m[k].Value.(int)))
		}
		if got := strings.Join(s, " "); got != c.want {
			t.Errorf("%s: column %q, want %q", name, got, c.want)
		}
	}
}

// TestGetAfterWalks checks that the objects of walks, indexed only when
// needed, are found by Get and counted by Len, the last added winning.
func TestGetAfterWalks(t *testing.T) {
	pdu := func(oid string, v int) gosnmp.SnmpPDU {
		return gosnmp.SnmpPDU{Name: oid, Type: gosnmp.Integer, Value: v}
	}
	o := NewObjects([]gosnmp.SnmpPDU{pdu("1.3.6.1.2.1.1.3.0", 1), pdu("1.3.6.1.2.1.2.2.1.1.1", 1)})
	o.addWalk("1.3.6.1.2.1.2.2.1.1", []gosnmp.SnmpPDU{pdu(".1.3.6.1.2.1.2.2.1.1.1", 2), pdu(".1.3.6.1.2.1.2.2.1.1.2", 3)})
	if p, ok := o.Get("1.3.6.1.2.1.1.3.0"); !ok || p.Value != 1 {
		t.Errorf("scalar: %v %v", p, ok)
	}
	if p, ok := o.Get(".1.3.6.1.2.1.2.2.1.1.1"); !ok || p.Value != 2 {
		t.Errorf("walked object added after the same OID: %v %v, want the walk's", p, ok)
	}
	o.addWalk("1.3.6.1.2.1.2.2.1.2", []gosnmp.SnmpPDU{pdu(".1.3.6.1.2.1.2.2.1.2.1", 4)})
	if n := o.Len(); n != 4 {
		t.Errorf("Len %d, want 4", n)
	}
	o.addWalk("1.3.6.1.2.1.2.2.1.3", []gosnmp.SnmpPDU{pdu(".1.3.6.1.2.1.2.2.1.3.1", 5)})
	o.Add([]gosnmp.SnmpPDU{pdu("1.3.6.1.2.1.2.2.1.3.1", 6)})
	if p, ok := o.Get("1.3.6.1.2.1.2.2.1.3.1"); !ok || p.Value != 6 {
		t.Errorf("object added after a walk: %v %v, want Add's", p, ok)
	}
	if got := o.Column("1.3.6.1.2.1.2.2.1.3")["1"].Value; got != 6 {
		t.Errorf("column after Add: %v, want 6", got)
	}
}
