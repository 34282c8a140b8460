package snmp

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/ngic/ngic/controller/snmp/snmptest"
)

const otherRoot = ".1.3.6.1.4.1.99.3" // a second well-behaved table

// garbage is a datagram no SNMP decoder accepts ("invalid packet header").
var garbage = []byte("\x01\x02garbage from a hostile agent")

// TestGarbageDatagramSurvived: a garbage datagram ahead of the real answer
// costs a retry, never the walk or the GET, with or without the
// transport's own retries.
func TestGarbageDatagramSurvived(t *testing.T) {
	for _, retries := range []int{-1, 1} {
		for _, at := range []int64{1, 2, 5} {
			name := map[int]string{-1: "no-retries", 1: "one-retry"}[retries]
			t.Run(name+"/request-"+string(rune('0'+at)), func(t *testing.T) {
				agent := snmptest.Start(t, snmptest.Options{
					Next: tables(map[string]func(string) gosnmp.SnmpPDU{
						goodRoot: finiteTable(goodRoot, 10), otherRoot: finiteTable(otherRoot, 30)}),
					Before: func(n int64, _ *gosnmp.SnmpPacket) [][]byte {
						if n == at {
							return [][]byte{garbage}
						}
						return nil
					},
				})
				s := dialT(t, Config{Target: agent.Addr, Version: "2c", Community: "public", Retries: retries,
					MaxRepetitions: 4, Timeout: 5 * time.Second})
				ctx, cancel := context.WithTimeout(context.Background(), guard)
				defer cancel()
				if at == 1 {
					got, err := s.Get(ctx, []string{sysLocation})
					if err != nil || len(got) != 1 || got[0].Name != sysLocation {
						t.Fatalf("GET after a garbage datagram: %v %v", got, err)
					}
				}
				objs, warns, err := s.Walk(ctx, []string{goodRoot, otherRoot})
				if err != nil || len(warns) != 0 {
					t.Fatalf("walk: %v, warnings %v", err, warns)
				}
				if len(objs[goodRoot]) != 10 || len(objs[otherRoot]) != 30 {
					t.Fatalf("kept %d and %d objects, want 10 and 30", len(objs[goodRoot]), len(objs[otherRoot]))
				}
			})
		}
	}
}

// TestHostileAnswersEndOneRoot: a root whose answers can never be used (an
// undecodable value, a garbage datagram instead of every answer about it,
// an OID no request can carry, a root the caller cannot send) ends with a
// truncation warning; the rows fetched before stay, and the other roots of
// the same requests complete.
func TestHostileAnswersEndOneRoot(t *testing.T) {
	undecodable := snmptest.Raw{Tag: 0x02, Bytes: make([]byte, 9)} // an INTEGER of 9 bytes
	cases := []struct {
		name     string
		broken   func(oid string) gosnmp.SnmpPDU
		before   func(n int64, req *gosnmp.SnmpPacket) [][]byte
		answer   func(n int64, req *gosnmp.SnmpPacket) bool
		roots    []string // default goodRoot, brokenRoot, otherRoot
		badRoot  string   // default brokenRoot
		reason   string
		keptRows int
	}{
		{
			name: "undecodable value in row 4",
			broken: func(oid string) gosnmp.SnmpPDU {
				next := finiteTable(brokenRoot, 8)(oid)
				if next.Name == brokenRoot+".4" {
					next.Value = undecodable
				}
				return next
			},
			reason: "answer could not be used", keptRows: 3,
		},
		{
			name: "OID of 130 arcs after row 2",
			broken: func(oid string) gosnmp.SnmpPDU {
				next := finiteTable(brokenRoot, 8)(oid)
				if next.Name == brokenRoot+".3" {
					next.Name = brokenRoot + ".3" + strings.Repeat(".1", 130)
				}
				return next
			},
			reason: "no request can carry", keptRows: 2,
		},
		{
			name:   "garbage instead of every answer about the root",
			broken: finiteTable(brokenRoot, 8),
			before: func(_ int64, req *gosnmp.SnmpPacket) [][]byte {
				if asksUnder(req, brokenRoot) {
					return [][]byte{garbage}
				}
				return nil
			},
			answer: func(_ int64, req *gosnmp.SnmpPacket) bool { return !asksUnder(req, brokenRoot) },
			reason: "answer could not be used", keptRows: 0,
		},
		{
			name:    "root no request can carry",
			broken:  finiteTable(brokenRoot, 8),
			roots:   []string{goodRoot, brokenRoot + strings.Repeat(".1", 130), otherRoot},
			badRoot: brokenRoot + strings.Repeat(".1", 130),
			reason:  "answer could not be used", keptRows: 0,
		},
	}
	for _, tc := range cases {
		for _, version := range []string{"1", "2c"} {
			t.Run(tc.name+"/v"+version, func(t *testing.T) {
				agent := snmptest.Start(t, snmptest.Options{
					Next: tables(map[string]func(string) gosnmp.SnmpPDU{
						goodRoot: finiteTable(goodRoot, 10), otherRoot: finiteTable(otherRoot, 30), brokenRoot: tc.broken}),
					Before: tc.before, Answer: tc.answer,
				})
				s := dialT(t, Config{Target: agent.Addr, Version: version, Community: "public", MaxRepetitions: 4,
					MaxCallsPerWalk: 500, Timeout: 5 * time.Second})
				roots, bad := tc.roots, tc.badRoot
				if roots == nil {
					roots = []string{goodRoot, brokenRoot, otherRoot}
				}
				if bad == "" {
					bad = brokenRoot
				}
				ctx, cancel := context.WithTimeout(context.Background(), guard)
				defer cancel()
				objs, warns, err := walkGuarded(t, ctx, s, roots, guard+5*time.Second)
				if err != nil {
					t.Fatalf("a hostile answer lost the walk: %v (warnings %v)", err, warns)
				}
				if len(objs[goodRoot]) != 10 || len(objs[otherRoot]) != 30 {
					t.Fatalf("other roots kept %d and %d objects, want 10 and 30 (warnings %v)", len(objs[goodRoot]), len(objs[otherRoot]), warns)
				}
				if n := len(objs[bad]); n != tc.keptRows {
					t.Fatalf("hostile root kept %d objects, want the %d before the bad answer", n, tc.keptRows)
				}
				w := warningFor(warns, bad)
				if w == nil || !w.Truncated || !strings.Contains(w.Reason, tc.reason) || len(warns) != 1 {
					t.Fatalf("warnings %v, want one truncation of %s saying %q", warns, bad, tc.reason)
				}
			})
		}
	}
}

// asksUnder reports whether a request names root or an OID below it.
func asksUnder(req *gosnmp.SnmpPacket, root string) bool {
	for _, v := range req.Variables {
		if n := normOID(v.Name); n == root || underRoot(n, root) {
			return true
		}
	}
	return false
}

// TestBadAnswerClassified: a GET whose answer is always garbage fails with
// ErrBadAnswer, not a timeout, after one more try.
func TestBadAnswerClassified(t *testing.T) {
	agent := snmptest.Start(t, snmptest.Options{
		Before: func(int64, *gosnmp.SnmpPacket) [][]byte { return [][]byte{garbage} },
		Answer: func(int64, *gosnmp.SnmpPacket) bool { return false },
	})
	s := dialT(t, Config{Target: agent.Addr, Version: "2c", Community: "public", Retries: -1, Timeout: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	_, err := s.Get(ctx, []string{sysLocation})
	if err == nil || !strings.Contains(err.Error(), "invalid packet header") || !isBad(err) || isTimeoutErr(err) {
		t.Fatalf("err = %v, want ErrBadAnswer (not ErrTimeout) saying why", err)
	}
	if n := agent.Requests(); n != 2 {
		t.Fatalf("agent saw %d requests, want 2 (one more try)", n)
	}
}

func isBad(err error) bool        { return errors.Is(err, ErrBadAnswer) }
func isTimeoutErr(err error) bool { return errors.Is(err, ErrTimeout) }

// TestStrayDatagramsBeforeEveryAnswer: an agent that sends garbage, an
// answer under another community, a trap and the request itself reflected
// ahead of every answer: each stray is discarded and every request gets
// its answer. Before, the first stray failed the request (gosnmp stops at
// a header it cannot parse, and takes a reflected request for the
// answer), so a GET of the system group never succeeded.
func TestStrayDatagramsBeforeEveryAnswer(t *testing.T) {
	strays := func(_ int64, req *gosnmp.SnmpPacket) [][]byte {
		other, err := snmptest.EncodeResponse(req.Version, "not-"+req.Community, req.RequestID,
			[]gosnmp.SnmpPDU{{Name: ".1.3.6.1.2.1.1.5.0", Type: gosnmp.OctetString, Value: "spoofed"}})
		if err != nil {
			panic(err)
		}
		reflected, _ := snmptest.EncodeResponse(req.Version, req.Community, req.RequestID,
			[]gosnmp.SnmpPDU{{Name: ".1.3.6.1.2.1.1.5.0", Type: gosnmp.OctetString, Value: "reflected"}})
		reflected = bytes.Replace(reflected, []byte{0xa2}, []byte{byte(gosnmp.GetRequest)}, 1)
		trap := bytes.Replace(append([]byte(nil), reflected...), []byte{byte(gosnmp.GetRequest)}, []byte{byte(gosnmp.SNMPv2Trap)}, 1)
		return [][]byte{[]byte("\x30\x03garbage"), {0x30, 0x00}, other, reflected, trap, append(other, 0)}
	}
	agent := snmptest.Start(t, snmptest.Options{Next: goodNext(nil), Before: strays,
		Get: func(oid string) gosnmp.SnmpPDU {
			return gosnmp.SnmpPDU{Name: oid, Type: gosnmp.OctetString, Value: "real"}
		}})
	s := dialT(t, Config{Target: agent.Addr, Version: "2c", Community: "public", Timeout: time.Second, Retries: -1})
	ctx := context.Background()
	pdus, err := s.Get(ctx, []string{".1.3.6.1.2.1.1.5.0", ".1.3.6.1.2.1.1.1.0"})
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	for _, p := range pdus {
		if v, _ := p.Value.([]byte); string(v) != "real" {
			t.Fatalf("Get answered %s = %q, want the agent's answer", p.Name, v)
		}
	}
	objs, warns, err := s.Walk(ctx, []string{goodRoot})
	if err != nil || len(warns) != 0 || len(objs[goodRoot]) != 10 {
		t.Fatalf("walk: %v, warnings %v, %d objects: want the 10 objects", err, warns, len(objs[goodRoot]))
	}
}
