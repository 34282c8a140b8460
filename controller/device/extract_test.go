package device

import (
	"testing"

	"github.com/gosnmp/gosnmp"
)

// These extractors read tables that none of the real recordings holds, so
// they are checked here on hand-built agent answers, one object a line.

func ifRow(idx string, typ int, descr string) []gosnmp.SnmpPDU {
	return []gosnmp.SnmpPDU{
		pdu("1.3.6.1.2.1.2.2.1.1."+idx, gosnmp.Integer, mustAtoi(idx)),     // ifIndex
		pdu("1.3.6.1.2.1.2.2.1.2."+idx, gosnmp.OctetString, []byte(descr)), // ifDescr
		pdu("1.3.6.1.2.1.2.2.1.3."+idx, gosnmp.Integer, typ),               // ifType
		pdu("1.3.6.1.2.1.2.2.1.7."+idx, gosnmp.Integer, 1),                 // ifAdminStatus up
		pdu("1.3.6.1.2.1.2.2.1.8."+idx, gosnmp.Integer, 1),                 // ifOperStatus up
	}
}

func mustAtoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func build(t *testing.T, profile string, pdus []gosnmp.SnmpPDU) *Document {
	t.Helper()
	set, err := DefaultProfiles()
	if err != nil {
		t.Fatal(err)
	}
	p, ok := set.Lookup(profile)
	if !ok {
		t.Fatalf("no profile %s", profile)
	}
	return BuildDocument(p, NewObjects(pdus))
}

func TestHuaweiONTRunStatus(t *testing.T) {
	var pdus []gosnmp.SnmpPDU
	pdus = append(pdus, ifRow("4194304000", 250, "GPON 0/1/0")...)
	pdus = append(pdus, ifRow("4194304256", 250, "GPON 0/1/1")...)
	pdus = append(pdus,
		pdu(huaweiONTRunStatus+".4194304000.0", gosnmp.Integer, 1), // port 0/1/0 ONT 0 online
		pdu(huaweiONTRunStatus+".4194304000.1", gosnmp.Integer, 1), // ONT 1 online
		pdu(huaweiONTRunStatus+".4194304000.2", gosnmp.Integer, 2), // ONT 2 offline
		pdu(huaweiONTRunStatus+".4194304256.0", gosnmp.Integer, 2), // port 0/1/1 ONT 0 offline
	)
	d := build(t, "huawei-olt", pdus)
	if d.Access == nil || d.Access.PON == nil || len(d.Access.PON.Ports) != 2 {
		t.Fatalf("access: %+v", d.Access)
	}
	pon := d.Access.PON
	p0, p1 := pon.Ports[0], pon.Ports[1]
	if p0.ONTsOnline == nil || *p0.ONTsOnline != 2 || *p0.ONTsOffline != 1 || *p1.ONTsOnline != 0 || *p1.ONTsOffline != 1 {
		t.Fatalf("ports: %+v %+v", p0, p1)
	}
	if *pon.ONTsOnline != 2 || *pon.ONTsOffline != 2 {
		t.Fatalf("totals: %d online, %d offline", *pon.ONTsOnline, *pon.ONTsOffline)
	}

	// Without the run-status table the ports are listed and the counts absent, not zero.
	d = build(t, "huawei-olt", pdus[:10])
	if d.Access.PON.ONTsOnline != nil || d.Access.PON.Ports[0].ONTsOnline != nil {
		t.Fatalf("counts invented without the table: %+v", d.Access.PON)
	}
}

func TestCMTSModemCounts(t *testing.T) {
	base := append(ifRow("2", 128, "cable-downstream 1/0"), ifRow("3", 129, "cable-upstream 1/0")...)
	// DOCS-IF-MIB docsIfCmtsCmStatusValue: registrationComplete(6) counts.
	legacy := append(append([]gosnmp.SnmpPDU{}, base...),
		pdu(docsIfCmtsCmStatusValue+".1", gosnmp.Integer, 6), // registrationComplete
		pdu(docsIfCmtsCmStatusValue+".2", gosnmp.Integer, 6),
		pdu(docsIfCmtsCmStatusValue+".3", gosnmp.Integer, 2), // ranging
	)
	d := build(t, "generic-cmts", legacy)
	c := d.Access.Cable
	if c == nil || c.ModemsRegistered == nil || *c.ModemsRegistered != 2 || *c.ModemsOnline != 2 {
		t.Fatalf("DOCS-IF modems: %+v", c)
	}
	// DOCS-IF3-MIB docsIf3CmtsCmRegStatusValue is preferred where present.
	d3 := append(append([]gosnmp.SnmpPDU{}, legacy...),
		pdu(docsIf3CmtsCmRegStatus+".1", gosnmp.Integer, docsIf3Operational),
		pdu(docsIf3CmtsCmRegStatus+".2", gosnmp.Integer, docsIf3Operational),
		pdu(docsIf3CmtsCmRegStatus+".3", gosnmp.Integer, docsIf3Operational),
		pdu(docsIf3CmtsCmRegStatus+".4", gosnmp.Integer, 1), // other: not registered
	)
	d = build(t, "generic-cmts", d3)
	c = d.Access.Cable
	if *c.ModemsRegistered != 3 || *c.ModemsOnline != 3 {
		t.Fatalf("DOCS-IF3 modems: registered %d online %d", *c.ModemsRegistered, *c.ModemsOnline)
	}
	// Channels only: modem counts absent, not zero.
	d = build(t, "generic-cmts", base)
	if d.Access == nil || d.Access.Cable.ModemsRegistered != nil || len(d.Access.Cable.Upstreams) != 1 {
		t.Fatalf("channels only: %+v", d.Access)
	}
}
