package device

import (
	"context"
	"strings"
	"testing"

	"github.com/gosnmp/gosnmp"
)

// TestStatusPerColumn reads every ifAdminStatus and ifOperStatus number
// through its own column's definition (RFC 2863): ifAdminStatus has only
// up(1), down(2), testing(3); ifOperStatus adds unknown(4), dormant(5),
// notPresent(6), lowerLayerDown(7). A number a column does not define is
// "invalid(N)", never a word of the other column.
func TestStatusPerColumn(t *testing.T) {
	cases := []struct {
		v             int
		admin, oper   string
		adminOK, opOK bool
	}{
		{1, "up", "up", true, true},
		{2, "down", "down", true, true},
		{3, "testing", "testing", true, true},
		{4, "invalid(4)", "unknown", false, true},
		{5, "invalid(5)", "dormant", false, true},
		{6, "invalid(6)", "notPresent", false, true},
		{7, "invalid(7)", "lowerLayerDown", false, true},
		{0, "invalid(0)", "invalid(0)", false, false},
		{8, "invalid(8)", "invalid(8)", false, false},
		{-1, "invalid(-1)", "invalid(-1)", false, false},
	}
	for _, c := range cases {
		o := NewObjects([]gosnmp.SnmpPDU{
			pdu(ifAdminStatus+".3", gosnmp.Integer, c.v),
			pdu(ifOperStatus+".3", gosnmp.Integer, c.v),
		})
		var odd oddities
		it := buildInterfaceNoting(o, 3, &odd)
		if it.AdminStatus != c.admin || it.OperStatus != c.oper {
			t.Errorf("%d: admin_status %q oper_status %q, want %q %q", c.v, it.AdminStatus, it.OperStatus, c.admin, c.oper)
		}
		if noted := odd.cols[ifAdminStatus] != nil; noted == c.adminOK {
			t.Errorf("%d: ifAdminStatus noted %v, want %v", c.v, noted, !c.adminOK)
		}
		if noted := odd.cols[ifOperStatus] != nil; noted == c.opOK {
			t.Errorf("%d: ifOperStatus noted %v, want %v", c.v, noted, !c.opOK)
		}
	}
	// An absent status stays absent and is not odd.
	var odd oddities
	if it := buildInterfaceNoting(NewObjects(ifRow("3", 6, "eth0")[:3]), 3, &odd); it.AdminStatus != "" || it.OperStatus != "" || odd.cols != nil {
		t.Errorf("absent statuses: %q %q, noted %v", it.AdminStatus, it.OperStatus, odd.cols)
	}
}

// TestNumbersAsDigits: ifSpeed, ifHighSpeed and ifMtu sent as OCTET
// STRINGs of decimal digits are read as the numbers (as net-snmp's tools
// do); anything else in a string is not a number.
func TestNumbersAsDigits(t *testing.T) {
	str := func(col, s string) gosnmp.SnmpPDU { return pdu(col+".2", gosnmp.OctetString, []byte(s)) }
	u := func(v uint64) *uint64 { return &v }
	cases := []struct {
		name  string
		pdus  []gosnmp.SnmpPDU
		speed *uint64
		mtu   *int
		noted []string // columns noted as odd
	}{
		{"ifSpeed digits", []gosnmp.SnmpPDU{str(ifSpeed, "100000000")}, u(100_000_000), nil, []string{ifSpeed}},
		{"ifSpeed digits with NUL and blanks", []gosnmp.SnmpPDU{str(ifSpeed, " 1536000\x00")}, u(1_536_000), nil, []string{ifSpeed}},
		{"ifSpeed saturated digits, ifHighSpeed digits", []gosnmp.SnmpPDU{str(ifSpeed, "4294967295"), str(ifHighSpeed, "10000")}, u(10_000_000_000), nil, []string{ifSpeed, ifHighSpeed}},
		{"ifSpeed 0, ifHighSpeed digits", []gosnmp.SnmpPDU{pdu(ifSpeed+".2", gosnmp.Gauge32, uint(0)), str(ifHighSpeed, "1000")}, u(1_000_000_000), nil, []string{ifHighSpeed}},
		{"ifMtu digits", []gosnmp.SnmpPDU{str(ifMtu, "1500")}, nil, ptr(1500), []string{ifMtu}},
		{"ifMtu Integer", []gosnmp.SnmpPDU{pdu(ifMtu+".2", gosnmp.Integer, 1500)}, nil, ptr(1500), nil},
		{"ifSpeed text with a unit", []gosnmp.SnmpPDU{str(ifSpeed, "100 Mbps")}, nil, nil, nil},
		{"ifSpeed negative text", []gosnmp.SnmpPDU{str(ifSpeed, "-1")}, nil, nil, nil},
		{"ifSpeed empty string", []gosnmp.SnmpPDU{str(ifSpeed, "")}, nil, nil, nil},
		{"ifSpeed beyond 64 bits", []gosnmp.SnmpPDU{str(ifSpeed, "99999999999999999999")}, nil, nil, nil},
		{"ifMtu beyond Integer32", []gosnmp.SnmpPDU{str(ifMtu, "4294967296")}, nil, nil, []string{ifMtu}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var odd oddities
			it := buildInterfaceNoting(NewObjects(c.pdus), 2, &odd)
			switch {
			case (it.SpeedBps == nil) != (c.speed == nil):
				t.Errorf("speed_bps = %v, want %v", it.SpeedBps, c.speed)
			case c.speed != nil && *it.SpeedBps != *c.speed:
				t.Errorf("speed_bps = %d, want %d", *it.SpeedBps, *c.speed)
			}
			switch {
			case (it.MTU == nil) != (c.mtu == nil):
				t.Errorf("mtu = %v, want %v", it.MTU, c.mtu)
			case c.mtu != nil && *it.MTU != *c.mtu:
				t.Errorf("mtu = %d, want %d", *it.MTU, *c.mtu)
			}
			if got := sortedKeys(odd.cols); strings.Join(got, " ") != strings.Join(c.noted, " ") {
				t.Errorf("noted %v, want %v", got, c.noted)
			}
		})
	}
}

// TestOddValuesWarnOncePerDevice: a poll of a device that sends odd values
// on many rows gives one warning per column, naming the device, the column,
// the row count and a few rows, and the document holds the values.
func TestOddValuesWarnOncePerDevice(t *testing.T) {
	pdus := []gosnmp.SnmpPDU{
		pdu(oidSysDescr, gosnmp.OctetString, []byte("test agent")),
		pdu(oidSysObjectID, gosnmp.ObjectIdentifier, ".1.3.6.1.4.1.99999.1"),
	}
	for _, idx := range []string{"1", "2", "3", "4", "5"} {
		pdus = append(pdus, ifRow(idx, 6, "eth"+idx)...)
		pdus = append(pdus,
			pdu(ifAdminStatus+"."+idx, gosnmp.Integer, 7), // not an ifAdminStatus value
			pdu(ifSpeed+"."+idx, gosnmp.OctetString, []byte("1000000000")),
		)
	}
	set, err := DefaultProfiles()
	if err != nil {
		t.Fatal(err)
	}
	d, warns, err := Collect(context.Background(), newFakeClient("odd:161", pdus), set)
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 2 {
		t.Fatalf("%d warnings, want 2 (one for ifAdminStatus, one for ifSpeed): %v", len(warns), warns)
	}
	for i, want := range []string{"ifSpeed (" + ifSpeed + ") on 5 interfaces: a number sent as an OCTET STRING", "ifAdminStatus (" + ifAdminStatus + ") on 5 interfaces: a value outside"} {
		msg := warns[i].Error()
		for _, w := range []string{"odd:161", want, "1=", "3="} {
			if !strings.Contains(msg, w) {
				t.Errorf("warning %q lacks %q", msg, w)
			}
		}
		if strings.Contains(msg, "4=") {
			t.Errorf("warning %q quotes more than %d rows", msg, maxOddSamples)
		}
	}
	for _, it := range d.Interfaces {
		if it.AdminStatus != "invalid(7)" || it.SpeedBps == nil || *it.SpeedBps != 1_000_000_000 {
			t.Errorf("interface %d: admin_status %q speed %v", it.Index, it.AdminStatus, it.SpeedBps)
		}
	}
}
