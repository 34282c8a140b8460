package device

import (
	"context"
	"strconv"
	"testing"

	"github.com/gosnmp/gosnmp"
)

// sysGroup is an agent's system group: sysObjectID, sysDescr and (when
// services >= 0) sysServices.
func sysGroup(oid, descr string, services int) []gosnmp.SnmpPDU {
	out := []gosnmp.SnmpPDU{
		pdu(oidSysObjectID, gosnmp.ObjectIdentifier, "."+oid),
		pdu(oidSysDescr, gosnmp.OctetString, []byte(descr)),
	}
	if services >= 0 {
		out = append(out, pdu(oidSysServices, gosnmp.Integer, services))
	}
	return out
}

// ifTypes gives interfaces 1..n the ifTypes listed, in order.
func ifTypes(types ...int) []gosnmp.SnmpPDU {
	var out []gosnmp.SnmpPDU
	for i, t := range types {
		out = append(out, ifRow(strconv.Itoa(i+1), t, "if"+strconv.Itoa(i+1))...)
	}
	return out
}

// repeat returns n copies of t.
func repeat(t, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = t
	}
	return out
}

func join(lists ...[]gosnmp.SnmpPDU) []gosnmp.SnmpPDU {
	var out []gosnmp.SnmpPDU
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// TestClassifyPrecision: an access class (olt, cmts, dslam, dsl-cpe,
// cable-modem) rests on access evidence, never on a vendor's OID alone; a
// DSLAM has 8 or more DSL lines; SHDSL counts as DSL; UPSs, printers,
// firewalls and access points stay unknown rather than take router or
// server from a catch-all. Each case is polled through Collect (so the
// probe walk must fetch what classification needs) and classified directly.
func TestClassifyPrecision(t *testing.T) {
	const (
		teldat   = "1.3.6.1.4.1.2007.1.1.191"
		netsnmp  = "1.3.6.1.4.1.8072.3.2.10"
		freebsd  = "1.3.6.1.4.1.8072.3.2.8"
		unknown  = "1.3.6.1.4.1.99999.1"
		upsModel = "1.3.6.1.2.1.33.1.1.2.0"   // UPS-MIB upsIdentModel
		prtGen   = "1.3.6.1.2.1.43.5.1.1.1.1" // Printer-MIB prtGeneralConfigChanges.1
		nscrtv   = "1.3.6.1.4.1.17409.2.3.1.1.13.0"
		huawei   = "1.3.6.1.4.1.2011.2.80"
		ether    = 6
		wifi     = 71
		wwan     = 243 // wwanPP: LTE
		adsl     = 94
		vdsl2    = 251
		shdsl    = 169
		gpon     = 250
	)
	cases := []struct {
		name    string
		pdus    []gosnmp.SnmpPDU
		class   Class
		profile string // "" for none
	}{
		// A vendor's enterprise OID alone is no access evidence.
		{"Teldat router with Ethernet, LTE and Wi-Fi only",
			join(sysGroup(teldat, "Router model H2 Rail CPU ARM", 78), ifTypes(ether, ether, wwan, wifi)), ClassRouter, "teldat-router"},
		{"Teldat router with an ADSL line",
			join(sysGroup(teldat, "Router model TV BASE CPU MIPS32", 78), ifTypes(ether, wifi, adsl)), ClassDSLCPE, "teldat-dsl-cpe"},
		{"BDCOM switch under the OLT vendor's OID",
			join(sysGroup("1.3.6.1.4.1.3320.1.150", "BDCOM(tm) S2528-B Software, Version 2.1.1A", 6), ifTypes(repeat(ether, 28)...)), ClassRouter, "fallback-router"},
		{"BDCOM GPON OLT by its model",
			join(sysGroup("1.3.6.1.4.1.3320.1.390.0", "BDCOM(tm) GP3600-08 Software, Version 10.1.0E", 6), ifTypes(repeat(ether, 12)...)), ClassOLT, "bdcom-olt"},
		{"optical amplifier under the NSCRTV root",
			join(sysGroup("1.3.6.1.4.1.17409.1.11", "EDFA", -1)), ClassUnknown, ""},
		{"C-Data EPON OLT by its NSCRTV EPON tables",
			join(sysGroup("1.3.6.1.4.1.17409", "olt-1", 6), ifTypes(repeat(117, 8)...), []gosnmp.SnmpPDU{pdu(nscrtv, gosnmp.OctetString, []byte("AF2101"))}), ClassOLT, "cdata-olt"},
		{"Huawei MA5600T with GPON boards",
			join(sysGroup(huawei, "Huawei Integrated Access Software", -1), ifTypes(append(repeat(gpon, 16), ether)...)), ClassOLT, "huawei-olt"},
		{"Huawei MA5600T with ADSL boards",
			join(sysGroup(huawei, "Huawei Integrated Access Software", -1), ifTypes(append(repeat(adsl, 64), ether)...)), ClassDSLAM, "huawei-dslam"},
		{"Huawei MA5600T with neither",
			join(sysGroup(huawei, "Huawei Integrated Access Software", 2), ifTypes(ether, ether)), ClassSwitch, "fallback-switch"},
		{"ZyXEL IES by its model, no interfaces answered",
			sysGroup("1.3.6.1.4.1.890.1.5.13.7", "IES-5005", -1), ClassDSLAM, "zyxel-dslam"},
		// OLTs without PON ifTypes.
		{"Ubiquiti UFiber OLT, PON ports as Ethernet",
			join(sysGroup("1.3.6.1.4.1.41112.1.5", "UFiber UF-OLT v4.4.1", 78), ifTypes(repeat(ether, 10)...)), ClassOLT, "ubiquiti-ufiber-olt"},
		{"Ubiquiti EdgeRouter",
			join(sysGroup("1.3.6.1.4.1.41112.1.5", "EdgeOS v2.0.9-hotfix.7", 78), ifTypes(repeat(ether, 5)...)), ClassRouter, "fallback-router"},
		// DSLAM or CPE: 8 or more lines make a DSLAM; SHDSL is DSL.
		{"home gateway with two bonded VDSL2 rows",
			join(sysGroup(unknown, "VDSL2 home gateway", 78), ifTypes(ether, ether, ether, ether, wifi, vdsl2, vdsl2)), ClassDSLCPE, "generic-dsl-cpe"},
		{"seven VDSL2 lines", join(sysGroup(unknown, "x", 2), ifTypes(repeat(vdsl2, 7)...)), ClassDSLCPE, "generic-dsl-cpe"},
		{"eight VDSL2 lines", join(sysGroup(unknown, "x", 2), ifTypes(repeat(vdsl2, 8)...)), ClassDSLAM, "generic-dslam"},
		{"SHDSL DSLAM", join(sysGroup(unknown, "x", 2), ifTypes(append(repeat(shdsl, 24), ether)...)), ClassDSLAM, "generic-dslam"},
		{"SHDSL CPE, four bonded pairs", join(sysGroup(unknown, "x", 78), ifTypes(ether, shdsl, shdsl, shdsl, shdsl)), ClassDSLCPE, "generic-dsl-cpe"},
		{"SHDSL CPE, one pair", join(sysGroup(unknown, "x", 78), ifTypes(ether, shdsl)), ClassDSLCPE, "generic-dsl-cpe"},
		{"ADSL channel sub-layers are not lines",
			join(sysGroup(unknown, "x", 78), ifTypes(ether, adsl, 124, 125, 124, 125, 124, 125, 124, 125)), ClassDSLCPE, "generic-dsl-cpe"},
		// Not network gear, or gear no class describes: unknown.
		{"UPS card running net-snmp with UPS-MIB",
			join(sysGroup(netsnmp, "Linux ups-card 4.14.0", 72), ifTypes(ether), []gosnmp.SnmpPDU{pdu(upsModel, gosnmp.OctetString, []byte("9PX 3000"))}), ClassUnknown, "ups"},
		{"UPS card by sysDescr, layer 3 set",
			join(sysGroup(unknown, "Smart-UPS 1500 RM", 78), ifTypes(ether)), ClassUnknown, "ups"},
		{"APC management card",
			join(sysGroup("1.3.6.1.4.1.318.1.3.27", "APC Web/SNMP Management Card (MB:v4.1.0 PF:v6.5.6)", 72), ifTypes(ether)), ClassUnknown, "apc-power"},
		{"printer with Printer-MIB, layer 3 set",
			join(sysGroup("1.3.6.1.4.1.11.2.3.9.1", "HP ETHERNET MULTI-ENVIRONMENT", 78), ifTypes(ether), []gosnmp.SnmpPDU{pdu(prtGen, gosnmp.Counter32, uint(3))}), ClassUnknown, "printer"},
		{"printer by sysDescr, layer 7 only",
			join(sysGroup(unknown, "Brother NC-8300h, Firmware Ver.1.11", 64), ifTypes(ether)), ClassUnknown, "printer"},
		{"FortiGate",
			join(sysGroup("1.3.6.1.4.1.12356.101.1.3", "FortiGate-60F", 78), ifTypes(ether, ether, ether)), ClassUnknown, "firewall-vendor"},
		{"pfSense on net-snmp's FreeBSD OID",
			join(sysGroup(freebsd, "pfSense fw.example 2.7.2-RELEASE FreeBSD 14.0-CURRENT amd64", 76), ifTypes(ether, ether)), ClassUnknown, "firewall"},
		{"Cisco ASA under Cisco's product OIDs",
			join(sysGroup("1.3.6.1.4.1.9.1.745", "Cisco Adaptive Security Appliance Version 9.8(4)", 76), ifTypes(ether, ether)), ClassUnknown, "cisco-asa"},
		{"Cisco router still a router",
			join(sysGroup("1.3.6.1.4.1.9.1.1", "Cisco IOS Software, C2900 Software", 78), ifTypes(ether, ether)), ClassRouter, "cisco-router"},
		{"UniFi access point on net-snmp",
			join(sysGroup(netsnmp, "UAP-AC-Pro 6.5.28.14491", 72), ifTypes(ether, wifi, wifi)), ClassUnknown, "wireless-ap"},
		{"second-stage table read after the vendor's profile fails (a cable modem under the C-Data OID)",
			join(sysGroup("1.3.6.1.4.1.17409.3.1", "eoc modem", -1), ifTypes(ether, 127, 128, 129), []gosnmp.SnmpPDU{pdu("1.3.6.1.2.1.10.127.1.2.2.1.1.2", gosnmp.Integer, 12)}), ClassCableModem, "generic-cable-modem"},
		{"Linux server on net-snmp",
			join(sysGroup(netsnmp, "Linux host 6.1.0-18-amd64 #1 SMP x86_64", 72), ifTypes(24, ether)), ClassServer, "netsnmp-server"},
		{"Wi-Fi DSL gateway calling itself an access point is still a DSL CPE",
			join(sysGroup(unknown, "ADSL2+ Wireless Access Point Router", 78), ifTypes(ether, wifi, adsl)), ClassDSLCPE, "generic-dsl-cpe"},
	}
	set, err := DefaultProfiles()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			name := ""
			if p := set.Classify(NewObjects(c.pdus)); p != nil {
				name = p.Name
			}
			if name != c.profile {
				t.Errorf("Classify: profile %q, want %q", name, c.profile)
			}
			d, _, err := Collect(context.Background(), newFakeClient("dev:161", c.pdus), set)
			if err != nil {
				t.Fatal(err)
			}
			if d.Class != c.class || d.Profile != c.profile {
				t.Errorf("Collect: class %s (profile %q), want %s (profile %q)", d.Class, d.Profile, c.class, c.profile)
			}
		})
	}
}

// TestNeedsProbes: the system group alone decides only when a first-stage
// profile rests on sysDescr; otherwise the interfaces and probe tables are
// walked first.
func TestNeedsProbes(t *testing.T) {
	set, err := DefaultProfiles()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		sys  []gosnmp.SnmpPDU
		want bool
	}{
		{"ZyXEL IES model in sysDescr", sysGroup("1.3.6.1.4.1.890.1.5.13.7", "IES-5005", -1), false},
		{"Cisco router: no evidence needed", sysGroup("1.3.6.1.4.1.9.1.1", "Cisco IOS Software", -1), false},
		{"Teldat: DSL lines decide", sysGroup("1.3.6.1.4.1.2007.1.1.191", "Router model X CPU", -1), true},
		{"Huawei OLT without the model", sysGroup("1.3.6.1.4.1.2011.2.123", "Huawei Integrated Access Software", -1), true},
		{"unknown OID", sysGroup("1.3.6.1.4.1.99999", "x", -1), true},
	}
	for _, c := range cases {
		if got := set.NeedsProbes(NewObjects(c.sys)); got != c.want {
			t.Errorf("%s: NeedsProbes = %v, want %v", c.name, got, c.want)
		}
	}
}
