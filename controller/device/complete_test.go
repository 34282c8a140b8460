package device

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/gosnmp/gosnmp"

	"github.com/ngic/ngic/controller/snmp"
)

// cutAgent is an agent whose walk of some columns ends early (after the
// index cut[root]; "" keeps nothing) while a GET still finds every object,
// as snmpsimd does after an undecodable value and as a sub-agent that times
// out does.
type cutAgent struct {
	*fakeClient
	cut      map[string]string
	walkWarn map[string]bool // roots the walk itself warns about
	getErr   error
	gets     [][]string
}

func (c *cutAgent) Walk(ctx context.Context, roots []string) (map[string][]gosnmp.SnmpPDU, []error, error) {
	out, _, err := c.fakeClient.Walk(ctx, roots)
	var warns []error
	for r, last := range c.cut {
		list, ok := out[r]
		if !ok {
			continue
		}
		var kept []gosnmp.SnmpPDU
		for _, p := range list {
			idx := strings.TrimPrefix(normOID(p.Name), r+".")
			if last != "" && !oidLess(last, idx) {
				kept = append(kept, p)
			}
		}
		out[r] = kept
		if c.walkWarn[r] {
			warns = append(warns, &snmp.WalkWarning{Target: c.target, Root: r, OID: r + "." + last, Reason: "agent error genErr"})
		}
	}
	return out, warns, err
}

func (c *cutAgent) Get(ctx context.Context, oids []string) ([]gosnmp.SnmpPDU, error) {
	if !strings.HasPrefix(oids[0], "1.3.6.1.2.1.1.") {
		c.gets = append(c.gets, oids)
		if c.getErr != nil {
			return nil, c.getErr
		}
	}
	return c.fakeClient.Get(ctx, oids)
}

// ifTable builds an agent's ifTable of rows 1..n: ifIndex, ifDescr, ifType,
// ifMtu, ifPhysAddress, ifAdminStatus, ifOperStatus, each column keeping
// only the rows keep allows (nil keeps all).
func ifTable(n int, keep map[string]func(row int) bool) []gosnmp.SnmpPDU {
	pdus := []gosnmp.SnmpPDU{
		pdu(oidSysDescr, gosnmp.OctetString, []byte("test agent")),
		pdu(oidSysObjectID, gosnmp.ObjectIdentifier, ".1.3.6.1.4.1.99999.1"),
	}
	for row := 1; row <= n; row++ {
		idx := strconv.Itoa(row)
		for _, p := range []gosnmp.SnmpPDU{
			pdu(ifIndex+"."+idx, gosnmp.Integer, row),
			pdu(ifDescr+"."+idx, gosnmp.OctetString, []byte("port"+idx)),
			pdu(ifType+"."+idx, gosnmp.Integer, 6),
			pdu(ifMtu+"."+idx, gosnmp.Integer, 1500),
			pdu(ifPhysAddress+"."+idx, gosnmp.OctetString, []byte{0, 0x1d, 0xe5, 0, 0, byte(row)}),
			pdu(ifAdminStatus+"."+idx, gosnmp.Integer, 1),
			pdu(ifOperStatus+"."+idx, gosnmp.Integer, 1),
		} {
			col := p.Name[:strings.LastIndexByte(p.Name, '.')]
			if k := keep[col]; k == nil || k(row) {
				pdus = append(pdus, p)
			}
		}
	}
	return pdus
}

// TestCompleteSparseVersusCut polls hand-built agents: sparse columns
// (legal SNMP) give no warning; a column whose walk ended while its
// siblings went on, and a walk that ended early for several columns, give
// one warning for the table naming the device and each cut column.
func TestCompleteSparseVersusCut(t *testing.T) {
	upTo := func(n int) func(int) bool { return func(row int) bool { return row <= n } }
	cases := []struct {
		name     string
		keep     map[string]func(int) bool // what the agent holds
		cut      map[string]string         // where its walk ends
		walkWarn map[string]bool
		getErr   error
		gets     int      // GETs that check gaps
		want     []string // substrings of the one warning; nil: no warning
	}{
		{name: "whole table"},
		{name: "sparse MAC column: the last six interfaces have no MAC",
			keep: map[string]func(int) bool{ifPhysAddress: upTo(4)}, gets: 1},
		{name: "sparse MAC column: MACs on even rows only",
			keep: map[string]func(int) bool{ifPhysAddress: func(r int) bool { return r%2 == 0 }}},
		{name: "sparse middle rows: MTU missing on rows 3, 5 and 7",
			keep: map[string]func(int) bool{ifMtu: func(r int) bool { return r != 3 && r != 5 && r != 7 }}},
		{name: "sparse MTU and MAC at once, holes and a short tail",
			keep: map[string]func(int) bool{ifMtu: func(r int) bool { return r != 2 }, ifPhysAddress: upTo(9)}, gets: 1},
		{name: "column ending early while its siblings go on",
			cut:  map[string]string{ifPhysAddress: "4"},
			gets: 1,
			want: []string{"dev:161", "table 1.3.6.1.2.1.2.2.1 has 10 rows", ifPhysAddress + " stops at " + ifPhysAddress + ".4 (4 rows) while its sibling columns go on to row 10, yet the agent answers GET " + ifPhysAddress + ".5"}},
		{name: "sparse column whose walk also ended early",
			keep: map[string]func(int) bool{ifPhysAddress: func(r int) bool { return r%3 != 0 }},
			cut:  map[string]string{ifPhysAddress: "2"},
			gets: 1,
			want: []string{ifPhysAddress + " stops at " + ifPhysAddress + ".2 (2 rows)", "answers GET " + ifPhysAddress + ".7"}},
		{name: "walk ended early for several columns",
			cut:  map[string]string{ifMtu: "6", ifAdminStatus: "6", ifOperStatus: "6"},
			gets: 1,
			want: []string{"dev:161", ifMtu + " stops at " + ifMtu + ".6", ifAdminStatus + " stops at", ifOperStatus + " stops at"}},
		{name: "walk ended before a column's first row",
			cut:  map[string]string{ifMtu: ""},
			gets: 0}, // a column answering nothing is one the device lacks, unless its profile lists it
		{name: "the walk already warned about the root",
			cut: map[string]string{ifPhysAddress: "4"}, walkWarn: map[string]bool{ifPhysAddress: true},
			want: []string{"snmp: walk dev:161 root " + ifPhysAddress}},
		{name: "the checking GET fails",
			cut: map[string]string{ifPhysAddress: "4"}, getErr: errors.New("boom"), gets: 1,
			want: []string{"dev:161", "columns " + ifPhysAddress + " stop before", "failed: boom"}},
	}
	set, err := DefaultProfiles()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			agent := &cutAgent{fakeClient: newFakeClient("dev:161", ifTable(10, c.keep)), cut: c.cut, walkWarn: c.walkWarn, getErr: c.getErr}
			_, warns, err := Collect(context.Background(), agent, set)
			if err != nil {
				t.Fatal(err)
			}
			if len(agent.gets) != c.gets {
				t.Errorf("%d checking GETs, want %d: %v", len(agent.gets), c.gets, agent.gets)
			}
			if c.want == nil {
				for _, w := range warns {
					t.Errorf("unexpected warning: %v", w)
				}
				return
			}
			if len(warns) != 1 {
				t.Fatalf("%d warnings, want 1: %v", len(warns), warns)
			}
			for _, w := range c.want {
				if !strings.Contains(warns[0].Error(), w) {
					t.Errorf("warning %q lacks %q", warns[0], w)
				}
			}
		})
	}
}

// TestColumnGaps checks which columns are gaps worth asking the agent
// about: a column short at its end, or listed by the profile and empty;
// never one with holes between rows it answers.
func TestColumnGaps(t *testing.T) {
	const e = "1.3.6.1.4.1.99999.1.1"
	var pdus []gosnmp.SnmpPDU
	add := func(col int, rows ...string) {
		for _, r := range rows {
			pdus = append(pdus, pdu(e+"."+strconv.Itoa(col)+"."+r, gosnmp.Integer, 1))
		}
	}
	add(1, "1.1", "1.2", "2.1", "10.1") // whole
	add(2, "1.1", "10.1")               // holes only: sparse
	add(3, "1.1", "1.2")                // stops before 2.1 and 10.1
	// column 4 answers nothing and is not listed; column 5 answers nothing and is listed
	roots := []string{e + ".1", e + ".2", e + ".3", e + ".4", e + ".5", "1.3.6.1.2.1.31.1.1.1.1" /* ifXTable: sparse by design */}
	gaps := columnGaps(NewObjects(pdus), roots, map[string]bool{e + ".5": true}, nil)
	if len(gaps) != 2 {
		t.Fatalf("gaps %+v, want columns 3 and 5", gaps)
	}
	g3, g5 := gaps[0], gaps[1]
	if g3.col != e+".3" || g3.last != "1.2" || g3.tableLast != "10.1" || strings.Join(g3.missing, " ") != "2.1 10.1" || g3.rows != 2 || g3.tableRows != 4 {
		t.Errorf("column 3: %+v", g3)
	}
	if g5.col != e+".5" || g5.last != "" || strings.Join(g5.missing, " ") != "1.1 1.2 2.1 10.1" {
		t.Errorf("column 5: %+v", g5)
	}
	if got := columnGaps(NewObjects(pdus), roots, map[string]bool{e + ".5": true}, map[string]bool{e + ".3": true}); len(got) != 1 {
		t.Errorf("skipped root still checked: %+v", got)
	}
	if got := samples([]string{"a", "b", "c", "d", "e"}); strings.Join(got, " ") != "a c e" {
		t.Errorf("samples = %v", got)
	}
}

// badValueAgent answers a GET that includes bad with an answer that cannot
// be used, as the session reports an undecodable value.
type badValueAgent struct {
	*fakeClient
	bad string
}

func (c *badValueAgent) Get(ctx context.Context, oids []string) ([]gosnmp.SnmpPDU, error) {
	for _, o := range oids {
		if normOID(o) == normOID(c.bad) {
			return nil, fmt.Errorf("snmp: get: %w: error decoding value: integer too large", snmp.ErrBadAnswer)
		}
	}
	return c.fakeClient.Get(ctx, oids)
}

// TestCollectBadSystemValue: an undecodable value in the system group
// costs only that object, with a warning naming it, never the whole
// document (it ended the poll before).
func TestCollectBadSystemValue(t *testing.T) {
	set, err := DefaultProfiles()
	if err != nil {
		t.Fatal(err)
	}
	pdus := []gosnmp.SnmpPDU{
		{Name: ".1.3.6.1.2.1.1.1.0", Type: gosnmp.OctetString, Value: []byte("lab switch")},
		{Name: ".1.3.6.1.2.1.1.2.0", Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.4.1.99999.1"},
		{Name: ".1.3.6.1.2.1.1.5.0", Type: gosnmp.OctetString, Value: []byte("sw1")},
		{Name: ".1.3.6.1.2.1.2.2.1.1.1", Type: gosnmp.Integer, Value: 1},
		{Name: ".1.3.6.1.2.1.2.2.1.2.1", Type: gosnmp.OctetString, Value: []byte("eth1")},
	}
	for _, bad := range []string{oidSysName, oidSysObjectID} {
		t.Run(systemNames[bad], func(t *testing.T) {
			c := &badValueAgent{fakeClient: newFakeClient("lab", pdus), bad: bad}
			d, warns, err := Collect(context.Background(), c, set)
			if err != nil {
				t.Fatalf("an undecodable %s lost the document: %v", systemNames[bad], err)
			}
			if d.SysDescr != "lab switch" || len(d.Interfaces) != 1 {
				t.Fatalf("document %+v: want the rest of the device", d)
			}
			if bad == oidSysName && d.SysName != "" {
				t.Errorf("sys_name %q from an undecodable value", d.SysName)
			}
			named := false
			for _, w := range warns {
				named = named || (errors.Is(w, snmp.ErrBadAnswer) && strings.Contains(w.Error(), systemNames[bad]) && strings.Contains(w.Error(), "lab"))
			}
			if !named {
				t.Errorf("no warning naming %s and the target: %v", systemNames[bad], warns)
			}
		})
	}
	// Both sysDescr and sysObjectID undecodable: no document, and the
	// error says why.
	c := &badValueAgent{fakeClient: newFakeClient("lab", pdus[:2]), bad: oidSysDescr}
	c.fakeClient.objs[normOID(oidSysObjectID)] = gosnmp.SnmpPDU{Name: oidSysObjectID, Type: gosnmp.NoSuchObject}
	if _, _, err := Collect(context.Background(), c, set); err == nil {
		t.Error("a device with neither sysDescr nor sysObjectID gave a document")
	}
}

// TestCollectSysObjectIDOfWrongType: a sysObjectID sent as an INTEGER or an
// OCTET STRING is left out with a warning; it was printed as
// sys_object_id "42", passing for an OID.
func TestCollectSysObjectIDOfWrongType(t *testing.T) {
	set, err := DefaultProfiles()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []gosnmp.SnmpPDU{
		{Type: gosnmp.Integer, Value: 42},
		{Type: gosnmp.OctetString, Value: []byte("1.3.6.1.4.1.9.1.1")},
	} {
		t.Run(v.Type.String(), func(t *testing.T) {
			v.Name = ".1.3.6.1.2.1.1.2.0"
			c := newFakeClient("lab", []gosnmp.SnmpPDU{
				{Name: ".1.3.6.1.2.1.1.1.0", Type: gosnmp.OctetString, Value: []byte("lab switch")}, v,
				{Name: ".1.3.6.1.2.1.2.2.1.1.1", Type: gosnmp.Integer, Value: 1}})
			d, warns, err := Collect(context.Background(), c, set)
			if err != nil {
				t.Fatal(err)
			}
			if d.SysObjectID != "" {
				t.Errorf("sys_object_id %q from a %v", d.SysObjectID, v.Type)
			}
			named := false
			for _, w := range warns {
				named = named || strings.Contains(w.Error(), "sysObjectID")
			}
			if !named || d.SysDescr != "lab switch" {
				t.Errorf("sys_descr %q, warnings %v: want the document and a warning naming sysObjectID", d.SysDescr, warns)
			}
		})
	}
}
