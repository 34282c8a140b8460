package snmp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/ngic/ngic/controller/snmp/snmptest"
)

const endlessRoot = ".1.3.6.1.4.1.99.5" // a table that never ends

// guard bounds tests that would hang if a bound regressed.
const guard = 30 * time.Second

func TestDefaultRowBound(t *testing.T) {
	c := Config{Target: "10.0.0.1", Version: "2c", Community: "public"}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.MaxRowsPerRoot < 65536 {
		t.Fatalf("default MaxRowsPerRoot %d, want at least 65536", c.MaxRowsPerRoot)
	}
	c.MaxRowsPerRoot = -1
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "MaxRowsPerRoot") {
		t.Fatalf("negative MaxRowsPerRoot: %v, want an error naming it", err)
	}
}

// TestWalkEndlessTableFast: an agent that answers at once with a table that
// never ends is cut at the row bound, with a truncation warning naming the
// root, while the other root of the same requests completes.
func TestWalkEndlessTableFast(t *testing.T) {
	for _, version := range []string{"1", "2c"} {
		t.Run("v"+version, func(t *testing.T) {
			const rows = 700
			agent := startFakeAgent(t, 0, tables(map[string]func(string) gosnmp.SnmpPDU{
				goodRoot: finiteTable(goodRoot, 10), endlessRoot: endlessTable(endlessRoot)}))
			// The call cap is far away: only the row bound can end the walk
			// before the guard.
			s := dialT(t, Config{Target: agent.Addr, Version: version, Community: "public", MaxRepetitions: 50,
				MaxCallsPerWalk: 1 << 30, MaxRowsPerRoot: rows, Timeout: 5 * time.Second})
			ctx, cancel := context.WithTimeout(context.Background(), guard)
			defer cancel()
			objs, warns, err := walkGuarded(t, ctx, s, []string{goodRoot, endlessRoot}, guard+5*time.Second)
			if err != nil {
				t.Fatalf("walk failed: %v (warnings %v)", err, warns)
			}
			if n := len(objs[endlessRoot]); n != rows {
				t.Fatalf("endless root kept %d objects, want the bound %d", n, rows)
			}
			if n := len(objs[goodRoot]); n != 10 {
				t.Fatalf("finite root kept %d objects, want 10", n)
			}
			w := warningFor(warns, endlessRoot)
			if w == nil || !w.Truncated || !strings.Contains(w.Reason, "row bound of 700") || w.Target != agent.Addr {
				t.Fatalf("warning %+v, want a truncation at the row bound naming %s", w, agent.Addr)
			}
			if len(warns) != 1 || !Truncated(warns) {
				t.Fatalf("warnings %v: want exactly the one truncation", warns)
			}
			// v1 asks one row per request; v2c 50.
			perRequest := int64(50)
			if version == "1" {
				perRequest = 1
			}
			if got, most := agent.Requests(), rows/perRequest+2; got > most {
				t.Fatalf("agent saw %d requests, want at most %d", got, most)
			}
		})
	}
}

// TestWalkDeadlineSlowEndlessTable: an agent answering each request just
// inside the timeout, with a table that never ends, is stopped by the
// caller's deadline: the rows fetched so far are kept, every unfinished
// root is named in a truncation warning, and the error says deadline.
func TestWalkDeadlineSlowEndlessTable(t *testing.T) {
	const fast = 3 // answers before the agent turns slow
	agent := snmptest.Start(t, snmptest.Options{
		Next: tables(map[string]func(string) gosnmp.SnmpPDU{
			goodRoot: finiteTable(goodRoot, 10), endlessRoot: endlessTable(endlessRoot), brokenRoot: endlessTable(brokenRoot)}),
		// A minute late, inside a two-minute timeout.
		Answer: slowAfter(t, fast, time.Minute),
	})
	s := dialT(t, Config{Target: agent.Addr, Version: "2c", Community: "public", MaxRepetitions: 10,
		MaxOIDsPerRequest: 2, MaxCallsPerWalk: 1 << 30, Timeout: 2 * time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	objs, warns, err := walkGuarded(t, ctx, s, []string{goodRoot, endlessRoot, brokenRoot}, guard)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want the deadline", err)
	}
	// Requests 1-2 carry goodRoot (done after 10 rows) and endlessRoot,
	// request 3 endlessRoot and brokenRoot; request 4 never comes back.
	if n := len(objs[goodRoot]); n != 10 {
		t.Fatalf("finished root kept %d objects, want 10", n)
	}
	if n := len(objs[endlessRoot]); n != fast*10 {
		t.Fatalf("endless root kept %d objects, want the %d fetched before the deadline", n, fast*10)
	}
	if n := len(objs[brokenRoot]); n != 10 {
		t.Fatalf("second endless root kept %d objects, want 10", n)
	}
	for _, root := range []string{endlessRoot, brokenRoot} {
		w := warningFor(warns, root)
		if w == nil || !w.Truncated || !strings.Contains(w.Reason, "deadline") {
			t.Fatalf("root %s: warning %+v, want a truncation naming the deadline (all: %v)", root, w, warns)
		}
	}
	if w := warningFor(warns, goodRoot); w != nil {
		t.Fatalf("finished root warned: %v", w)
	}
	// A later walk under the spent context cuts its roots at once.
	_, warns, err = walkGuarded(t, ctx, s, []string{goodRoot}, guard)
	if !errors.Is(err, context.DeadlineExceeded) || warningFor(warns, goodRoot) == nil || !Truncated(warns) {
		t.Fatalf("walk after the deadline: %v %v, want the root cut", err, warns)
	}
}

// TestSchedulerDeadlineBoundsWalk: the scheduler's per-device deadline
// reaches the session: a poll walking an agent that answers just inside
// the timeout, forever, returns at the deadline with what it fetched.
func TestSchedulerDeadlineBoundsWalk(t *testing.T) {
	agent := snmptest.Start(t, snmptest.Options{Next: endlessTable(endlessRoot), Answer: slowAfter(t, 2, time.Minute)})
	s, err := NewScheduler(SchedulerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	type walked struct {
		rows  int
		warns []error
		err   error
	}
	out := make(chan walked, 1)
	var calls atomic.Int64
	poll := func(ctx context.Context, c Client) error {
		calls.Add(1)
		objs, warns, err := c.Walk(ctx, []string{endlessRoot})
		out <- walked{len(objs[endlessRoot]), warns, err}
		return err
	}
	if err := s.AddDevice(Device{ID: "slow-endless", Interval: time.Hour, Deadline: 300 * time.Millisecond, Poll: poll,
		Config: Config{Target: agent.Addr, Version: "2c", Community: "public", MaxRepetitions: 5,
			MaxCallsPerWalk: 1 << 30, Timeout: 2 * time.Minute}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if err := s.RunCycle(ctx); err != nil {
		t.Fatalf("RunCycle: %v (the guard ran out)", err)
	}
	var w walked
	select {
	case w = <-out:
	case <-ctx.Done():
		t.Fatal("the poll callback never returned: the session ignored the scheduler's deadline")
	}
	if !errors.Is(w.err, context.DeadlineExceeded) || w.rows != 10 || !Truncated(w.warns) {
		t.Fatalf("walk under the scheduler: %d rows, %v, %v; want the 10 rows fetched, cut at the deadline", w.rows, w.warns, w.err)
	}
	st, _ := s.Status("slow-endless")
	if st.LastError == nil || calls.Load() != 1 {
		t.Fatalf("status %+v after %d calls, want one failed poll", st, calls.Load())
	}
	waitFor(t, "the callback's slot freed", func() bool { return s.Stats().InFlight == 0 })
}

// TestWalkLargeAnswersLost: an agent whose large answers never arrive (an
// agent that cannot send them, a filter that drops IP fragments) while
// small ones do: the walk asks for less per request and completes, where
// it failed the whole walk with a timeout before.
func TestWalkLargeAnswersLost(t *testing.T) {
	roots := []string{".1.3.6.1.4.1.99.11", ".1.3.6.1.4.1.99.12", ".1.3.6.1.4.1.99.13", ".1.3.6.1.4.1.99.14"}
	byRoot := map[string]func(string) gosnmp.SnmpPDU{}
	for _, r := range roots {
		byRoot[r] = finiteTable(r, 30)
	}
	var lost atomic.Int64
	agent := snmptest.Start(t, snmptest.Options{Next: tables(byRoot), Answer: func(_ int64, req *gosnmp.SnmpPacket) bool {
		if len(req.Variables)*int(req.MaxRepetitions) > 10 {
			lost.Add(1)
			return false
		}
		return true
	}})
	s := dialT(t, Config{Target: agent.Addr, Version: "2c", Community: "public", Timeout: 200 * time.Millisecond,
		Retries: -1, MaxRepetitions: 25})
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	objs, warns, err := walkGuarded(t, ctx, s, roots, guard+5*time.Second)
	if err != nil || len(warns) != 0 {
		t.Fatalf("walk: %v, warnings %v: want the whole tables in smaller requests", err, warns)
	}
	for _, r := range roots {
		if n := len(objs[r]); n != 30 {
			t.Errorf("root %s: %d objects, want 30", r, n)
		}
	}
	if lost.Load() != 1 {
		t.Errorf("%d large requests went unanswered, want 1 (the rest of the walk asks for less)", lost.Load())
	}
}

// TestWalkAgentFallsSilent: an agent that stops answering in the middle of
// a walk: the rows fetched are kept, every unfinished root is named in a
// truncation warning, and the error is ErrTimeout.
func TestWalkAgentFallsSilent(t *testing.T) {
	agent := snmptest.Start(t, snmptest.Options{Next: tables(map[string]func(string) gosnmp.SnmpPDU{
		goodRoot: finiteTable(goodRoot, 10), endlessRoot: endlessTable(endlessRoot)}),
		Answer: func(n int64, _ *gosnmp.SnmpPacket) bool { return n <= 2 }})
	s := dialT(t, Config{Target: agent.Addr, Version: "2c", Community: "public", Timeout: 200 * time.Millisecond,
		Retries: -1, MaxRepetitions: 5})
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	objs, warns, err := walkGuarded(t, ctx, s, []string{goodRoot, endlessRoot}, guard+5*time.Second)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("walk: %v, want ErrTimeout", err)
	}
	if n := len(objs[endlessRoot]); n != 10 {
		t.Fatalf("endless root kept %d objects, want the 10 of the two answers", n)
	}
	w := warningFor(warns, endlessRoot)
	if w == nil || !w.Truncated || !strings.Contains(w.Reason, "stopped answering") {
		t.Fatalf("warning %+v (all: %v), want a truncation saying the agent stopped answering", w, warns)
	}
	if got := agent.Requests(); got != 4 {
		t.Errorf("agent saw %d requests, want 4: two answered, then one full and one smaller left unanswered", got)
	}
}

// TestWalkTableOfExactlyTheRowBound: a table exactly as long as the row
// bound is whole: no warning, not truncated (it was reported cut before);
// one row more is cut. Whether the bound falls inside an answer or at its
// end, over GETNEXT and GETBULK.
func TestWalkTableOfExactlyTheRowBound(t *testing.T) {
	for _, version := range []string{"1", "2c"} {
		for _, rep := range []uint32{5, 25} {
			for _, rows := range []int{10, 11} {
				t.Run(fmt.Sprintf("v%s/rep%d/rows%d", version, rep, rows), func(t *testing.T) {
					agent := startFakeAgent(t, 0, tables(map[string]func(string) gosnmp.SnmpPDU{
						goodRoot: finiteTable(goodRoot, 10), endlessRoot: finiteTable(endlessRoot, rows)}))
					s := dialT(t, Config{Target: agent.Addr, Version: version, Community: "public",
						MaxRepetitions: rep, MaxRowsPerRoot: 10})
					ctx, cancel := context.WithTimeout(context.Background(), guard)
					defer cancel()
					objs, warns, err := walkGuarded(t, ctx, s, []string{goodRoot, endlessRoot}, guard+5*time.Second)
					if err != nil {
						t.Fatal(err)
					}
					if len(objs[goodRoot]) != 10 || len(objs[endlessRoot]) != 10 {
						t.Fatalf("kept %d and %d objects, want 10 and 10", len(objs[goodRoot]), len(objs[endlessRoot]))
					}
					w := warningFor(warns, endlessRoot)
					switch {
					case rows == 10 && (len(warns) != 0 || Truncated(warns)):
						t.Fatalf("a whole table of exactly the bound: warnings %v", warns)
					case rows == 11 && (w == nil || !w.Truncated || !strings.Contains(w.Reason, "row bound of 10")):
						t.Fatalf("a table one row over the bound: warning %+v, want a truncation", w)
					case warningFor(warns, goodRoot) != nil:
						t.Fatalf("the table of 10 objects under a bound of 10 has a warning: %v", warns)
					}
				})
			}
		}
	}
}

// TestWalkAgentErrorStatusCuts: an agent answering genErr to the walk gives
// no table, which is not the table's end: the roots are cut with truncation
// warnings (they were ended as whole before, and the document said
// truncated false with no interfaces).
func TestWalkAgentErrorStatusCuts(t *testing.T) {
	for _, index := range []uint8{0, 2} {
		t.Run(fmt.Sprintf("index%d", index), func(t *testing.T) {
			agent := snmptest.Start(t, snmptest.Options{Next: tables(map[string]func(string) gosnmp.SnmpPDU{
				goodRoot: finiteTable(goodRoot, 10), endlessRoot: finiteTable(endlessRoot, 10)}),
				Status: func(int64, *gosnmp.SnmpPacket) (gosnmp.SNMPError, uint8) { return gosnmp.GenErr, index }})
			s := dialT(t, Config{Target: agent.Addr, Version: "2c", Community: "public"})
			ctx, cancel := context.WithTimeout(context.Background(), guard)
			defer cancel()
			_, warns, err := walkGuarded(t, ctx, s, []string{goodRoot, endlessRoot}, guard+5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range []string{goodRoot, endlessRoot} {
				if w := warningFor(warns, r); w == nil || !w.Truncated || !strings.Contains(w.Reason, "GenErr") {
					t.Errorf("root %s: warning %+v, want a truncation naming genErr", r, w)
				}
			}
		})
	}
}

// TestWalkTooBigNarrowsRoots: an agent that can answer only one varbind per
// message (tooBig otherwise) is walked whole, one root at one repetition;
// every root of a request ended on its tooBig before.
func TestWalkTooBigNarrowsRoots(t *testing.T) {
	roots := []string{".1.3.6.1.4.1.99.11", ".1.3.6.1.4.1.99.12", ".1.3.6.1.4.1.99.13"}
	byRoot := map[string]func(string) gosnmp.SnmpPDU{}
	for _, r := range roots {
		byRoot[r] = finiteTable(r, 4)
	}
	for _, version := range []string{"1", "2c"} {
		t.Run("v"+version, func(t *testing.T) {
			agent := snmptest.Start(t, snmptest.Options{Next: tables(byRoot),
				Status: func(_ int64, req *gosnmp.SnmpPacket) (gosnmp.SNMPError, uint8) {
					if len(req.Variables)*max(int(req.MaxRepetitions), 1) > 1 {
						return gosnmp.TooBig, 0
					}
					return gosnmp.NoError, 0
				}})
			s := dialT(t, Config{Target: agent.Addr, Version: version, Community: "public"})
			ctx, cancel := context.WithTimeout(context.Background(), guard)
			defer cancel()
			objs, warns, err := walkGuarded(t, ctx, s, roots, guard+5*time.Second)
			if err != nil || len(warns) != 0 {
				t.Fatalf("walk: %v, warnings %v", err, warns)
			}
			for _, r := range roots {
				if n := len(objs[r]); n != 4 {
					t.Errorf("root %s: %d objects, want 4", r, n)
				}
			}
		})
	}
}

// TestGetVarbindCountMismatch: a GET answered with another number of
// varbinds than it asked is a bad answer (ErrBadAnswer), which callers
// narrow and retry, not a plain failure.
func TestGetVarbindCountMismatch(t *testing.T) {
	agent := snmptest.Start(t, snmptest.Options{
		Before: func(_ int64, req *gosnmp.SnmpPacket) [][]byte {
			var vbs []gosnmp.SnmpPDU
			for _, v := range req.Variables[1:] { // one varbind fewer
				vbs = append(vbs, gosnmp.SnmpPDU{Name: v.Name, Type: gosnmp.Integer, Value: 1})
			}
			b, err := snmptest.EncodeResponse(req.Version, req.Community, req.RequestID, vbs)
			if err != nil {
				panic(err)
			}
			return [][]byte{b}
		},
		Answer: func(int64, *gosnmp.SnmpPacket) bool { return false }})
	s := dialT(t, Config{Target: agent.Addr, Version: "2c", Community: "public"})
	_, err := s.Get(context.Background(), []string{".1.3.6.1.2.1.1.1.0", ".1.3.6.1.2.1.1.5.0"})
	if !errors.Is(err, ErrBadAnswer) || !strings.Contains(err.Error(), "1 varbinds for 2 OIDs") {
		t.Fatalf("Get: %v, want ErrBadAnswer saying 1 varbinds for 2 OIDs", err)
	}
}

// TestWalkMemoryBound: an agent answering an endless table of long values
// is cut by the walk's memory bound long before the row bound, with a
// truncation warning naming the root, and what is kept stays within the
// bound (it held about 0.5 GB before the bound existed).
func TestWalkMemoryBound(t *testing.T) {
	const bound = 1 << 20
	long := strings.Repeat("x", 1000)
	agent := startFakeAgent(t, 0, tables(map[string]func(string) gosnmp.SnmpPDU{
		goodRoot: finiteTable(goodRoot, 10),
		endlessRoot: func(oid string) gosnmp.SnmpPDU {
			pdu := endlessTable(endlessRoot)(oid)
			pdu.Type, pdu.Value = gosnmp.OctetString, long
			return pdu
		}}))
	s := dialT(t, Config{Target: agent.Addr, Version: "2c", Community: "public", MaxRepetitions: 1,
		MaxCallsPerWalk: 1 << 30, MaxBytesPerWalk: bound, Timeout: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	objs, warns, err := walkGuarded(t, ctx, s, []string{goodRoot, endlessRoot}, guard+5*time.Second)
	if err != nil {
		t.Fatalf("walk failed: %v (warnings %v)", err, warns)
	}
	var kept int64
	for _, list := range objs {
		for i := range list {
			kept += objectCost(list[i].Name, &list[i])
		}
	}
	if kept > bound || kept < bound/2 {
		t.Fatalf("kept %d bytes of objects, want at most the bound %d (and near it)", kept, bound)
	}
	if n := len(objs[goodRoot]); n != 10 {
		t.Fatalf("finite root kept %d objects, want 10", n)
	}
	w := warningFor(warns, endlessRoot)
	if w == nil || !w.Truncated || !strings.Contains(w.Reason, "memory bound of 1048576 bytes") {
		t.Fatalf("warning %+v, want a truncation at the memory bound", w)
	}
	c := Config{Target: "10.0.0.1", Version: "2c", Community: "public", MaxBytesPerWalk: -1}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "MaxBytesPerWalk") {
		t.Fatalf("negative MaxBytesPerWalk: %v, want an error naming it", err)
	}
	if c.MaxBytesPerWalk = 0; c.Validate() != nil || c.MaxBytesPerWalk != DefaultMaxBytesPerWalk {
		t.Fatalf("default MaxBytesPerWalk %d", c.MaxBytesPerWalk)
	}
}
