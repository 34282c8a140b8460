package device

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gosnmp/gosnmp"
)

func TestParseProfilesStrict(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown key", "name: a\nclass: olt\nmatch: {sys_object_id: [1.3.6]}\nwalkk: []\n", "field walkk not found"},
		{"bad class", "name: a\nclass: modem\nmatch: {sys_object_id: [1.3.6]}\n", "line 1: profile \"a\": class"},
		{"bad oid", "- name: a\n  class: router\n  match: {sys_object_id: [1.3.6]}\n- name: b\n  class: router\n  match: {sys_object_id: [iso.3]}\n", "line 4: profile \"b\": match.sys_object_id[0]"},
		{"no match", "name: a\nclass: olt\n", "match: needs"},
		{"bad regexp", "name: a\nclass: olt\nmodel: '('\nmatch: {sys_object_id: [1.3.6]}\n", "model:"},
		{"bad extractor", "name: a\nclass: router\naccess: nope\nmatch: {sys_object_id: [1.3.6]}\n", "no extractor named \"nope\""},
		{"two probe kinds", "name: a\nclass: olt\nmatch: {probes: [{if_type: 6, table: 1.3.6}]}\n", "match.probes[0]: needs exactly one"},
		{"two evidence kinds", "name: a\nclass: olt\nmatch: {evidence: [{sys_descr: x, table: 1.3.6}]}\n", "match.evidence[0]: needs exactly one"},
		{"bad sys_descr", "name: a\nclass: olt\nmatch: {evidence: [{sys_descr: '('}]}\n", "match.evidence[0]: sys_descr:"},
		{"access class on a vendor OID alone", "name: a\nclass: olt\nmatch: {sys_object_id: [1.3.6.1.4.1.99999]}\n", "class olt is an access class and must rest on access evidence"},
		{"access class on sysServices alone", "name: a\nclass: dslam\nmatch: {probes: [{sys_services_layer: 2}]}\n", "class dslam is an access class"},
		{"access class with some evidence not of access", "name: a\nclass: cmts\nmatch: {sys_object_id: [1.3.6.1.4.1.99999], evidence: [{sys_descr: CMTS}, {sys_services_layer: 2}]}\n", "class cmts is an access class"},
	}
	for _, c := range cases {
		_, err := ParseProfiles("site.yaml", []byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "site.yaml") {
			t.Errorf("%s: err = %v, want it to name site.yaml and contain %q", c.name, err, c.want)
		}
	}
}

func TestLoadProfilesOverride(t *testing.T) {
	def, err := DefaultProfiles()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := def.Lookup("huawei-olt"); !ok {
		t.Fatal("embedded huawei-olt profile missing")
	}
	site := fstest.MapFS{"huawei.yaml": {Data: []byte("name: huawei-olt\nclass: dslam\nmatch: {sys_object_id: [1.3.6.1.4.1.2011.2.123], evidence: [{if_types: [94]}]}\n")}}
	set, err := LoadProfiles(embeddedSub(t), site)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := set.Lookup("huawei-olt")
	if p.Class != ClassDSLAM || len(set.Profiles()) != len(def.Profiles()) {
		t.Errorf("override: class %s, %d profiles (embedded %d)", p.Class, len(set.Profiles()), len(def.Profiles()))
	}
}

func embeddedSub(t *testing.T) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	entries, _ := embedded.ReadDir("profiles")
	for _, e := range entries {
		b, _ := embedded.ReadFile("profiles/" + e.Name())
		out[e.Name()] = &fstest.MapFile{Data: b}
	}
	return out
}

func pdu(oid string, t gosnmp.Asn1BER, v any) gosnmp.SnmpPDU {
	return gosnmp.SnmpPDU{Name: oid, Type: t, Value: v}
}

func TestClassifyStages(t *testing.T) {
	set, err := DefaultProfiles()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		pdus []gosnmp.SnmpPDU
		want Class
	}{
		{"sysObjectID with leading dot", []gosnmp.SnmpPDU{pdu(".1.3.6.1.2.1.1.2.0", gosnmp.ObjectIdentifier, ".1.3.6.1.4.1.17409"),
			pdu(".1.3.6.1.4.1.17409.2.3.1.1.13.0", gosnmp.OctetString, []byte("AF2101"))}, ClassOLT},
		{"probe: CMTS modem table", []gosnmp.SnmpPDU{
			pdu("1.3.6.1.2.1.1.2.0", gosnmp.ObjectIdentifier, "1.3.6.1.4.1.99999"),
			pdu("1.3.6.1.2.1.10.127.1.3.3.1.9.7", gosnmp.Integer, 6)}, ClassCMTS},
		{"probe: two ADSL lines (a bonded CPE)", []gosnmp.SnmpPDU{
			pdu("1.3.6.1.2.1.2.2.1.3.1", gosnmp.Integer, 94), pdu("1.3.6.1.2.1.2.2.1.3.2", gosnmp.Integer, 94)}, ClassDSLCPE},
		{"probe: one ADSL line", []gosnmp.SnmpPDU{pdu("1.3.6.1.2.1.2.2.1.3.1", gosnmp.Integer, 94)}, ClassDSLCPE},
		{"fallback: sysServices 78 (layers 2,3,4,7)", []gosnmp.SnmpPDU{pdu("1.3.6.1.2.1.1.7.0", gosnmp.Integer, 78)}, ClassRouter},
		{"fallback: sysServices 72 (layers 4,7)", []gosnmp.SnmpPDU{pdu("1.3.6.1.2.1.1.7.0", gosnmp.Integer, 72)}, ClassUnknown},
		{"fallback: sysServices 64 (layer 7)", []gosnmp.SnmpPDU{pdu("1.3.6.1.2.1.1.7.0", gosnmp.Integer, 64)}, ClassServer},
		{"nothing", nil, ClassUnknown},
	}
	for _, c := range cases {
		p := set.Classify(NewObjects(c.pdus))
		got := ClassUnknown
		if p != nil {
			got = p.Class
		}
		if got != c.want {
			t.Errorf("%s: class %s, want %s", c.name, got, c.want)
		}
	}
}

func TestDecodeText(t *testing.T) {
	cases := []struct {
		in   []byte
		want string
	}{
		{[]byte("Huawei\x00\x00"), "Huawei"},     // NUL padding
		{[]byte{0x43, 0x61, 0x66, 0xe9}, "Café"}, // Latin-1 é
		{[]byte("Caf\xc3\xa9"), "Café"},          // UTF-8 é
		{[]byte("a\x01b"), "a b"},                // control character
		{[]byte("  \x00 "), ""},                  // only blanks
	}
	for _, c := range cases {
		if got := decodeText(c.in); got != c.want {
			t.Errorf("decodeText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestRatesWrapAndReset(t *testing.T) {
	mk := func(at time.Time, up uint64, in32, hcIn *uint64, disc uint64) *Document {
		return &Document{PolledAt: at, sysUpTimeTicks: &up, Interfaces: []Interface{{Index: 1,
			Counters: Counters{InOctets: in32, HCInOctets: hcIn, Discontinuity: &disc}}}}
	}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	r := NewRates()
	first := mk(t0, 100, ptr(uint64(4294967000)), nil, 0)
	r.Apply("d", first)
	if first.Interfaces[0].InBps != nil {
		t.Fatal("rate on first poll")
	}
	// 32-bit wrap: 4294967000 -> 704 is 1000 octets in 10 s = 800 bit/s.
	second := mk(t0.Add(10*time.Second), 1100, ptr(uint64(704)), nil, 0)
	r.Apply("d", second)
	if got := second.Interfaces[0].InBps; got == nil || *got != 800 {
		t.Fatalf("wrap: in_bps = %v, want 800", got)
	}
	// sysUpTime went back: no rate.
	third := mk(t0.Add(20*time.Second), 50, ptr(uint64(900)), nil, 0)
	r.Apply("d", third)
	if third.Interfaces[0].InBps != nil {
		t.Error("rate across a restart")
	}
	// Discontinuity time changed: no rate.
	fourth := mk(t0.Add(30*time.Second), 1050, ptr(uint64(1900)), nil, 7)
	r.Apply("d", fourth)
	if fourth.Interfaces[0].InBps != nil {
		t.Error("rate across a counter discontinuity")
	}
	// HC preferred; a 64-bit counter going back is a reset.
	fifth := mk(t0.Add(40*time.Second), 2050, ptr(uint64(1900)), ptr(uint64(10)), 7)
	sixth := mk(t0.Add(50*time.Second), 3050, ptr(uint64(0)), ptr(uint64(1010)), 7)
	r.Apply("d", fifth)
	r.Apply("d", sixth)
	if got := sixth.Interfaces[0].InBps; got == nil || *got != 800 {
		t.Errorf("hc: in_bps = %v, want 800 from the HC counter", got)
	}
}

func TestCollectFakeRecordings(t *testing.T) {
	dir := recordingsDir(t)
	set, err := DefaultProfiles()
	if err != nil {
		t.Fatal(err)
	}
	pdus, _ := readSnmprec(t, filepath.Join(dir, "vsol_v1600d.snmprec"))
	c := newFakeClient("vsol", pdus)
	d, _, err := Collect(context.Background(), c, set)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.walks) != 1 {
		t.Errorf("%d walk calls, want 1 (all columns in one call)", len(c.walks))
	}
	if d.Class != ClassOLT || d.Access == nil || d.Access.PON == nil || d.Access.PON.ONTsOnline == nil {
		t.Fatalf("vsol: %+v", d)
	}
	c.err = errors.New("boom")
	// The caller names the target once; Collect says what failed.
	if _, _, err := Collect(context.Background(), c, set); !errors.Is(err, c.err) || strings.Contains(err.Error(), "vsol") ||
		!strings.HasPrefix(err.Error(), "device: system group: ") {
		t.Errorf("err = %v, want \"device: system group: \" wrapping the cause, without the target", err)
	}
}

// FuzzBuildDocument feeds arbitrary varbinds (OID, type, value) into the
// document builder under every extractor: it must never panic.
func FuzzBuildDocument(f *testing.F) {
	f.Add("1.3.6.1.2.1.2.2.1.3.1", byte(gosnmp.Integer), []byte{94}, int64(94))
	f.Add("1.3.6.1.2.1.2.2.1.6.1", byte(gosnmp.OctetString), []byte{0, 1, 2, 3, 4, 5}, int64(0))
	f.Add("1.3.6.1.4.1.2011.6.128.1.1.2.46.1.15.4194304000.1", byte(gosnmp.Integer), []byte{}, int64(1))
	f.Add("1.3.6.1.2.1.31.1.1.1.15.1", byte(gosnmp.Gauge32), []byte{}, int64(-1))
	f.Add("1.3.6.1.2.1.1.3.0", byte(gosnmp.TimeTicks), []byte{}, int64(1<<40))
	f.Add(".1.3.6.1.2.1.1.1.0", byte(gosnmp.OctetString), []byte{0xff, 0xfe, 0}, int64(0))
	f.Add("1.3.6.1.4.1.2696.3.2.1.1.5.1", byte(gosnmp.Counter64), []byte{}, int64(9))
	f.Add("1.3.6.1.2.1.31.1.2.1.3.13.11", byte(gosnmp.Integer), []byte{}, int64(1))
	set, err := DefaultProfiles()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, oid string, typ byte, raw []byte, n int64) {
		var v any
		switch gosnmp.Asn1BER(typ) {
		case gosnmp.OctetString:
			v = raw
		case gosnmp.ObjectIdentifier, gosnmp.IPAddress:
			v = string(raw)
		case gosnmp.Counter32, gosnmp.Gauge32:
			v = uint(n)
		case gosnmp.TimeTicks:
			v = uint32(n)
		case gosnmp.Counter64:
			v = uint64(n)
		default:
			v = int(n)
		}
		// The same value under the given OID and under the interface,
		// status and index columns each extractor reads.
		base := []gosnmp.SnmpPDU{{Name: oid, Type: gosnmp.Asn1BER(typ), Value: v}}
		for _, col := range append(append([]string{}, BaseColumns...), "1.3.6.1.2.1.10.127.1.1.4.1.5", huaweiONTRunStatus, "1.3.6.1.2.1.31.1.2.1.3") {
			base = append(base, gosnmp.SnmpPDU{Name: col + "." + oid, Type: gosnmp.Asn1BER(typ), Value: v},
				gosnmp.SnmpPDU{Name: col + ".1", Type: gosnmp.Asn1BER(typ), Value: v})
		}
		o := NewObjects(base)
		for _, p := range set.Profiles() {
			d := BuildDocument(p, o)
			if d == nil {
				t.Fatal("nil document")
			}
		}
		_ = set.Classify(o)
		_ = columnGaps(o, BaseColumns, map[string]bool{BaseColumns[0]: true}, nil)
	})
}
