package snmprec

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ngic/ngic/internal/testenv"
)

// recordings lists the .snmprec files of the shared recordings folder.
func recordings(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(testenv.Recordings(t), "*.snmprec"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recordings found (%v)", err)
	}
	return files
}

var hexRe = regexp.MustCompile(`^([0-9a-fA-F]{2})*$`)

// expectCounts counts a recording's lines independently of the parser: the
// non-blank, non-comment lines, those that are bad (invalid hex for an x
// type) and repeated OIDs.
func expectCounts(t *testing.T, b []byte) (lines, bad, dups int) {
	seen := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		lines++
		f := strings.SplitN(l, "|", 3)
		if len(f) != 3 {
			bad++
			continue
		}
		if strings.HasSuffix(f[1], "x") && !hexRe.MatchString(f[2]) {
			bad++
			continue
		}
		oid := strings.TrimPrefix(f[0], ".")
		if seen[oid] {
			dups++
			continue
		}
		seen[oid] = true
	}
	return lines, bad, dups
}

func TestParseEveryRecording(t *testing.T) {
	for _, path := range recordings(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".snmprec")
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			lines, bad, dups := expectCounts(t, b)
			v, warns, err := ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := v.Len(), lines-bad-dups; got != want {
				t.Errorf("records = %d, want %d (%d lines - %d bad - %d duplicate)", got, want, lines, bad, dups)
			}
			if len(warns) != bad+dups {
				t.Errorf("%d warnings, want %d: %v", len(warns), bad+dups, warns)
			}
			for _, w := range warns {
				if w.File != filepath.Base(path) || w.Line < 1 {
					t.Errorf("warning does not name file and line: %+v", w)
				}
			}
			for i := 1; i < v.Len(); i++ {
				if CompareOID(v.Record(i-1).OID, v.Record(i).OID) >= 0 {
					t.Fatalf("records %d and %d out of order: %s, %s", i-1, i,
						FormatOID(v.Record(i-1).OID), FormatOID(v.Record(i).OID))
				}
			}
			switch name {
			case "cisco_c2950-ios":
				if bad != 22 {
					t.Errorf("independent count found %d bad lines, the manifest says 22", bad)
				}
				if !strings.Contains(warns[0].Msg, "346288XXYYZZ") || warns[0].Line != 209 {
					t.Errorf("first warning = %v, want line 209 naming the bad hex", warns[0])
				}
			case "zte_c320":
				if dups != 3 || len(warns) != 3 {
					t.Errorf("dups = %d, warnings = %d, want 3 and 3", dups, len(warns))
				}
				for _, w := range warns {
					if !strings.Contains(w.Msg, "duplicate") {
						t.Errorf("warning %v is not about a duplicate", w)
					}
				}
			default:
				if len(warns) != 0 {
					t.Errorf("unexpected warnings: %v", warns)
				}
			}
		})
	}
}

// get returns the record for a dotted OID.
func get(t *testing.T, v *View, oid string) Record {
	t.Helper()
	b, err := AppendOID(nil, oid)
	if err != nil {
		t.Fatal(err)
	}
	i, ok := v.Search(b)
	if !ok {
		t.Fatalf("%s not found", oid)
	}
	return v.Record(i)
}

func TestRecordedValues(t *testing.T) {
	dir := testenv.Recordings(t)
	v, _, err := ParseFile(filepath.Join(dir, "cdata_olt.snmprec"))
	if err != nil {
		t.Fatal(err)
	}
	// sysObjectID is recorded with a leading dot.
	r := get(t, v, "1.3.6.1.2.1.1.2.0")
	if r.Type != ObjectIdentifier || FormatOID(r.Value) != "1.3.6.1.4.1.17409" {
		t.Errorf("sysObjectID = %s %s", r.Type, FormatOID(r.Value))
	}
	z, _, err := ParseFile(filepath.Join(dir, "zte_c320.snmprec"))
	if err != nil {
		t.Fatal(err)
	}
	// 1.3.6.1.2.1.1.4.0|4e|\\"private\\" holds a backslash-quote pair.
	if r := get(t, z, "1.3.6.1.2.1.1.4.0"); r.Type != OctetString || string(r.Value) != `\"private\"` {
		t.Errorf("sysContact = %q", r.Value)
	}
	// \x escapes and plain bytes mixed: \xd4\xc1\xc8\x18\x86P.
	if r := get(t, z, "1.3.6.1.2.1.2.2.1.6.268632064"); !bytes.Equal(r.Value, []byte{0xd4, 0xc1, 0xc8, 0x18, 0x86, 'P'}) {
		t.Errorf("ifPhysAddress = % x", r.Value)
	}
}

// A line is skipped with a warning; the others still parse.
func TestParseLines(t *testing.T) {
	cases := []struct {
		line  string
		typ   Type
		value []byte // BER content; nil for a line that must be rejected
	}{
		{"1.3.6.1|2|-129", Integer, []byte{
			0xff, 0x7f, // -129, two's complement, minimal
		}},
		{"1.3.6.1|2|127", Integer, []byte{0x7f}},
		{"1.3.6.1|2|2147483648", 0, nil},
		{"1.3.6.1|65|4294967295", Counter32, []byte{
			0x00,                   // sign octet: the top bit is set
			0xff, 0xff, 0xff, 0xff, // 2^32-1
		}},
		{"1.3.6.1|65|4294967296", 0, nil},
		{"1.3.6.1|70|18446744073709551615", Counter64, []byte{
			0x00,                                           // sign octet
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // 2^64-1
		}},
		{"1.3.6.1|66|0", Gauge32, []byte{0x00}},
		{"1.3.6.1|67|100", TimeTicks, []byte{0x64}},
		{"1.3.6.1|4|a|b", OctetString, []byte("a|b")},
		{"1.3.6.1|4|", OctetString, []byte{}},
		{"1.3.6.1|4x|00ff", OctetString, []byte{0x00, 0xff}},
		{"1.3.6.1|4x|0", 0, nil},
		{"1.3.6.1|4x|zz", 0, nil},
		{`1.3.6.1|4e|a\tb\\\x41\'`, OctetString, []byte("a\tb\\A'")},
		{`1.3.6.1|4e|\q`, 0, nil},
		{`1.3.6.1|4e|\xg1`, 0, nil},
		{`1.3.6.1|4e|ab\x4`, OctetString, []byte("ab")},
		{"1.3.6.1|5|", Null, []byte{}},
		{"1.3.6.1|5|x", 0, nil},
		{"1.3.6.1|6|.1.3.6.1.4.1.9", ObjectIdentifier, []byte{
			0x2b,       // 1.3
			6, 1, 4, 1, // .6.1.4.1
			9, // .9
		}},
		{"1.3.6.1|6|1.3.6.1.4.1.300", ObjectIdentifier, []byte{
			0x2b,       // 1.3
			6, 1, 4, 1, // .6.1.4.1
			0x82, 0x2c, // .300 = 2*128 + 44
		}},
		{"1.3.6.1|6|0.0", ObjectIdentifier, []byte{0x00}},
		{"1.3.6.1|64|10.0.0.1", IPAddress, []byte{10, 0, 0, 1}},
		{"1.3.6.1|64x|c3dafe61", IPAddress, []byte{0xc3, 0xda, 0xfe, 0x61}},
		{"1.3.6.1|64|J}M}", IPAddress, []byte{74, 125, 77, 125}},
		{"1.3.6.1|64|10.0.0", 0, nil},
		{"1.3.6.1|64x|c3dafe", 0, nil},
		{"1.3.6.1|68x|9f78043eeb851f", Opaque, []byte{0x9f, 0x78, 0x04, 0x3e, 0xeb, 0x85, 0x1f}},
		{"1.3.6.1|99|1", 0, nil},
		{"1.3.6.1|2x|01", 0, nil},
		{"1.3.6.1|2", 0, nil},
		{"1.3.6.1", 0, nil},
		{"1.3.x.1|2|1", 0, nil},
		{"3.1|2|1", 0, nil},
		{"1.40|2|1", 0, nil},
		{"1|2|1", 0, nil},
		{"1.3.6.1.4294967296|2|1", 0, nil},
	}
	for _, c := range cases {
		v, warns := Parse("t", []byte("# header\n\n1.3.6.0|2|5\n"+c.line+"\n"))
		if c.value == nil {
			if v.Len() != 1 || len(warns) != 1 || warns[0].Line != 4 {
				t.Errorf("%q: %d records, warnings %v; want it skipped with a warning on line 4", c.line, v.Len(), warns)
			}
			continue
		}
		if v.Len() != 2 || len(warns) != 0 {
			t.Errorf("%q: %d records, warnings %v", c.line, v.Len(), warns)
			continue
		}
		r := v.Record(1)
		if r.Type != c.typ || !bytes.Equal(r.Value, c.value) || FormatOID(r.OID) != "1.3.6.1" {
			t.Errorf("%q: got %s %s % x, want %s % x", c.line, FormatOID(r.OID), r.Type, r.Value, c.typ, c.value)
		}
	}
}

func TestSortAndDuplicates(t *testing.T) {
	src := "1.3.6.1.2.1.2.2.1.10.2|65|20\r\n" +
		".1.3.6.1.2.1.2.2.1.10.1|65|10\n" +
		"1.3.6.1.2.1.2.2.1.10.2|65|99\n" + // duplicate, dropped
		"  1.3.6.1.2.1.2.2.1.2.1|4|eth0  \n"
	v, warns := Parse("dup", []byte(src))
	var got []string
	for i := 0; i < v.Len(); i++ {
		r := v.Record(i)
		n, _ := r.Uint64()
		got = append(got, FormatOID(r.OID)+"="+string(r.Value)+strconv.FormatUint(n, 10))
	}
	want := []string{"1.3.6.1.2.1.2.2.1.2.1=eth00", "1.3.6.1.2.1.2.2.1.10.1=\n10", "1.3.6.1.2.1.2.2.1.10.2=\x1420"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("got %q, want %q", got, want)
	}
	if len(warns) != 1 || warns[0].Line != 3 || !strings.Contains(warns[0].Error(), "dup:3: duplicate OID 1.3.6.1.2.1.2.2.1.10.2 (first on line 1)") {
		t.Errorf("warnings = %v", warns)
	}
}

func TestCompareOID(t *testing.T) {
	// Pairs in ascending order; byte order gets the second and third wrong.
	ordered := []string{"1.3", "1.3.6", "1.3.6.1.16383", "1.3.6.1.16384", "1.3.6.1.4294967295", "1.3.7", "2.100"}
	for i := range ordered {
		for j := range ordered {
			a, _ := AppendOID(nil, ordered[i])
			b, _ := AppendOID(nil, ordered[j])
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := CompareOID(a, b); got != want {
				t.Errorf("CompareOID(%s, %s) = %d, want %d", ordered[i], ordered[j], got, want)
			}
			if FormatOID(a) != ordered[i] {
				t.Errorf("FormatOID round trip: %s != %s", FormatOID(a), ordered[i])
			}
			if !CanonicalOID(a) {
				t.Errorf("%s not canonical", ordered[i])
			}
		}
	}
	for _, b := range [][]byte{
		{},                                   // empty
		{0x2b, 0x80, 0x01},                   // leading 0x80 in an arc
		{0x2b, 0x86},                         // last arc unfinished
		{0x2b, 0x90, 0x80, 0x80, 0x80, 0x00}, // arc above 2^32-1
	} {
		if CanonicalOID(b) {
			t.Errorf("% x reported canonical", b)
		}
	}
}

func TestSearch(t *testing.T) {
	v, _ := Parse("s", []byte("1.3.6.1.2.1.1.1.0|4|a\n1.3.6.1.2.1.1.3.0|67|5\n1.3.6.1.2.1.2.1.0|2|1\n"))
	for _, c := range []struct {
		oid       string
		idx, next int
		exact     bool
	}{
		{"1.3", 0, 0, false},
		{"1.3.6.1.2.1.1.1.0", 0, 1, true},
		{"1.3.6.1.2.1.1.2", 1, 1, false},
		{"1.3.6.1.2.1.2.1.0", 2, 3, true},
		{"1.3.6.1.2.1.2.1.0.0", 3, 3, false},
	} {
		b, _ := AppendOID(nil, c.oid)
		i, ok := v.Search(b)
		if i != c.idx || ok != c.exact || v.Next(b) != c.next {
			t.Errorf("%s: Search = %d %v, Next = %d; want %d %v %d", c.oid, i, ok, v.Next(b), c.idx, c.exact, c.next)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("1.3.6.1.2.1.1.1.0|4|Linux\n1.3.6.1.2.1.1.2.0|6|.1.3.6.1.4.1.8072\n"))
	f.Add([]byte("1.3.6.1|4x|00ff\n1.3.6.1|4x|zz\n.1.3.6.0|70|18446744073709551615\n# c\n\n"))
	f.Add([]byte(`1.3.6.1|4e|a\tb\\\x41\'` + "\n1.3.6.1.2|64|1.2.3.4\n1.3.6.1.3|68x|9f78\n1.3|5|\n"))
	f.Add([]byte("2.999.1|2|-5\n1.3.6.1.2.1.2.2.1.10.1|65|1\n1.3.6.1.2.1.2.2.1.10.1|65|1\n"))
	f.Add([]byte("1.3.6.1.4.1.3902.1082.10.10.2.1.6.1.2.1.1.1|2|38\n1.3.6.1.4.1.3902|2|1"))
	f.Fuzz(func(t *testing.T, src []byte) {
		v, warns := Parse("fuzz", src)
		for _, w := range warns {
			if w.Line < 1 {
				t.Fatalf("warning without a line: %v", w)
			}
		}
		for i := 0; i < v.Len(); i++ {
			r := v.Record(i)
			if !CanonicalOID(r.OID) {
				t.Fatalf("record %d: non-canonical OID % x", i, r.OID)
			}
			back, err := AppendOID(nil, FormatOID(r.OID))
			if err != nil || !bytes.Equal(back, r.OID) {
				t.Fatalf("record %d: OID % x does not round-trip (%v)", i, r.OID, err)
			}
			if i > 0 && CompareOID(v.Record(i-1).OID, r.OID) >= 0 {
				t.Fatalf("records %d, %d out of order", i-1, i)
			}
			if r.Type == IPAddress && len(r.Value) != 4 {
				t.Fatalf("IpAddress of %d bytes", len(r.Value))
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	var srcs [][]byte
	var names []string
	total := 0
	for _, p := range recordings(b) {
		s, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		srcs = append(srcs, s)
		names = append(names, filepath.Base(p))
		total += len(s)
	}
	b.SetBytes(int64(total))
	b.ResetTimer()
	recs := 0
	for b.Loop() {
		for i, s := range srcs {
			v, _ := Parse(names[i], s)
			recs += v.Len()
		}
	}
	b.ReportMetric(float64(recs)/b.Elapsed().Seconds(), "records/s")

	// Memory: what a view keeps per record (index entry plus OID and
	// value bytes), and what parsing allocates per record in passing.
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	views := make([]*View, len(srcs))
	n, kept := 0, 0
	for i, s := range srcs {
		views[i], _ = Parse(names[i], s)
		n += views[i].Len()
		kept += views[i].Bytes()
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(kept)/float64(n), "keptB/record")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(n), "allocB/record")
}

// TestParseFileRefusesSpecialFiles: a folder or a FIFO named like a
// recording is an error, returned at once (a FIFO is never opened, so
// reading it cannot block), and so is a dangling symbolic link.
func TestParseFileRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.snmprec")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	folder := filepath.Join(dir, "folder.snmprec")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling.snmprec")
	if err := os.Symlink(filepath.Join(dir, "gone"), dangling); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{fifo: "a named pipe, not a regular file",
		folder: "a folder, not a regular file", dangling: "no such file"} {
		done := make(chan error, 1)
		go func() { _, _, err := ParseFile(path); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %v, want one saying %q", filepath.Base(path), err, want)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: ParseFile blocked", filepath.Base(path))
		}
	}
}
