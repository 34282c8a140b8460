package snmp

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/ngic/ngic/controller/snmp/snmptest"
)

// startFakeAgent serves a scripted v1/v2c agent (snmptest) on a free
// loopback port until the test ends: next gives the varbind the agent
// claims follows the OID asked for, and every answer waits delay.
func startFakeAgent(t testing.TB, delay time.Duration, next func(oid string) gosnmp.SnmpPDU) *snmptest.Agent {
	t.Helper()
	return snmptest.Start(t, snmptest.Options{Next: next, Delay: delay})
}

// endlessTable is an agent's table that never ends: after any OID under
// root (or root itself) comes the next row, root.N+1, forever.
func endlessTable(root string) func(oid string) gosnmp.SnmpPDU {
	root = normOID(root)
	return func(oid string) gosnmp.SnmpPDU {
		oid = normOID(oid)
		var n int
		if underRoot(oid, root) {
			fmt.Sscanf(oid[len(root)+1:], "%d", &n)
		}
		return gosnmp.SnmpPDU{Name: fmt.Sprintf("%s.%d", root, n+1), Type: gosnmp.Integer, Value: n + 1}
	}
}

// endlessUnder makes every root under prefix endless (each column of an
// endless table) and ends everything else with endOfMibView.
func endlessUnder(prefix string) func(oid string) gosnmp.SnmpPDU {
	prefix = normOID(prefix)
	return func(oid string) gosnmp.SnmpPDU {
		oid = normOID(oid)
		if !underRoot(oid, prefix) {
			return gosnmp.SnmpPDU{Name: oid, Type: gosnmp.EndOfMibView}
		}
		// The column is prefix plus one arc.
		col := oid
		if i := indexArc(oid, len(prefix)+1); i > 0 {
			col = oid[:i]
		}
		return endlessTable(col)(oid)
	}
}

// indexArc returns the index of the dot ending the arc that starts at
// from, or -1 when that arc is the last.
func indexArc(oid string, from int) int {
	for i := from; i < len(oid); i++ {
		if oid[i] == '.' {
			return i
		}
	}
	return -1
}

// finiteTable serves root.1 .. root.rows, then leaves the root.
func finiteTable(root string, rows int) func(oid string) gosnmp.SnmpPDU {
	root = normOID(root)
	return func(oid string) gosnmp.SnmpPDU {
		oid = normOID(oid)
		var n int
		if underRoot(oid, root) {
			fmt.Sscanf(oid[len(root)+1:], "%d", &n)
		}
		if n >= rows {
			return gosnmp.SnmpPDU{Name: root + "9.0", Type: gosnmp.Integer, Value: 0} // outside the root
		}
		return gosnmp.SnmpPDU{Name: fmt.Sprintf("%s.%d", root, n+1), Type: gosnmp.Integer, Value: n + 1}
	}
}

// tables routes each OID to the table whose root it is or lies under;
// anything else is endOfMibView.
func tables(byRoot map[string]func(oid string) gosnmp.SnmpPDU) func(oid string) gosnmp.SnmpPDU {
	return func(oid string) gosnmp.SnmpPDU {
		oid = normOID(oid)
		for root, next := range byRoot {
			if r := normOID(root); oid == r || underRoot(oid, r) {
				return next(oid)
			}
		}
		return gosnmp.SnmpPDU{Name: oid, Type: gosnmp.EndOfMibView}
	}
}

// slowAfter answers the first fast requests at once and every later one
// after delay (meant to be just inside the client's timeout), or never if
// the test ends first.
func slowAfter(t testing.TB, fast int64, delay time.Duration) func(n int64, _ *gosnmp.SnmpPacket) bool {
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	return func(n int64, _ *gosnmp.SnmpPacket) bool {
		if n <= fast {
			return true
		}
		select {
		case <-time.After(delay):
			return true
		case <-done:
			return false
		}
	}
}

// walkGuarded runs s.Walk in a goroutine and fails the test if it has not
// returned within guard: a regression then fails instead of hanging. The
// guard is a safety net, not a timing assertion.
func walkGuarded(t *testing.T, ctx context.Context, s Client, roots []string, guard time.Duration) (map[string][]gosnmp.SnmpPDU, []error, error) {
	t.Helper()
	type result struct {
		objs  map[string][]gosnmp.SnmpPDU
		warns []error
		err   error
	}
	done := make(chan result, 1)
	go func() {
		objs, warns, err := s.Walk(ctx, roots)
		done <- result{objs, warns, err}
	}()
	select {
	case r := <-done:
		return r.objs, r.warns, r.err
	case <-time.After(guard):
		t.Fatalf("Walk did not return within %v", guard)
		return nil, nil, nil
	}
}

// warningFor returns the *WalkWarning naming root, or nil.
func warningFor(warns []error, root string) *WalkWarning {
	for _, e := range warns {
		var w *WalkWarning
		if errors.As(e, &w) && w.Root == root {
			return w
		}
	}
	return nil
}

// waitFor waits until cond holds, checking often, and fails the test if it
// does not within a generous deadline: a condition, not a sleep, decides.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within %v", what, guard)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
