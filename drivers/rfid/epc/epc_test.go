package epc

import (
	"encoding/hex"
	"strings"
	"testing"
)

// vectors are worked examples from TDS Annex E and the GS1 Tag Data
// Translation test suite, plus edge cases of the partition tables.
var vectors = []struct {
	name   string
	hex    string
	scheme string
	uri    string
	filter int
	cp     string
	gtin   string
	sscc   string
}{
	{
		// 30 header | 011 filter 3 | 101 partition 5 | 0614141 (24 bits) | 812345 (20 bits) | 6789 (38 bits)
		name: "TDS sgtin-96", hex: "3074257BF7194E4000001A85",
		scheme: SchemeSGTIN96, uri: "urn:epc:id:sgtin:0614141.812345.6789", filter: 3, cp: "0614141",
		gtin: "80614141123458",
	},
	{
		// 31 header | 011 filter 3 | 101 partition 5 | 0614141 (24) | 1234567890 (34) | 24 zero bits
		name: "TDS sscc-96", hex: "3174257BF4499602D2000000",
		scheme: SchemeSSCC96, uri: "urn:epc:id:sscc:0614141.1234567890", filter: 3, cp: "0614141",
		sscc: "106141412345678908",
	},
	{
		// 33 header | 011 filter 3 | 101 partition 5 | 0614141 (24) | 12345 (20) | 5678 (38)
		name: "TDT grai-96", hex: "3374257BF40C0E400000162E",
		scheme: SchemeGRAI96, uri: "urn:epc:id:grai:0614141.12345.5678", filter: 3, cp: "0614141",
	},
	{
		// 33 header | filter 3 | partition 5 | 0614141 | asset type 8, printed 00008 | 1234
		name: "grai-96 padded asset type", hex: "3374257BF4000200000004D2",
		scheme: SchemeGRAI96, uri: "urn:epc:id:grai:0614141.00008.1234", filter: 3, cp: "0614141",
	},
	{
		// 34 header | 011 filter 3 | 101 partition 5 | 0614141 (24) | 5678 (58)
		name: "TDS giai-96", hex: "3474257BF40000000000162E",
		scheme: SchemeGIAI96, uri: "urn:epc:id:giai:0614141.5678", filter: 3, cp: "0614141",
	},
	{
		// 30 header | 001 filter 1 | 000 partition 0 | 12-digit prefix 000000000001 (40) | indicator 9 (4) | serial 0
		name: "sgtin-96 partition 0", hex: "302000000000064000000000",
		scheme: SchemeSGTIN96, uri: "urn:epc:id:sgtin:000000000001.9.0", filter: 1, cp: "000000000001",
		gtin: "90000000000010",
	},
}

func TestDecodeVectors(t *testing.T) {
	for _, v := range vectors {
		b, err := hex.DecodeString(v.hex)
		if err != nil {
			t.Fatal(err)
		}
		id := Decode(b)
		if id.Scheme != v.scheme || id.URI != v.uri || id.Filter != v.filter || id.CompanyPrefix != v.cp ||
			id.GTIN != v.gtin || id.SSCC != v.sscc || id.Reason != "" {
			t.Errorf("%s: got %+v", v.name, id)
		}
		// A 128-bit EPC memory with the 96-bit EPC and zero padding decodes the same.
		if pad := Decode(append(b, 0, 0, 0, 0)); pad != id {
			t.Errorf("%s padded: got %+v", v.name, pad)
		}
	}
}

func TestUnknown(t *testing.T) {
	cases := []struct {
		name, hex, reason string
	}{
		{"short", "3074257BF7194E40", "bytes"},
		{"data after 96 bits", "3074257BF7194E4000001A8500000001", "after the 12th"},
		{"unknown header", "E20034120123456789000000", "header 0xE2"},
		{"partition 7", "307C257BF7194E4000001A85", "partition 7"},
		// partition 0: company prefix field all ones (40 bits) > 12 digits
		{"company prefix too large", "3063FFFFFFFFFC0000000000", "company prefix"},
		// giai partition 6: reference 62 bits all ones > 18 digits
		{"giai reference too large", "347800003FFFFFFFFFFFFFFF", "reference"},
		// grai partition 0: asset type of 0 digits must be 0
		{"grai asset type in 0 digits", "336000000000044000000000", "reference"},
	}
	for _, c := range cases {
		b, _ := hex.DecodeString(c.hex)
		id := Decode(b)
		if id.Scheme != "" || id.URI != "" || id.GTIN != "" || id.SSCC != "" {
			t.Errorf("%s: decoded %+v", c.name, id)
		}
		if !strings.HasPrefix(id.Reason, "epc: ") || !strings.Contains(id.Reason, c.reason) {
			t.Errorf("%s: reason %q, want it to mention %q", c.name, id.Reason, c.reason)
		}
	}
}

func TestCheckDigit(t *testing.T) {
	// GS1 General Specifications check digit examples.
	for in, want := range map[string]byte{"8061414112345": '8', "10614141234567890": '8', "629104150021": '3'} {
		if got := CheckDigit([]byte(in)); got != want {
			t.Errorf("CheckDigit(%s) = %c, want %c", in, got, want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, v := range vectors {
		b, _ := hex.DecodeString(v.hex)
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{0x30, 0x7C, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		id := Decode(b)
		if (id.Scheme == "") != (id.URI == "") || (id.Scheme == "") == (id.Reason == "") {
			t.Fatalf("inconsistent %+v", id)
		}
		if id.Filter < 0 || id.Filter > 7 {
			t.Fatalf("filter %d", id.Filter)
		}
		if id.Scheme == "" {
			return
		}
		if !strings.HasPrefix(id.URI, "urn:epc:id:"+strings.TrimSuffix(id.Scheme, "-96")+":"+id.CompanyPrefix+".") {
			t.Fatalf("URI %q does not match scheme %s and prefix %s", id.URI, id.Scheme, id.CompanyPrefix)
		}
		for _, key := range []string{id.GTIN, id.SSCC} {
			if key != "" && CheckDigit([]byte(key[:len(key)-1])) != key[len(key)-1] {
				t.Fatalf("key %s fails its check digit", key)
			}
		}
		if id.Scheme == SchemeSGTIN96 && len(id.GTIN) != 14 || id.Scheme == SchemeSSCC96 && len(id.SSCC) != 18 {
			t.Fatalf("key length in %+v", id)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	epc, _ := hex.DecodeString(vectors[0].hex)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n += len(Decode(epc).URI)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decodes/s")
	if n == 0 {
		b.Fatal("nothing decoded")
	}
}
