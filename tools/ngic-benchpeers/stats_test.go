package main

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/telemetry"
)

func TestSummarize(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want Spread
	}{
		{[]float64{3, 1, 2}, Spread{2, 1, 3}},
		{[]float64{4, 1, 3, 2}, Spread{2.5, 1, 4}},
		{[]float64{5, math.NaN(), 7}, Spread{6, 5, 7}},
		{[]float64{9}, Spread{9, 9, 9}},
	} {
		if got := Summarize(c.in); got != c.want {
			t.Errorf("Summarize(%v) = %+v, want %+v", c.in, got, c.want)
		}
	}
	if s := Summarize(nil); !math.IsNaN(s.Median) || !math.IsNaN(s.Min) {
		t.Errorf("Summarize(nil) = %+v, want NaN", s)
	}
}

func TestRatiosRoundByRound(t *testing.T) {
	r := Ratios([]float64{2, 9, 4}, []float64{1, 3, 0})
	if len(r) != 3 || r[0] != 2 || r[1] != 3 || !math.IsNaN(r[2]) {
		t.Fatalf("Ratios = %v, want [2 3 NaN]", r)
	}
}

func TestTable(t *testing.T) {
	got := Table([]Row{
		{Name: "ours", Unit: "ns", Values: []float64{1500, 1234.4, 1800}, Ratio: []float64{0.5, 0.75, 1}, RatioTo: "theirs"},
		{Name: "theirs", Unit: "ns", Values: []float64{2, 3.456, math.NaN()}},
	})
	want := "| what | unit | median | min-max | ratio (median, min-max) |\n" +
		"| --- | --- | ---: | ---: | --- |\n" +
		"| ours | ns | 1500 | 1234-1800 | 0.75 (0.50-1.00) of theirs |\n" +
		"| theirs | ns | 2.73 | 2.00-3.46 |  |\n"
	if got != want {
		t.Fatalf("Table:\n%s\nwant:\n%s", got, want)
	}
}

// sideBySide is go test -bench output of BenchmarkSideBySide, log line
// included.
const sideBySide = `goos: linux
BenchmarkSideBySide-2   	       3	  41234567 ns/op	      4154 ifmib-varbinds	      5120 poll-varbinds	      7012 poll-cpu-ns/varbind	      2051 bulkwalk-net-cpu-ns/varbind
--- BENCH: BenchmarkSideBySide-2
    bench_test.go:468: arris_c4-cmts: CPU per varbind
PASS
`

func TestParseBench(t *testing.T) {
	m, err := ParseBench([]byte(sideBySide), "BenchmarkSideBySide")
	if err != nil {
		t.Fatal(err)
	}
	if m["poll-cpu-ns/varbind"] != 7012 || m["bulkwalk-net-cpu-ns/varbind"] != 2051 || m["ns/op"] != 41234567 || len(m) != 5 {
		t.Fatalf("metrics = %v", m)
	}
	if _, err := ParseBench([]byte(sideBySide), "BenchmarkSide"); err == nil {
		t.Fatal("a prefix of the name matched")
	}
	if _, err := ParseBench([]byte("BenchmarkX 3 1 ns/op 2x y/z\n"), "BenchmarkX"); err == nil {
		t.Fatal("a figure that is not a number was taken")
	}
}

func TestParseStatCPU(t *testing.T) {
	// pid (comm with ") " inside) state ppid ... utime=150 stime=25 (fields 14, 15)
	stat := "4242 (snmp) (x) S 1 4242 4242 0 -1 4194560 100 0 0 0 150 25 0 0 20 0 9 0 1234 0 0\n"
	got, err := ParseStatCPU([]byte(stat))
	if err != nil {
		t.Fatal(err)
	}
	if got != 175*clockTick {
		t.Fatalf("cpu = %v, want %v", got, 175*clockTick)
	}
	if _, err := ParseStatCPU([]byte("4242 (x) S 1 2")); err == nil {
		t.Fatal("a short stat was taken")
	}
}

func TestPDUsReturned(t *testing.T) {
	body := "# HELP snmp_scrape_pdus_returned PDUs returned from get or walk.\n" +
		"# TYPE snmp_scrape_pdus_returned gauge\nsnmp_scrape_pdus_returned{module=\"if_mib\"} 4157\nifInOctets{ifIndex=\"1\"} 3\n"
	n, err := PDUsReturned([]byte(body))
	if err != nil || n != 4157 {
		t.Fatalf("PDUsReturned = %d, %v; want 4157", n, err)
	}
	if _, err := PDUsReturned([]byte("ifInOctets 3\n")); err == nil {
		t.Fatal("a scrape without the metric gave a count")
	}
}

func TestExporterConfig(t *testing.T) {
	shipped := "auths:\n  public_v2:\n    community: public\n    version: 2\nmodules:\n  if_mib:\n    walk:\n    - 1.3.6.1.2.1.2\n" +
		"    metrics:\n    - name: ifInOctets\n      oid: 1.3.6.1.2.1.2.2.1.10\n      type: counter\n  other:\n    walk: [1.2]\n"
	got, err := ExporterConfig([]byte(shipped), "if_mib", "bench", "arris~000000", 50)
	if err != nil {
		t.Fatal(err)
	}
	s := string(got)
	for _, want := range []string{"community: arris~000000", "max_repetitions: 50", "ifInOctets", "bench:"} {
		if !strings.Contains(s, want) {
			t.Errorf("config lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "other") || strings.Contains(s, "public_v2") {
		t.Errorf("config keeps what it should drop:\n%s", s)
	}
	if _, err := ExporterConfig([]byte(shipped), "nope", "a", "c", 50); err == nil {
		t.Fatal("a missing module gave a config")
	}
}

func TestEventPayloadDecodes(t *testing.T) {
	p, err := EventPayload(7, time.Unix(1_700_000_000, 0))
	if err != nil {
		t.Fatal(err)
	}
	e, err := telemetry.DecodeEvent(p)
	if err != nil {
		t.Fatalf("payload %s: %v", p, err)
	}
	if e.Seq != 7 || e.Tag == nil || e.Tag.ID != "300000000000000000000000" {
		t.Fatalf("decoded %+v", e)
	}
}
