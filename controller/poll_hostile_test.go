package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/ngic/ngic/controller/snmp/snmptest"
)

// IF-MIB columns the hostile agents below serve.
const (
	colIfIndex = ".1.3.6.1.2.1.2.2.1.1"
	colIfDescr = ".1.3.6.1.2.1.2.2.1.2"
	colIfName  = ".1.3.6.1.2.1.31.1.1.1.1"
	colIfAlias = ".1.3.6.1.2.1.31.1.1.1.18"
)

// labMIB is a small device: the system group and three interfaces.
func labMIB() *snmptest.MIB {
	pdus := []gosnmp.SnmpPDU{
		{Name: "1.3.6.1.2.1.1.1.0", Type: gosnmp.OctetString, Value: "hostile lab agent"},
		{Name: "1.3.6.1.2.1.1.2.0", Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.4.1.99999.1"},
		{Name: "1.3.6.1.2.1.1.3.0", Type: gosnmp.TimeTicks, Value: uint32(12345)},
		{Name: "1.3.6.1.2.1.1.5.0", Type: gosnmp.OctetString, Value: "hostile"},
	}
	for i := 1; i <= 3; i++ {
		pdus = append(pdus,
			gosnmp.SnmpPDU{Name: fmt.Sprintf("%s.%d", colIfIndex, i), Type: gosnmp.Integer, Value: i},
			gosnmp.SnmpPDU{Name: fmt.Sprintf("%s.%d", colIfDescr, i), Type: gosnmp.OctetString, Value: fmt.Sprintf("eth%d", i)},
			gosnmp.SnmpPDU{Name: fmt.Sprintf("1.3.6.1.2.1.2.2.1.3.%d", i), Type: gosnmp.Integer, Value: 6},
			gosnmp.SnmpPDU{Name: fmt.Sprintf("1.3.6.1.2.1.2.2.1.7.%d", i), Type: gosnmp.Integer, Value: 1},
			gosnmp.SnmpPDU{Name: fmt.Sprintf("1.3.6.1.2.1.2.2.1.8.%d", i), Type: gosnmp.Integer, Value: 1},
			gosnmp.SnmpPDU{Name: fmt.Sprintf("%s.%d", colIfName, i), Type: gosnmp.OctetString, Value: fmt.Sprintf("e%d", i)},
			gosnmp.SnmpPDU{Name: fmt.Sprintf("%s.%d", colIfAlias, i), Type: gosnmp.OctetString, Value: fmt.Sprintf("uplink %d", i)},
		)
	}
	return snmptest.NewMIB(pdus...)
}

// endlessIfDescr serves mib, except that ifDescr never ends: after
// ifDescr.N comes ifDescr.N+1, forever.
func endlessIfDescr(mib *snmptest.MIB) func(string) gosnmp.SnmpPDU {
	return func(oid string) gosnmp.SnmpPDU {
		if oid != colIfDescr && !snmptest.Under(oid, colIfDescr) {
			return mib.Next(oid)
		}
		var n int
		if snmptest.Under(oid, colIfDescr) {
			fmt.Sscanf(strings.TrimPrefix(oid, colIfDescr+"."), "%d", &n)
		}
		return gosnmp.SnmpPDU{Name: fmt.Sprintf("%s.%d", colIfDescr, n+1), Type: gosnmp.OctetString, Value: fmt.Sprintf("eth%d", n+1)}
	}
}

// hostileDoc is the part of a document these tests read.
type hostileDoc struct {
	SysName    string `json:"sys_name"`
	Truncated  bool   `json:"truncated"`
	Interfaces []struct {
		Index int    `json:"index"`
		Name  string `json:"name"`
		Descr string `json:"descr"`
		Alias string `json:"alias"`
	} `json:"interfaces"`
}

func decodeHostile(t *testing.T, out string) hostileDoc {
	t.Helper()
	var d hostileDoc
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("output is not a document: %v\n%.2000s", err, out)
	}
	return d
}

// warnsAbout reports whether a slog warning line of stderr names root and
// says what.
func warnsAbout(stderr, root, what string) bool {
	for _, line := range strings.Split(stderr, "\n") {
		if strings.Contains(line, `"level":"WARN"`) && strings.Contains(line, root) && strings.Contains(line, what) {
			return true
		}
	}
	return false
}

// TestPollEndlessTableFast: a fast agent whose ifDescr never ends yields a
// document cut at --max-rows, marked truncated, with a warning naming the
// column.
func TestPollEndlessTableFast(t *testing.T) {
	mib := labMIB()
	agent := snmptest.Start(t, snmptest.Options{Get: mib.Get, Next: endlessIfDescr(mib)})
	out, errOut, code := pollCmd(t, "--target", agent.Addr, "--json", "--max-rows", "600")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	d := decodeHostile(t, out)
	if !d.Truncated {
		t.Fatal("document of a cut table is not marked truncated")
	}
	if d.SysName != "hostile" || len(d.Interfaces) < 3 || len(d.Interfaces) > 600 {
		t.Fatalf("sys_name %q, %d interfaces: want the device with at most 600 interfaces", d.SysName, len(d.Interfaces))
	}
	if !warnsAbout(errOut, strings.TrimPrefix(colIfDescr, "."), "row bound of 600") {
		t.Fatalf("no warning naming %s and the row bound:\n%s", colIfDescr, errOut)
	}
}

// TestPollDeadlineSlowEndlessTable: an agent that answers every request just
// inside --timeout with a table that never ends is stopped by --deadline:
// the document keeps what was fetched, says truncated, and the warnings
// name the unfinished columns.
func TestPollDeadlineSlowEndlessTable(t *testing.T) {
	mib := labMIB()
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	agent := snmptest.Start(t, snmptest.Options{Get: mib.Get, Next: endlessIfDescr(mib),
		Answer: func(n int64, _ *gosnmp.SnmpPacket) bool {
			if n <= 2 { // the system group and the first walk request
				return true
			}
			select {
			case <-time.After(4 * time.Second): // inside --timeout 5s
				return true
			case <-done:
				return false
			}
		}})
	out, errOut, code := pollCmd(t, "--target", agent.Addr, "--json", "--timeout", "5s", "--deadline", "1s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	d := decodeHostile(t, out)
	if !d.Truncated || d.SysName != "hostile" || len(d.Interfaces) == 0 {
		t.Fatalf("document truncated=%v sys_name %q with %d interfaces: want what was fetched, marked truncated", d.Truncated, d.SysName, len(d.Interfaces))
	}
	if !warnsAbout(errOut, strings.TrimPrefix(colIfDescr, "."), "deadline reached") {
		t.Fatalf("no warning naming the unfinished %s and the deadline:\n%s", colIfDescr, errOut)
	}
}

// TestPollDeadlineBeforeAnyAnswer: an agent that never answers in time ends
// the poll at --deadline with one line saying so.
func TestPollDeadlineBeforeAnyAnswer(t *testing.T) {
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	agent := snmptest.Start(t, snmptest.Options{Answer: func(int64, *gosnmp.SnmpPacket) bool { <-done; return false }})
	out, errOut, code := pollCmd(t, "--target", agent.Addr, "--json", "--timeout", "20s", "--deadline", "500ms")
	if code == 0 || out != "" {
		t.Fatalf("exit %d, output %q: want a failure and no document", code, out)
	}
	checkOneLineError(t, errOut, agent.Addr, "--deadline 500ms")
}

// TestPollHostileAgent: garbage datagrams, an undecodable value and an OID
// no request can carry cut only their columns: the document keeps the
// rest, says truncated, and the warnings name the columns.
func TestPollHostileAgent(t *testing.T) {
	mib := labMIB()
	next := func(oid string) gosnmp.SnmpPDU {
		vb := mib.Next(oid)
		switch vb.Name {
		case colIfAlias + ".2":
			vb.Value = snmptest.Raw{Tag: 0x02, Bytes: make([]byte, 9)} // undecodable INTEGER
		case colIfName + ".2":
			vb.Name = colIfName + ".2" + strings.Repeat(".7", 130)
		}
		return vb
	}
	for _, retries := range []string{"0", "1"} {
		t.Run("retries-"+retries, func(t *testing.T) {
			agent := snmptest.Start(t, snmptest.Options{Get: mib.Get, Next: next,
				Before: func(n int64, _ *gosnmp.SnmpPacket) [][]byte {
					if n%3 == 1 {
						return [][]byte{[]byte("\x01garbage")}
					}
					return nil
				}})
			out, errOut, code := pollCmd(t, "--target", agent.Addr, "--json", "--retries", retries)
			if code != 0 {
				t.Fatalf("a hostile agent aborted the poll: exit %d: %s", code, errOut)
			}
			d := decodeHostile(t, out)
			if d.SysName != "hostile" || len(d.Interfaces) != 3 || !d.Truncated {
				t.Fatalf("sys_name %q, %d interfaces, truncated %v: want the whole device, marked truncated\n%s", d.SysName, len(d.Interfaces), d.Truncated, out)
			}
			for _, it := range d.Interfaces {
				if it.Descr != fmt.Sprintf("eth%d", it.Index) {
					t.Errorf("interface %d descr %q: a healthy column lost rows\n%s", it.Index, it.Descr, errOut)
				}
			}
			if d.Interfaces[0].Name != "e1" || d.Interfaces[0].Alias != "uplink 1" {
				t.Errorf("first row of the hostile columns lost: %+v\n%s", d.Interfaces[0], errOut)
			}
			for _, col := range []string{colIfAlias, colIfName} {
				if !warnsAbout(errOut, strings.TrimPrefix(col, "."), `"truncated":true`) {
					t.Errorf("no truncation warning naming %s:\n%s", col, errOut)
				}
			}
		})
	}
}

// TestPollFlagErrors: nonsense flag values are refused at once, in one line
// naming the flag, against an agent that would have answered.
func TestPollFlagErrors(t *testing.T) {
	mib := labMIB()
	agent := snmptest.Start(t, snmptest.Options{Get: mib.Get, Next: mib.Next})
	cases := []struct {
		args []string
		flag string
	}{
		{[]string{"--timeout", "1ns"}, "--timeout"},
		{[]string{"--timeout", "-1s"}, "--timeout"},
		{[]string{"--rate-interval", "-1s"}, "--rate-interval"},
		{[]string{"--rate-interval", "1ms"}, "--rate-interval"},
		{[]string{"--retries", "-1"}, "--retries"},
		{[]string{"--retries", "11"}, "--retries"},
		{[]string{"--retries", "2147483647"}, "--retries"}, // took 8 GB and 25 s against a healthy agent
		{[]string{"--max-repetitions", "0"}, "--max-repetitions"},
		{[]string{"--max-repetitions", "101"}, "--max-repetitions"},
		{[]string{"--max-rows", "0"}, "--max-rows"},
		{[]string{"--max-bytes", "1000"}, "--max-bytes"},
		{[]string{"--deadline", "0s"}, "--deadline"},
		{[]string{"--deadline", "1ms"}, "--deadline"},
		{[]string{"--version", "4"}, "--version"},
		{[]string{"--user", "u"}, "--user"},
		{[]string{"--version", "3"}, "--user"},
		{[]string{"--version", "3", "--user", "u", "--community", "c"}, "--community"},
		{[]string{"--community", "c", "--community-file", "/nonexistent"}, "--community-file"},
		{[]string{"--community-file", "/nonexistent/community"}, "--community-file"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errOut, code := pollCmd(t, append([]string{"--target", agent.Addr, "--json"}, tc.args...)...)
			if code == 0 || out != "" {
				t.Fatalf("exit %d, output %q: want the flag refused", code, out)
			}
			msg := strings.TrimSpace(errOut)
			if strings.Contains(msg, "\n") || !strings.Contains(msg, tc.flag) {
				t.Fatalf("stderr %q: want one line naming %s", errOut, tc.flag)
			}
		})
	}
	if n := agent.Requests(); n != 0 {
		t.Fatalf("the agent saw %d requests: bad flags must be refused before any", n)
	}
}

// TestPollCommunitySources: the community comes from --community-file or
// NGIC_SNMP_COMMUNITY, never needing the command line, and is never
// printed.
func TestPollCommunitySources(t *testing.T) {
	const secret = "s3cret-community-42"
	mib := labMIB()
	agent := snmptest.Start(t, snmptest.Options{Get: mib.Get, Next: mib.Next, Community: secret})
	file := filepath.Join(t.TempDir(), "community")
	if err := os.WriteFile(file, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	twoLines := filepath.Join(t.TempDir(), "two-lines")
	if err := os.WriteFile(twoLines, []byte(secret+"\nold-community\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(t.TempDir(), "huge")
	if err := os.WriteFile(huge, bytes.Repeat([]byte(secret), 1<<16), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"--target", agent.Addr, "--json", "--timeout", "2s", "--retries", "0"}
	cases := []struct {
		name string
		env  []string
		args []string
		ok   bool
		// names is what the one-line error of a refused source names.
		names string
	}{
		{"file", nil, []string{"--community-file", file}, true, ""},
		{"environment", []string{"NGIC_SNMP_COMMUNITY=" + secret}, nil, true, ""},
		// The environment loses its line break as the file does.
		{"environment ending in a line break", []string{"NGIC_SNMP_COMMUNITY=" + secret + "\n"}, nil, true, ""},
		{"file beats environment", []string{"NGIC_SNMP_COMMUNITY=wrong"}, []string{"--community-file", file}, true, ""},
		{"flag beats environment", []string{"NGIC_SNMP_COMMUNITY=wrong"}, []string{"--community", secret}, true, ""},
		{"empty file", nil, []string{"--community-file", empty}, false, "--community-file"},
		{"folder", nil, []string{"--community-file", t.TempDir()}, false, "--community-file"},
		// Sent whole before, as a community with a line break in it.
		{"file of two lines", nil, []string{"--community-file", twoLines}, false, "--community-file"},
		{"environment of two lines", []string{"NGIC_SNMP_COMMUNITY=" + secret + "\nold"}, nil, false, "NGIC_SNMP_COMMUNITY"},
		// Read whole before, then sent: "write: message too long".
		{"file of 1.2 MB", nil, []string{"--community-file", huge}, false, "--community-file"},
		// Read without end before, until memory ran out.
		{"endless file", nil, []string{"--community-file", "/dev/zero"}, false, "--community-file"},
		{"endless passphrase file", nil, []string{"--version", "3", "--user", "u", "--auth-proto", "SHA",
			"--auth-pass-file", "/dev/zero"}, false, "--auth-pass-file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := pollCmdEnv(t, tc.env, append(base, tc.args...)...)
			if tc.ok != (code == 0) {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if msg := strings.TrimSpace(errOut); !tc.ok && (strings.Contains(msg, "\n") || !strings.Contains(msg, tc.names)) {
				t.Fatalf("stderr %q: want one line naming %s", errOut, tc.names)
			}
			if tc.ok && decodeHostile(t, out).SysName != "hostile" {
				t.Fatalf("document %s", out)
			}
			if strings.Contains(out+errOut, secret) {
				t.Fatalf("the community was printed: %s%s", out, errOut)
			}
		})
	}
}

// TestPollAgentSilentOnWalks: an agent that answers the system group and
// then no GETBULK at all (a sub-agent hung, answers dropped for their size)
// yields the document of what it told, marked truncated, with warnings
// saying it stopped answering; it lost the whole poll before ("wrong
// community or agent down", which it was not).
func TestPollAgentSilentOnWalks(t *testing.T) {
	mib := labMIB()
	agent := snmptest.Start(t, snmptest.Options{Get: mib.Get, Next: mib.Next,
		Answer: func(_ int64, req *gosnmp.SnmpPacket) bool { return req.PDUType != gosnmp.GetBulkRequest }})
	out, errOut, code := pollCmd(t, "--target", agent.Addr, "--json", "--timeout", "200ms", "--retries", "0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	d := decodeHostile(t, out)
	if d.SysName != "hostile" || !d.Truncated {
		t.Fatalf("sys_name %q, truncated %v: want the system group, marked truncated\n%s", d.SysName, d.Truncated, out)
	}
	if !warnsAbout(errOut, strings.TrimPrefix(colIfDescr, "."), "stopped answering") {
		t.Fatalf("no warning naming %s and the silence:\n%s", colIfDescr, errOut)
	}
	// Two unanswered requests end the walks: about 0.4 s, far from the
	// two-minute deadline.
	if n := agent.Requests(); n > 5 {
		t.Errorf("agent saw %d requests: a silent agent must not be asked again and again", n)
	}
}
