package snmp

import (
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

// fakeAgent is a tiny v1/v2c UDP agent for tests, built on gosnmp's own
// marshalling, whose answers come from next: given the OID asked for, the
// varbind the agent claims is next. It can answer late.
type fakeAgent struct {
	conn     *net.UDPConn
	Addr     string
	Port     int
	requests atomic.Int64
	next     func(oid string) gosnmp.SnmpPDU
	delay    time.Duration
}

// startFakeAgent serves on a free loopback port until the test ends.
func startFakeAgent(t testing.TB, delay time.Duration, next func(oid string) gosnmp.SnmpPDU) *fakeAgent {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	a := &fakeAgent{conn: conn, next: next, delay: delay}
	a.Port = conn.LocalAddr().(*net.UDPAddr).Port
	a.Addr = fmt.Sprintf("127.0.0.1:%d", a.Port)
	t.Cleanup(func() { conn.Close() })
	go a.serve()
	return a
}

func (a *fakeAgent) serve() {
	buf := make([]byte, 65535)
	for {
		n, from, err := a.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		pkt := append([]byte(nil), buf[:n]...)
		go a.answer(pkt, from)
	}
}

func (a *fakeAgent) answer(b []byte, from *net.UDPAddr) {
	dec := &gosnmp.GoSNMP{}
	req, err := dec.SnmpDecodePacket(b)
	if err != nil {
		return
	}
	a.requests.Add(1)
	resp := &gosnmp.SnmpPacket{Version: req.Version, Community: req.Community, PDUType: gosnmp.GetResponse,
		RequestID: req.RequestID}
	switch req.PDUType {
	case gosnmp.GetRequest:
		for _, v := range req.Variables {
			resp.Variables = append(resp.Variables, gosnmp.SnmpPDU{Name: v.Name, Type: gosnmp.Integer, Value: 1})
		}
	case gosnmp.GetNextRequest:
		for _, v := range req.Variables {
			resp.Variables = append(resp.Variables, a.next(v.Name))
		}
	case gosnmp.GetBulkRequest:
		cur := make([]string, len(req.Variables))
		for i, v := range req.Variables {
			cur[i] = v.Name
		}
		for r := 0; r < int(req.MaxRepetitions); r++ {
			for i := range cur {
				vb := a.next(cur[i])
				resp.Variables = append(resp.Variables, vb)
				cur[i] = vb.Name
			}
		}
	default:
		return
	}
	out, err := resp.MarshalMsg()
	if err != nil {
		return
	}
	if a.delay > 0 {
		time.Sleep(a.delay)
	}
	_, _ = a.conn.WriteToUDP(out, from)
}
