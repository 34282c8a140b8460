package snmp

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/gosnmp/gosnmp"

	"github.com/ngic/ngic/internal/testenv"
)

func TestReleaseKeepsV2cSessionUsable(t *testing.T) {
	a := startFakeAgent(t, 0, func(oid string) gosnmp.SnmpPDU {
		return gosnmp.SnmpPDU{Name: ".1.3.6.1.2.1.1.1.0", Type: gosnmp.EndOfMibView}
	})
	s := dialT(t, Config{Target: a.Addr, Version: "2c", Community: "public"})
	if s.conn() != nil {
		t.Fatal("Dial opened a socket: an idle session should hold none")
	}
	for cycle := 0; cycle < 3; cycle++ {
		got, err := s.Get(context.Background(), []string{sysLocation})
		if err != nil {
			t.Fatalf("cycle %d: %v", cycle, err)
		}
		if len(got) != 1 || got[0].Name != sysLocation {
			t.Fatalf("cycle %d: got %v", cycle, got)
		}
		if s.l == nil || s.conn() == nil {
			t.Fatalf("cycle %d: no socket after a request", cycle)
		}
		if err := s.Release(); err != nil {
			t.Fatal(err)
		}
		if s.l != nil || s.g != nil {
			t.Fatalf("cycle %d: Release kept the link", cycle)
		}
	}
	if n := a.Requests(); n != 3 {
		t.Fatalf("agent saw %d requests, want 3", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := s.Get(context.Background(), []string{sysLocation})
	if err == nil || !strings.Contains(err.Error(), "closed") || strings.Contains(err.Error(), a.Addr) {
		t.Fatalf("Get after Close: %v, want a closed-session error (the caller names the target)", err)
	}
}

func TestReleaseKeepsV3Engine(t *testing.T) {
	agent := testenv.StartSnmpd(t)
	s := dialT(t, v3Config(agent.Addr, testenv.V3User, "SHA-256", testenv.V3AuthPass, "AES", testenv.V3PrivPass))
	if _, err := s.Get(context.Background(), []string{sysLocation}); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(); err != nil {
		t.Fatal(err)
	}
	first := *s.engine
	if first.id == "" || len(first.authKey) == 0 || len(first.privKey) == 0 {
		t.Fatalf("released session forgot its engine: id %x, %d-byte auth key, %d-byte priv key",
			first.id, len(first.authKey), len(first.privKey))
	}
	for cycle := 0; cycle < 3; cycle++ {
		// The next GoSNMP starts with the engine: gosnmp sends no discovery.
		if err := s.connect(false); err != nil {
			t.Fatal(err)
		}
		usm := s.g.SecurityParameters.(*gosnmp.UsmSecurityParameters)
		if usm.AuthoritativeEngineID != first.id || usm.AuthoritativeEngineBoots != first.boots {
			t.Fatalf("cycle %d: fresh GoSNMP preset with engine %x boots %d, want %x boots %d",
				cycle, usm.AuthoritativeEngineID, usm.AuthoritativeEngineBoots, first.id, first.boots)
		}
		got, err := s.Get(context.Background(), []string{sysLocation})
		if err != nil {
			t.Fatalf("cycle %d: %v", cycle, err)
		}
		if v, _ := got[0].Value.([]byte); string(v) != "ngic test lab" {
			t.Fatalf("cycle %d: sysLocation = %v", cycle, got[0].Value)
		}
		if _, _, err := s.Walk(context.Background(), []string{"1.3.6.1.2.1.1"}); err != nil {
			t.Fatalf("cycle %d: walk: %v", cycle, err)
		}
		if err := s.Release(); err != nil {
			t.Fatal(err)
		}
	}
	if s.Rediscoveries() != 0 {
		t.Fatalf("%d rediscoveries with a healthy agent", s.Rediscoveries())
	}
}

func TestSchedulerReleasesSessionsAfterPoll(t *testing.T) {
	a := startFakeAgent(t, 0, func(oid string) gosnmp.SnmpPDU {
		return gosnmp.SnmpPDU{Name: oid, Type: gosnmp.EndOfMibView}
	})
	var mu sync.Mutex
	var sessions []*Session
	sched, err := NewScheduler(SchedulerConfig{Dial: func(c Config) (SessionClient, error) {
		s, err := Dial(c)
		if err == nil {
			mu.Lock()
			sessions = append(sessions, s)
			mu.Unlock()
		}
		return s, err
	}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		err := sched.AddDevice(Device{ID: fmt.Sprint("dev", i), Config: Config{Target: a.Addr, Version: "2c", Community: "public"},
			Interval: 1e9, Poll: func(ctx context.Context, c Client) error {
				_, err := c.Get(ctx, []string{sysLocation})
				return err
			}})
		if err != nil {
			t.Fatal(err)
		}
	}
	// The sessions are inspected only after RunCycle returned.
	if err := sched.RunCycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, st := range sched.Statuses() {
		if st.LastError != nil {
			t.Fatalf("%s: %v", st.ID, st.LastError)
		}
	}
	if len(sessions) != 3 {
		t.Fatalf("%d sessions dialled, want 3", len(sessions))
	}
	for _, s := range sessions {
		if s.conn() != nil || s.closed {
			t.Fatalf("%s: after a successful poll the session holds a socket (%v) or is closed (%v)", s.Target(), s.conn() != nil, s.closed)
		}
	}
}

func TestV3RediscoversAfterRestartBetweenReleasedCycles(t *testing.T) {
	port := testenv.FreeUDPPort(t)
	persist := t.TempDir()
	_ = os.Chmod(persist, 0o777)
	first := startSnmpdAt(t, port, persist, "")
	s := dialT(t, v3Config(fmt.Sprintf("127.0.0.1:%d", port), testenv.V3User, "SHA-256", testenv.V3AuthPass, "AES", testenv.V3PrivPass))
	if _, err := s.Get(context.Background(), []string{sysLocation}); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(); err != nil {
		t.Fatal(err)
	}
	boots := s.engine.boots
	first.stop()
	startSnmpdAt(t, port, persist, "")
	// The next cycle starts with the remembered (now stale) boots.
	got, err := s.Get(context.Background(), []string{sysLocation})
	if err != nil {
		t.Fatalf("session did not recover: %v", err)
	}
	if v, _ := got[0].Value.([]byte); string(v) != "ngic test lab" {
		t.Fatalf("sysLocation = %v", got[0].Value)
	}
	if err := s.Release(); err != nil {
		t.Fatal(err)
	}
	// net-snmp either counts a boot or, without a saved boot count, starts
	// its clock again: either way the session must have noticed.
	if s.engine.boots <= boots && s.Rediscoveries() == 0 {
		t.Fatalf("agent restart unnoticed: boots %d -> %d, no rediscovery", boots, s.engine.boots)
	}
}
