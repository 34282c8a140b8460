package snmp

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gosnmp/gosnmp"
)

// FuzzAppendRequest checks that appendRequest writes the bytes gosnmp's
// encoder writes for the same request, and fails where it fails.
func FuzzAppendRequest(f *testing.F) {
	f.Add("public", ".1.3.6.1.2.1.2.2.1.1 .1.3.6.1.2.1.31.1.1.1.6", uint32(1), uint32(25), byte(2))
	f.Add("c", "1.3.6.1.2.1.1.3.0", uint32(0x7fffffff), uint32(0), byte(0))
	f.Add(strings.Repeat("x", 127), ".1.3.6.1.4.1.4491.2.1.20.1.3.1.6.4294967295", uint32(128), uint32(255), byte(1))
	f.Add("public", ".2.999.1 .0.39 1.40 3.1 .1 1.3.a 1.3.4294967296", uint32(7), uint32(100), byte(2))
	f.Add("public", strings.TrimSpace(strings.Repeat(".1.3.6.1.2.1.2.2.1.10.123456 ", 40)), uint32(300), uint32(1<<31), byte(2))
	f.Add("public", ".1.3"+strings.Repeat(".1", 126)+" .1.3"+strings.Repeat(".1", 127), uint32(3), uint32(3), byte(0))
	f.Fuzz(func(t *testing.T, community, oidList string, reqID, rep uint32, kind byte) {
		if len(community) > 127 { // gosnmp writes a longer community's length in one byte
			return
		}
		oids := strings.Fields(oidList)
		if len(oids) == 0 || len(oids) > gosnmp.MaxOids {
			return
		}
		reqID &= 0x7fffffff
		typ := []gosnmp.PDUType{gosnmp.GetRequest, gosnmp.GetNextRequest, gosnmp.GetBulkRequest}[int(kind)%3]
		version := gosnmp.Version2c
		var a, b uint32
		if typ == gosnmp.GetBulkRequest {
			b = rep & 0x7fffffff
		} else if kind&0x10 != 0 {
			version = gosnmp.Version1
		}
		g := &gosnmp.GoSNMP{Version: version, Community: community}
		g.SetRequestID(reqID - 1)
		pdus := make([]gosnmp.SnmpPDU, len(oids))
		for i, o := range oids {
			pdus[i] = gosnmp.SnmpPDU{Name: o, Type: gosnmp.Null}
		}
		want, wantErr := g.SnmpEncodePacket(typ, pdus, uint8(a), b)
		got, err := appendRequest([]byte("kept"), version, community, typ, reqID, a, b, oids)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("%v %q: error %v, gosnmp's %v", typ, oids, err, wantErr)
		}
		if err == nil && !bytes.Equal(got[4:], want) {
			t.Fatalf("%v %q:\n got % x\nwant % x", typ, oids, got[4:], want)
		}
		if string(got[:4]) != "kept" {
			t.Fatalf("appendRequest overwrote dst: %q", got[:4])
		}
	})
}
