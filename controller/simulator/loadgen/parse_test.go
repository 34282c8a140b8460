package loadgen

import (
	"testing"

	"github.com/ngic/ngic/controller/simulator/internal/ber"
)

// answer is a v2c Response to request-id 0x01020304 with one varbind.
var answer = []byte{
	0x30, 0x29, // Message SEQUENCE, 41 bytes
	0x02, 0x01, 0x01, // version: SNMPv2c
	0x04, 0x06, 'p', 'u', 'b', 'l', 'i', 'c', // community "public"
	0xa2, 0x1c, // Response-PDU, 28 bytes
	0x02, 0x04, 0x01, 0x02, 0x03, 0x04, // request-id 0x01020304
	0x02, 0x01, 0x00, // error-status noError
	0x02, 0x01, 0x00, // error-index 0
	0x30, 0x0e, // variable-bindings, 14 bytes
	0x30, 0x0c, // VarBind, 12 bytes
	0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x03, 0x00, // OID 1.3.6.1.2.1.1.3.0
	0x05, 0x00, // NULL
}

func TestParseAnswer(t *testing.T) {
	id, vb, ok := parseAnswer(answer)
	if !ok || id != 0x01020304 || vb != 1 {
		t.Fatalf("parseAnswer: id %#x, %d varbinds, ok %v", id, vb, ok)
	}
	for n := range len(answer) {
		if _, _, ok := parseAnswer(answer[:n]); ok {
			t.Errorf("answer cut at %d parsed", n)
		}
	}
	bad := func(at int, b byte) []byte {
		c := append([]byte(nil), answer...)
		c[at] = b
		return c
	}
	for name, b := range map[string][]byte{
		"SNMPv1":        bad(4, 0x00),
		"GetRequest":    bad(13, 0xa0),
		"error-status":  bad(23, 0x01),
		"community tag": bad(5, 0x02),
	} {
		if _, _, ok := parseAnswer(b); ok {
			t.Errorf("%s parsed", name)
		}
	}
}

// TestTemplate: a request built from a template, its request-id patched,
// parses back (as a Response) with that id.
func TestTemplate(t *testing.T) {
	o := DefaultOptions
	o.Communities = []string{"a", string(make([]byte, 300))} // a long community moves the id
	tm, err := newTemplates(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range tm {
		m := append([]byte(nil), x.msg...)
		copy(m[x.idAt:], []byte{0x12, 0x34, 0x56, 0x78})
		m[indexPDU(t, m)] = pduResponse
		if id, vb, ok := parseAnswer(m); !ok || id != 0x12345678 || vb != 1 {
			t.Errorf("template of %d bytes: id %#x, %d varbinds, ok %v", len(m), id, vb, ok)
		}
	}
}

// indexPDU returns where the PDU tag of a message is: after the
// message's header, the version and the community.
func indexPDU(t *testing.T, m []byte) int {
	t.Helper()
	_, _, msg, _, ok := ber.ReadTLV(m)
	for range 2 {
		if _, _, _, msg, ok = ber.ReadTLV(msg); !ok {
			break
		}
	}
	if !ok || len(msg) == 0 || msg[0] != pduGetBulk {
		t.Fatalf("no GETBULK PDU in % x", m)
	}
	return len(m) - len(msg)
}

func FuzzParseAnswer(f *testing.F) {
	f.Add(answer)
	f.Add([]byte{0x30, 0x84, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		id, vb, ok := parseAnswer(b)
		if !ok && (id != 0 || vb != 0) {
			t.Fatalf("rejected answer with id %d, %d varbinds", id, vb)
		}
		if ok && vb < 0 {
			t.Fatalf("%d varbinds", vb)
		}
	})
}
