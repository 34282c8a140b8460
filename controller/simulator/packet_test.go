package simulator

import (
	"bytes"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/ngic/ngic/controller/simulator/internal/ber"
	"github.com/ngic/ngic/controller/snmprec"
)

// small is a device with one object of each kind, served as "dev".
const small = `1.3.6.1.2.1.1.1.0|4|test device
1.3.6.1.2.1.1.3.0|67|100
1.3.6.1.2.1.2.2.1.10.1|65|4294967295
1.3.6.1.2.1.2.2.1.10.2|65|0
1.3.6.1.2.1.31.1.1.1.6.1|70|1000
1.3.6.1.4.1.9.1|6|.1.3.6.1.4.1.9.1.359
1.3.6.1.4.1.9.2|64|10.0.0.1
1.3.6.1.4.1.9.3|2|-7
`

func smallSim(t testing.TB) (*Simulator, *fakeClock) {
	t.Helper()
	v, w := snmprec.Parse("dev", []byte(small))
	if len(w) != 0 {
		t.Fatal(w)
	}
	clk := &fakeClock{}
	s, err := New(map[string]*snmprec.View{"dev": v}, Options{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	return s, clk
}

// getSysUpTime is a v2c GET of sysUpTime.0 for community "dev".
var getSysUpTime = []byte{
	0x30, 0x24, // Message SEQUENCE, 36 bytes
	0x02, 0x01, 0x01, // version: 1 = SNMPv2c
	0x04, 0x03, 'd', 'e', 'v', // community "dev"
	0xa0, 0x1a, // GetRequest-PDU, 26 bytes
	0x02, 0x02, 0x30, 0x39, // request-id 12345
	0x02, 0x01, 0x00, // error-status 0
	0x02, 0x01, 0x00, // error-index 0
	0x30, 0x0e, // variable-bindings SEQUENCE, 14 bytes
	0x30, 0x0c, // VarBind SEQUENCE, 12 bytes
	0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x03, 0x00, // OID 1.3.6.1.2.1.1.3.0
	0x05, 0x00, // NULL
}

// respSysUpTime is the answer two seconds after start: 100 + 200 ticks.
var respSysUpTime = []byte{
	0x30, 0x26, // Message SEQUENCE, 38 bytes
	0x02, 0x01, 0x01, // version: SNMPv2c
	0x04, 0x03, 'd', 'e', 'v', // community "dev"
	0xa2, 0x1c, // Response-PDU, 28 bytes
	0x02, 0x02, 0x30, 0x39, // request-id 12345, copied
	0x02, 0x01, 0x00, // error-status noError
	0x02, 0x01, 0x00, // error-index 0
	0x30, 0x10, // variable-bindings, 16 bytes
	0x30, 0x0e, // VarBind, 14 bytes
	0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x03, 0x00, // OID 1.3.6.1.2.1.1.3.0
	0x43, 0x02, 0x01, 0x2c, // TimeTicks 300
}

func TestHandlePacketBytes(t *testing.T) {
	s, clk := smallSim(t)
	clk.advance(2 * time.Second)
	got := s.HandlePacket(nil, getSysUpTime)
	if !bytes.Equal(got, respSysUpTime) {
		t.Errorf("response\n got % x\nwant % x", got, respSysUpTime)
	}
	// Another community, or a truncated datagram: no answer.
	other := bytes.Clone(getSysUpTime)
	other[7] = 'x'
	if s.HandlePacket(nil, other) != nil {
		t.Error("unknown community answered")
	}
	for n := range len(getSysUpTime) {
		if s.HandlePacket(nil, getSysUpTime[:n]) != nil {
			t.Errorf("datagram cut at %d answered", n)
		}
	}
}

// marshal encodes a request to "dev" with gosnmp.
func marshal(t testing.TB, v gosnmp.SnmpVersion, pdu gosnmp.PDUType, nonRep uint8, maxRep uint32, oids ...string) []byte {
	t.Helper()
	return marshalRequest(t, v, pdu, "dev", 77, nonRep, maxRep, oids...)
}

// marshalRequest encodes a request with gosnmp.
func marshalRequest(t testing.TB, v gosnmp.SnmpVersion, pdu gosnmp.PDUType, community string, id uint32,
	nonRep uint8, maxRep uint32, oids ...string) []byte {
	t.Helper()
	p := &gosnmp.SnmpPacket{Version: v, Community: community, PDUType: pdu, RequestID: id,
		NonRepeaters: nonRep, MaxRepetitions: maxRep}
	for _, o := range oids {
		p.Variables = append(p.Variables, gosnmp.SnmpPDU{Name: o, Type: gosnmp.Null})
	}
	b, err := p.MarshalMsg()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decodeResp parses an answer with gosnmp.
func decodeResp(t testing.TB, b []byte) *gosnmp.SnmpPacket {
	t.Helper()
	g := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Logger: gosnmp.NewLogger(nil)}
	p, err := g.SnmpDecodePacket(b)
	if err != nil {
		t.Fatalf("answer % x does not decode: %v", b, err)
	}
	return p
}

func TestHandlePacketCases(t *testing.T) {
	s, clk := smallSim(t)
	clk.advance(10 * time.Second)
	c32, _ := snmprec.AppendOID(nil, "1.3.6.1.2.1.2.2.1.10.1")
	wrapped := uint32(4294967295 + CounterRate(c32, 1)*10)

	// v2c GET of a Counter32 recorded at 2^32-1 wraps.
	p := decodeResp(t, s.HandlePacket(nil, marshal(t, gosnmp.Version2c, gosnmp.GetRequest, 0, 0, ".1.3.6.1.2.1.2.2.1.10.1")))
	if p.Variables[0].Type != gosnmp.Counter32 || p.Variables[0].Value.(uint) != uint(wrapped) {
		t.Errorf("Counter32 = %v %v, want %d", p.Variables[0].Type, p.Variables[0].Value, wrapped)
	}
	// v1 GET of a Counter64: noSuchName.
	p = decodeResp(t, s.HandlePacket(nil, marshal(t, gosnmp.Version1, gosnmp.GetRequest, 0, 0, ".1.3.6.1.2.1.31.1.1.1.6.1")))
	if p.Error != gosnmp.NoSuchName || p.ErrorIndex != 1 {
		t.Errorf("v1 Counter64 GET: %v %d", p.Error, p.ErrorIndex)
	}
	// SET is refused.
	p = decodeResp(t, s.HandlePacket(nil, marshal(t, gosnmp.Version2c, gosnmp.SetRequest, 0, 0, ".1.3.6.1.2.1.1.1.0")))
	if p.Error != gosnmp.NotWritable {
		t.Errorf("SET: %v", p.Error)
	}
	// v1 GETBULK does not exist: no answer.
	if b := s.HandlePacket(nil, marshal(t, gosnmp.Version1, gosnmp.GetBulkRequest, 0, 5, ".0.0")); b != nil {
		t.Error("v1 GETBULK answered")
	}
	// GETBULK with max-repetitions 0 answers the non-repeaters only.
	p = decodeResp(t, s.HandlePacket(nil, marshal(t, gosnmp.Version2c, gosnmp.GetBulkRequest, 1, 0, ".1.3", ".1.3")))
	if p.Error != gosnmp.NoError || len(p.Variables) != 1 || p.Variables[0].Name != ".1.3.6.1.2.1.1.1.0" {
		t.Errorf("bulk 1/0: %v %+v", p.Error, p.Variables)
	}
	// GETBULK of everything: 8 objects then endOfMibView, stopping early.
	p = decodeResp(t, s.HandlePacket(nil, marshal(t, gosnmp.Version2c, gosnmp.GetBulkRequest, 0, 50, ".0.0")))
	if len(p.Variables) != 9 || p.Variables[8].Type != gosnmp.EndOfMibView || p.Variables[7].Value.(int) != -7 {
		t.Errorf("bulk walk: %+v", p.Variables)
	}
}

func TestTooBig(t *testing.T) {
	long := make([]byte, 0, 600*40)
	for i := range 40 {
		long = append(long, []byte("1.3.6.1.4.1.1."+string(rune('0'+i/10))+string(rune('0'+i%10))+"|4|")...)
		long = append(long, bytes.Repeat([]byte{'a'}, 500)...)
		long = append(long, '\n')
	}
	v, _ := snmprec.Parse("big", long)
	s, err := New(map[string]*snmprec.View{"dev": v}, Options{MaxMessageSize: 1400})
	if err != nil {
		t.Fatal(err)
	}
	// GETBULK is cut to what fits: two 500-byte values.
	b := s.HandlePacket(nil, marshal(t, gosnmp.Version2c, gosnmp.GetBulkRequest, 0, 40, ".0.0"))
	p := decodeResp(t, b)
	if len(b) > 1400 || len(p.Variables) != 2 || p.Error != gosnmp.NoError {
		t.Errorf("bulk: %d bytes, %d varbinds, %v", len(b), len(p.Variables), p.Error)
	}
	// A GET of three is tooBig with an empty list (v2c).
	p = decodeResp(t, s.HandlePacket(nil, marshal(t, gosnmp.Version2c, gosnmp.GetRequest, 0, 0,
		".1.3.6.1.4.1.1.0", ".1.3.6.1.4.1.1.1", ".1.3.6.1.4.1.1.2")))
	if p.Error != gosnmp.TooBig || len(p.Variables) != 0 {
		t.Errorf("GET: %v, %d varbinds", p.Error, len(p.Variables))
	}
}

// setBadInteger is the datagram FuzzHandlePacket found: an SNMPv1 SET whose
// value is an INTEGER with no content octet, which is not valid BER.
var setBadInteger = []byte{
	0x30, 0x23, // Message SEQUENCE, 35 bytes
	0x02, 0x01, 0x00, // version: 0 = SNMPv1
	0x04, 0x03, 'd', 'e', 'v', // community "dev"
	0xa3, 0x19, // SetRequest-PDU, 25 bytes
	0x02, 0x01, 0x30, // request-id 48
	0x02, 0x01, 0x30, // error-status 48 (ignored in a request)
	0x02, 0x01, 0x30, // error-index 48 (ignored)
	0x30, 0x0e, // variable-bindings SEQUENCE, 14 bytes
	0x30, 0x0c, // VarBind SEQUENCE, 12 bytes
	0x06, 0x08, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, // OID 1.8.48.48.48.48.48.48.48
	0x02, 0x00, // INTEGER with no content: invalid
}

// withValue returns a one-varbind request like setBadInteger with another
// version, PDU type, OID and value TLV.
func withValue(version, pdu byte, oid string, value []byte) []byte {
	o, err := snmprec.AppendOID(nil, oid)
	if err != nil {
		panic(err)
	}
	vb := ber.AppendTLV(nil, tagOID, o)
	vb = append(vb, value...)
	pduBody := []byte{0x02, 0x01, 0x07, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00} // request-id 7, 0, 0
	pduBody = ber.AppendTLV(pduBody, tagSequence, ber.AppendTLV(nil, tagSequence, vb))
	msg := []byte{0x02, 0x01, version}
	msg = ber.AppendTLV(msg, tagOctetString, []byte("dev"))
	msg = ber.AppendTLV(msg, pdu, pduBody)
	return ber.AppendTLV(nil, tagSequence, msg)
}

// TestErrorRepliesAreValidBER sends requests whose values are not valid
// BER (or not values at all) where the answer is an error that lists the
// request's varbinds: the answer must decode, name the same objects, and
// carry NULL values, never the request's bytes.
func TestErrorRepliesAreValidBER(t *testing.T) {
	s, _ := smallSim(t)
	cases := []struct {
		name   string
		req    []byte
		status gosnmp.SNMPError
		oid    string
	}{
		{"v1 SET, INTEGER without content", setBadInteger, gosnmp.NoSuchName, ".1.8.48.48.48.48.48.48.48"},
		{"v2c SET, INTEGER of nine octets", withValue(1, pduSet, "1.3.6.1.2.1.1.1.0",
			[]byte{0x02, 0x09, 1, 2, 3, 4, 5, 6, 7, 8, 9}), gosnmp.NotWritable, ".1.3.6.1.2.1.1.1.0"},
		{"v1 GET of a Counter64, OID value without content", withValue(0, pduGet, "1.3.6.1.2.1.31.1.1.1.6.1",
			[]byte{0x06, 0x00}), gosnmp.NoSuchName, ".1.3.6.1.2.1.31.1.1.1.6.1"},
		{"v1 GETNEXT past the end, IpAddress of 3 octets", withValue(0, pduGetNext, "1.3.6.1.4.1.9.9",
			[]byte{0x40, 0x03, 10, 0, 0}), gosnmp.NoSuchName, ".1.3.6.1.4.1.9.9"},
		{"v2c SET, a constructed value", withValue(1, pduSet, "1.3.6.1.2.1.1.1.0",
			[]byte{0x30, 0x03, 0x02, 0x01, 0x05}), gosnmp.NotWritable, ".1.3.6.1.2.1.1.1.0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := s.HandlePacket(nil, c.req)
			if b == nil {
				t.Fatal("no answer")
			}
			p := decodeResp(t, b)
			if p.Error != c.status || p.ErrorIndex != 1 || len(p.Variables) != 1 {
				t.Fatalf("answer %v index %d, %d varbinds; want %v index 1, one varbind", p.Error, p.ErrorIndex, len(p.Variables), c.status)
			}
			if v := p.Variables[0]; v.Name != c.oid || v.Type != gosnmp.Null {
				t.Errorf("varbind %s %v, want %s NULL", v.Name, v.Type, c.oid)
			}
		})
	}
}

func FuzzHandlePacket(f *testing.F) {
	f.Add(setBadInteger)
	f.Add(getSysUpTime)
	f.Add(marshal(f, gosnmp.Version1, gosnmp.GetNextRequest, 0, 0, ".1.3.6.1.2.1.31", ".1.3.6.1.4.1.9.1"))
	f.Add(marshal(f, gosnmp.Version2c, gosnmp.GetBulkRequest, 1, 10, ".1.3.6.1.2.1.1.3", ".1.3.6", ".1.3.6.1.2.1.2.2.1.10"))
	f.Add(marshal(f, gosnmp.Version2c, gosnmp.GetRequest, 0, 0, ".1.3.6.1.2.1.2.2.1.10.9", ".1.3.6.1.9"))
	f.Add(marshal(f, gosnmp.Version1, gosnmp.SetRequest, 0, 0, ".1.3.6.1.2.1.1.1.0"))
	f.Add(marshal(f, gosnmp.Version2c, gosnmp.GetBulkRequest, 200, 4000000000, ".0.0"))
	s, _ := smallSim(f)
	buf := make([]byte, 0, 4096)
	f.Fuzz(func(t *testing.T, req []byte) {
		resp := s.HandlePacket(buf, req)
		if resp == nil {
			return
		}
		p := decodeResp(t, resp)
		r, ok := decode(req)
		if !ok {
			t.Fatal("answered a request that does not decode")
		}
		if p.PDUType != gosnmp.GetResponse || string(p.Community) != string(r.community) {
			t.Fatalf("answer %v for community %q", p.PDUType, p.Community)
		}
		if int64(p.Version) != r.version {
			t.Fatalf("answer version %v to a request of version %d", p.Version, r.version)
		}
		// Every value is one the simulator chose: a recorded one, an
		// exception or NULL, never an unknown type copied from the request.
		for i, v := range p.Variables {
			if v.Type == gosnmp.UnknownType {
				t.Fatalf("varbind %d (%s) has a type gosnmp does not know", i, v.Name)
			}
			if p.Error != gosnmp.NoError && v.Type != gosnmp.Null {
				t.Fatalf("error answer %v carries varbind %d of type %v, want NULL", p.Error, i, v.Type)
			}
		}
	})
}

// TestManyVarbindsOfLargeValues: a GET or GETNEXT whose thousands of
// varbinds all name (or lead to) one 60 KB object is answered tooBig without building
// the oversized answer first: the buffer HandlePacket answers in stays
// near MaxMessageSize instead of growing to 9,000 times the object (540
// MB for one 63 KB datagram).
func TestManyVarbindsOfLargeValues(t *testing.T) {
	rec := append([]byte("1.3.6.1.2.1.1.1.0|4|"), bytes.Repeat([]byte{'a'}, 60000)...)
	v, w := snmprec.Parse("fat", rec)
	if len(w) != 0 || v.Len() != 1 {
		t.Fatalf("recording: %v, %d records", w, v.Len())
	}
	s, err := New(map[string]*snmprec.View{"dev": v}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		version byte
		pdu     byte
		oid     string
	}{
		{"v2c GETNEXT", 1, pduGetNext, ".1.3"},
		{"v1 GETNEXT", 0, pduGetNext, ".1.3"},
		{"v2c GET", 1, pduGet, "1.3.6.1.2.1.1.1.0"},
		{"v1 GET", 0, pduGet, "1.3.6.1.2.1.1.1.0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			// As many varbinds naming c.oid as a datagram holds.
			o, err := snmprec.AppendOID(nil, c.oid)
			if err != nil {
				t.Fatal(err)
			}
			vb := ber.AppendTLV(nil, tagSequence, append(ber.AppendTLV(nil, tagOID, o), 0x05, 0x00))
			var list []byte
			for len(list)+len(vb) < 63000 {
				list = append(list, vb...)
			}
			body := ber.AppendTLV([]byte{0x02, 0x01, 0x07, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00}, tagSequence, list)
			msg := ber.AppendTLV([]byte{0x02, 0x01, c.version}, tagOctetString, []byte("dev"))
			msg = ber.AppendTLV(msg, c.pdu, body)
			b := s.HandlePacket(make([]byte, 0, 4096), ber.AppendTLV(nil, tagSequence, msg))
			p := decodeResp(t, b)
			if p.Error != gosnmp.TooBig {
				t.Fatalf("answer %v, want tooBig", p.Error)
			}
			if c := cap(b); c > 256<<10 {
				t.Fatalf("answer built in a buffer of %d bytes for a 63 KB request: the oversized answer was built first", c)
			}
		})
	}
}
