package snmp

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/ngic/ngic/controller/snmp/snmptest"
)

// TestLinkReusedForAnotherAgent: a link that served one agent, set up
// again as openLink does with one taken from the pool, asks the next agent
// with that agent's community and version (each agent answers only its
// own community).
func TestLinkReusedForAnotherAgent(t *testing.T) {
	end := func(string) gosnmp.SnmpPDU {
		return gosnmp.SnmpPDU{Name: ".1.3.6.1.2.1.1.1.0", Type: gosnmp.EndOfMibView}
	}
	a := snmptest.Start(t, snmptest.Options{Next: end, Community: "first"})
	b := snmptest.Start(t, snmptest.Options{Next: end, Community: "a-longer-second"})
	l := &link{}
	for _, c := range []Config{
		{Target: a.Addr, Version: "2c", Community: "first"},
		{Target: b.Addr, Version: "1", Community: "a-longer-second"},
		{Target: a.Addr, Version: "2c", Community: "first"},
	} {
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		c.Timeout = 2 * time.Second
		conn, err := net.Dial("udp", c.Target)
		if err != nil {
			t.Fatal(err)
		}
		l.setup(&c, conn)
		pkt, err := l.exchange(context.Background(), &c, request{typ: gosnmp.GetRequest, oids: []string{sysLocation}})
		conn.Close()
		if err != nil || len(pkt.Variables) != 1 || pkt.Variables[0].Name != sysLocation {
			t.Fatalf("%s %s: got %v, %v", c.Target, c.Community, pkt, err)
		}
		if want := map[string]gosnmp.SnmpVersion{"1": gosnmp.Version1, "2c": gosnmp.Version2c}[c.Version]; pkt.Version != want {
			t.Fatalf("%s: answered in %v, want %v", c.Target, pkt.Version, want)
		}
	}
}
