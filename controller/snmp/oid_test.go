package snmp

import (
	"strings"
	"testing"
)

// FuzzOIDCompare checks that oidCompare, which skips the common prefix,
// orders as the arc-by-arc comparison from the first arc does, and that
// the order is antisymmetric.
func FuzzOIDCompare(f *testing.F) {
	for _, c := range [][2]string{
		{".1.3.6.1.2.1.2.2.1.1.9", ".1.3.6.1.2.1.2.2.1.1.10"}, {".1.3.6", ".1.3.6.1"}, {"1.30", "1.3.0"},
		{".1.3.06.1", ".1.3.6.2"}, {"", "."}, {"1.3", ".1.3"}, {"1..2", "1.0.2"}, {"1.a.2", "1.b"},
		{".1.3.6.1.2.1.31.1.1.1.1.5", ".1.3.6.1.2.1.31.1.1.1.1.5"},
	} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		want := arcsCompare(strings.TrimPrefix(a, "."), strings.TrimPrefix(b, "."))
		if got := oidCompare(a, b); got != want {
			t.Errorf("oidCompare(%q, %q) = %d, want %d", a, b, got, want)
		}
		if back := oidCompare(b, a); back != -want {
			t.Errorf("oidCompare(%q, %q) = %d, want %d", b, a, back, -want)
		}
	})
}

// FuzzSendable checks that the quick test passes only OIDs the arc by arc
// one passes too, and passes the usual ones.
func FuzzSendable(f *testing.F) {
	for _, s := range []string{".1.3.6.1.2.1.2.2.1.1.1", ".0.39", ".1.40", ".2.999.1", ".1.3", ".1", ".3.1", ".1.3.",
		".1..3", ".1.3.4294967295", ".1.3.4294967296", ".1.03.1", ".1.3.6.1" + strings.Repeat(".1", 124),
		".1.3.6.1" + strings.Repeat(".1", 125), "1.3.6", ".1.3.-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, oid string) {
		if sendable(oid) && unsendableArcs(oid) != "" {
			t.Errorf("sendable(%q), yet %s", oid, unsendableArcs(oid))
		}
	})
	if !sendable(".1.3.6.1.2.1.2.2.1.10.123456") {
		f.Fatal("a usual OID fails the quick test")
	}
}
