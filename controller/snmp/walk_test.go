package snmp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

const (
	goodRoot   = ".1.3.6.1.4.1.99.1" // ten objects .1.1 .. .1.10, then leaves the root
	brokenRoot = ".1.3.6.1.4.1.99.2" // misbehaves as each test case says
)

// goodNext serves goodRoot correctly and hands brokenRoot to broken.
func goodNext(broken func(oid string) gosnmp.SnmpPDU) func(string) gosnmp.SnmpPDU {
	return func(oid string) gosnmp.SnmpPDU {
		oid = normOID(oid)
		if oid == brokenRoot || underRoot(oid, brokenRoot) {
			return broken(oid)
		}
		if oid == goodRoot {
			return gosnmp.SnmpPDU{Name: goodRoot + ".1", Type: gosnmp.Integer, Value: 1}
		}
		var n int
		if _, err := fmt.Sscanf(strings.TrimPrefix(oid, goodRoot+"."), "%d", &n); err == nil && underRoot(oid, goodRoot) && n < 10 {
			return gosnmp.SnmpPDU{Name: fmt.Sprintf("%s.%d", goodRoot, n+1), Type: gosnmp.Integer, Value: n + 1}
		}
		return gosnmp.SnmpPDU{Name: ".1.3.6.1.4.1.99.3.0", Type: gosnmp.Integer, Value: 0}
	}
}

func TestWalkBrokenAgents(t *testing.T) {
	cases := []struct {
		name       string
		broken     func(oid string) gosnmp.SnmpPDU
		reason     string // in the warning
		badOID     string // the OID the warning names
		maxCalls   int    // the agent may see at most this many requests
		wantBroken int    // objects kept for the broken root
	}{
		{
			name: "decreasing",
			broken: func(oid string) gosnmp.SnmpPDU {
				if oid == brokenRoot {
					return gosnmp.SnmpPDU{Name: brokenRoot + ".5", Type: gosnmp.Integer, Value: 5}
				}
				return gosnmp.SnmpPDU{Name: brokenRoot + ".3", Type: gosnmp.Integer, Value: 3}
			},
			reason: "non-increasing", badOID: brokenRoot + ".3", maxCalls: 3, wantBroken: 1,
		},
		{
			name: "same OID forever",
			broken: func(string) gosnmp.SnmpPDU {
				return gosnmp.SnmpPDU{Name: brokenRoot + ".7", Type: gosnmp.Integer, Value: 7}
			},
			reason: "same OID again", badOID: brokenRoot + ".7", maxCalls: 3, wantBroken: 1,
		},
		{
			name: "echoes the request",
			broken: func(oid string) gosnmp.SnmpPDU {
				return gosnmp.SnmpPDU{Name: oid, Type: gosnmp.Integer, Value: 0}
			},
			reason: "same OID again", badOID: brokenRoot, maxCalls: 3, wantBroken: 0,
		},
		{
			name: "endless MIB",
			broken: func(oid string) gosnmp.SnmpPDU {
				return gosnmp.SnmpPDU{Name: oid + ".1", Type: gosnmp.Integer, Value: 1}
			},
			reason: "call cap of 6", maxCalls: 6, wantBroken: 6 * 4,
		},
	}
	for _, tc := range cases {
		for _, version := range []string{"1", "2c"} {
			t.Run(tc.name+"/v"+version, func(t *testing.T) {
				endless := tc.name == "endless MIB"
				// v1 fetches one object per root per request: the good root
				// needs 11 requests, so v1 gets a higher cap unless the cap
				// is what the case tests.
				callCap, maxReq, wantBroken := 6, tc.maxCalls, tc.wantBroken
				if version == "1" && !endless {
					callCap, maxReq = 20, 11
				}
				if version == "1" && endless {
					wantBroken = 6
				}
				agent := startFakeAgent(t, 0, goodNext(tc.broken))
				s := dialT(t, Config{Target: agent.Addr, Version: version, Community: "public",
					MaxRepetitions: 4, MaxCallsPerWalk: callCap, Timeout: 2 * time.Second})
				objs, warns, err := s.Walk(context.Background(), []string{goodRoot, brokenRoot})
				if err != nil {
					t.Fatal(err)
				}
				if got := agent.Requests(); got > int64(maxReq) {
					t.Fatalf("agent saw %d requests, want at most %d", got, maxReq)
				}
				if !endless {
					if len(objs[goodRoot]) != 10 {
						t.Fatalf("good root: %d objects, want 10 (%v)", len(objs[goodRoot]), warns)
					}
				}
				if len(warns) == 0 {
					t.Fatalf("no warning")
				}
				var w *WalkWarning
				found := false
				for _, e := range warns {
					if errors.As(e, &w) && w.Root == brokenRoot {
						found = true
						break
					}
				}
				if !found {
					t.Fatalf("no warning for %s in %v", brokenRoot, warns)
				}
				if w.Target != agent.Addr || !strings.Contains(w.Reason, tc.reason) {
					t.Fatalf("warning %+v, want target %s reason %q", w, agent.Addr, tc.reason)
				}
				if tc.badOID != "" && w.OID != tc.badOID {
					t.Fatalf("warning names OID %s, want %s", w.OID, tc.badOID)
				}
				if !strings.Contains(w.Error(), brokenRoot) || !strings.Contains(w.Error(), agent.Addr) {
					t.Fatalf("warning text %q does not name root and target", w.Error())
				}
				if len(objs[brokenRoot]) != wantBroken {
					t.Fatalf("broken root kept %d objects, want %d", len(objs[brokenRoot]), wantBroken)
				}
			})
		}
	}
}

// TestWalkerTable drives the state machine with scripted answers.
func TestWalkerTable(t *testing.T) {
	const r = ".1.3.6.1.2.1.2.2.1.2" // ifDescr
	pdu := func(name string, typ gosnmp.Asn1BER) gosnmp.SnmpPDU {
		return gosnmp.SnmpPDU{Name: name, Type: typ, Value: []byte("x")}
	}
	cases := []struct {
		name     string
		answers  [][]gosnmp.SnmpPDU
		wantObjs int
		wantWarn string // "" = no warning
	}{
		{"end of MIB view", [][]gosnmp.SnmpPDU{{pdu(r+".1", gosnmp.OctetString), pdu(r+".2", gosnmp.OctetString)}, {pdu(r+".2", gosnmp.EndOfMibView)}}, 2, ""},
		{"leaves root", [][]gosnmp.SnmpPDU{{pdu(r+".1", gosnmp.OctetString), pdu(".1.3.6.1.2.1.2.2.1.3.1", gosnmp.Integer)}}, 1, ""},
		{"sibling with common prefix", [][]gosnmp.SnmpPDU{{pdu(r+"0.1", gosnmp.OctetString)}}, 0, ""},
		{"empty answer", [][]gosnmp.SnmpPDU{{}}, 0, "no usable varbinds"},
		{"numeric order, not text", [][]gosnmp.SnmpPDU{{pdu(r+".9", gosnmp.OctetString), pdu(r+".10", gosnmp.OctetString), pdu(r+".8", gosnmp.OctetString)}}, 2, "non-increasing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWalker("dev:161", []string{r}, walkLimits{maxOIDs: 20, maxCalls: 10, maxRows: 100, maxRep: 10})
			for _, a := range tc.answers {
				if w.next() == nil {
					t.Fatalf("walk ended early")
				}
				w.feed(a)
			}
			for i := 0; w.next() != nil; i++ {
				if i > 20 {
					t.Fatal("walk does not end")
				}
				w.feed(nil)
			}
			if got := len(w.result()[r]); got != tc.wantObjs {
				t.Fatalf("%d objects, want %d", got, tc.wantObjs)
			}
			switch {
			case tc.wantWarn == "" && len(w.warnings) != 0:
				t.Fatalf("unexpected warnings %v", w.warnings)
			case tc.wantWarn != "" && (len(w.warnings) != 1 || !strings.Contains(w.warnings[0].Error(), tc.wantWarn)):
				t.Fatalf("warnings %v, want one with %q", w.warnings, tc.wantWarn)
			}
		})
	}
}

func TestOIDCompare(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{".1.3.6", "1.3.6", 0},
		{"1.3.6.1", "1.3.6", 1},
		{"1.3.6", "1.3.6.1", -1},
		{"1.3.9", "1.3.10", -1},
		{"1.3.010", "1.3.10", 0},
		{"1.3.6.2", "1.3.10.1", -1},
	}
	for _, c := range cases {
		if got := oidCompare(c.a, c.b); got != c.want {
			t.Errorf("oidCompare(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := oidCompare(c.b, c.a); got != -c.want {
			t.Errorf("oidCompare(%q, %q) = %d, want %d", c.b, c.a, got, -c.want)
		}
	}
}
