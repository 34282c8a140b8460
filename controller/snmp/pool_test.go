package snmp

import (
	"context"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/ngic/ngic/controller/snmp/snmptest"
)

// TestReleasedLinkReused: a v2c session's released link (its receive
// buffer) is what the next v1 or v2c session to connect uses, with that
// session's agent, community and version (each agent answers only its
// own community); a v3 session never takes one. Not parallel: the pool is
// the process's.
func TestReleasedLinkReused(t *testing.T) {
	end := func(string) gosnmp.SnmpPDU {
		return gosnmp.SnmpPDU{Name: ".1.3.6.1.2.1.1.1.0", Type: gosnmp.EndOfMibView}
	}
	a := snmptest.Start(t, snmptest.Options{Next: end, Community: "first"})
	b := snmptest.Start(t, snmptest.Options{Next: end, Community: "second"})
	for drained := false; !drained; {
		select {
		case <-idleLinks:
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
	l := s1.l
	if err := s1.Release(); err != nil {
		t.Fatal(err)
	}
	s2 := dialT(t, Config{Target: b.Addr, Version: "1", Community: "second", Timeout: 2 * time.Second})
	get(s2)
	if s2.l != l {
		t.Fatal("the second session did not reuse the released link")
	}
	if s2.l.codec.Version != gosnmp.Version1 || s2.l.codec.Community != "second" || string(s2.l.conn.community) != "second" {
		t.Fatalf("reused link: version %v, community %q", s2.l.codec.Version, s2.l.codec.Community)
	}
	get(s1) // the first session connects afresh, still answered
	if s1.l == l {
		t.Fatal("two sessions share one link")
	}
	s1.Release()
	s2.Release()
	if n := len(idleLinks); n != 2 {
		t.Fatalf("%d links idle after two releases, want 2", n)
	}
}
