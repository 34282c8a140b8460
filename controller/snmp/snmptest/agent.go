// Package snmptest serves scripted SNMP v1/v2c agents on a loopback port
// for tests, the way httptest.NewServer serves HTTP: well-behaved, slow,
// endless or hostile (garbage datagrams, undecodable values, OIDs no SNMP
// engine can send back).
//
// The agent decodes requests with gosnmp but encodes its answers with its
// own small BER encoder, so it can say what gosnmp would refuse to
// marshal.
package snmptest

import (
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

// Raw is a varbind value sent as the given BER tag and content bytes,
// unchecked: Raw{Tag: 0x02, Bytes: make([]byte, 9)} is an INTEGER too long
// for any decoder.
type Raw struct {
	Tag   byte
	Bytes []byte
}

// Options script an Agent.
type Options struct {
	// Next gives the varbind that follows oid (dotted with a leading dot),
	// for GETNEXT and GETBULK. Its Name may be any dotted string of
	// numbers, however long; its Value may be a Raw. Required for walks.
	Next func(oid string) gosnmp.SnmpPDU
	// Get gives the varbind a GET of oid answers; nil answers INTEGER 1
	// for every OID.
	Get func(oid string) gosnmp.SnmpPDU
	// Community, if set, is the only community answered; requests with
	// another are dropped, as real agents do.
	Community string
	// Delay is waited before each answer is sent.
	Delay time.Duration
	// Before, if set, is called for each request (n counts requests from
	// 1) and returns datagrams sent ahead of the answer.
	Before func(n int64, req *gosnmp.SnmpPacket) [][]byte
	// Answer, if set, decides whether request n is answered at all
	// (datagrams from Before are sent either way).
	Answer func(n int64, req *gosnmp.SnmpPacket) bool
	// Status, if set, gives the error-status and error-index of the
	// answer to request n; a non-zero status sends the request's names
	// with NULL values, as agents do.
	Status func(n int64, req *gosnmp.SnmpPacket) (gosnmp.SNMPError, uint8)
}

// Agent is a running scripted agent.
type Agent struct {
	// Addr is "127.0.0.1:PORT".
	Addr string
	// Port is its UDP port.
	Port int

	conn     *net.UDPConn
	opts     Options
	requests atomic.Int64
}

// Start serves o on a free loopback UDP port until the test ends.
func Start(t testing.TB, o Options) *Agent {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	a := &Agent{conn: conn, opts: o}
	a.Port = conn.LocalAddr().(*net.UDPAddr).Port
	a.Addr = fmt.Sprintf("127.0.0.1:%d", a.Port)
	t.Cleanup(func() { conn.Close() })
	go a.serve()
	return a
}

// Requests counts the requests the agent decoded.
func (a *Agent) Requests() int64 { return a.requests.Load() }

func (a *Agent) serve() {
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

func (a *Agent) answer(b []byte, from *net.UDPAddr) {
	dec := &gosnmp.GoSNMP{}
	req, err := dec.SnmpDecodePacket(b)
	if err != nil {
		return
	}
	if a.opts.Community != "" && req.Community != a.opts.Community {
		return
	}
	n := a.requests.Add(1)
	var vbs []gosnmp.SnmpPDU
	switch req.PDUType {
	case gosnmp.GetRequest:
		for _, v := range req.Variables {
			if a.opts.Get != nil {
				vbs = append(vbs, a.opts.Get(v.Name))
				continue
			}
			vbs = append(vbs, gosnmp.SnmpPDU{Name: v.Name, Type: gosnmp.Integer, Value: 1})
		}
	case gosnmp.GetNextRequest:
		for _, v := range req.Variables {
			vbs = append(vbs, a.opts.Next(v.Name))
		}
	case gosnmp.GetBulkRequest:
		cur := make([]string, len(req.Variables))
		for i, v := range req.Variables {
			cur[i] = v.Name
		}
		for r := 0; r < int(req.MaxRepetitions); r++ {
			for i := range cur {
				vb := a.opts.Next(cur[i])
				vbs = append(vbs, vb)
				cur[i] = vb.Name
			}
		}
	default:
		return
	}
	var status gosnmp.SNMPError
	var index uint8
	if a.opts.Status != nil {
		if status, index = a.opts.Status(n, req); status != gosnmp.NoError {
			vbs = vbs[:0]
			for _, v := range req.Variables {
				vbs = append(vbs, gosnmp.SnmpPDU{Name: v.Name, Type: gosnmp.Null})
			}
		}
	}
	out, err := encodeResponse(req.Version, req.Community, req.RequestID, status, index, vbs)
	if err != nil {
		return
	}
	if a.opts.Delay > 0 {
		time.Sleep(a.opts.Delay)
	}
	if a.opts.Before != nil {
		for _, g := range a.opts.Before(n, req) {
			_, _ = a.conn.WriteToUDP(g, from)
		}
	}
	if a.opts.Answer != nil && !a.opts.Answer(n, req) {
		return
	}
	_, _ = a.conn.WriteToUDP(out, from)
}

// EncodeResponse encodes a v1/v2c GetResponse carrying vbs. Names are
// encoded whatever their length or arcs; values may be int, uint, []byte,
// string, nil (NULL) or Raw, typed by the PDU's Type.
func EncodeResponse(v gosnmp.SnmpVersion, community string, reqID uint32, vbs []gosnmp.SnmpPDU) ([]byte, error) {
	return encodeResponse(v, community, reqID, gosnmp.NoError, 0, vbs)
}

func encodeResponse(v gosnmp.SnmpVersion, community string, reqID uint32, status gosnmp.SNMPError, index uint8, vbs []gosnmp.SnmpPDU) ([]byte, error) {
	var list []byte
	for _, vb := range vbs {
		name, err := encodeOID(vb.Name)
		if err != nil {
			return nil, err
		}
		val, err := encodeValue(vb)
		if err != nil {
			return nil, err
		}
		list = append(list, tlv(0x30, append(tlv(0x06, name), val...))...)
	}
	pdu := append(tlv(0x02, intBytes(int64(reqID))), tlv(0x02, intBytes(int64(status)))...) // request-id, error-status
	pdu = append(pdu, tlv(0x02, intBytes(int64(index)))...)                                 // error-index
	pdu = append(pdu, tlv(0x30, list)...)
	msg := append(tlv(0x02, intBytes(int64(v))), tlv(0x04, []byte(community))...)
	msg = append(msg, tlv(byte(gosnmp.GetResponse), pdu)...)
	return tlv(0x30, msg), nil
}

func encodeValue(vb gosnmp.SnmpPDU) ([]byte, error) {
	if r, ok := vb.Value.(Raw); ok {
		return tlv(r.Tag, r.Bytes), nil
	}
	switch vb.Type {
	case gosnmp.Null, gosnmp.NoSuchObject, gosnmp.NoSuchInstance, gosnmp.EndOfMibView:
		return tlv(byte(vb.Type), nil), nil
	case gosnmp.OctetString:
		switch x := vb.Value.(type) {
		case []byte:
			return tlv(0x04, x), nil
		case string:
			return tlv(0x04, []byte(x)), nil
		}
	case gosnmp.ObjectIdentifier:
		if s, ok := vb.Value.(string); ok {
			b, err := encodeOID(s)
			if err != nil {
				return nil, err
			}
			return tlv(0x06, b), nil
		}
	case gosnmp.Integer, gosnmp.Counter32, gosnmp.Gauge32, gosnmp.TimeTicks, gosnmp.Counter64:
		var n int64
		switch x := vb.Value.(type) {
		case int:
			n = int64(x)
		case uint:
			n = int64(x)
		case uint32:
			n = int64(x)
		case int64:
			n = x
		case uint64:
			if vb.Type == gosnmp.Counter64 {
				return tlv(byte(vb.Type), uintBytes(x)), nil
			}
			n = int64(x)
		default:
			return nil, fmt.Errorf("snmptest: value %T for %v", vb.Value, vb.Type)
		}
		if vb.Type == gosnmp.Integer {
			return tlv(0x02, intBytes(n)), nil
		}
		return tlv(byte(vb.Type), uintBytes(uint64(n))), nil
	}
	return nil, fmt.Errorf("snmptest: cannot encode %v value %T", vb.Type, vb.Value)
}

// encodeOID encodes a dotted OID of at least two arcs, without the limits
// (128 arcs, first arcs) an SNMP engine enforces.
func encodeOID(s string) ([]byte, error) {
	var arcs []uint64
	var cur uint64
	digits := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits > 0 {
				arcs = append(arcs, cur)
			}
			cur, digits = 0, 0
			continue
		}
		c := s[i]
		if c < '0' || c > '9' {
			return nil, fmt.Errorf("snmptest: OID %q is not dotted numbers", s)
		}
		cur = cur*10 + uint64(c-'0')
		digits++
	}
	if len(arcs) < 2 {
		return nil, fmt.Errorf("snmptest: OID %q has fewer than two arcs", s)
	}
	out := base128(nil, arcs[0]*40+arcs[1])
	for _, a := range arcs[2:] {
		out = base128(out, a)
	}
	return out, nil
}

func base128(out []byte, v uint64) []byte {
	var tmp [10]byte
	i := len(tmp) - 1
	tmp[i] = byte(v & 0x7f)
	for v >>= 7; v > 0; v >>= 7 {
		i--
		tmp[i] = byte(v&0x7f) | 0x80
	}
	return append(out, tmp[i:]...)
}

// tlv encodes one BER tag, definite length and content.
func tlv(tag byte, content []byte) []byte {
	out := []byte{tag}
	n := len(content)
	switch {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	default:
		out = append(out, 0x82, byte(n>>8), byte(n))
	}
	return append(out, content...)
}

// intBytes is the shortest two's-complement big-endian form of n.
func intBytes(n int64) []byte {
	b := []byte{byte(n)}
	for n >>= 8; !(n == 0 && b[0]&0x80 == 0) && !(n == -1 && b[0]&0x80 != 0); n >>= 8 {
		b = append([]byte{byte(n)}, b...)
	}
	return b
}

// uintBytes is the shortest unsigned big-endian form of n (with a leading
// zero when the top bit is set).
func uintBytes(n uint64) []byte {
	b := []byte{byte(n)}
	for n >>= 8; n > 0; n >>= 8 {
		b = append([]byte{byte(n)}, b...)
	}
	if b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return b
}
