package main

import "testing"

func FuzzParseBench(f *testing.F) {
	f.Add([]byte(sideBySide), "BenchmarkSideBySide")
	f.Add([]byte("BenchmarkX-2 10 5 ns/op 3 events/s\n"), "BenchmarkX")
	f.Fuzz(func(t *testing.T, out []byte, name string) {
		m, err := ParseBench(out, name)
		if err == nil && m == nil {
			t.Fatal("no error and no metrics")
		}
	})
}

func FuzzParseStatCPU(f *testing.F) {
	f.Add([]byte("1 (a) S 1 1 1 0 -1 0 0 0 0 0 150 25 0 0\n"))
	f.Add([]byte("1 (a) b) S"))
	f.Fuzz(func(t *testing.T, stat []byte) {
		if d, err := ParseStatCPU(stat); err == nil && d < 0 {
			t.Fatalf("negative cpu %v", d)
		}
	})
}

func FuzzPDUsReturned(f *testing.F) {
	f.Add([]byte("snmp_scrape_pdus_returned{module=\"if_mib\"} 4157\n"))
	f.Add([]byte("snmp_scrape_pdus_returned\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		if n, err := PDUsReturned(body); err == nil && n < 0 {
			t.Fatalf("negative count %d", n)
		}
	})
}

func FuzzParseSchedstat(f *testing.F) {
	f.Add([]byte("123456789 2000 15\n"))
	f.Add([]byte("-5 1 1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if d, err := ParseSchedstat(b); err == nil && d < 0 {
			t.Fatalf("negative cpu %v", d)
		}
	})
}
