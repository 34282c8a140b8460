package snmp

import (
	"context"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/ngic/ngic/controller/snmp/snmptest"
)

// TestReleasedGoSNMPReused: a v2c session's released GoSNMP is what the
// next v2c session to connect uses, with that session's agent, community
// and version (each agent answers only its own community); a v3 one is
// never pooled. Not parallel: the pool is the process's.
func TestReleasedGoSNMPReused(t *testing.T) {
	end := func(string) gosnmp.SnmpPDU {
		return gosnmp.SnmpPDU{Name: ".1.3.6.1.2.1.1.1.0", Type: gosnmp.EndOfMibView}
	}
	a := snmptest.Start(t, snmptest.Options{Next: end, Community: "first"})
	b := snmptest.Start(t, snmptest.Options{Next: end, Community: "second"})
	for drained := false; !drained; {
		select {
		case <-idleGoSNMP:
		default:
			drained = true
		}
	}
	get := func(s *Session) {
		t.Helper()
		got, err := s.Get(context.Background(), []string{sysLocation})
		if err != nil || len(got) != 1 || got[0].Name != sysLocation {
			t.Fatalf("%s: got %v, %v", s.Target(), got, err)
		}
	}
	s1 := dialT(t, Config{Target: a.Addr, Version: "2c", Community: "first", Timeout: 2 * time.Second})
	get(s1)
	g := s1.g
	if err := s1.Release(); err != nil {
		t.Fatal(err)
	}
	s2 := dialT(t, Config{Target: b.Addr, Version: "1", Community: "second", Timeout: 2 * time.Second})
	get(s2)
	if s2.g != g {
		t.Fatal("the second session did not reuse the released GoSNMP")
	}
	if s2.g.Version != gosnmp.Version1 || s2.g.Community != "second" {
		t.Fatalf("reused GoSNMP: version %v, community %q", s2.g.Version, s2.g.Community)
	}
	get(s1) // the first session connects afresh, still answered
	if s1.g == g {
		t.Fatal("two sessions share one GoSNMP")
	}
	s1.Release()
	s2.Release()
	if n := len(idleGoSNMP); n != 2 {
		t.Fatalf("%d GoSNMPs idle after two releases, want 2", n)
	}
	releaseGoSNMP(&gosnmp.GoSNMP{Version: gosnmp.Version3})
	if n := len(idleGoSNMP); n != 2 {
		t.Fatalf("a v3 GoSNMP was pooled (%d idle)", n)
	}
}
